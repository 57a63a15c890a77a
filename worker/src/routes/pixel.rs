//! The pixel's files (`/_ar/pixel.js` and `/_ar/pixel.wasm`, its main module, and the modules the
//! loader fetches only where a page needs them; `ar_shared::browser::files`), read from the
//! worker's static assets (`[assets]` in `wrangler.toml`: `build/pixel/`, uploaded beside the
//! worker by `wrangler deploy`). Served through the worker rather than by the assets layer itself,
//! so that our headers apply and no storefront path is ever answered from the assets
//! (`run_worker_first`). Kept out of the worker's own bundle, the pixel costs it nothing
//! (docs/decisions.md "Sizes").
//!
//! `pixel.js` names the others with their version (`pixel.wasm?v=…`): such a request is answered
//! only with the file of that version, which may then be cached for good; another version is a
//! 404, so a page whose `pixel.js` predates a deploy never runs the new wasm with the old glue.
//! The unversioned `pixel.js` is revalidated on every page (`no-cache`, its version as the
//! `ETag`, a `304` while unchanged): a page never holds a `pixel.js` whose files a deploy took
//! away, which with a cache lifetime it would until that ran out.

use ar_shared::browser::files::{FILES, version as version_of};
use worker::{Env, Request, Response};

use super::common;
use crate::bindings;
use crate::error::{Error, RouteResult};

/// An unversioned file is revalidated on every use (by its `ETag`), so a deploy reaches the next
/// page at once.
const CACHE_CONTROL: &str = "no-cache";
/// A versioned file never changes.
const CACHE_CONTROL_VERSIONED: &str = "public, max-age=31536000, immutable";

/// The pixel file `path` names (`/_ar/pixel.js`), if it names one.
pub(crate) fn file(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix("/_ar/")?;
    FILES.into_iter().find(|f| *f == name)
}

pub(crate) async fn serve(req: &Request, env: &Env) -> RouteResult {
    let file = file(&req.path()).ok_or(Error::NotFound("no such path under /_ar/"))?;
    let version = req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "v")
        .map(|(_, v)| v.into_owned());
    let bytes = asset(env, file).await?;
    // The worker answers a versioned request only with that version (browser::files).
    let current = version_of(&bytes);
    if let Some(v) = &version
        && *v != current
    {
        return Err(Error::NotFound(
            "this version of the pixel is gone (a newer one was deployed): reload the page",
        ));
    }
    // The names are ours (FILES), all lower case.
    #[allow(clippy::case_sensitive_file_extension_comparisons)]
    let content_type = if file.ends_with(".wasm") {
        "application/wasm"
    } else {
        "text/javascript; charset=utf-8"
    };
    let etag = format!("\"{current}\"");
    let response = if common::not_modified(req, &etag) {
        Response::empty()?.with_status(304)
    } else {
        let r = Response::from_bytes(bytes)?;
        r.headers().set("content-type", content_type)?;
        r
    };
    let headers = response.headers();
    headers.set("etag", &etag)?;
    let cache = if version.is_some() {
        CACHE_CONTROL_VERSIONED
    } else {
        CACHE_CONTROL
    };
    headers.set("cache-control", cache)?;
    // A shop served elsewhere loads the pixel from its collect host (DESIGN §4 "Deployment"): a
    // module script and its wasm are CORS requests. All are public and carry no credentials.
    headers.set("access-control-allow-origin", "*")?;
    Ok(response)
}

async fn asset(env: &Env, file: &str) -> Result<Vec<u8>, Error> {
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
    Ok(found.bytes().await?)
}
