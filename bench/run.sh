#!/usr/bin/env bash
# Benchmark: liveness-api (Rust) against the seed's approach (a Next.js API route using the
# AWS SDK for JavaScript v3), both calling the same in-repo Rekognition stub on loopback.
#
# Measures, for POST (create) and GET (results): requests/s and p50/p99 latency (wrk), and
# the server's resident memory (idle after start, peak at the end). Prints medians over
# ROUNDS rounds and the ratios. Traffic goes to 127.0.0.1 only; every run is bounded.
#
#   bench/run.sh                        # ROUNDS=3 DURATION=8 CONNECTIONS=16 STUB_THREADS=1 by default
#   ROUNDS=5 DURATION=10 bench/run.sh
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}        # seconds per measured run
WARMUP=${WARMUP:-2}            # seconds of unmeasured load before each target's rounds
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-1}
# The stub stands in for Rekognition, which runs on AWS's machines, not on the two cores the
# services share here: one runtime thread keeps it from taking more of them than it needs.
STUB_THREADS=${STUB_THREADS:-1}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RESULTS=$HERE/results
mkdir -p "$RESULTS"
export NEXT_TELEMETRY_DISABLED=1

log() { printf '== %s\n' "$*" >&2; }

# --- what the benchmark needs ------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi
command -v node >/dev/null || { echo "node (>= 20.9) is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

log "building liveness-api and the Rekognition stub (release)"
# Two builds: an example turns on the dev-dependencies' features, and liveness-api is
# measured as the image builds it (`cargo build --release --bin liveness-api`).
(cd "$ROOT" && cargo build --release --quiet --bin liveness-api)
(cd "$ROOT" && cargo build --release --quiet --example rekognition_stub)
API_BIN=$TARGET_DIR/release/liveness-api
STUB_BIN=$TARGET_DIR/release/examples/rekognition_stub
# How much of the function order (build.rs) the binary matched: after a rustc or Cargo.lock
# change the names drift and the code spreads out again (scripts/symbol-order.sh).
ORDER=$ROOT/src/bin/liveness-api.order
ORDERED=$(nm --defined-only "$API_BIN" | awk '$2 ~ /^[tT]$/ {print $3}' | sort -u | grep -c -x -F -f "$ORDER" || true)
SYMBOL_ORDER="$ORDERED of the $(wc -l <"$ORDER") functions of src/bin/liveness-api.order found in the binary"
log "$SYMBOL_ORDER"

log "building the Next.js seed"
(
  cd "$HERE/nextjs"
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
  npx --no-install next build >"$RESULTS/next-build.log" 2>&1 ||
    { cat "$RESULTS/next-build.log" >&2; exit 1; }
)

# --- processes ---------------------------------------------------------------------------
# shellcheck source=../scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"

wait_for() { # url
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  exit 1
}

# Resident memory in KiB of a process and its children: current and peak.
rss_kib() { # pid field(VmRSS|VmHWM)
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk -v f="$2:" '$1 == f {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

STUB_PORT=$(free_port)
TOKIO_WORKER_THREADS=$STUB_THREADS "$STUB_BIN" "127.0.0.1:$STUB_PORT" succeeded:97.5 >"$RESULTS/stub.log" 2>&1 &
PIDS+=($!)
STUB_URL=http://127.0.0.1:$STUB_PORT

export AWS_ENDPOINT_URL=$STUB_URL AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDBENCHMARK AWS_SECRET_ACCESS_KEY=not-a-real-secret
export AWS_EC2_METADATA_DISABLED=true

# shellcheck source=../scripts/lib/dev-keys.sh
source "$ROOT/scripts/lib/dev-keys.sh"
dev_keys "$RESULTS/keys"
RUST_PORT=$(free_port)
# Anonymous callers as the Next.js seed has them; no per-caller create limit, so the
# benchmark measures the service, not the limiter (each GET still checks a session token).
LIVENESS_LISTEN=127.0.0.1:$RUST_PORT LIVENESS_METRICS_LISTEN=127.0.0.1:$(free_port) \
  LIVENESS_REGION=us-east-1 LIVENESS_AUTH=none \
  LIVENESS_SESSION_KEY_FILE="$RESULTS/keys/session.key" \
  LIVENESS_SIGNING_KEY_FILE="$RESULTS/keys/verdict.pem" \
  LIVENESS_RATE_LIMIT_PER_MINUTE=0 LIVENESS_CREATE_LIMIT_PER_MINUTE=0 LIVENESS_LOG_FORMAT=json \
  "$API_BIN" 2>/dev/null &
RUST_PID=$!
PIDS+=("$RUST_PID")

NEXT_PORT=$(free_port)
(cd "$HERE/nextjs/.next/standalone" && PORT=$NEXT_PORT HOSTNAME=127.0.0.1 exec node server.js) \
  >"$RESULTS/next.log" 2>&1 &
NEXT_PID=$!
PIDS+=("$NEXT_PID")

wait_for "http://127.0.0.1:$RUST_PORT/healthz"
wait_for "http://127.0.0.1:$NEXT_PORT/api/healthz"
sleep 1
RUST_IDLE=$(rss_kib "$RUST_PID" VmRSS)
NEXT_IDLE=$(rss_kib "$NEXT_PID" VmRSS)

declare -A BASE=([rust]="http://127.0.0.1:$RUST_PORT/v1/sessions"
                 [next]="http://127.0.0.1:$NEXT_PORT/api/sessions")

session_of() { # target → "<session id> <session token>" of a session created through it
  curl -fsS -X POST "${BASE[$1]}" |
    python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["sessionId"], b.get("sessionToken", ""))'
}

run_wrk() { # target op seconds → one RESULT json line
  local url=${BASE[$1]} script=$HERE/wrk/$2.lua session token
  if [ "$2" = get ]; then
    read -r session token < <(session_of "$1")
    url="$url/$session"
    # liveness-api reads a session only with its token; the seed ignores the header.
    export SESSION_TOKEN=$token
  fi
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$3s" --timeout 5s -s "$script" "$url" |
    sed -n 's/^RESULT //p'
}

OUT=$RESULTS/runs.jsonl
: >"$OUT"
for target in rust next; do
  log "warming up $target"
  run_wrk "$target" create "$WARMUP" >/dev/null
  run_wrk "$target" get "$WARMUP" >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
  for target in rust next; do
    for op in create get; do
      log "round $round/$ROUNDS: $target $op (${DURATION}s, $CONNECTIONS connections)"
      line=$(run_wrk "$target" "$op" "$DURATION")
      [ -n "$line" ] || { echo "wrk gave no result for $target $op" >&2; exit 1; }
      echo "{\"round\":$round,\"target\":\"$target\",\"op\":\"$op\",$line}" >>"$OUT"
    done
  done
done
RUST_PEAK=$(rss_kib "$RUST_PID" VmHWM)
NEXT_PEAK=$(rss_kib "$NEXT_PID" VmHWM)

STUB_THREADS=$STUB_THREADS SYMBOL_ORDER=$SYMBOL_ORDER python3 "$HERE/report.py" "$OUT" "$RUST_IDLE" "$RUST_PEAK" "$NEXT_IDLE" "$NEXT_PEAK" \
  "$ROUNDS" "$DURATION" "$CONNECTIONS" "$WRK_THREADS" | tee "$RESULTS/report.md"
