#!/usr/bin/env bash
# make bench, part 4: sizes of what ships (pixel js + wasm, worker js + wasm), raw and gzip -9,
# each against its budget, and the largest contributors by twiggy (function names survive only
# where the build keeps a name section; otherwise twiggy shows code[N] indices). Prints rows.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"
gz() { gzip -9c "$1" | wc -c; }
raw() { wc -c < "$1"; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
row() { # $1 label, $2.. files, last arg budget bytes
  local label=$1; shift; local budget=${!#}; local files=("${@:1:$#-1}") r=0 g=0
  for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "| size: $label | not measured: $f missing (run make build) | — | — |"; return; }
    r=$((r + $(raw "$f"))); g=$((g + $(gz "$f")))
  done
  echo "| size: $label, gzip (raw) | $(kb $g) ($(kb $r)) | budget: $(kb $budget) | $(awk -v g=$g -v b=$budget 'BEGIN { printf "%.2f", g / b }')× the budget |"
}
row "pixel, every page (js + wasm)" build/pixel/pixel.js build/pixel/pixel.wasm $((20 * 1024))
# The other modules are fetched only by pages that need them: the pixel's budget holds for the
# main module with each on those pages.
row "pixel with its hashing module (pages with customer data)" build/pixel/pixel.js build/pixel/pixel.wasm \
  build/pixel/pixel-hash.js build/pixel/pixel-hash.wasm $((20 * 1024))
row "pixel with its capture module (pages where a click-ID cookie may be written)" build/pixel/pixel.js \
  build/pixel/pixel.wasm build/pixel/pixel-capture.js build/pixel/pixel-capture.wasm $((20 * 1024))
row "worker (js + wasm)" worker/build/index.js worker/build/index_bg.wasm $((600 * 1024))
if command -v twiggy >/dev/null 2>&1; then
  # The worker ships without its name section; the build keeps a named copy for this.
  named="$CARGO_TARGET_DIR/worker-named.wasm"
  for f in worker/build/index_bg.wasm build/pixel/pixel.wasm build/pixel/pixel-hash.wasm build/pixel/pixel-capture.wasm; do
    [ -f "$f" ] || continue
    [ "$f" = worker/build/index_bg.wasm ] && [ -f "$named" ] && f=$named
    top=$(twiggy top -n 6 "$f" 2>/dev/null | awk -F'┊' 'NR > 2 && NF == 3 && $3 !~ /(\.\.\. and|Σ)/ {
      gsub(/^ +| +$/, "", $1); gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3); sub(/::h[0-9a-f]+$/, "", $3)
      printf "%s%s (%s, %s B)", sep, substr($3, 1, 48), $2, $1; sep = "; " }')
    echo "| largest contributors of $f (twiggy top) | ${top//|//} | — | — |"
  done
else
  echo "| largest contributors (twiggy) | not measured: twiggy missing (scripts/bootstrap.sh --bench) | — | — |"
fi
