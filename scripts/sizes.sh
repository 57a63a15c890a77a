#!/usr/bin/env bash
# Prints the size of the built artifacts, raw and gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
for f in build/pixel/pixel.wasm build/pixel/pixel.js worker/build/index_bg.wasm worker/build/index.js; do
  [ -f "$f" ] || continue
  printf 'size: %-30s %8d B raw %8d B gzip\n' "$f" "$(wc -c < "$f")" "$(gzip -9c "$f" | wc -c)"
done
if [ -f build/pixel/pixel.wasm ] && [ -f build/pixel/pixel.js ]; then
  total=$(( $(gzip -9c build/pixel/pixel.wasm | wc -c) + $(gzip -9c build/pixel/pixel.js | wc -c) ))
  echo "size: pixel total (wasm + js)        $total B gzip (budget 30720 B)"
fi
if [ -f worker/build/index_bg.wasm ] && [ -f worker/build/index.js ]; then
  total=$(( $(gzip -9c worker/build/index_bg.wasm | wc -c) + $(gzip -9c worker/build/index.js | wc -c) ))
  echo "size: worker total (wasm + js)       $total B gzip (aim 614400 B)"
fi
