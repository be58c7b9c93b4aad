#!/usr/bin/env bash
# The example page (examples/web) end to end in a real browser: Debian's Chromium with a fake
# camera, the page on its own origin, liveness-api and liveness-emulator on loopback, and the
# user signing in to a Cognito user pool on the test ground's ministack; then once more
# against the endpoint the operator deploys, in a pod on the test ground's node.
# Installs what it needs on a fresh Debian machine (apt: chromium, ffmpeg; npm ci with the
# committed lock file; the emulator's assets; a face video made from scikit-image's
# astronaut.png), builds both binaries, then runs `node --test examples/web/test/`.
# Idempotent; downloads are cached in ${LIVENESS_CACHE_DIR:-~/.cache/liveness-operator}.
# Screenshots and logs: test-output/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

export LIVENESS_CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LIVENESS_CACHE_DIR/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DEBIAN_FRONTEND=noninteractive
cache="$LIVENESS_CACHE_DIR/browser"
mkdir -p "$cache"

step() { printf '\n=== %s\n' "$*"; }
# shellcheck source=scripts/lib/web-deps.sh
source scripts/lib/web-deps.sh
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

step "apt: chromium ffmpeg"
if ! command -v chromium >/dev/null || ! command -v ffmpeg >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg >/dev/null
fi
chromium --version 2>/dev/null

step "npm ci (examples/web)"
web_deps

step "esbuild bundle"
node examples/web/build.mjs

step "emulator assets (scripts/emulator-assets.sh)"
assets=$(scripts/emulator-assets.sh "$cache/assets" | tail -n1)
ls "$assets/models" "$assets/wasm" >/dev/null

step "fake camera videos"
# astronaut.png (NASA portrait, public domain) from scikit-image's wheel: downloaded once,
# without dependencies, and only the picture is kept.
if [ ! -f "$cache/astronaut.png" ]; then
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "scikit-image==0.26.0"
  unzip -q -o -j "$tmp"/scikit_image-*.whl 'skimage/data/astronaut.png' -d "$tmp"
  mv "$tmp/astronaut.png" "$cache/astronaut.png"
  rm -rf "$tmp"
fi
# 640x480 at 20 fps (the component wants >= 15), looped by Chromium; the path must not
# contain the word "virtual" (the component refuses cameras whose label says so).
# face.y4m: 2 s of the whole portrait (the face small: far enough for the distance check
# before recording), then 10 s cropped to the face, which then fills the emulator's
# centred oval, as a person moving closer does. noface.y4m: plain grey.
if [ ! -f "$cache/face.y4m" ]; then
  ffmpeg -hide_banner -loglevel error -y -loop 1 -i "$cache/astronaut.png" -filter_complex \
    "[0:v]split[a][b];[a]scale=-2:480,pad=640:480:(ow-iw)/2:0,setsar=1,trim=duration=2[far];[b]crop=183:137:136:30,scale=640:480,setsar=1,trim=duration=10[near];[far][near]concat=n=2:v=1,format=yuv420p" \
    -r 20 "$cache/face.tmp.y4m"
  mv "$cache/face.tmp.y4m" "$cache/face.y4m"
fi
if [ ! -f "$cache/noface.y4m" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "color=c=0x707070:s=640x480:r=30" -t 4 \
    -pix_fmt yuv420p "$cache/noface.tmp.y4m"
  mv "$cache/noface.tmp.y4m" "$cache/noface.y4m"
fi

step "test ground (the user pool the page signs in to)"
scripts/testground.sh up
# shellcheck disable=SC1090
source "$(scripts/testground.sh env)"

step "cargo build --bin liveness-emulator --bin liveness-api --bin liveness-operator"
cargo build --locked --bin liveness-emulator --bin liveness-api --bin liveness-operator

step "endpoint image (scripts/image.sh --runtime-only: seconds when the binaries did not change)"
TESTGROUND_ENDPOINT_IMAGE=$(scripts/image.sh --runtime-only | tail -n 1)
export TESTGROUND_ENDPOINT_IMAGE
echo "$TESTGROUND_ENDPOINT_IMAGE"

step "node --test examples/web/test/"
# The in-cluster test applies a LivenessApp: the CRD must be there even when no cargo test
# installed it first (this script run alone, on a fresh test ground). Kubernetes 1.20 does
# not know x-kubernetes-validations: not validated client-side, dropped by the server.
"$CARGO_TARGET_DIR/debug/liveness-operator" crd | kubectl apply --validate=false -f - >/dev/null
rm -rf "$repo/test-output/browser"
mkdir -p "$repo/test-output/browser"
export EMULATOR_ASSETS_DIR="$assets"
export FACE_VIDEO="$cache/face.y4m" NOFACE_VIDEO="$cache/noface.y4m"
export LIVENESS_API_BIN="$CARGO_TARGET_DIR/debug/liveness-api"
export LIVENESS_EMULATOR_BIN="$CARGO_TARGET_DIR/debug/liveness-emulator"
export LIVENESS_OPERATOR_BIN="$CARGO_TARGET_DIR/debug/liveness-operator"
cd examples/web
node --test --test-reporter=spec --test-reporter-destination=stdout test/
