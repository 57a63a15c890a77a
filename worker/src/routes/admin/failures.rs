//! The console's "Failures": failed and held rows with their reasons, filtered by platform,
//! reason, event type and status, and replay of chosen rows or of every row of one reason
//! (README "Failures and replay"). What may be replayed is `ar_shared::delivery::replay`'s.
//!
//! - `GET /_ar/admin/failures?platform=&reason=&event=&status=`: JSON, or the page for a browser
//!   (`Accept: text/html`);
//! - `POST /_ar/admin/replay` with `row=<event_id>:<platform>` (repeatable) or a filter
//!   (`platform`, `reason`, `event`), in the query or a form body: the rows past their platform's
//!   window are refused with the reason, the rest go out at the next flush.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ar_shared::delivery::plan::RowStatus;
use ar_shared::delivery::replay::{self, FailureFilter, InputError};
use ar_shared::platform::Platform;
use serde_json::{Value, json};
use worker::{D1Database, Env, Request, Response, Url};

use super::page;
use crate::error::{Error, RouteResult};
use crate::store::failures::{self, FailureRow};
use crate::{bindings, runtime};

fn invalid(e: InputError) -> Error {
    if e.field == "platform" {
        return Error::InvalidPlatform(e.problem);
    }
    Error::InvalidInput {
        field: e.field,
        message: e.problem,
    }
}

fn db(env: &Env) -> Result<D1Database, Error> {
    env.d1(bindings::DB).map_err(Error::Store)
}

fn query(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One row as the API and the page show it.
fn row_json(r: &FailureRow, now: u64) -> Value {
    let verdict = replay::replayable(r.platform, r.status, r.record.as_ref(), now);
    json!({
        "event_id": r.event_id, "event": r.event, "platform": r.platform.as_str(),
        "status": r.status.as_str(), "reason": r.reason, "failure_kind": r.failure_kind,
        "attempts": r.attempts, "updated_at": r.updated_at,
        "occurred_at": r.record.as_ref().map(|x| x.occurred_at_ms),
        "replayable": verdict.is_ok(), "refused": verdict.err(),
    })
}

/// The rows and their reasons, grouped.
pub(super) async fn report(env: &Env, filter: &FailureFilter) -> Result<Value, Error> {
    let rows = failures::list(&db(env)?, filter)
        .await
        .map_err(Error::Store)?;
    let now = runtime::now_ms();
    let mut reasons: BTreeMap<(String, &str, String), u64> = BTreeMap::new();
    for r in &rows {
        *reasons
            .entry((
                r.platform.as_str().to_owned(),
                r.status.as_str(),
                r.reason.clone().unwrap_or_default(),
            ))
            .or_default() += 1;
    }
    let mut grouped: Vec<Value> = reasons
        .into_iter()
        .map(|((platform, status, reason), n)| {
            json!({"platform": platform, "status": status, "reason": reason, "events": n})
        })
        .collect();
    grouped.sort_by_key(|g| std::cmp::Reverse(g["events"].as_u64().unwrap_or(0)));
    Ok(json!({
        "rows": rows.iter().map(|r| row_json(r, now)).collect::<Vec<_>>(),
        "reasons": grouped,
        "truncated": rows.len() >= replay::MAX_ROWS as usize,
    }))
}

/// `GET /_ar/admin/failures`.
pub(super) async fn list(req: &Request, env: &Env, url: &Url) -> RouteResult {
    let pairs = query(url);
    let filter =
        FailureFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[])
            .map_err(invalid)?;
    let report = report(env, &filter).await?;
    let html = req
        .headers()
        .get("accept")?
        .is_some_and(|a| a.contains("text/html"));
    if html {
        return Ok(Response::from_html(super::failures_page::render(
            &report, &pairs,
        ))?);
    }
    Ok(Response::from_json(&report)?)
}

/// `POST /_ar/admin/replay`: JSON for the API, a page for the console's forms.
pub(super) async fn replay(req: &mut Request, env: &Env, url: &Url) -> RouteResult {
    let form = req
        .headers()
        .get("content-type")?
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let body =
        super::super::common::body_capped(req, 64 * 1024, "replay forms are limited to 64 KiB")
            .await?;
    let mut pairs = query(url);
    pairs.extend(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    let done = run(env, &pairs).await;
    if form {
        return match done {
            Ok(d) => Ok(Response::from_html(page::confirmation(
                "Replay",
                &describe(&d),
            ))?),
            Err(e @ (Error::InvalidInput { .. } | Error::InvalidPlatform(_))) => Ok(
                Response::from_html(page::confirmation("Nothing replayed", &e.to_string()))?
                    .with_status(400),
            ),
            Err(e) => Err(e),
        };
    }
    Ok(Response::from_json(&done?)?)
}

async fn run(env: &Env, pairs: &[(String, String)]) -> Result<Value, Error> {
    let mut chosen: Vec<(String, Platform)> = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "row") {
        chosen.push(replay::row_named(v).map_err(invalid)?);
    }
    let mut filter = FailureFilter::from_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["row"],
    )
    .map_err(invalid)?;
    if filter.status.is_some_and(|s| s != RowStatus::Failed) {
        return Err(Error::InvalidInput {
            field: "status".into(),
            message: "only failed rows are replayed".into(),
        });
    }
    filter.status = Some(RowStatus::Failed);
    let db = db(env)?;
    let rows = failures::list(&db, &filter).await.map_err(Error::Store)?;
    let now = runtime::now_ms();
    let mut go = Vec::new();
    let mut refused = Vec::new();
    for r in rows.iter().filter(|r| {
        chosen.is_empty()
            || chosen
                .iter()
                .any(|(id, p)| *id == r.event_id && *p == r.platform)
    }) {
        match replay::replayable(r.platform, r.status, r.record.as_ref(), now) {
            Ok(()) => go.push((r.event_id.clone(), r.platform)),
            Err(reason) => refused.push(json!({
                "event_id": r.event_id, "platform": r.platform.as_str(), "reason": reason,
            })),
        }
    }
    let missing: Vec<Value> = chosen
        .iter()
        .filter(|(id, p)| !rows.iter().any(|r| r.event_id == *id && r.platform == *p))
        .map(|(id, p)| {
            json!({"event_id": id, "platform": p.as_str(),
                   "reason": "not a failed row (already replayed, delivered or never failed)"})
        })
        .collect();
    refused.extend(missing);
    let requeued = failures::replay(&db, &go, now)
        .await
        .map_err(Error::Store)?;
    Ok(json!({
        "requeued": requeued, "refused": refused,
        "note": "sent at the next flush (within 5 minutes)",
    }))
}

fn describe(done: &Value) -> String {
    let refused = done["refused"].as_array().map_or(0, Vec::len);
    let mut text = format!(
        "Queued {} row(s) for the next flush (within 5 minutes).",
        done["requeued"]
    );
    if refused > 0 {
        let _ = write!(text, " Refused {refused}:");
        for r in done["refused"].as_array().into_iter().flatten() {
            let _ = write!(
                text,
                " {} → {}: {};",
                r["event_id"].as_str().unwrap_or_default(),
                r["platform"].as_str().unwrap_or_default(),
                r["reason"].as_str().unwrap_or_default()
            );
        }
    }
    text
}
