//! The pixel's files (`/_ar/pixel.js` and `/_ar/pixel.wasm`, its main module, and the modules the
//! loader fetches only where a page needs them), read from the worker's static assets (`[assets]` in
//! `wrangler.toml`: `build/pixel/`, uploaded beside the worker by `wrangler deploy`). Served
//! through the worker rather than by the assets layer itself, so that our headers apply and no
//! storefront path is ever answered from the assets (`run_worker_first`). Kept out of the worker's
//! own bundle, the pixel costs it nothing (docs/decisions.md "Sizes").

use worker::{Env, Response};

use crate::bindings;
use crate::error::{Error, RouteResult};

/// Browsers may cache the pixel briefly; a deploy changes it within five minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

/// The pixel's files: its main module (every page), its hashing module (pages that pass
/// customer data) and its capture module (pages where a click-ID cookie may be written), each a
/// wasm-bindgen ES module and its wasm.
const FILES: [&str; 6] = [
    "pixel.js",
    "pixel.wasm",
    "pixel-hash.js",
    "pixel-hash.wasm",
    "pixel-capture.js",
    "pixel-capture.wasm",
];

/// The pixel file `path` names (`/_ar/pixel.js`), if it names one.
pub(crate) fn file(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix("/_ar/")?;
    FILES.into_iter().find(|f| *f == name)
}

pub(crate) async fn serve(env: &Env, path: &str) -> RouteResult {
    let file = file(path).ok_or(Error::NotFound("no such path under /_ar/"))?;
    // The names are ours (FILES), all lower case.
    #[allow(clippy::case_sensitive_file_extension_comparisons)]
    let content_type = if file.ends_with(".wasm") {
        "application/wasm"
    } else {
        "text/javascript; charset=utf-8"
    };
    asset(env, file, content_type).await
}

async fn asset(env: &Env, file: &str, content_type: &str) -> RouteResult {
    let assets = env.assets(bindings::ASSETS).map_err(|_| {
        Error::Internal("the ASSETS binding is missing (wrangler.toml [assets])".into())
    })?;
    // The host is ignored by the assets binding; only the path names the file.
    let mut found = assets
        .fetch(format!("https://assets.invalid/{file}"), None)
        .await?;
    if found.status_code() != 200 {
        return Err(Error::Internal(format!(
            "the pixel's {file} is not among the worker's assets (HTTP {}): build it with `make build`",
            found.status_code()
        )));
    }
    let response = Response::from_bytes(found.bytes().await?)?;
    response.headers().set("content-type", content_type)?;
    response.headers().set("cache-control", CACHE_CONTROL)?;
    // A shop served elsewhere loads the pixel from its collect host (DESIGN §4 "Deployment"): a
    // module script and its wasm are CORS requests. Both are public and carry no credentials.
    response.headers().set("access-control-allow-origin", "*")?;
    Ok(response)
}
