//! `/_ar/pixel.js` and `/_ar/pixel.wasm` (the pixel's main module), `/_ar/pixel-hash.js` and
//! `/_ar/pixel-hash.wasm` (its hashing module, fetched only by pages that pass customer data), read from the worker's static assets (`[assets]` in
//! `wrangler.toml`: `build/pixel/`, uploaded beside the worker by `wrangler deploy`). Served
//! through the worker rather than by the assets layer itself, so that our headers apply and no
//! storefront path is ever answered from the assets (`run_worker_first`). Kept out of the worker's
//! own bundle, the pixel costs it nothing (docs/decisions.md "Sizes").

use worker::{Env, Response};

use crate::bindings;
use crate::error::{Error, RouteResult};

/// Browsers may cache the pixel briefly; a deploy changes it within five minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

pub(crate) async fn script(env: &Env) -> RouteResult {
    asset(env, "pixel.js", "text/javascript; charset=utf-8").await
}

pub(crate) async fn wasm(env: &Env) -> RouteResult {
    asset(env, "pixel.wasm", "application/wasm").await
}

pub(crate) async fn hash_script(env: &Env) -> RouteResult {
    asset(env, "pixel-hash.js", "text/javascript; charset=utf-8").await
}

pub(crate) async fn hash_wasm(env: &Env) -> RouteResult {
    asset(env, "pixel-hash.wasm", "application/wasm").await
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
