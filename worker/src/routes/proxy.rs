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
use ar_shared::edge_event::{EDGE_EVENT_HEADER, decode_edge_event};
use ar_shared::proxy::{
    browser_response_headers, is_page_response, origin_cookie_header, origin_request_headers,
    origin_url_for, public_location,
};
use ar_shared::record::{EventRecord, Source};
use ar_shared::settings::Settings;
use ar_shared::visit::{SESSION_COOKIE, Visit};
use ar_shared::wire::{self, ValidationContext};
use wasm_bindgen::{JsCast, JsValue};
use worker::{
    Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Result,
    console_error, console_log, console_warn,
};

use super::common::{self, stored_session};
use crate::error::{Error, RouteResult};
use crate::store::sessions;
use crate::visit::{self, RequestFacts};
use crate::{bindings, ingest, runtime};

pub(crate) async fn handle(req: Request, env: &Env, ctx: &Context) -> RouteResult {
    let settings = common::settings(env)?;
    let Some(origin) = settings.origin_url.clone() else {
        if req.path() == "/" {
            return super::home::page();
        }
        return Err(Error::NotFound(
            "no storefront origin configured (ORIGIN_URL)",
        ));
    };
    let facts = RequestFacts::of(&req)?;
    let visit = visit::read(&facts, &settings, None, PartialConsent::NONE)?;
    let method = req.method();
    let upstream = origin_request(&req, &origin, &facts, &visit)
        .map_err(|e| Error::Internal(format!("building the origin request: {e}")))?;
    let response = match Fetch::Request(upstream).send().await {
        Ok(r) => r,
        Err(e) => {
            console_error!("ar: origin {origin} unreachable: {e}");
            return Err(Error::OriginUnreachable);
        }
    };
    let edge_event = response.headers().get(EDGE_EVENT_HEADER).ok().flatten();
    let content_type = response.headers().get("content-type").ok().flatten();
    let page = is_page_response(
        method.as_ref(),
        response.status_code(),
        content_type.as_deref(),
    );
    let headers = browser_headers(response.headers(), &origin, &facts.public_origin)?;
    if page {
        visit::set_cookies(&headers, &visit)?;
    }
    if page || edge_event.is_some() {
        after_response(env, ctx, &settings, &facts, &visit, page, edge_event);
    }
    Ok(response.with_headers(headers))
}

/// The request to the origin: method, path and query, filtered headers, the body as a stream.
fn origin_request(
    req: &Request,
    origin: &str,
    facts: &RequestFacts,
    visit: &Visit,
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
    let minted = visit
        .new_session
        .then_some((SESSION_COOKIE, visit.session_id.as_str()));
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

/// Work that must not delay or fail the page, done after the response: the session context
/// update and an edge-routed checkout's event.
fn after_response(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    facts: &RequestFacts,
    visit: &Visit,
    page: bool,
    edge_event: Option<String>,
) {
    let edge = edge_event.and_then(|header| {
        edge_record(settings, facts, visit, &header)
            .inspect_err(|problem| {
                console_warn!("ar: ignored the origin's {EDGE_EVENT_HEADER} header: {problem}");
            })
            .ok()
    });
    let (env, settings, background) = (env.clone(), settings.clone(), detached(ctx));
    let (session_id, seen) = (visit.session_id.clone(), visit.context.clone());
    ctx.wait_until(async move {
        let stored = stored_session(&env, &session_id).await;
        if page && let Ok(db) = env.d1(bindings::DB) {
            let now = runtime::now_ms();
            if let Err(e) = sessions::upsert(&db, &session_id, stored.clone(), &seen, now).await {
                console_error!("ar: writing session context failed: {e}");
            }
        }
        let Some(mut record) = edge else {
            return;
        };
        if let Some(s) = &stored {
            record.fill_from_session(s);
        }
        let (event, event_id) = (record.event.clone(), record.event_id.clone());
        match ingest::accept(&env, &background, &settings, record).await {
            Ok(a) => console_log!("ar: edge event={event} event_id={event_id} {}", a.as_str()),
            Err(e) => console_error!("ar: storing edge event_id={event_id} failed: {e}"),
        }
    });
}

/// The edge-routed checkout's event as the shop's copy, with this request's visit. The error is
/// a message without event data (safe to log).
fn edge_record(
    settings: &Settings,
    facts: &RequestFacts,
    visit: &Visit,
    header: &str,
) -> std::result::Result<EventRecord, String> {
    let random = runtime::random_bytes().map_err(|e| e.to_string())?;
    let validation = ValidationContext {
        mappings: &settings.mappings,
        now_ms: runtime::now_ms(),
        random,
    };
    let event = decode_edge_event(header)
        .and_then(|input| wire::validate(input, validation))
        // Only the field's path: the problem text can quote the offending value, which may be
        // raw PII (an email where an object was expected), and this goes to the log.
        .map_err(|e| format!("invalid field `{}`", e.field))?;
    let (mut record, problems) = EventRecord::arriving(
        &event,
        &settings.default_country,
        visit.context.clone(),
        Source::Edge,
        Some(&visit.session_id),
    );
    if !problems.is_empty() {
        console_warn!(
            "ar: edge event_id={} dropped {} user field(s) while hashing",
            event.event_id.as_str(),
            problems.len()
        );
    }
    record.page_url.get_or_insert_with(|| facts.url.clone());
    Ok(record)
}

/// A second handle on the request's context for a `'static` background task (the same JS
/// `ExecutionContext`; `worker::Context` is not `Clone`).
fn detached(ctx: &Context) -> Context {
    let js: &JsValue = ctx.as_ref().as_ref();
    Context::new(js.clone().unchecked_into())
}
