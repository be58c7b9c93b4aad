#!/usr/bin/env bash
# Develop without AWS: starts, on loopback, liveness-emulator (an offline stand-in for
# Rekognition Face Liveness), liveness-api pointed at it, and the example page
# (examples/web) on its own origin; prints what to open. Ctrl-C stops all three.
#   scripts/dev.sh            ports from EMULATOR_PORT (8443), API_PORT (8080), WEB_PORT (5173),
#                             METRICS_PORT (9090)
# The emulator's verdicts mean nothing about real users: it is for wiring and UI work.
set -euo pipefail
cd "$(dirname "$0")/.."

export LIVENESS_CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LIVENESS_CACHE_DIR/target}"
EMULATOR_PORT="${EMULATOR_PORT:-8443}"
API_PORT="${API_PORT:-8080}"
METRICS_PORT="${METRICS_PORT:-9090}"
WEB_PORT="${WEB_PORT:-5173}"
OUTCOME="${OUTCOME:-judge}" # judge | pass | fail (see liveness-emulator --help)
emulator="https://127.0.0.1:$EMULATOR_PORT"
api="http://127.0.0.1:$API_PORT"
web="http://127.0.0.1:$WEB_PORT"
logs="$LIVENESS_CACHE_DIR/dev-logs"
mkdir -p "$logs"

step() { printf '=== %s\n' "$*"; }
# shellcheck source=scripts/lib/web-deps.sh
source scripts/lib/web-deps.sh
# shellcheck source=scripts/lib/dev-keys.sh
source scripts/lib/dev-keys.sh

step "cargo build --bin liveness-emulator --bin liveness-api"
cargo build --locked --bin liveness-emulator --bin liveness-api
step "example page: npm ci + esbuild"
web_deps
node examples/web/build.mjs --api-url "$api"
step "emulator assets"
assets=$(scripts/emulator-assets.sh | tail -n1)

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

wait_http() { # url what log
  for _ in $(seq 150); do
    if curl -fsk -o /dev/null "$1"; then return 0; fi
    sleep 0.2
  done
  echo "$2 did not start; its log: $3" >&2
  tail -n 20 "$3" >&2
  exit 1
}

# The emulator writes its self-signed certificate next to the assets directory;
# liveness-api's HTTPS client (rustls, the system's roots) trusts it through SSL_CERT_FILE.
cert="$assets/../emulator-cert.pem"
rm -f "$cert"
"$CARGO_TARGET_DIR/debug/liveness-emulator" --listen "127.0.0.1:$EMULATOR_PORT" \
  --assets-dir "$assets" --outcome "$OUTCOME" > "$logs/emulator.log" 2>&1 &
pids+=($!)
wait_http "$emulator/assets/models/facemesh-detection-short.json" liveness-emulator "$logs/emulator.log"
for _ in $(seq 50); do [ -s "$cert" ] && break; sleep 0.1; done

# The page sends no sign-in token yet: anonymous callers (LIVENESS_AUTH=none), with the
# session and verdict keys made once for local runs.
dev_keys "$LIVENESS_CACHE_DIR/dev-keys"
LIVENESS_LISTEN="127.0.0.1:$API_PORT" LIVENESS_METRICS_LISTEN="127.0.0.1:$METRICS_PORT" \
  LIVENESS_AUTH=none LIVENESS_APP=dev/example \
  LIVENESS_SESSION_KEY_FILE="$LIVENESS_CACHE_DIR/dev-keys/session.key" \
  LIVENESS_SIGNING_KEY_FILE="$LIVENESS_CACHE_DIR/dev-keys/verdict.pem" \
  LIVENESS_REGION=us-east-1 \
  LIVENESS_ALLOWED_ORIGINS="$web" LIVENESS_EMULATOR_URL="$emulator" \
  LIVENESS_LOG_FORMAT=text AWS_ENDPOINT_URL="$emulator" SSL_CERT_FILE="$cert" \
  AWS_ACCESS_KEY_ID=AKIAEMULATOREXAMPLE00 AWS_SECRET_ACCESS_KEY=emulator-secret \
  AWS_EC2_METADATA_DISABLED=true \
  "$CARGO_TARGET_DIR/debug/liveness-api" > "$logs/liveness-api.log" 2>&1 &
pids+=($!)
wait_http "$api/readyz" liveness-api "$logs/liveness-api.log"

node examples/web/serve.mjs --listen "127.0.0.1:$WEB_PORT" > "$logs/web.log" 2>&1 &
pids+=($!)
wait_http "$web/" "the page server" "$logs/web.log"

cat <<MSG

Running without AWS (logs in $logs):
  liveness-emulator  $emulator   (outcome: $OUTCOME; an EMULATOR, not Rekognition)
  liveness-api       $api   (GET $api/v1/config; metrics on :$METRICS_PORT)
  example page       $web

1. First open $emulator/assets/models/facemesh-detection-short.json
   and accept the self-signed certificate (the browser streams to that origin).
2. Then open $web and allow the camera.
Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
echo "a process stopped; see $logs" >&2
