//! `POST /_ar/collect`: events reported by the browser pixel.
//!
//! Order of checks, cheapest first: configuration, content type (415), `Origin` (403), declared
//! size (413), per-client rate (429), actual size (413), then the event itself (400 naming the
//! field; a `?sent=` device time that is not whole milliseconds is one too). The event's time is
//! put on the edge's clock by its age at send when the pixel states `sent`
//! (`trust::on_edge_clock`). An accepted event becomes an `EventRecord` from the pixel, with the
//! visit the request shows (cookies, consent, IP, user agent, location) and the stored context of
//! its session, and goes to `ingest::accept`. The response (204) refreshes the identifier cookies like a page
//! response does (DESIGN §4 "Edge-set cookies"). Rules live in `ar_shared` (`collect_guard`,
//! `rate_limit`, `wire`, `visit`, `pii`, `signature`); this file only wires them to the request.

use std::cell::RefCell;

use ar_shared::collect_guard::{self, BodyType, body_type, origin_allowed};
use ar_shared::delivery::plan::CopyOutcome;
use ar_shared::rate_limit::{RateDecision, RateLimiter, client_key};
use ar_shared::record::{EventRecord, SessionContext, Source};
use ar_shared::settings::Settings;
use ar_shared::signature::KeyPurpose;
use ar_shared::tokens::{OrderClaim, verify_order_token};
use ar_shared::trust::{browser_may_not_state, on_edge_clock};
use ar_shared::visit::{Visit, client_ip_from};
use ar_shared::wire::{self, ValidatedEvent, ValidationContext};
use worker::{Context, Env, Request, Response, console_log, console_warn};

use super::common;
use crate::error::{Error, RouteResult};
use crate::visit::{self, RequestFacts};
use crate::{bindings, ingest, runtime};

/// Largest collect body accepted; a pixel event is a few hundred bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;
const TOO_LARGE: &str = "collect bodies are limited to 16 KiB";

/// Pixel events one client may send per minute. A page sends a handful; the margin covers many
/// shoppers behind one address (carrier-grade NAT, offices). `[[ratelimits]]` in wrangler.toml
/// states the same limit for Cloudflare's binding, whose limit cannot be read at run time.
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

pub(crate) async fn handle(mut req: Request, env: &Env, ctx: &Context) -> RouteResult {
    let settings = common::settings(env).await?;
    let facts = RequestFacts::of(&req)?;
    let headers = req.headers();
    let content_type = headers.get("content-type").ok().flatten();
    if body_type(content_type.as_deref()) == BodyType::Refused {
        return Err(Error::UnsupportedMediaType);
    }
    let origin = headers.get("origin").ok().flatten();
    if !origin_allowed(
        origin.as_deref(),
        &facts.public_origin,
        &settings.allowed_origins,
    ) {
        return Err(Error::ForbiddenOrigin);
    }
    if common::declared_length(&req).is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(Error::TooLarge(TOO_LARGE));
    }
    let client = client_ip_from(
        facts.cf_connecting_ip.as_deref(),
        facts.x_forwarded_for.as_deref(),
        facts.x_real_ip.as_deref(),
    )
    .unwrap_or_else(|| "unknown".into());
    if let RateDecision::Limited { retry_after_secs } = rate(env, &client_key(&client)).await {
        return Err(Error::RateLimited { retry_after_secs });
    }
    let body = common::body_capped(&mut req, MAX_BODY_BYTES, TOO_LARGE).await?;
    let now = runtime::now_ms();
    let validation = ValidationContext {
        mappings: &settings.mappings,
        now_ms: now,
        random: common::random()?,
    };
    // The pixel states its clock at send time: the event's time goes on the edge's clock.
    let sent = collect_guard::sent_at(req.url()?.query()).map_err(Error::InvalidEvent)?;
    let event = wire::parse_event(&body)
        .map(|mut input| {
            if let (Some(t), Some(sent)) = (input.occurred_at, sent) {
                input.occurred_at = Some(on_edge_clock(t, sent, now));
            }
            input
        })
        .and_then(|input| wire::validate(input, validation))
        .and_then(|event| browser_may_not_state(&event).map(|()| event))
        .and_then(|e| collect_guard::user_data_hashed(&e.user).map(|()| e))
        .map_err(Error::InvalidEvent)?;
    // The page the event happened on carries the click IDs; the beacon's Referer is that page.
    let page_url = event.page.url.as_deref().or(facts.referer.as_deref());
    let landing = page_url.map(|url| (url, event.page.referrer.as_deref()));
    let mut visit = visit::read(&facts, &settings, landing, event.consent)?;
    // A stated opt-out of sale/sharing holds for the rest of the visit, like GPC.
    visit.context.sale_opt_out |= event.sale_opt_out;
    let (record, session_id, stored) = pixel_record(env, &settings, &event, &visit, now).await;
    common::update_session_later(env, ctx, session_id, stored, visit.context.clone());
    // Only the event name and ID: never PII in logs.
    console_log!(
        "ar: collected event={} event_id={}",
        record.event,
        record.event_id
    );
    if ingest::accept(env, ctx, &settings, record).await? == CopyOutcome::Conflict {
        return Err(Error::EventIdConflict);
    }
    let response = Response::empty()?.with_status(204);
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
    now_ms: u64,
) -> (EventRecord, String, Option<SessionContext>) {
    // The pixel hashes in the browser (a raw email, phone or name was refused above); Google's
    // plain address parts are normalized here (DESIGN §4).
    let (mut record, problems) = EventRecord::arriving(
        event,
        &settings.default_country,
        visit.context.clone(),
        Source::Pixel,
        Some(&visit.session_id),
        now_ms,
    );
    if !problems.is_empty() {
        console_warn!(
            "ar: event_id={} dropped {} user field(s) while hashing",
            event.event_id.as_str(),
            problems.len()
        );
    }
    let session_id = record
        .session_id
        .clone()
        .unwrap_or_else(|| visit.session_id.clone());
    let stored = common::stored_session(env, &session_id).await;
    if let Some(stored) = &stored {
        record.fill_from_session(stored);
    }
    // DESIGN §4 "Forged events": a signed order token lets exactly this browser purchase, at
    // exactly this amount, through alone (`tokens`).
    if let (Some(token), Some(key), Some(order_id), Some(money)) = (
        event.order_token.as_deref(),
        settings.key(KeyPurpose::OrderToken),
        event.keys.order_id.as_deref(),
        event.money.as_ref(),
    ) {
        let claim = OrderClaim {
            event: &event.name,
            event_id: &event.event_id,
            order_id,
            money,
        };
        if verify_order_token(&key, token, &claim) {
            record.vouched = Some(money.clone());
        }
    }
    (record, session_id, stored)
}
