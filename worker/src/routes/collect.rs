//! `POST /_ar/collect`: events reported by the browser pixel.
//!
//! Order of checks, cheapest first: configuration, content type (415), `Origin` (403), declared
//! size (413), per-client rate (429), actual size (413), then the event itself (400 naming the
//! field). An accepted event becomes an `EventRecord` from the pixel, with the visit the request
//! shows (cookies, consent, IP, user agent, location) and the stored context of its session, and
//! goes to `ingest::accept`. The response (204) refreshes the identifier cookies like a page
//! response does (DESIGN §4 "Edge-set cookies"). Rules live in `ar_shared` (`collect_guard`,
//! `rate_limit`, `wire`, `visit`, `pii`, `signature`); this file only wires them to the request.

use std::cell::RefCell;

use ar_shared::collect_guard::{BodyType, body_type, origin_allowed};
use ar_shared::pii::hash_user_data;
use ar_shared::rate_limit::{RateDecision, RateLimiter};
use ar_shared::record::{EventRecord, SessionContext, Source};
use ar_shared::settings::{SettingProblem, Settings};
use ar_shared::signature::verify_order_token;
use ar_shared::visit::{Visit, client_ip_from};
use ar_shared::wire::{self, ValidatedEvent, ValidationContext, ValidationError};
use worker::{Context, Env, Request, Response, Result, console_error, console_log, console_warn};

use super::error_json;
use crate::store::sessions;
use crate::visit::{self, RequestFacts};
use crate::{bindings, ingest, runtime};

/// Largest collect body accepted; a pixel event is a few hundred bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Pixel events one client may send per minute. A page sends a handful; the margin covers many
/// shoppers behind one address (carrier-grade NAT, offices).
const COLLECT_EVENTS_PER_MINUTE: u32 = 300;
/// The binding's window (`[[ratelimits]]` `period` in wrangler.toml): the `Retry-After` it implies.
const COLLECT_LIMIT_PERIOD_SECS: u64 = 60;

thread_local! {
    /// One limiter per isolate (`ar_shared::rate_limit` says why not KV).
    static LIMITER: RefCell<RateLimiter> = const {
        RefCell::new(RateLimiter::new(COLLECT_EVENTS_PER_MINUTE))
    };
}

/// The per-client rate decision: Cloudflare's rate-limiting binding when `wrangler.toml` declares
/// it (one count per client across the isolates of a location), else this isolate's own counter
/// (`ar_shared::rate_limit`). A limiter that fails lets the event through: shoppers' events are
/// worth more than a perfect flood guard.
async fn rate(env: &Env, client: &str) -> RateDecision {
    match env.rate_limiter(bindings::COLLECT_LIMIT) {
        Ok(limiter) => match limiter.limit(client.to_owned()).await {
            Ok(outcome) if !outcome.success => RateDecision::Limited {
                retry_after_secs: COLLECT_LIMIT_PERIOD_SECS,
            },
            Ok(_) => RateDecision::Allow,
            Err(e) => {
                console_warn!("ar: rate limiter failed, event let through: {e}");
                RateDecision::Allow
            }
        },
        Err(_) => LIMITER.with(|l| l.borrow_mut().check(client, runtime::now_ms())),
    }
}

pub async fn handle(mut req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let settings = match load_settings(env) {
        Ok(s) => s,
        Err(response) => return response,
    };
    let facts = RequestFacts::of(&req)?;
    let headers = req.headers();
    let content_type = headers.get("content-type").ok().flatten();
    if body_type(content_type.as_deref()) == BodyType::Refused {
        return error_json(
            415,
            "unsupported_media_type",
            "send the event as application/json (or text/plain from sendBeacon)",
        );
    }
    let origin = headers.get("origin").ok().flatten();
    if !origin_allowed(origin.as_deref(), &facts.host, &settings.allowed_origins) {
        return error_json(
            403,
            "forbidden_origin",
            "this Origin may not post events here: serve the pixel from the shop's own host or add the origin to ALLOWED_ORIGINS",
        );
    }
    let declared = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return too_large();
    }
    let client = client_ip_from(
        facts.cf_connecting_ip.as_deref(),
        facts.x_forwarded_for.as_deref(),
        facts.x_real_ip.as_deref(),
    )
    .unwrap_or_else(|| "unknown".into());
    if let RateDecision::Limited { retry_after_secs } = rate(env, &client).await {
        let response = error_json(
            429,
            "rate_limited",
            "too many events from this client; retry after the time in Retry-After",
        )?;
        response
            .headers()
            .set("retry-after", &retry_after_secs.to_string())?;
        return Ok(response);
    }
    let Some(body) = super::read_body_capped(&mut req, MAX_BODY_BYTES).await? else {
        return too_large();
    };
    let validation = ValidationContext {
        mappings: &settings.mappings,
        now_ms: runtime::now_ms(),
        random: runtime::random_bytes()?,
    };
    let event = match wire::parse_event(&body).and_then(|input| wire::validate(input, validation)) {
        Ok(event) => event,
        Err(e) => return invalid_event(&e),
    };
    // The page the event happened on carries the click IDs; the beacon's Referer is that page.
    let page_url = event.page.url.as_deref().or(facts.referer.as_deref());
    let landing = page_url.map(|url| (url, event.page.referrer.as_deref()));
    let mut visit = visit::read(&facts, &settings, landing, event.consent)?;
    // A stated opt-out of sale/sharing holds for the rest of the visit, like GPC.
    visit.context.sale_opt_out |= event.sale_opt_out;
    let (record, session_id, stored) = pixel_record(env, &settings, &event, &visit).await;
    update_session_later(env, ctx, session_id, stored, visit.context.clone());
    // Only the event name and ID: never PII in logs.
    console_log!(
        "ar: collected event={} event_id={}",
        record.event,
        record.event_id
    );
    let response = match ingest::accept(env, ctx, &settings, record).await {
        Ok(_) => Response::empty().map(|r| r.with_status(204)),
        Err(e) => {
            console_error!(
                "ar: storing event_id={} failed: {e}",
                event.event_id.as_str()
            );
            error_json(
                503,
                "store_failed",
                "the event could not be stored; retry later",
            )
        }
    }?;
    visit::set_cookies(response.headers(), &visit)?;
    Ok(response)
}

