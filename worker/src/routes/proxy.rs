//! Every non-`/_ar/` path: proxied to the storefront origin, with first-party cookies set.
//!
//! The worker runs on the storefront's own hostname (DESIGN §4 "Deployment") and fetches each
//! request from `ORIGIN_URL`: same method, path and query, the browser's headers minus the
//! hop-by-hop ones, the body streamed through. On the way back:
//! - `x-ar-event` (an edge-routed checkout, DESIGN §1) is removed before the browser sees it and
//!   its event is stored as the shop's copy, after the response (`ctx.wait_until`): a bad or
//!   unstorable event is logged, never a failed page.
//! - Page responses (HTML, navigation redirects) get our `Set-Cookie`s: `_fbc`/`_fbp`/our click
//!   cookie only when `ad_storage` is granted, `_ar_sid` always (`ar_shared::visit` says why), and
//!   the session context is merged into D1 after the response, written only when it changed.
//! - Redirects to the origin's own URL are pointed back at the shop's host.
//!
//! Without `ORIGIN_URL`, `/` serves the built-in status page and everything else is 404 JSON.
//! An unreachable origin is 502 JSON. The rules are in `ar_shared::proxy` and
//! `ar_shared::edge_event`.

use ar_shared::consent::PartialConsent;
use ar_shared::edge_event::EDGE_EVENT_HEADER;
use ar_shared::proxy::{
    browser_response_headers, is_page_response, may_set_cookies, origin_cookie_header,
    origin_request_headers, origin_url_for, public_location,
};
use ar_shared::settings::Settings;
use ar_shared::visit::SESSION_COOKIE;
use wasm_bindgen::JsValue;
use worker::{
    Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response, Result,
    console_error, console_warn,
};

use super::common;
use crate::error::{Error, RouteResult};
use crate::visit::{self, RequestFacts};

pub(crate) async fn handle(req: Request, env: &Env, ctx: &Context) -> RouteResult {
    match common::settings(env).await {
        Ok(settings) => tracked(req, env, ctx, &settings).await,
        Err(problem) => untracked(req, env, problem).await,
    }
}

/// The storefront with tracking: our cookies on pages, the visit's context stored, the
/// edge-routed checkout's event taken.
async fn tracked(req: Request, env: &Env, ctx: &Context, settings: &Settings) -> RouteResult {
    let Some(origin) = settings.origin_url.clone() else {
        if req.path() == "/" {
            return super::home::page();
        }
        return Err(Error::NotFound(
            "no storefront origin configured (ORIGIN_URL)",
        ));
    };
    let facts = RequestFacts::of(&req)?;
    let visit = visit::read(&facts, settings, None, PartialConsent::NONE)?;
    let method = req.method();
    let minted = visit.new_session.then_some(visit.session_id.as_str());
    let response = fetch_origin(&req, &origin, &facts, minted).await?;
    let edge_event = response.headers().get(EDGE_EVENT_HEADER).ok().flatten();
    let content_type = response.headers().get("content-type").ok().flatten();
    let cache_control = response.headers().get("cache-control").ok().flatten();
    // A response a shared cache may keep gets no cookies: the next visitor would get ours.
    let page = is_page_response(
        method.as_ref(),
        response.status_code(),
        content_type.as_deref(),
    ) && may_set_cookies(cache_control.as_deref());
    let headers = browser_headers(response.headers(), &origin, &facts.public_origin)?;
    if page {
        visit::set_cookies(&headers, &visit)?;
    }
    if page || edge_event.is_some() {
        super::edge::after_response(env, ctx, settings, &facts, &visit, page, edge_event);
    }
    Ok(response.with_headers(headers))
}

/// The storefront without tracking, while the settings have problems: a tracking
/// misconfiguration never takes the shop down. The request goes to `ORIGIN_URL` (when that one
/// setting is usable) and the answer comes back unchanged, without our cookies or events;
/// `/_ar/health` names what to fix.
async fn untracked(req: Request, env: &Env, problem: Error) -> RouteResult {
    let origin = env
        .var("ORIGIN_URL")
        .ok()
        .map(|v| v.to_string().trim_end_matches('/').to_owned())
        .filter(|o| o.starts_with("https://") || o.starts_with("http://"));
    let Some(origin) = origin else {
        return Err(problem);
    };
    console_warn!("ar: serving the shop without tracking ({problem})");
    let facts = RequestFacts::of(&req)?;
    let response = fetch_origin(&req, &origin, &facts, None).await?;
    let headers = browser_headers(response.headers(), &origin, &facts.public_origin)?;
    Ok(response.with_headers(headers))
}

/// Fetches `req` from the origin.
async fn fetch_origin(
    req: &Request,
    origin: &str,
    facts: &RequestFacts,
    minted_session: Option<&str>,
) -> Result<Response, Error> {
    let upstream = origin_request(req, origin, facts, minted_session)
        .map_err(|e| Error::Internal(format!("building the origin request: {e}")))?;
    Fetch::Request(upstream).send().await.map_err(|e| {
        console_error!("ar: origin {origin} unreachable: {e}");
        Error::OriginUnreachable
    })
}

/// The request to the origin: method, path and query, filtered headers, the body as a stream.
fn origin_request(
    req: &Request,
    origin: &str,
    facts: &RequestFacts,
    minted_session: Option<&str>,
) -> Result<Request> {
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let target = origin_url_for(origin, &path_and_query);
    let incoming: Vec<(String, String)> = req.headers().entries().collect();
    let connection = req.headers().get("connection").ok().flatten();
    let headers = Headers::new();
    for (name, value) in origin_request_headers(&incoming, connection.as_deref()) {
        if !name.eq_ignore_ascii_case("cookie") {
            headers.append(&name, &value)?;
        }
    }
    // A session minted on this request reaches the storefront at once (it can pass `_ar_sid`
    // on as `session_id` from the first page).
    let minted = minted_session.map(|sid| (SESSION_COOKIE, sid));
    if let Some(cookie) = origin_cookie_header(facts.cookie.as_deref(), minted) {
        headers.set("cookie", &cookie)?;
    }
    headers.set("x-forwarded-host", &facts.host)?;
    headers.set("x-forwarded-proto", url.scheme())?;
    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        // The browser follows the origin's redirects itself, through us.
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(JsValue::from));
    }
    Request::new_with_init(&target, &init)
}

/// The origin's response headers as the browser gets them: hop-by-hop and `x-ar-event`
/// removed, every `Set-Cookie` kept, a `Location` at the origin pointed at the shop's host.
fn browser_headers(origin_headers: &Headers, origin: &str, public_origin: &str) -> Result<Headers> {
    let all: Vec<(String, String)> = origin_headers
        .entries()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("set-cookie"))
        .collect();
    let connection = origin_headers.get("connection").ok().flatten();
    let out = Headers::new();
    for (name, value) in browser_response_headers(&all, connection.as_deref()) {
        if name.eq_ignore_ascii_case("location") {
            out.append(&name, &public_location(&value, origin, public_origin))?;
        } else {
            out.append(&name, &value)?;
        }
    }
    // Each Set-Cookie separately (`getAll`): joined with commas they would break.
    for cookie in origin_headers.get_all("set-cookie").unwrap_or_default() {
        out.append("set-cookie", &cookie)?;
    }
    Ok(out)
}
