#!/usr/bin/env bash
# Builds the browser pixel: release wasm -> wasm-bindgen (ES module) -> wasm-opt -Oz, then appends
# the loader. Three modules: the main one (build/pixel/pixel.js + pixel.wasm, on every page), the
# hashing one (pixel-hash.*, fetched by the loader only for pages that pass customer data) and the
# capture one (pixel-capture.*, only where a click-ID cookie may be written). The worker serves all.
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ -n "${AR_PATH_FIRST:-}" ] && PATH="$AR_PATH_FIRST:$PATH"
cd "$AR_ROOT"
# The standard library is rebuilt for the pixel from its source, for size (std's
# `optimize_for_size`), with panics that abort without formatting a message or recording where
# (`-Cpanic=immediate-abort`, `-Zlocation-detail=none`: the release profile's `panic = "abort"`
# still links std's message formatting). These are unstable flags of the stable compiler
# (RUSTC_BOOTSTRAP, as the wasm32 sysroot of DESIGN §8 is built); the pixel's only panics are
# bugs, and one traps as before (its message was never shown: wasm32 has no stderr). Own target and build folders:
# other flags for the same dependencies would rebuild the worker's copies each time. Where the
# std source is missing (a toolchain without rust-src) or that build fails, the prebuilt std is
# used, loudly: every page then loads about 3 KB more.
pixel_builds() { # $@: the cargo command
  "$@" -p ar-pixel &&
    # Separate builds: with the main module's in one invocation, cargo would unify features.
    "$@" -p ar-pixel-hash --features allocator &&
    "$@" -p ar-pixel-capture --features allocator
}
plain=(cargo build --locked --release --target wasm32-unknown-unknown)
std_lock="$("${RUSTC:-rustc}" --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock"
if [ -f "$std_lock" ] && (
  export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$CARGO_TARGET_DIR/pixel-std" \
    CARGO_BUILD_BUILD_DIR="$AR_CACHE/build-dir-pixel-std" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
  pixel_builds "${plain[@]}" -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
); then
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/pixel-std"
  # No module links `core::fmt` (about 1 KB gzipped each): messages, cookies and IDs on the pixel's
  # paths are built with `concat` and `ar_shared::text`. A `format!`, `write!` or `to_string` there
  # brings it back; the symbol names of the unstripped build show it.
  for crate in ar_pixel ar_pixel_hash ar_pixel_capture; do
    if grep -q '4core3fmt5write' "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$crate.wasm"; then
      echo "pixel: $crate links core::fmt: a format!/write!/to_string on its path (find the caller:" \
        "wasm-bindgen --keep-debug, then twiggy paths <wasm> 'core::fmt::write'; docs/decisions.md \"Gaps\")" >&2
      exit 1
    fi
  done
else
  if [ "${AR_TOOLCHAIN_MODE:-rustup}" = debian ]; then add="apt-get install rust-web-src"; else add="rustup component add rust-src"; fi
  if [ -f "$std_lock" ]; then why="the build with std from source failed (above)"; else why="no std source ($std_lock; $add)"; fi
  echo "pixel: WARNING: $why: building with the prebuilt std; every page loads about 3 KB more" >&2
  pixel_builds "${plain[@]}"
fi
raw="$CARGO_TARGET_DIR/pixel-bindgen"
rm -rf "$raw"; mkdir -p "$raw" build/pixel
# $1 crate file stem, $2 output name, $3.. JS appended to the glue.
module() {
  local crate=$1 out=$2; shift 2
  "$WASM_BINDGEN_BIN" --target web --no-typescript --out-name "$out" --out-dir "$raw" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$crate.wasm"
  # --converge reruns the passes until the module stops shrinking (-597 B gzip of the pixel, about a second of build).
  local features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
    --enable-mutable-globals --enable-reference-types --enable-multivalue)
  wasm-opt -Oz --converge --strip-debug --strip-producers --strip-target-features "${features[@]}" \
    "$raw/${out}_bg.wasm" -o "$raw/$out-opt.wasm"
  # One- and two-letter import, export and module names instead of wasm-bindgen's hashed ones,
  # in the wasm and in its glue (scripts/minify-wasm-names.mjs).
  wasm-opt --minify-imports-and-exports-and-modules "${features[@]}" \
    "$raw/$out-opt.wasm" -o "build/pixel/$out.wasm.tmp" > "$raw/$out-names.json"
  node scripts/minify-wasm-names.mjs "$raw/$out-names.json" "build/pixel/$out.wasm.tmp" "$raw/$out.js"
  cat "$raw/$out.js" "$@" > "$raw/$out-full.js"
  "$ESBUILD_BIN" "$raw/$out-full.js" --minify --format=esm --target=es2020 --log-level=warning --outfile="build/pixel/$out.js.tmp"
  mv "build/pixel/$out.wasm.tmp" "build/pixel/$out.wasm"
  mv "build/pixel/$out.js.tmp" "build/pixel/$out.js"
  echo "pixel: build/pixel/$out.wasm $(wc -c < "build/pixel/$out.wasm") B ($(gzip -9c "build/pixel/$out.wasm" | wc -c) B gzip)," \
    "$out.js $(wc -c < "build/pixel/$out.js") B ($(gzip -9c "build/pixel/$out.js" | wc -c) B gzip)"
}
module ar_pixel_hash pixel-hash
module ar_pixel_capture pixel-capture
module ar_pixel pixel pixel/loader.js
# The loader names the other files with their versions (ar_shared::browser::files: the first 16
# hex digits of the SHA-256); the worker answers only those.
for f in pixel.wasm pixel-hash.js pixel-hash.wasm pixel-capture.js pixel-capture.wasm; do
  v=$(sha256sum "build/pixel/$f" | cut -c1-16)
  sed -i "s/@AR_V:$f@/$v/" build/pixel/pixel.js
done
if grep -q '@AR_V:' build/pixel/pixel.js; then
  echo "build-pixel: pixel.js names a file whose version was not written: $(grep -o '@AR_V:[^@]*@' build/pixel/pixel.js | head -1)" >&2
  exit 1
fi
echo "pixel: build/pixel/pixel.js with the versions $(wc -c < build/pixel/pixel.js) B ($(gzip -9c build/pixel/pixel.js | wc -c) B gzip)"
