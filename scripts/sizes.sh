#!/usr/bin/env bash
# Prints the size of the built artifacts, raw and gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
gz() { gzip -9c "$1" | wc -c; }
for f in build/pixel/pixel.wasm build/pixel/pixel.js build/pixel/pixel-hash.wasm build/pixel/pixel-hash.js \
  worker/build/index_bg.wasm worker/build/index.js; do
  [ -f "$f" ] || continue
  printf 'size: %-30s %8d B raw %8d B gzip\n' "$f" "$(wc -c < "$f")" "$(gz "$f")"
done
if [ -f build/pixel/pixel.wasm ] && [ -f build/pixel/pixel.js ]; then
  total=$(( $(gz build/pixel/pixel.wasm) + $(gz build/pixel/pixel.js) ))
  echo "size: pixel, every page (wasm + js) $total B gzip (budget 30720 B)"
  if [ -f build/pixel/pixel-hash.wasm ] && [ -f build/pixel/pixel-hash.js ]; then
    hash=$(( $(gz build/pixel/pixel-hash.wasm) + $(gz build/pixel/pixel-hash.js) ))
    echo "size: pixel hashing module (wasm + js) $hash B gzip (pages that pass customer data: $((total + hash)) B)"
  fi
fi
if [ -f worker/build/index_bg.wasm ] && [ -f worker/build/index.js ]; then
  total=$(( $(gz worker/build/index_bg.wasm) + $(gz worker/build/index.js) ))
  echo "size: worker total (wasm + js)       $total B gzip (aim 614400 B)"
fi
