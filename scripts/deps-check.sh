#!/usr/bin/env bash
# ar-shared must stay pure: no IO, browser, runtime or randomness crates in its dependency tree,
# and the pixel's build of it (no default features) must not pull serde_json.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"
fail=0
check() { # $1 = label, rest = cargo tree args
  local label=$1; shift
  local tree; tree=$(cargo tree --locked -e normal --prefix none "$@" | cut -d' ' -f1 | sort -u)
  for bad in worker worker-sys web-sys js-sys wasm-bindgen getrandom tokio; do
    if grep -qx "$bad" <<<"$tree"; then echo "deps-check: $label depends on $bad" >&2; fail=1; fi
  done
  echo "$tree"
}
check "ar-shared (server, wasm32)" -p ar-shared --target wasm32-unknown-unknown >/dev/null
check "ar-shared (server, host)" -p ar-shared >/dev/null
pixel_tree=$(check "ar-shared (pixel features)" -p ar-shared --no-default-features --target wasm32-unknown-unknown)
for heavy in serde_json publicsuffix; do
  if grep -qx "$heavy" <<<"$pixel_tree"; then echo "deps-check: the pixel's ar-shared pulls $heavy" >&2; fail=1; fi
done
[ $fail = 0 ] && echo "deps-check: ar-shared is pure; the pixel's build of it is free of serde_json and the Public Suffix List"
exit $fail
