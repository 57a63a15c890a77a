//! CORS for the pixel's routes when the pixel runs on a shop page served from another host (the
//! subdomain collect host mode, DESIGN §4 "Deployment"): allowed origins get their `Origin` echoed
//! with credentials, so the browser sends and keeps the first-party cookies. The rule is
//! `ar_shared::collect_guard::cors_allow_origin`.

use ar_shared::collect_guard::cors_allow_origin;
use ar_shared::settings::Settings;
use worker::{Headers, Request, Response};

use crate::error::{Error, RouteResult};

/// Adds the CORS headers `req` earns to `response`.
///
/// # Errors
/// When the runtime refuses a header.
pub(crate) fn allow(req: &Request, settings: &Settings, response: &Response) -> Result<(), Error> {
    let origin = req.headers().get("origin").ok().flatten();
    let url = req.url()?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    if let Some(origin) = cors_allow_origin(origin.as_deref(), &host, &settings.allowed_origins) {
        set(response.headers(), origin)?;
    }
    Ok(())
}

/// The origin `req` may be answered with, under the worker's settings (none when the settings
/// do not load: the route's own error says why).
pub(crate) fn allowed_origin(req: &Request, env: &worker::Env) -> Option<String> {
    let settings = super::common::deploy_settings(env).ok()?;
    let origin = req.headers().get("origin").ok().flatten();
    let url = req.url().ok()?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    cors_allow_origin(origin.as_deref(), &host, &settings.allowed_origins).map(str::to_owned)
}

/// Sets the CORS headers that let `origin` read the answer and keep its cookies.
///
/// # Errors
/// When the runtime refuses a header.
pub(crate) fn set(headers: &Headers, origin: &str) -> Result<(), Error> {
    headers.set("access-control-allow-origin", origin)?;
    headers.set("access-control-allow-credentials", "true")?;
    headers.append("vary", "Origin")?;
    Ok(())
}

/// The answer to a preflight (`OPTIONS`) on a pixel route: 204, with CORS headers when allowed.
pub(crate) fn preflight(req: &Request, settings: &Settings) -> RouteResult {
    let response = Response::empty()?.with_status(204);
    allow(req, settings, &response)?;
    let h = response.headers();
    h.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
    h.set("access-control-allow-headers", "content-type")?;
    h.set("access-control-max-age", "86400")?;
    Ok(response)
}
