#!/usr/bin/env bash
# Coverage-guided fuzzing of every ar-fuzz target with libFuzzer (cargo-fuzz), for a fixed time
# per target:  scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, every target)
#
# The installed toolchain is stable; cargo-fuzz needs nightly flags (-Zsanitizer, sancov), which
# RUSTC_BOOTSTRAP=1 unlocks on the same compiler (docs/decisions.md, "Fuzzing"). No sanitizer is
# used (`-s none`): the code under test forbids `unsafe`, so what libFuzzer hunts for is panics
# (a panic aborts the wasm instance) and failed round-trip assertions.
#
# Each run grows a corpus in target/fuzz-corpus/<target>/ from fuzz/seeds/<target>/. A crash is
# copied to fuzz/regressions/<target>/ (replayed by `make test` from then on) and the script fails.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"
SECS=${1:-60}
shift || true
have() { command -v "$1" >/dev/null 2>&1; }
have cargo-fuzz || { echo "fuzz: cargo-fuzz missing; run scripts/bootstrap.sh --fuzz" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz/libfuzzer/fuzz_targets | sed 's/\.rs$//')
fi
export RUSTC_BOOTSTRAP=1
# Its own target dir: instrumented builds must not evict the workspace's.
export CARGO_TARGET_DIR="$AR_ROOT/target/fuzz" CARGO_BUILD_BUILD_DIR="$AR_CACHE/fuzz-build-dir"
failed=()
for t in "${targets[@]}"; do
  corpus="$AR_ROOT/target/fuzz-corpus/$t"
  artifacts="$AR_ROOT/target/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz $t (${SECS} s)"
  if ! cargo fuzz run --fuzz-dir fuzz/libfuzzer -s none --release "$t" "$corpus" "fuzz/seeds/$t" -- \
      -max_total_time="$SECS" -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 \
      | grep -E '^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|thread .* panicked)' ; then
    :
  fi
  shopt -s nullglob
  crashes=("$artifacts"/crash-* "$artifacts"/oom-* "$artifacts"/timeout-*)
  shopt -u nullglob
  if [ ${#crashes[@]} -gt 0 ]; then
    mkdir -p "fuzz/regressions/$t"
    cp "${crashes[@]}" "fuzz/regressions/$t/"
    failed+=("$t")
    echo "fuzz: $t crashed; inputs kept in fuzz/regressions/$t/ (commit them with the fix)" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: crashes in ${failed[*]}" >&2; exit 1; fi
echo "fuzz: ${#targets[@]} targets, ${SECS} s each, no crash"