/// The pixel's copy as a record: hashed user data, the visit's context, the stored context of
/// its session, and the order token's verdict. Also returns the session id and what it had
/// stored, for the background update.
async fn pixel_record(
    env: &Env,
    settings: &Settings,
    event: &ValidatedEvent,
    visit: &Visit,
) -> (EventRecord, String, Option<SessionContext>) {
    // The pixel hashes in the browser; raw values that still arrive are hashed here (DESIGN §4).
    let (user, problems) = hash_user_data(&event.user, &settings.default_country);
    if !problems.is_empty() {
        console_warn!(
            "ar: event_id={} dropped {} user field(s) while hashing",
            event.event_id.as_str(),
            problems.len()
        );
    }
    let mut record = EventRecord::from_copy(event, user, visit.context.clone(), Source::Pixel);
    let session_id = record
        .session_id
        .get_or_insert_with(|| visit.session_id.clone())
        .clone();
    let stored = stored_session(env, &session_id).await;
    if let Some(stored) = &stored {
        record.fill_from_session(stored);
    }
    // DESIGN §4 "Forged events": a signed order token lets a browser purchase through alone.
    if let (Some(token), Some(secret), Some(order_id), Some((value, currency))) = (
        event.order_token.as_deref(),
        settings.server_secret.as_ref(),
        event.keys.order_id.as_deref(),
        event.money.as_ref(),
    ) {
        record.order_token_valid =
            verify_order_token(secret.0.as_bytes(), token, order_id, *value, currency);
    }
    (record, session_id, stored)
}

/// The stored context of `session_id`. A D1 failure is logged and costs only the stored
/// context: the event itself is still accepted.
pub(super) async fn stored_session(env: &Env, session_id: &str) -> Option<SessionContext> {
    let db = env
        .d1(bindings::DB)
        .inspect_err(|e| console_error!("ar: D1 binding {} unavailable: {e}", bindings::DB))
        .ok()?;
    sessions::get(&db, session_id)
        .await
        .inspect_err(|e| console_error!("ar: reading session context failed: {e}"))
        .ok()
        .flatten()
}

/// Merges what this request saw into the stored session context, after the response (the write
/// happens only when something changed; `ar_shared::session_update`).
pub(super) fn update_session_later(
    env: &Env,
    ctx: &Context,
    session_id: String,
    stored: Option<SessionContext>,
    seen: SessionContext,
) {
    let env = env.clone();
    ctx.wait_until(async move {
        let Ok(db) = env.d1(bindings::DB) else {
            return;
        };
        if let Err(e) = sessions::upsert(&db, &session_id, stored, &seen, runtime::now_ms()).await {
            console_error!("ar: writing session context failed: {e}");
        }
    });
}

fn too_large() -> Result<Response> {
    error_json(413, "too_large", "collect bodies are limited to 16 KiB")
}

/// 400 `{"error":"invalid_event","field":…,"message":"<field>: <problem>"}`.
fn invalid_event(e: &ValidationError) -> Result<Response> {
    let body = serde_json::json!({
        "error": "invalid_event",
        "field": e.field,
        "message": e.to_string(),
    });
    Ok(Response::from_json(&body)?.with_status(400))
}

/// The settings, or the 500 response listing every configuration problem by name (never a
/// silent drop: the merchant sees what to fix). Shared by every route that needs settings.
pub(super) fn load_settings(env: &Env) -> std::result::Result<Settings, Result<Response>> {
    crate::settings::load(env).map_err(|problems| {
        for p in &problems {
            console_error!("ar: configuration problem: {p}");
        }
        config_error(&problems)
    })
}

/// 500 `{"error":"config","problems":[{"name":…,"problem":…}]}`.
pub(super) fn config_error(problems: &[SettingProblem]) -> Result<Response> {
    let problems: Vec<_> = problems
        .iter()
        .map(|p| serde_json::json!({ "name": p.name, "problem": p.problem }))
        .collect();
    let body = serde_json::json!({ "error": "config", "problems": problems });
    Ok(Response::from_json(&body)?.with_status(500))
}
