//! The pixel's JS and wasm, embedded at build time (see `build.rs`).

/// `/_ar/pixel.js`: the wasm-bindgen glue plus the `window.ar` loader.
pub const PIXEL_JS: &[u8] = include_bytes!(concat!(env!("AR_PIXEL_DIR"), "/pixel.js"));
/// `/_ar/pixel.wasm`: the pixel module, loaded by `pixel.js` relative to its own URL.
pub const PIXEL_WASM: &[u8] = include_bytes!(concat!(env!("AR_PIXEL_DIR"), "/pixel.wasm"));
