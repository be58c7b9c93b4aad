#!/usr/bin/env bash
# Writes src/bin/liveness-api.order: the functions liveness-api runs, hottest first, which
# build.rs hands to the linker (lld's --symbol-ordering-file) so that they sit together at
# the start of .text instead of spread over all of it.
#
# Why: the kernel maps a binary's code around each page a process touches (fault-around,
# 64 KiB), so functions spread thinly over 10 MB of .text kept about 8.5 MiB of code
# resident in liveness-api although the ones it ran add up to 2 MB. Grouped, its code is
# about 3.7 MiB resident (bench/README.md).
#
# How: the release binary runs under callgrind while a workload goes through every route
# (creates with and without Idempotency-Key, results reads with a good, a missing and a
# malformed session token, config, verdict keys, probes, metrics, a CORS preflight, a
# refused method, an unknown route) with the rate and create limits on, then drains and
# stops on SIGTERM. Every function with a cost and a symbol in the binary's .text goes in
# the file, by its own instruction count, highest first.
#
# Symbol names carry hashes of the toolchain and the dependency versions: after a rustc
# or Cargo.lock change, or when hot functions were renamed or added, run this again
# (bench/run.sh says how much of the file the binary still matches; names it does not find
# are left where they are, so a stale file costs memory, never correctness; the crate is
# built as one codegen unit so that an edit does not rename the functions rustc shares
# between units). Needs valgrind (apt-get install valgrind) and a minute.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$ROOT/src/bin/liveness-api.order}
# shellcheck source=lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"

command -v valgrind >/dev/null || {
  echo "valgrind is required: apt-get install valgrind" >&2
  exit 1
}
# Two builds: an example turns on the dev-dependencies' features, which would give the
# library other symbol names than the release image's `cargo build --bin liveness-api`.
(cd "$ROOT" && cargo build --release --quiet --locked --bin liveness-api)
(cd "$ROOT" && cargo build --release --quiet --locked --example rekognition_stub)
API_BIN=$TARGET_DIR/release/liveness-api
STUB_BIN=$TARGET_DIR/release/examples/rekognition_stub

# shellcheck source=lib/dev-keys.sh
source "$ROOT/scripts/lib/dev-keys.sh"
dev_keys "$WORK/keys" >/dev/null
STUB_PORT=$(free_port)
"$STUB_BIN" "127.0.0.1:$STUB_PORT" succeeded:97.5 >/dev/null 2>&1 &
PIDS+=($!)

PORT=$(free_port)
METRICS_PORT=$(free_port)
AWS_ENDPOINT_URL=http://127.0.0.1:$STUB_PORT AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDSYMBOLORDER AWS_SECRET_ACCESS_KEY=not-a-real-secret \
  AWS_EC2_METADATA_DISABLED=true \
  LIVENESS_LISTEN=127.0.0.1:$PORT LIVENESS_METRICS_LISTEN=127.0.0.1:$METRICS_PORT \
  LIVENESS_REGION=us-east-1 LIVENESS_AUTH=none LIVENESS_LOG_FORMAT=json \
  LIVENESS_SESSION_KEY_FILE="$WORK/keys/session.key" \
  LIVENESS_SIGNING_KEY_FILE="$WORK/keys/verdict.pem" \
  LIVENESS_ALLOWED_ORIGINS=https://app.example LIVENESS_DRAIN_SECONDS=1 \
  LIVENESS_RATE_LIMIT_PER_MINUTE=100000 LIVENESS_CREATE_LIMIT_PER_MINUTE=10000 \
  valgrind --tool=callgrind --demangle=no --compress-strings=no \
  --callgrind-out-file="$WORK/callgrind.out" "$API_BIN" >/dev/null 2>"$WORK/valgrind.log" &
API=$!
PIDS+=("$API")
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  sleep 0.2
done

python3 - "$PORT" "$METRICS_PORT" <<'PY'
import http.client, json, sys

port, metrics_port = int(sys.argv[1]), int(sys.argv[2])
api = http.client.HTTPConnection("127.0.0.1", port)

def call(method, path, headers=None):
    api.request(method, path, headers=headers or {})
    response = api.getresponse()
    return response.status, response.read()

for i in range(100):
    status, body = call("POST", "/v1/sessions", {"Idempotency-Key": f"key-{i % 7}"})
    assert status == 201, (status, body)
    session = json.loads(body)
    path = "/v1/sessions/" + session["sessionId"]
    for _ in range(3):
        status, _ = call("GET", path, {"X-Liveness-Session-Token": session["sessionToken"]})
        assert status == 200, status
    call("GET", path)
    call("GET", "/v1/sessions/not-a-session-id")
    call("POST", "/v1/sessions", {"Origin": "https://app.example"})
for path in ["/v1/config", "/.well-known/jwks.json", "/healthz", "/readyz", "/nowhere"]:
    call("GET", path)
call("OPTIONS", "/v1/sessions",
     {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
call("PUT", "/v1/sessions")
metrics = http.client.HTTPConnection("127.0.0.1", metrics_port)
metrics.request("GET", "/metrics")
assert metrics.getresponse().status == 200
PY

kill -TERM "$API"
wait "$API" || true

# Functions of the binary's own .text (nm: t/T), with their instruction counts, hottest first.
nm --defined-only "$API_BIN" | awk '$2 ~ /^[tT]$/ {print $3}' | sort -u >"$WORK/text-symbols"
callgrind_annotate --threshold=100 "$WORK/callgrind.out" |
  python3 -c '
import re, sys
text = set(open(sys.argv[1]).read().split())
seen, order = set(), []
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \(.*?\)\s+\S*?:(\S+) \[", line)
    if m and m.group(2) in text and m.group(2) not in seen:
        seen.add(m.group(2))
        order.append((int(m.group(1).replace(",", "")), m.group(2)))
for _, name in sorted(order, key=lambda o: -o[0]):
    print(name)
' "$WORK/text-symbols" >"$OUT"
echo "wrote $(wc -l <"$OUT") symbols to ${OUT#"$ROOT"/}" >&2
