#!/usr/bin/env bash
# wrangler's [build] command: builds the pixel (embedded in the worker), then the worker with
# worker-build into worker/build/. With AR_SKIP_BUILD=1 (set by make after it has built both) it
# only checks that the output exists.
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ -n "${AR_PATH_FIRST:-}" ] && PATH="$AR_PATH_FIRST:$PATH"
cd "$AR_ROOT"
if [ "${AR_SKIP_BUILD:-0}" = 1 ]; then
  [ -f worker/build/index.js ] || { echo "worker/build/index.js missing: run 'make build'" >&2; exit 1; }
  exit 0
fi
scripts/build-pixel.sh
(cd worker && worker-build --release)
w=$(ls worker/build/*.wasm 2>/dev/null | head -1)
[ -n "$w" ] && echo "worker: $w $(wc -c < "$w") B ($(gzip -9c "$w" | wc -c) B gzip)"
