//! `/_ar/health` (JSON) and `/_ar/admin` (HTML): match quality, coverage, dedup, delivery
//! (DESIGN §6). Also the admin API: `POST /_ar/admin/test` (send a sample event in the platforms'
//! test modes) and `POST /_ar/admin/replay` (re-queue failed rows).
//!
//! - [`auth`]: who may see these pages;
//! - [`report`]: the health report, as a typed value (the JSON and the page show the same);
//! - [`health`]: reading it from D1;
//! - [`page`]: the HTML page, charts as inline SVG, no external script;
//! - [`sample`]: the test send.
//!
//! Only event names, ids, platforms and reasons are shown: never PII.

mod auth;
mod health;
mod page;
mod report;
mod sample;

use ar_shared::platform::Platform;
use serde_json::json;
use worker::{Env, Method, Request, Response, Url};

use crate::error::{Error, RouteResult};
use crate::store::claims;
use crate::{bindings, runtime};

/// Dispatches `/_ar/health` and `/_ar/admin*`.
pub(crate) async fn handle(req: Request, env: &Env) -> RouteResult {
    let url = req.url()?;
    let path = url.path().to_owned();
    auth::check(&req, &url, env)?;
    match (req.method(), path.as_str()) {
        (Method::Get, "/_ar/health") => Ok(Response::from_json(&health::report(env).await?)?),
        (Method::Get, "/_ar/admin") => Ok(Response::from_html(page::render(
            &health::report(env).await?,
        ))?),
        (Method::Post, "/_ar/admin/test") => sample::send(env).await,
        (Method::Post, "/_ar/admin/replay") => replay(env, &url).await,
        (_, "/_ar/health" | "/_ar/admin" | "/_ar/admin/test" | "/_ar/admin/replay") => {
            Err(Error::MethodNotAllowed("see the admin API in README.md"))
        }
        _ => Err(Error::NotFound("no such admin path")),
    }
}

/// `POST /_ar/admin/replay[?platform=…]`: failed rows back to pending.
async fn replay(env: &Env, url: &Url) -> RouteResult {
    let named = url
        .query_pairs()
        .find(|(k, _)| k == "platform")
        .map(|(_, v)| v.into_owned());
    let platform = match named.as_deref().map(|v| (v, Platform::parse(v))) {
        None => None,
        Some((_, Some(p))) => Some(p),
        // A typo must not replay every platform's failed rows.
        Some((v, None)) => {
            let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
            return Err(Error::InvalidPlatform(format!(
                "unknown platform {v:?}: use one of {}",
                known.join(", ")
            )));
        }
    };
    let db = env.d1(bindings::DB).map_err(Error::Store)?;
    let n = claims::replay_failed(&db, platform, runtime::now_ms())
        .await
        .map_err(Error::Store)?;
    Ok(Response::from_json(
        &json!({ "requeued": n, "note": "sent at the next flush" }),
    )?)
}
