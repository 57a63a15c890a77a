//! Failed and held outbox rows for the console's "Failures", and replaying chosen ones. Storage
//! only: which rows may be replayed is `ar_shared::delivery::replay`'s.

use ar_shared::delivery::plan::{EventStatus, RowStatus};
use ar_shared::delivery::replay::{FailureFilter, MAX_ROWS};
use ar_shared::platform::Platform;
use ar_shared::record::EventRecord;
use serde::Deserialize;
use worker::{D1Database, Result};

use super::codec::{
    Whole, all, event_status, num, parse_platform, parse_status, statement, statuses, text,
};

/// One failed or held row, with its event's record when it is still stored.
#[derive(Debug, Clone)]
pub(crate) struct FailureRow {
    pub event_id: String,
    pub platform: Platform,
    pub status: RowStatus,
    pub event: Option<String>,
    pub reason: Option<String>,
    pub failure_kind: Option<String>,
    pub attempts: u64,
    pub updated_at: u64,
    pub record: Option<EventRecord>,
}

#[derive(Deserialize)]
struct Row {
    event_id: String,
    platform: String,
    status: String,
    event: Option<String>,
    last_error: Option<String>,
    failure_kind: Option<String>,
    attempts: Whole,
    updated_at: Whole,
    record: Option<String>,
}

/// The rows `filter` selects (failed and held unless it names one), newest first, at most
/// [`MAX_ROWS`].
///
/// # Errors
/// D1 failures.
pub(crate) async fn list(db: &D1Database, filter: &FailureFilter) -> Result<Vec<FailureRow>> {
    let wanted = filter
        .status
        .map_or(vec![RowStatus::Failed, RowStatus::Held], |s| vec![s]);
    let rows: Vec<Row> = all(
        db,
        "SELECT o.event_id, o.platform, o.status, e.event, o.last_error, o.failure_kind, \
         o.attempts, o.updated_at, e.record FROM outbox o LEFT JOIN events e ON e.event_id = o.event_id \
         WHERE o.status IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR o.platform = ?2) \
         AND (?3 IS NULL OR o.last_error = ?3) AND (?4 IS NULL OR e.event = ?4) \
         ORDER BY o.updated_at DESC LIMIT ?5",
        &[
            statuses(wanted),
            text(filter.platform.map(Platform::as_str)),
            text(filter.reason.as_deref()),
            text(filter.event.as_ref().map(ar_shared::EventName::as_str)),
            num(u64::from(MAX_ROWS)),
        ],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(FailureRow {
                platform: parse_platform(&r.platform)?,
                status: parse_status(&r.status)?,
                event_id: r.event_id,
                event: r.event,
                reason: r.last_error,
                failure_kind: r.failure_kind,
                attempts: r.attempts.0,
                updated_at: r.updated_at.0,
                record: r.record.and_then(|j| serde_json::from_str(&j).ok()),
            })
        })
        .collect())
}

/// Puts the failed rows `rows` (`(event_id, platform)`) back to pending, due now, attempts
/// reset; returns how many changed (a row no longer failed is left alone, so a second replay of
/// the same rows changes nothing).
///
/// # Errors
/// D1 failures.
pub(crate) async fn replay(
    db: &D1Database,
    rows: &[(String, Platform)],
    now_ms: u64,
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let pairs: Vec<serde_json::Value> = rows
        .iter()
        .map(|(id, p)| serde_json::json!([id, p.as_str()]))
        .collect();
    let pairs = serde_json::Value::from(pairs).to_string();
    let chosen = "SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS p \
                  FROM json_each(?2)";
    let results = db
        .batch(vec![
            statement(
                db,
                &format!(
                    "UPDATE events SET status = ?3, updated_at = ?1 WHERE event_id IN \
                     (SELECT o.event_id FROM outbox o JOIN ({chosen}) c ON c.id = o.event_id \
                     AND c.p = o.platform WHERE o.status = ?4)"
                ),
                &[
                    num(now_ms),
                    text(Some(&pairs)),
                    event_status(EventStatus::Pending),
                    text(Some(RowStatus::Failed.as_str())),
                ],
            )?,
            statement(
                db,
                &format!(
                    "UPDATE outbox SET status = ?3, attempts = 0, next_attempt_at = ?1, \
                     failure_kind = NULL, updated_at = ?1 WHERE status = ?4 AND \
                     (event_id, platform) IN ({chosen}) RETURNING event_id"
                ),
                &[
                    num(now_ms),
                    text(Some(&pairs)),
                    text(Some(RowStatus::Pending.as_str())),
                    text(Some(RowStatus::Failed.as_str())),
                ],
            )?,
        ])
        .await?;
    // The rows the UPDATE returned, not D1's `changes`: that also counts the writes of the
    // outbox's triggers (migrations/0015_health_totals.sql).
    let requeued = match results.get(1) {
        Some(r) => r.results::<serde_json::Value>()?.len(),
        None => 0,
    };
    Ok(requeued as u64)
}
