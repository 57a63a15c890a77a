#!/usr/bin/env bash
# Builds the browser pixel: release wasm -> wasm-bindgen (ES module) -> wasm-opt -Oz, then appends
# the loader. Output: build/pixel/pixel.js + build/pixel/pixel.wasm (served by the worker).
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ -n "${AR_PATH_FIRST:-}" ] && PATH="$AR_PATH_FIRST:$PATH"
cd "$AR_ROOT"
cargo build --locked --release -p ar-pixel --target wasm32-unknown-unknown
raw="$CARGO_TARGET_DIR/pixel-bindgen"
rm -rf "$raw"; mkdir -p "$raw" build/pixel
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-name pixel --out-dir "$raw" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/ar_pixel.wasm"
# --converge reruns the passes until the module stops shrinking (-597 B gzip of the pixel, about a second of build).
wasm-opt -Oz --converge --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$raw/pixel_bg.wasm" -o build/pixel/pixel.wasm.tmp
cat "$raw/pixel.js" pixel/loader.js > "$raw/pixel-full.js"
"$ESBUILD_BIN" "$raw/pixel-full.js" --minify --format=esm --target=es2020 --log-level=warning --outfile=build/pixel/pixel.js.tmp
mv build/pixel/pixel.wasm.tmp build/pixel/pixel.wasm
mv build/pixel/pixel.js.tmp build/pixel/pixel.js
echo "pixel: build/pixel/pixel.wasm $(wc -c < build/pixel/pixel.wasm) B ($(gzip -9c build/pixel/pixel.wasm | wc -c) B gzip)," \
  "pixel.js $(wc -c < build/pixel/pixel.js) B ($(gzip -9c build/pixel/pixel.js | wc -c) B gzip)"
