//! The pixel's JS and wasm, embedded at build time from `build/pixel/` (see `build.rs`).

/// `/_ar/pixel.js`: the wasm-bindgen glue plus the `window.ar` loader.
pub const PIXEL_JS: &[u8] = include_bytes!("../../build/pixel/pixel.js");
/// `/_ar/pixel.wasm`: the pixel module, loaded by `pixel.js` relative to its own URL.
pub const PIXEL_WASM: &[u8] = include_bytes!("../../build/pixel/pixel.wasm");
