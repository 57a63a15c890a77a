#!/usr/bin/env bash
# make bench: one table, every figure a ratio to a baseline measured in the same run on this
# machine (medians over repeated rounds, with the lowest and highest round), printed and written
# to bench/latest.md. Parts:
#   1. the core natively (shared/examples/bench.rs), at the release profile and at opt-level 3;
#   2. the core's Meta path in wasm vs Meta's Node SDK (scripts/bench-wasm.sh);
#   3. sizes and their largest contributors (scripts/bench-sizes.sh);
#   4. the worker under load vs the workerd floor, D1 writes, batching, purchase to platform
#      (tests/src/bin/ar-bench.rs).
# Expects `make build` (the Makefile's bench target runs it first).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
failed=0
part() { # $1 = what, rest = command; a failed part leaves a row saying so and fails the run
  local what=$1; shift
  echo "bench: $what" >&2
  if ! "$@" >> "$rows"; then
    echo "| $what | not measured: this part failed (see make bench's output) | — | — |" >> "$rows"
    failed=1
  fi
}
part "core, native" cargo run --locked --release -q -p ar-shared --example bench
part "core, native at opt-level 3" env CARGO_TARGET_DIR="$AR_ROOT/target/bench-o3" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 AR_BENCH_OPT=3 cargo run --locked --release -q -p ar-shared --example bench
part "wasm vs Meta's Node SDK" scripts/bench-wasm.sh
part "sizes" scripts/bench-sizes.sh
# Built before it runs, so a source edit during the run cannot change what is measured.
cargo build --locked --profile bench-tools -q -p ar-sandbox --bin ar-bench
part "the worker under load (wrangler dev) vs the workerd floor" \
  env AR_SKIP_BUILD=1 cargo run --locked --profile bench-tools -q -p ar-sandbox --bin ar-bench
{
  echo "# make bench"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') on"
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), shared), by \`make bench\`."
  echo "Each figure: median over repeated rounds (lowest–highest round in brackets), and its ratio to"
  echo "the baseline measured in the same run. Load runs: ${AR_BENCH_CONNECTIONS:-16} connections, ${AR_BENCH_SECS:-8} s, ${AR_BENCH_ROUNDS:-3} rounds alternating"
  echo "with the floor; every request is new to the worker and pixel events come from many client addresses."
  echo
  echo "| figure | ours | baseline (same run) | ratio |"
  echo "|---|---|---|---|"
  cat "$rows"
} > bench/latest.md
cat bench/latest.md
exit $failed
