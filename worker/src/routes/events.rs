//! `POST /_ar/events`: server events from the merchant backend, HMAC-signed.
//!
//! The request must carry `x-ar-timestamp` and `x-ar-signature` over `"<timestamp>.<raw body>"`
//! (`ar_shared::signature`; 401 naming the problem), a body of at most 1 MiB (413) holding
//! `{"events": [...]}` with 1 to 1000 events (400 naming the field). Each event is then parsed,
//! validated and hashed on its own, so one bad event never rejects the others (DESIGN §5), and the
//! valid ones are stored together (`ingest::accept_many`: a few D1 queries per request, not per event);
//! the answer lists a result per event (`ar_shared::event_report`). PII is hashed here, on
//! arrival, and never stored or logged raw (DESIGN §4). The request's own IP and user agent are
//! the merchant backend's, not the shopper's: they are never used; the shopper's come from
//! `client{}` or from the stored session the event's `session_id` names (DESIGN §3).

use std::collections::BTreeMap;

use ar_shared::event_report::{
    BatchReport, EventResult, EventStatus, has_insufficient_context, warnings,
};
use ar_shared::pii::hash_user_data;
use ar_shared::record::{EventRecord, SessionContext, Source};
use ar_shared::settings::{SettingProblem, Settings};
use ar_shared::signature::{self, SignatureError};
use ar_shared::wire::{self, ValidationContext};
use serde_json::{Value, json};
use worker::{Context, Env, Request, Response, Result, console_error, console_log};

use super::collect::{config_error, load_settings};
use super::error_json;
use crate::ingest::{self, Accepted};
use crate::store::sessions;
use crate::{bindings, runtime};

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most events per request.
const MAX_EVENTS: usize = 1000;

pub async fn handle(mut req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let settings = match load_settings(env) {
        Ok(s) => s,
        Err(response) => return response,
    };
    let Some(secret) = settings.server_secret.clone() else {
        console_error!("ar: /_ar/events called but AR_SERVER_SECRET is not set");
        return config_error(&[SettingProblem {
            name: "AR_SERVER_SECRET",
            problem: "not set: /_ar/events verifies request signatures with it; run \
                      `wrangler secret put AR_SERVER_SECRET` with the secret the merchant \
                      backend signs with"
                .into(),
        }]);
    };
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return too_large();
    }
    let Some(body) = super::read_body_capped(&mut req, MAX_BODY_BYTES).await? else {
        return too_large();
    };
    let headers = req.headers();
    let timestamp = headers.get(signature::TIMESTAMP_HEADER).ok().flatten();
    let sig = headers.get(signature::SIGNATURE_HEADER).ok().flatten();
    if let Err(e) = signature::verify_request(
        secret.0.as_bytes(),
        timestamp.as_deref(),
        sig.as_deref(),
        &body,
        runtime::now_ms() / 1000,
    ) {
        return unauthorized(&e);
    }
    let values = match wire::parse_batch(&body, MAX_EVENTS) {
        Ok(v) => v,
        Err(e) => {
            let body =
                json!({ "error": "invalid_batch", "field": e.field, "message": e.to_string() });
            return Ok(Response::from_json(&body)?.with_status(400));
        }
    };
    let sessions = Sessions::load(env, &values).await;
    let mut results = Vec::with_capacity(values.len());
    let mut prepared = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        match prepare(&settings, &sessions, index, value) {
            Ok(p) => prepared.push(p),
            Err(rejected) => results.push(rejected),
        }
    }
    results.extend(store(env, ctx, &settings, prepared).await);
    results.sort_by_key(|r| r.index);
    Response::from_json(&BatchReport::new(results))
}

/// A valid, hashed event ready to be stored.
struct Prepared {
    index: usize,
    record: EventRecord,
    warnings: Vec<String>,
}

