#!/usr/bin/env bash
# Runs every test of the project, installing and starting what they need on a fresh machine:
# formatting, clippy (warnings denied), unit tests, and the end-to-end tests on the test
# ground (real kube-apiserver, a node running real pods, ministack; brought up by
# scripts/testground.sh), with the endpoint image built and loaded into the node.
set -euo pipefail
cd "$(dirname "$0")/.."

export LIVENESS_CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
# cargo's build output is a cache too: keep it outside the clone so a later run reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LIVENESS_CACHE_DIR/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n=== %s\n' "$*"; }

# Stop the test ground at the end only if this run started it.
started_ground=0
if ! scripts/testground.sh status 2>/dev/null | grep -q "kube-apiserver: running"; then
  started_ground=1
fi
cleanup() { [ "$started_ground" -eq 1 ] && scripts/testground.sh down >/dev/null 2>&1 || true; }
trap cleanup EXIT

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --all-targets --locked -- -D warnings

step "test ground up"
scripts/testground.sh up

step "endpoint image (scripts/image.sh --runtime-only: release build + the Dockerfile's runtime stage)"
# The reference is image.sh's last line of output; it is also in the test ground's env file.
TESTGROUND_ENDPOINT_IMAGE=$(scripts/image.sh --runtime-only | tail -n 1)
export TESTGROUND_ENDPOINT_IMAGE
echo "TESTGROUND_ENDPOINT_IMAGE=$TESTGROUND_ENDPOINT_IMAGE"

step "Helm chart and Dockerfile (scripts/chart-check.sh)"
scripts/chart-check.sh

step "cargo test (unit + end-to-end)"
cargo test --locked --no-fail-fast -- --test-threads "${TEST_THREADS:-4}"

step "example page in Chromium (scripts/browser-test.sh)"
scripts/browser-test.sh
