#!/usr/bin/env bash
# Instructions liveness-api executes per request (callgrind), for comparing builds on a
# noisy machine: unlike req/s, the count repeats to within about 0.5% between runs.
#
#   bench/instructions.sh [BINARY]          # OP=get (default) or OP=create
#
# Runs the binary under callgrind twice against the Rekognition stub, with N1 and N2
# requests on one keep-alive connection, and prints (Ir(N2) - Ir(N1)) / (N2 - N1), which
# leaves out start-up and shutdown. Under valgrind aws-lc seeds its random generator from
# CPU jitter (no RDRAND), so the ES256 verdict of a get counts far more than natively:
# compare builds with each other, not with perf's shares. Needs valgrind. Loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OP=${OP:-get}
N1=${N1:-300}
N2=${N2:-1300}
if [ $# -gt 0 ]; then
  API_BIN=$1
else
  (cd "$ROOT" && cargo build --release --quiet --bin liveness-api)
  API_BIN=$TARGET_DIR/release/liveness-api
fi
(cd "$ROOT" && cargo build --release --quiet --example rekognition_stub)
STUB_BIN=$TARGET_DIR/release/examples/rekognition_stub

# shellcheck source=../scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
# shellcheck source=../scripts/lib/dev-keys.sh
source "$ROOT/scripts/lib/dev-keys.sh"
dev_keys "$WORK/keys" >/dev/null
STUB_PORT=$(free_port)
TOKIO_WORKER_THREADS=1 "$STUB_BIN" "127.0.0.1:$STUB_PORT" succeeded:97.5 >/dev/null 2>&1 &
PIDS+=($!)

instructions() { # requests → total instructions of one run
  local port out=$WORK/callgrind.$1
  port=$(free_port)
  AWS_ENDPOINT_URL=http://127.0.0.1:$STUB_PORT AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=AKIDBENCHMARK AWS_SECRET_ACCESS_KEY=not-a-real-secret \
    AWS_EC2_METADATA_DISABLED=true \
    LIVENESS_LISTEN=127.0.0.1:$port LIVENESS_METRICS_LISTEN=127.0.0.1:$(free_port) \
    LIVENESS_REGION=us-east-1 LIVENESS_AUTH=none LIVENESS_LOG_FORMAT=json \
    LIVENESS_SESSION_KEY_FILE="$WORK/keys/session.key" \
    LIVENESS_SIGNING_KEY_FILE="$WORK/keys/verdict.pem" LIVENESS_DRAIN_SECONDS=1 \
    LIVENESS_RATE_LIMIT_PER_MINUTE=0 LIVENESS_CREATE_LIMIT_PER_MINUTE=0 \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$API_BIN" >/dev/null 2>&1 &
  local api=$!
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 0.2
  done
  python3 - "$port" "$1" "$OP" <<'PY'
import http.client, json, sys
port, n, op = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
api = http.client.HTTPConnection("127.0.0.1", port)
api.request("POST", "/v1/sessions")
session = json.loads(api.getresponse().read())
for _ in range(n):
    if op == "get":
        api.request("GET", "/v1/sessions/" + session["sessionId"],
                    headers={"X-Liveness-Session-Token": session["sessionToken"]})
    else:
        api.request("POST", "/v1/sessions")
    response = api.getresponse()
    response.read()
    assert response.status in (200, 201), response.status
PY
  kill -TERM "$api"
  wait "$api" || true
  awk '/^summary:/ {print $2}' "$out"
}

first=$(instructions "$N1")
second=$(instructions "$N2")
echo "$(basename "$API_BIN") $OP: $(((second - first) / (N2 - N1))) instructions per request"