/// Stores every prepared event at once (`ingest::accept_many`: a bounded number of D1 queries and
/// Queue sends per request, whatever its size); a storage failure rejects them all as retryable.
async fn store(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    prepared: Vec<Prepared>,
) -> Vec<EventResult> {
    if prepared.is_empty() {
        return Vec::new();
    }
    let mut meta = Vec::with_capacity(prepared.len());
    let mut records = Vec::with_capacity(prepared.len());
    for p in prepared {
        meta.push((p.index, p.record.event_id.clone(), p.warnings));
        records.push(p.record);
    }
    match ingest::accept_many(env, ctx, settings, records).await {
        Ok(accepted) if accepted.len() == meta.len() => meta
            .into_iter()
            .zip(accepted)
            .map(|((index, event_id, warnings), a)| {
                EventResult::stored(index, event_id, status(a), warnings)
            })
            .collect(),
        outcome => {
            match outcome {
                Err(e) => console_error!("ar: storing {} events failed: {e}", meta.len()),
                Ok(_) => console_error!(
                    "ar: storing {} events gave a result count mismatch",
                    meta.len()
                ),
            }
            meta.into_iter()
                .map(|(index, event_id, _)| {
                    EventResult::failed(
                        index,
                        event_id,
                        "the event could not be stored; send it again later",
                    )
                })
                .collect()
        }
    }
}

/// The stored session contexts of every `session_id` a request names, read with one D1 query
/// before its events are prepared. A failed read leaves the events without session context
/// (reported per event as a warning), not rejected.
struct Sessions(BTreeMap<String, SessionContext>);

impl Sessions {
    async fn load(env: &Env, values: &[Value]) -> Self {
        let mut ids: Vec<&str> = values
            .iter()
            .filter_map(|v| v.get("session_id").and_then(Value::as_str))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Self(BTreeMap::new());
        }
        let loaded = match env.d1(bindings::DB) {
            Ok(db) => sessions::get_many(&db, &ids).await,
            Err(e) => Err(e),
        };
        Self(loaded.unwrap_or_else(|e| {
            console_error!("ar: reading session contexts failed: {e}");
            BTreeMap::new()
        }))
    }

    fn get(&self, session_id: &str) -> Option<&SessionContext> {
        self.0.get(session_id)
    }
}

/// Parses, validates and hashes one event; a rejected event gets its result here.
fn prepare(
    settings: &Settings,
    sessions: &Sessions,
    index: usize,
    value: Value,
) -> std::result::Result<Prepared, EventResult> {
    let stated_id = value
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let random = match runtime::random_bytes() {
        Ok(r) => r,
        Err(e) => {
            console_error!("ar: no randomness: {e}");
            return Err(EventResult::failed(
                index,
                stated_id.unwrap_or_default(),
                "internal error",
            ));
        }
    };
    let validation = ValidationContext {
        mappings: &settings.mappings,
        now_ms: runtime::now_ms(),
        random,
    };
    let event = match wire::event_from_value(value).and_then(|i| wire::validate(i, validation)) {
        Ok(ev) => ev,
        Err(e) => return Err(EventResult::invalid(index, stated_id, &e)),
    };
    // Hashed on arrival (DESIGN §4): from here on only digests exist.
    let (user, problems) = hash_user_data(&event.user, &settings.default_country);
    let mut record =
        EventRecord::from_copy(&event, user, SessionContext::default(), Source::Server);
    let mut matched = false;
    if let Some(sid) = &event.session_id
        && let Some(stored) = sessions.get(sid)
    {
        record.fill_from_session(stored);
        matched = true;
    }
    let warnings = warnings(&problems, has_insufficient_context(&record, matched));
    let event_id = record.event_id.clone();
    console_log!(
        "ar: server event={} event_id={} session_match={matched}",
        record.event,
        event_id
    );
    Ok(Prepared {
        index,
        record,
        warnings,
    })
}

fn status(accepted: Accepted) -> EventStatus {
    match accepted {
        Accepted::New => EventStatus::Accepted,
        Accepted::Merged => EventStatus::Merged,
        Accepted::AlreadySent => EventStatus::Duplicate,
    }
}

/// 401 `{"error":"unauthorized","problem":<code>,"message":<what to fix>}`.
fn unauthorized(e: &SignatureError) -> Result<Response> {
    let problem = match e {
        SignatureError::MissingTimestamp => "missing_timestamp",
        SignatureError::BadTimestamp => "bad_timestamp",
        SignatureError::Stale => "stale_timestamp",
        SignatureError::MissingSignature => "missing_signature",
        SignatureError::Mismatch => "signature_mismatch",
    };
    let body = json!({ "error": "unauthorized", "problem": problem, "message": e.to_string() });
    Ok(Response::from_json(&body)?.with_status(401))
}

fn too_large() -> Result<Response> {
    error_json(
        413,
        "too_large",
        "server event requests are limited to 1 MiB; send at most 1000 events per request",
    )
}
