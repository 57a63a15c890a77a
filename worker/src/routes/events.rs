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

use ar_shared::delivery::plan::CopyOutcome;
use ar_shared::event_report::{
    BatchReport, EventResult, QualityReport, has_insufficient_context, warnings,
};
use ar_shared::record::{EventRecord, SessionContext, Source};
use ar_shared::settings::Settings;
use ar_shared::signature;
use ar_shared::wire::{self, ValidationContext};
use serde_json::Value;
use worker::{Context, Env, Request, Response, console_error, console_log};

use super::common;
use crate::error::{Error, RouteResult};
use crate::store::{replays, sessions};
use crate::{bindings, ingest, runtime};

/// Largest request accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const TOO_LARGE: &str =
    "server event requests are limited to 1 MiB; send at most 1000 events per request";
/// Most events per request.
const MAX_EVENTS: usize = 1000;

pub(crate) async fn handle(mut req: Request, env: &Env, ctx: &Context) -> RouteResult {
    let settings = common::settings(env).await?;
    let Some(secret) = settings.server_secret.clone() else {
        return Err(Error::ServerEventsOff);
    };
    let body = common::body_capped(&mut req, MAX_BODY_BYTES, TOO_LARGE).await?;
    let headers = req.headers();
    let timestamp = headers.get(signature::TIMESTAMP_HEADER).ok().flatten();
    let sig = headers.get(signature::SIGNATURE_HEADER).ok().flatten();
    let now = runtime::now_ms();
    let mac = signature::verify_request(
        secret.0.as_bytes(),
        timestamp.as_deref(),
        sig.as_deref(),
        &body,
        now / 1000,
    )
    .map_err(Error::BadSignature)?
    .to_hex();
    let values = wire::parse_batch(&body, MAX_EVENTS).map_err(Error::InvalidBatch)?;
    // A signed request is taken once (DESIGN §4): a captured one replayed within its window
    // would double every event with a random ID.
    let db = env.d1(bindings::DB).map_err(Error::Store)?;
    let window_ms = 2 * signature::TOLERANCE_SECS * 1000;
    if !replays::reserve(&db, &mac, now + window_ms)
        .await
        .map_err(Error::Store)?
    {
        return Err(Error::Replayed);
    }
    let sessions = Sessions::load(env, &values).await;
    let mut results = Vec::with_capacity(values.len());
    let mut prepared = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        match prepare(&settings, &sessions, index, value) {
            Ok(p) => prepared.push(p),
            Err(rejected) => results.push(rejected),
        }
    }
    log_request(&prepared, results.len());
    let stored = store(env, ctx, &settings, prepared).await;
    if stored.iter().any(|r| r.retryable) {
        // Not stored: the shop's retry of this very request must not count as a replay.
        if let Err(e) = replays::release(&db, &mac).await {
            console_error!("ar: releasing a request reservation failed: {e}");
        }
    }
    results.extend(stored);
    results.sort_by_key(|r| r.index);
    Ok(Response::from_json(&BatchReport::new(results))?)
}

/// One valid event, ready to store.
struct Prepared {
    index: usize,
    record: EventRecord,
    warnings: Vec<String>,
    session_match: bool,
}

/// One log line per request, not per event: a line per event of a 1000-event request is noise
/// in the logs, and under `wrangler dev` every line costs the local runtime a connection to
/// wrangler (measured: a 100-event request held 100 sockets; `make bench`'s 100-event load ran
/// workerd out of file descriptors).
fn log_request(prepared: &[Prepared], rejected: usize) {
    if let ([one], 0) = (prepared, rejected) {
        console_log!(
            "ar: server event={} event_id={} session_match={}",
            one.record.event,
            one.record.event_id,
            one.session_match
        );
        return;
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for p in prepared {
        *names.entry(p.record.event.as_str()).or_default() += 1;
    }
    let names: Vec<String> = names.iter().map(|(n, k)| format!("{n}={k}")).collect();
    console_log!(
        "ar: server events={} ({}) rejected={rejected} session_match={} first_event_id={}",
        prepared.len(),
        names.join(","),
        prepared.iter().filter(|p| p.session_match).count(),
        prepared
            .first()
            .map_or("-".to_owned(), |p| p.record.event_id.to_string())
    );
}

/// Stores the prepared events together and reports each; a storage failure reports every one of
/// them as retryable (merging makes a resend safe).
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
        meta.push((
            p.index,
            p.record.event_id.to_string(),
            p.warnings,
            Box::new(QualityReport::of(&p.record)),
        ));
        records.push(p.record);
    }
    match ingest::accept_many(env, ctx, settings, records).await {
        Ok(accepted) if accepted.len() == meta.len() => meta
            .into_iter()
            .zip(accepted)
            .map(
                |((index, event_id, warnings, quality), a): (_, CopyOutcome)| {
                    let mut result = EventResult::of_copy(index, event_id, a, warnings);
                    if result.status.is_stored() {
                        result.match_quality = Some(quality);
                    }
                    result
                },
            )
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
                .map(|(index, event_id, _, _)| {
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

/// The stored contexts of every session the request names, read with one query; `false` when
/// the read failed (nothing then says a session is unknown).
struct Sessions(BTreeMap<String, SessionContext>, bool);

impl Sessions {
    async fn load(env: &Env, values: &[Value]) -> Self {
        let mut ids: Vec<&str> = values
            .iter()
            .filter_map(|v| v.get("session_id").and_then(Value::as_str))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Self(BTreeMap::new(), true);
        }
        let loaded = match env.d1(bindings::DB) {
            Ok(db) => sessions::get_many(&db, &ids).await,
            Err(e) => Err(e),
        };
        match loaded {
            Ok(map) => Self(map, true),
            Err(e) => {
                console_error!("ar: reading session contexts failed: {e}");
                Self(BTreeMap::new(), false)
            }
        }
    }

    fn get(&self, session_id: &str) -> Option<&SessionContext> {
        self.0.get(session_id)
    }
}

/// Validates and hashes one event of the batch, or says why it is rejected.
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
    let random = match common::random() {
        Ok(r) => r,
        Err(e) => {
            console_error!("ar: {e}");
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
    // Hashed on arrival (DESIGN §4): from here on only digests exist. The request's own IP and
    // user agent are the backend's, never the shopper's.
    let (mut record, problems) = EventRecord::arriving(
        &event,
        &settings.default_country,
        SessionContext::default(),
        Source::Server,
        None,
        validation.now_ms,
    );
    let mut matched = false;
    if let Some(sid) = &event.session_id
        && let Some(stored) = sessions.get(sid)
    {
        record.fill_from_session(stored);
        matched = true;
    }
    if !matched && sessions.1 {
        // A session the worker never saw tells no visit apart (`trust::same_visit`): the
        // browser's copy still joins this one. After a failed read the stated one stands.
        record.session_id = None;
    }
    let warnings = warnings(&problems, has_insufficient_context(&record, matched));
    Ok(Prepared {
        index,
        record,
        warnings,
        session_match: matched,
    })
}
