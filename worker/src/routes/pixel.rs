//! `/_ar/pixel.js` and `/_ar/pixel.wasm`.

use worker::{Response, Result};

use crate::pixel_assets::{PIXEL_JS, PIXEL_WASM};

/// Browsers may cache the pixel briefly; a deploy changes it within five minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

pub fn script() -> Result<Response> {
    asset(PIXEL_JS, "text/javascript; charset=utf-8")
}

pub fn wasm() -> Result<Response> {
    asset(PIXEL_WASM, "application/wasm")
}

fn asset(bytes: &[u8], content_type: &str) -> Result<Response> {
    let response = Response::from_bytes(bytes.to_vec())?;
    response.headers().set("content-type", content_type)?;
    response.headers().set("cache-control", CACHE_CONTROL)?;
    Ok(response)
}
