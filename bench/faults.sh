#!/usr/bin/env bash
# Fault benchmark: N LivenessApps (default 100) applied at once while microburst, an AWS
# failure-injection proxy between the operator and ministack, throttles 25% of IAM and
# Cognito calls and fails 5% with a 5xx. Prints, as JSON: apply→all Ready (the issue's
# limit is 10 minutes), pools per app, the highest request rate per service over any 10 s
# against the operator's --aws-requests-per-second, the throttling met, and deletion under
# the same faults.
#
#   bench/faults.sh                      # 100 apps, AWS_REQUESTS_PER_SECOND=10
#   THROTTLE_SHARE=0.5 bench/faults.sh 50
set -euo pipefail
N=${1:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MICROBURST_VERSION=0.10.0
VENV="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}/venv-microburst-$MICROBURST_VERSION"
if [ ! -x "$VENV/bin/microburst" ]; then
  echo "== installing microburst $MICROBURST_VERSION (PyPI) into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "microburst==$MICROBURST_VERSION"
fi
# shellcheck source=bench/fleet-env.sh
source bench/fleet-env.sh
"$PYTHON" bench/faults.py "$N" "$OPERATOR" "$VENV/bin/microburst" | tee "bench/results/faults-$N.json"
