//! Claims of outbox rows, and what their sends did (D1 `outbox`, `events.status`, `counters`).
//!
//! A sender claims rows with a conditional `UPDATE … RETURNING` (atomic in D1: two timers never
//! get the same row), sends them (`delivery::send`), and [`apply`] writes each row's outcome —
//! only while the row is still held by that claim. Claims of senders that died are released
//! after [`STALE_CLAIM_MS`]. Failed rows can be replayed.

use std::collections::BTreeMap;

use ar_shared::delivery::outcome::FailureKind;
use ar_shared::delivery::plan::{EventStatus, RowStatus};
use ar_shared::delivery::run::RowOutcome;
use ar_shared::platform::Platform;
use worker::{D1Database, Result};

use super::codec::{
    ClaimRow, event_status, json_list, num, parse_platform, platform as platform_value, statement,
    status, statuses, text,
};

/// A row claimed for sending.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    /// The event.
    pub event_id: String,
    /// The platform.
    pub platform: Platform,
    /// Attempts before this one.
    pub attempts: u32,
}

fn claimed_rows(rows: Vec<ClaimRow>, platform: Option<Platform>) -> Vec<Claimed> {
    rows.into_iter()
        .filter_map(|row| {
            let platform = platform.or_else(|| parse_platform(row.platform.as_deref()?))?;
            Some(Claimed {
                event_id: row.event_id,
                platform,
                attempts: u32::try_from(row.attempts.0).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Claims the due pending rows of `event_ids`, on every platform.
///
/// # Errors
/// D1 failures.
pub(crate) async fn claim_events(
    db: &D1Database,
    event_ids: &[&str],
    due_by_ms: u64,
    now_ms: u64,
) -> Result<Vec<Claimed>> {
    let result = statement(
        db,
        "UPDATE outbox SET status = ?4, claimed_at = ?3, updated_at = ?3 \
         WHERE event_id IN (SELECT value FROM json_each(?1)) AND status = ?5 \
           AND next_attempt_at <= ?2 \
         RETURNING event_id, platform, attempts",
        &[
            json_list(event_ids.iter().copied()),
            num(due_by_ms),
            num(now_ms),
            status(RowStatus::Sending),
            status(RowStatus::Pending),
        ],
    )?
    .all()
    .await?;
    Ok(claimed_rows(result.results::<ClaimRow>()?, None))
}

/// Claims up to `limit` due pending rows of `platform`, oldest first.
///
/// # Errors
/// D1 failures.
pub(crate) async fn claim_due(
    db: &D1Database,
    platform: Platform,
    now_ms: u64,
    limit: u32,
) -> Result<Vec<Claimed>> {
    let result = statement(
        db,
        "UPDATE outbox SET status = ?4, claimed_at = ?2, updated_at = ?2 \
         WHERE rowid IN (SELECT rowid FROM outbox WHERE platform = ?1 AND status = ?5 \
           AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT ?3) \
         RETURNING event_id, attempts",
        &[
            platform_value(platform),
            num(now_ms),
            num(u64::from(limit)),
            status(RowStatus::Sending),
            status(RowStatus::Pending),
        ],
    )?
    .all()
    .await?;
    Ok(claimed_rows(result.results::<ClaimRow>()?, Some(platform)))
}

/// Days since the epoch, the `counters.day` column.
pub(crate) const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Rows that end in the same state: (status, due, reason, failure kind, attempted, trace id).
type GroupKey<'a> = (
    &'a str,
    u64,
    Option<&'a str>,
    Option<&'a str>,
    bool,
    Option<&'a str>,
);

/// Writes the outcomes of claimed rows of `platform`, the events' states, the daily counters and
/// the `health` counter changes, in one D1 batch: one statement per distinct outcome, not per row. Only rows still held by this
/// sender's claim (`claimed_at_ms`) change: if a send outlived [`STALE_CLAIM_MS`] and the cron
/// released and re-claimed the row, the late answer must not overwrite the new claim.
///
/// # Errors
/// D1 failures.
pub(crate) async fn apply(
    db: &D1Database,
    platform: Platform,
    outcomes: &[RowOutcome],
    health: &[ar_shared::health_counters::Count],
    claimed_at_ms: u64,
    now_ms: u64,
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut groups: BTreeMap<GroupKey<'_>, Vec<&str>> = BTreeMap::new();
    for o in outcomes {
        let u = &o.update;
        groups
            .entry((
                u.status.as_str(),
                u.next_attempt_at_ms,
                u.last_error.as_deref(),
                u.failure.map(FailureKind::as_str),
                u.attempted,
                o.trace_id.as_deref(),
            ))
            .or_default()
            .push(o.event_id.as_str());
    }
    let mut statements = Vec::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for ((row_status, at, error, failure, attempted, trace), ids) in &groups {
        *counts.entry(row_status).or_default() += ids.len() as u64;
        statements.push(statement(
            db,
            "UPDATE outbox SET status = ?1, next_attempt_at = ?2, last_error = ?3, \
               attempts = attempts + ?4, trace_id = COALESCE(?5, trace_id), \
               sent_at = CASE WHEN ?1 = ?11 THEN ?6 ELSE sent_at END, \
               failure_kind = ?10, claimed_at = NULL, updated_at = ?6 \
             WHERE platform = ?7 AND status = ?12 AND claimed_at = ?9 \
               AND event_id IN (SELECT value FROM json_each(?8))",
            &[
                wasm_bindgen::JsValue::from_str(row_status),
                num(*at),
                text(*error),
                num(u64::from(*attempted)),
                text(*trace),
                num(now_ms),
                platform_value(platform),
                json_list(ids.iter().copied()),
                num(claimed_at_ms),
                text(*failure),
                status(RowStatus::Delivered),
                status(RowStatus::Sending),
            ],
        )?);
    }
    let ids: Vec<&str> = outcomes.iter().map(|o| o.event_id.as_str()).collect();
    statements.push(event_states(db, &ids, now_ms)?);
    for (metric, n) in counts {
        statements.push(statement(
            db,
            "INSERT INTO counters (day, platform, metric, n) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (day, platform, metric) DO UPDATE SET n = n + excluded.n",
            &[
                num(now_ms / DAY_MS),
                platform_value(platform),
                wasm_bindgen::JsValue::from_str(metric),
                num(n),
            ],
        )?);
    }
    if let Some(s) = super::health_counters::add(db, health)? {
        statements.push(s);
    }
    db.batch(statements).await?;
    Ok(())
}

/// Sets `events.status` of `ids` from their rows: `EventStatus::of`, evaluated in SQL from the
/// row states that imply each event state (`EventStatus::implied_by`).
fn event_states(db: &D1Database, ids: &[&str], now_ms: u64) -> Result<worker::D1PreparedStatement> {
    statement(
        db,
        "UPDATE events SET updated_at = ?2, status = CASE \
           WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = events.event_id \
             AND o.status IN (SELECT value FROM json_each(?3))) THEN ?4 \
           WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = events.event_id \
             AND o.status IN (SELECT value FROM json_each(?5))) THEN ?6 \
           ELSE ?7 END \
         WHERE event_id IN (SELECT value FROM json_each(?1))",
        &[
            json_list(ids.iter().copied()),
            num(now_ms),
            statuses(EventStatus::Pending.implied_by()),
            event_status(EventStatus::Pending),
            statuses(EventStatus::Unverified.implied_by()),
            event_status(EventStatus::Unverified),
            event_status(EventStatus::Done),
        ],
    )
}

/// How long a claim may last before the cron assumes its sender died (a send times out after
/// 10 s; an isolate may be evicted mid-send).
pub(crate) const STALE_CLAIM_MS: u64 = 10 * 60 * 1000;

/// Returns rows claimed by a sender that never finished to `pending`. The platform may have
/// received such a request; Meta deduplicates by `event_id` and Google by order/transaction id,
/// so a resend cannot double count (GA4 only for purchases: docs/decisions.md).
///
/// # Errors
/// D1 failures.
pub(crate) async fn release_stale_claims(db: &D1Database, now_ms: u64) -> Result<()> {
    statement(
        db,
        "UPDATE outbox SET status = ?3, claimed_at = NULL, updated_at = ?1 \
         WHERE status = ?4 AND claimed_at < ?2",
        &[
            num(now_ms),
            num(now_ms.saturating_sub(STALE_CLAIM_MS)),
            status(RowStatus::Pending),
            status(RowStatus::Sending),
        ],
    )?
    .run()
    .await?;
    Ok(())
}
