#!/usr/bin/env bash
# Fleet benchmark: N LivenessApps applied at once on the test ground (a real kube-apiserver,
# ministack), reconciled by the release operator. Prints, as JSON: apply→all Ready, reconciles
# and AWS calls per app (by operation) to converge, the AWS reads and writes per app over one
# resync of steady state, RSS, the time to delete them all, and the AWS objects left.
#
#   bench/scale.sh 1000                       # RESYNC_SECONDS=300 CONCURRENCY=4 by default
#   RESYNC_SECONDS=60 bench/scale.sh 200
#
# The endpoints run at 0 replicas (no pods): this measures the operator, not the node.
set -euo pipefail
N=${1:?usage: bench/scale.sh N}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/fleet-env.sh
source bench/fleet-env.sh
"$PYTHON" bench/scale.py "$N" "$OPERATOR" | tee "bench/results/scale-$N.json"
