#!/usr/bin/env bash
# wrangler's [build] command: builds the pixel (the worker's static assets), then the worker with
# worker-build into worker/build/ (`--worker-only`: the pixel is built already). With
# AR_SKIP_BUILD=1 (set by make after it has built both) it only checks that the output exists.
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ -n "${AR_PATH_FIRST:-}" ] && PATH="$AR_PATH_FIRST:$PATH"
cd "$AR_ROOT"
if [ "${AR_SKIP_BUILD:-0}" = 1 ]; then
  for f in worker/build/index.js build/pixel/pixel.js build/pixel/pixel.wasm build/pixel/pixel-hash.js build/pixel/pixel-hash.wasm build/pixel/pixel-capture.js build/pixel/pixel-capture.wasm; do
    [ -f "$f" ] || { echo "$f missing: run 'make build'" >&2; exit 1; }
  done
  exit 0
fi
[ "${1:-}" = --worker-only ] || scripts/build-pixel.sh
(cd worker && worker-build --release)
w=worker/build/index_bg.wasm
# The function-name section is a tenth of the wasm (about 60 KB gzipped, docs/decisions.md
# "Sizes"): it goes, and target/worker-symbols.txt maps the `wasm-function[N]` of a workerd stack
# trace back to its name (wasm-opt runs no optimization here, so the indices are the build's).
cp "$w" "$CARGO_TARGET_DIR/worker-named.wasm" # what make bench's twiggy reads
wasm-opt --strip-debug --symbolmap="$CARGO_TARGET_DIR/worker-symbols.txt" \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$w" -o "$w.tmp"
mv "$w.tmp" "$w"
echo "worker: $w $(wc -c < "$w") B ($(gzip -9c "$w" | wc -c) B gzip); names: $CARGO_TARGET_DIR/worker-symbols.txt"
