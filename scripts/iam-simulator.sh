#!/usr/bin/env bash
# Installs the test-only IAM evaluator (tests/iam: @cloud-copilot/iam-simulate, AGPL-3.0,
# never shipped) outside the clone and prints the directory holding its node_modules as the
# last line. `npm ci` runs with the committed lock file (which names no download hosts), once
# per lock file: the directory is keyed by the lock file's hash, under
# ${LIVENESS_CACHE_DIR:-~/.cache/liveness-operator}. Installs Debian's nodejs and npm when
# node or npm is missing. Idempotent and safe to run from several test processes at once.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

mkdir -p "$cache"
exec 9>"$cache/iam-simulate.lock"
flock 9

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "iam-simulator: installing Debian's nodejs and npm" >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

hash=$(sha256sum tests/iam/package-lock.json | cut -c1-16)
dir="$cache/iam-simulate-$hash"
if [ ! -f "$dir/.installed" ]; then
  echo "iam-simulator: npm ci in $dir" >&2
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  cp tests/iam/package.json tests/iam/package-lock.json "$dir.tmp/"
  (cd "$dir.tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$dir.tmp/.installed"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi
echo "$dir"
