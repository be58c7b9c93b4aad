# shellcheck shell=bash disable=SC2034
# Sourced by bench/scale.sh and bench/faults.sh (from the repository root): builds the
# release operator, brings the test ground up, sources its env (kubectl, the AWS endpoint)
# and sets PYTHON to the ministack venv's Python, which has boto3.
export LIVENESS_CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LIVENESS_CACHE_DIR/target}"
echo "== building the operator (release)" >&2
cargo build --release --quiet --locked --bin liveness-operator
OPERATOR="$CARGO_TARGET_DIR/release/liveness-operator"
scripts/testground.sh up >&2
# shellcheck disable=SC1091
source "${LIVENESS_TESTGROUND_DIR:-/tmp/liveness-testground}/env"
PYTHON=$(ls -d "$LIVENESS_CACHE_DIR"/venv-ministack-*/bin/python | head -n 1)
mkdir -p bench/results
