#!/usr/bin/env bash
# Prints the size of the built artifacts, raw and gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
gz() { gzip -9c "$1" | wc -c; }
for f in build/pixel/pixel.wasm build/pixel/pixel.js build/pixel/pixel-hash.wasm build/pixel/pixel-hash.js \
  build/pixel/pixel-capture.wasm build/pixel/pixel-capture.js \
  worker/build/index_bg.wasm worker/build/index.js; do
  [ -f "$f" ] || continue
  printf 'size: %-30s %8d B raw %8d B gzip\n' "$f" "$(wc -c < "$f")" "$(gz "$f")"
done
if [ -f build/pixel/pixel.wasm ] && [ -f build/pixel/pixel.js ]; then
  total=$(( $(gz build/pixel/pixel.wasm) + $(gz build/pixel/pixel.js) ))
  echo "size: pixel, every page (wasm + js) $total B gzip (budget 30720 B)"
  # The modules the loader fetches only where a page needs them.
  for m in hash:"pages that pass customer data" capture:"pages where a click-ID cookie may be written"; do
    name=${m%%:*} where=${m#*:}
    [ -f "build/pixel/pixel-$name.wasm" ] && [ -f "build/pixel/pixel-$name.js" ] || continue
    more=$(( $(gz "build/pixel/pixel-$name.wasm") + $(gz "build/pixel/pixel-$name.js") ))
    echo "size: pixel $name module (wasm + js)  $more B gzip (${where//\"/}: +$more, $((total + more)) B)"
  done
fi
if [ -f worker/build/index_bg.wasm ] && [ -f worker/build/index.js ]; then
  total=$(( $(gz worker/build/index_bg.wasm) + $(gz worker/build/index.js) ))
  echo "size: worker total (wasm + js)       $total B gzip (aim 614400 B)"
fi
