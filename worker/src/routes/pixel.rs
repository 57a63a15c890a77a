//! `/_ar/pixel.js` and `/_ar/pixel.wasm`.

use worker::Response;

use crate::error::RouteResult;

use crate::pixel_assets::{PIXEL_JS, PIXEL_WASM};

/// Browsers may cache the pixel briefly; a deploy changes it within five minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

pub(crate) fn script() -> RouteResult {
    asset(PIXEL_JS, "text/javascript; charset=utf-8")
}

pub(crate) fn wasm() -> RouteResult {
    asset(PIXEL_WASM, "application/wasm")
}

fn asset(bytes: &[u8], content_type: &str) -> RouteResult {
    let response = Response::from_bytes(bytes.to_vec())?;
    response.headers().set("content-type", content_type)?;
    response.headers().set("cache-control", CACHE_CONTROL)?;
    // A shop served elsewhere loads the pixel from its collect host (DESIGN §4 "Deployment"): a
    // module script and its wasm are CORS requests. Both are public and carry no credentials.
    response.headers().set("access-control-allow-origin", "*")?;
    Ok(response)
}
