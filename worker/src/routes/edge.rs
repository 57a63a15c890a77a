//! The edge-routed checkout (DESIGN §1): the storefront answers the order-placing request with
//! `x-ar-event: <base64url event>;t=<unix s>;v1=<hex MAC>` (`ar_shared::tokens`), which the proxy
//! removes before the browser sees it. A header without a valid, fresh signature is ignored and
//! logged (an origin response header alone is not the shop). The event is stored as the shop's
//! copy after the response, with the visit's session context (`ctx.wait_until`): a bad or
//! unstorable event is logged, never a failed page.

use ar_shared::edge_event::{EDGE_EVENT_HEADER, decode_edge_event};
use ar_shared::rate_limit::{RateDecision, RateLimiter, client_key};
use ar_shared::record::{EventRecord, Source};
use ar_shared::settings::Settings;
use ar_shared::signature::KeyPurpose;
use ar_shared::tokens::verify_edge_event;
use ar_shared::visit::Visit;
use ar_shared::wire::{self, ValidationContext};
use wasm_bindgen::{JsCast, JsValue};
use worker::{Context, Env, console_error, console_log, console_warn};

use super::common::stored_session;
use crate::store::sessions;
use crate::visit::RequestFacts;
use crate::{bindings, ingest, runtime};

/// New sessions one client may have stored per minute: a real shopper opens a handful of tabs;
/// a crawler without cookies would otherwise write a D1 row per page view.
const NEW_SESSIONS_PER_MINUTE: u32 = 30;

thread_local! {
    static NEW_SESSIONS: std::cell::RefCell<RateLimiter> = const {
        std::cell::RefCell::new(RateLimiter::new(NEW_SESSIONS_PER_MINUTE))
    };
}

/// Whether this page view's session context may be written: always for a returning visit, and
/// within [`NEW_SESSIONS_PER_MINUTE`] per client for new ones.
fn may_store_session(visit: &Visit) -> bool {
    if !visit.new_session {
        return true;
    }
    let client = client_key(visit.context.client_ip.as_deref().unwrap_or("unknown"));
    NEW_SESSIONS.with(|l| l.borrow_mut().check(&client, runtime::now_ms())) == RateDecision::Allow
}

/// Work that must not delay or fail the page, done after the response: the session context
/// update and an edge-routed checkout's event.
pub(super) fn after_response(
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
    let store_session = page && may_store_session(visit);
    ctx.wait_until(async move {
        let stored = stored_session(&env, &session_id).await;
        if store_session && let Ok(db) = env.d1(bindings::DB) {
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
    let now = runtime::now_ms();
    let validation = ValidationContext {
        mappings: &settings.mappings,
        now_ms: now,
        random,
    };
    let key = settings
        .key(KeyPurpose::EdgeEvent)
        .ok_or("AR_SERVER_SECRET is not set, so no edge event can be verified")?;
    let payload = verify_edge_event(&key, header, now / 1000)
        .ok_or("unsigned, wrongly signed or stale (see x-ar-event in README)")?;
    let event = decode_edge_event(payload)
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
        validation.now_ms,
    );
    if !problems.is_empty() {
        console_warn!(
            "ar: edge event_id={} dropped {} user field(s) while hashing",
            event.event_id.as_str(),
            problems.len()
        );
    }
    if record.page_url.is_none() {
        record.page_url = ar_shared::page_url::for_attribution(&facts.url);
    }
    Ok(record)
}

/// A second handle on the request's context for a `'static` background task (the same JS
/// `ExecutionContext`; `worker::Context` is not `Clone`).
fn detached(ctx: &Context) -> Context {
    let js: &JsValue = ctx.as_ref().as_ref();
    Context::new(js.clone().unchecked_into())
}
