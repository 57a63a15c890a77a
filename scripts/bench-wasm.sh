#!/usr/bin/env bash
# make bench, part 2: ar-shared's Meta path compiled to wasm32 (bench/wasm) at the worker's
# release profile (opt-level "z") and at opt-level 3, run in Node against Meta's Node SDK
# (bench/node/meta_sdk.mjs). Prints table rows.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"
out="$AR_ROOT/target/bench-wasm"
build() { # $1 = label, $2 = opt-level
  local dir="$out/$1"
  CARGO_TARGET_DIR="$out/cargo-$1" CARGO_PROFILE_RELEASE_OPT_LEVEL="$2" \
    cargo build --locked --release -q --target wasm32-unknown-unknown -p ar-bench-wasm
  wasm-bindgen --target nodejs --out-dir "$dir" "$out/cargo-$1/wasm32-unknown-unknown/release/ar_bench_wasm.wasm"
}
build z z
build o3 3
node bench/node/meta_sdk.mjs "$out/z" 'opt-level "z", as the worker ships' "$out/o3" 'opt-level 3'
