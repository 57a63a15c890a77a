# Sourced by the Makefile and the scripts: where the tools and caches are.
# Written so that it can be sourced repeatedly and before bootstrap has run.
AR_ROOT=${AR_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)}
AR_CACHE=${AR_CACHE:-$HOME/.cache/active-reach}
# Intermediate build files are cached outside the clone (CI clones afresh each time, so
# dependencies stay compiled); final artifacts stay in the clone's own target/, so two clones
# sharing the cache never pick up each other's wasm (cargo copies a fresh unit's output only
# when it rebuilds it).
export CARGO_BUILD_BUILD_DIR=${CARGO_BUILD_BUILD_DIR:-$AR_CACHE/build-dir}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$AR_ROOT/target}
export AR_ROOT AR_CACHE
# Toolchain mode chosen by bootstrap (rustup target, or Debian rustc-web + a built sysroot).
if [ -f "$AR_CACHE/toolchain.env" ]; then . "$AR_CACHE/toolchain.env"; fi
# Node >= 22 for wrangler: the system's, or the one bootstrap fetched from the npm registry.
if [ -x "$AR_CACHE/node/node_modules/.bin/node" ]; then
  PATH="$AR_CACHE/node/node_modules/.bin:$PATH"
fi
PATH="$AR_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# The Node that bootstrap fetches trusts only its bundled CAs; behind a TLS-inspecting proxy
# (corporate networks, this kind of build machine) npm and wrangler then fail with
# SELF_SIGNED_CERT_IN_CHAIN. Trust the system's store too, as the distribution's Node does.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if [ -n "${AR_PATH_FIRST:-}" ]; then PATH="$AR_PATH_FIRST:$PATH"; fi
export PATH
# worker-build would download these; point it at the pinned ones instead.
export WASM_BINDGEN_BIN=${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}
export ESBUILD_BIN=${ESBUILD_BIN:-$AR_ROOT/node_modules/.bin/esbuild}
export WASM_OPT_BIN=${WASM_OPT_BIN:-$AR_ROOT/node_modules/.bin/wasm-opt}
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export WRANGLER_SEND_METRICS=false
