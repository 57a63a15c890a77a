//! Events and the merge-write of their copies (D1 `events`, `outbox`; migrations 0003–0005).
//!
//! [`merge_and_write`] reads what D1 holds for a set of copies, merges them with
//! `ar_shared::delivery::merge::merge_copies` and writes the result with optimistic
//! concurrency: each event is written only if D1 still holds the version its merge read, and its
//! outbox rows only if that event write applied — the event row then carries this batch's
//! `write_id` (the statements run in one D1 batch, a single transaction). Copies that lost a race
//! are read and merged again, so two copies arriving at the same moment both end up in the event.

use std::collections::{BTreeMap, BTreeSet};

use ar_shared::delivery::merge::{self, Merged, Stored, merge_copies};
use ar_shared::delivery::plan::{CopyOutcome, ExistingRow};
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{D1Database, Result};

use super::codec::{
    EventIdRow, EventRow, OutboxRow, all, json_list, parse_platform, parse_status, statement,
};
use super::health_counters;
use super::writes::write_statements;
use crate::error::Error;
use ar_shared::health_counters::arrival;

/// The stored records of `ids`, their versions and their outbox rows, read with one D1 batch.
///
/// # Errors
/// D1 failures.
async fn read_existing(db: &D1Database, ids: &[&str]) -> Result<Stored> {
    let list = json_list(ids.iter().copied());
    let results = db
        .batch(vec![
            statement(
                db,
                "SELECT event_id, record, version FROM events \
                 WHERE event_id IN (SELECT value FROM json_each(?1))",
                std::slice::from_ref(&list),
            )?,
            statement(
                db,
                "SELECT event_id, platform, status, next_attempt_at FROM outbox \
                 WHERE event_id IN (SELECT value FROM json_each(?1))",
                &[list],
            )?,
        ])
        .await?;
    let mut stored = Stored::default();
    if let Some(r) = results.first() {
        for row in r.results::<EventRow>()? {
            stored.versions.insert(row.event_id.clone(), row.version.0);
            if let Ok(record) = serde_json::from_str::<EventRecord>(&row.record) {
                stored.records.insert(row.event_id, record);
            }
        }
    }
    if let Some(r) = results.get(1) {
        for row in r.results::<OutboxRow>()? {
            let (Some(platform), Some(status)) =
                (parse_platform(&row.platform), parse_status(&row.status))
            else {
                continue;
            };
            stored
                .rows
                .entry(row.event_id)
                .or_default()
                .push(ExistingRow {
                    platform,
                    status,
                    next_attempt_at_ms: row.next_attempt_at.0,
                });
        }
    }
    Ok(stored)
}

/// The stored records of `ids` (unreadable ones are missing: their rows then fail with a reason).
///
/// # Errors
/// D1 failures.
pub(crate) async fn load_records(
    db: &D1Database,
    ids: &[&str],
) -> Result<BTreeMap<String, EventRecord>> {
    let rows: Vec<EventRow> = all(
        db,
        "SELECT event_id, record FROM events WHERE event_id IN (SELECT value FROM json_each(?1))",
        &[json_list(ids.iter().copied())],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let record = serde_json::from_str::<EventRecord>(&row.record).ok()?;
            Some((row.event_id, record))
        })
        .collect())
}

/// A fresh random token for one write batch (64 bits, hex).
fn write_token() -> Result<String> {
    let bytes: [u8; 8] = crate::runtime::random_bytes()?;
    Ok(format!("{:016x}", u64::from_be_bytes(bytes)))
}

/// Events whose health counters one statement adds (about 40 counters of ~110 bytes each).
const COUNTER_EVENTS_PER_STATEMENT: usize = 50;

/// How often a copy is re-merged after another writer changed its event first. Each round
/// means some other copy was written, so the loop always makes progress.
const MERGE_ROUNDS: usize = 8;

/// What [`merge_and_write`] did: the written events and each copy's outcome, in input order.
pub(crate) struct Written {
    /// The merged events that were written (or that `write` chose not to write).
    pub merged: Vec<Merged>,
    /// Each copy's outcome, in input order.
    pub outcomes: Vec<CopyOutcome>,
}

/// Merges `copies` into D1 with optimistic concurrency: one read and one batch write per round.
///
/// `write` says which merged events to write (the ingest path writes real-time events only; the
/// queue consumers write all); the others are merged for their outcome only.
///
/// # Errors
/// [`Error::Store`] for D1 failures, [`Error::Contended`] for events still changing under
/// concurrent writers after [`MERGE_ROUNDS`]; either way the copies may be sent again.
pub(crate) async fn merge_and_write(
    db: &D1Database,
    settings: &Settings,
    copies: Vec<EventRecord>,
    now_ms: u64,
    write: impl Fn(&Merged) -> bool,
) -> std::result::Result<Written, Error> {
    let mut outcomes: Vec<Option<CopyOutcome>> = vec![None; copies.len()];
    let mut done: Vec<Merged> = Vec::new();
    let mut todo: Vec<(usize, EventRecord)> = copies.into_iter().enumerate().collect();
    for _ in 0..MERGE_ROUNDS {
        let round = merge_round(db, settings, todo, now_ms, &write)
            .await
            .map_err(Error::Store)?;
        for (i, outcome) in round.settled {
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
        done.extend(round.written);
        if round.retry.is_empty() {
            return Ok(Written {
                merged: done,
                outcomes: outcomes
                    .into_iter()
                    .map(|o| o.unwrap_or(CopyOutcome::New))
                    .collect(),
            });
        }
        worker::console_log!(
            "ar: {} copies re-merged after a concurrent write to their event",
            round.retry.len()
        );
        todo = round.retry;
    }
    Err(Error::Contended(todo.len()))
}

/// One read-merge-write round.
struct Round {
    /// Copies whose event was written (or deliberately not), with their outcome.
    settled: Vec<(usize, CopyOutcome)>,
    /// The merged events of those copies.
    written: Vec<Merged>,
    /// Copies whose event another writer changed first: merge again.
    retry: Vec<(usize, EventRecord)>,
}

async fn merge_round(
    db: &D1Database,
    settings: &Settings,
    todo: Vec<(usize, EventRecord)>,
    now_ms: u64,
    write: &impl Fn(&Merged) -> bool,
) -> Result<Round> {
    let mut ids: Vec<&str> = todo.iter().map(|(_, c)| c.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let stored = read_existing(db, &ids).await?;
    let before = stored.records.clone();
    let copies: Vec<EventRecord> = todo.iter().map(|(_, c)| c.clone()).collect();
    let (merged, copy_outcomes) = merge_copies(stored, settings, copies, now_ms);
    let skipped: BTreeSet<String> = merged
        .iter()
        .filter(|m| !write(m))
        .map(|m| m.record.event_id.to_string())
        .collect();
    let to_write: Vec<&Merged> = merged
        .iter()
        .filter(|m| !skipped.contains(m.record.event_id.as_str()))
        .collect();
    let mut applied: BTreeSet<String> = BTreeSet::new();
    let write_id = write_token()?;
    let (mut statements, event_statements) =
        write_statements(db, settings, &to_write, now_ms, &write_id)?;
    // Health counters of the events whose write applies (after their writes, same batch), a
    // statement per [`COUNTER_EVENTS_PER_STATEMENT`] events to stay far below D1's 2 MB per
    // bound value.
    if !statements.is_empty() {
        for chunk in to_write.chunks(COUNTER_EVENTS_PER_STATEMENT) {
            let counts: Vec<(&str, ar_shared::health_counters::Count)> = chunk
                .iter()
                .flat_map(|m| {
                    let id = m.record.event_id.as_str();
                    // A replaced record's contributions are taken away too (it was another event).
                    arrival(before.get(id), &m.record)
                        .into_iter()
                        .map(move |c| (id, c))
                })
                .collect();
            if let Some(s) = health_counters::for_written(db, &counts, &write_id)? {
                statements.push(s);
            }
        }
    }
    if !statements.is_empty() {
        let results = db.batch(statements).await?;
        for i in event_statements {
            if let Some(r) = results.get(i) {
                applied.extend(r.results::<EventIdRow>()?.into_iter().map(|r| r.event_id));
            }
        }
    }
    let settled_id = |id: &str| skipped.contains(id) || applied.contains(id);
    let mut round = Round {
        settled: Vec::new(),
        written: Vec::new(),
        retry: Vec::new(),
    };
    for ((i, copy), outcome) in todo.into_iter().zip(copy_outcomes) {
        let id = copy.event_id.as_str();
        // A scan, not a set: a round holds one queue batch at most.
        let merging = merged.iter().any(|m| m.record.event_id.as_str() == id);
        if merge::stands(outcome, settled_id(id), merging) {
            round.settled.push((i, outcome));
        } else {
            round.retry.push((i, copy));
        }
    }
    round.written = merged
        .into_iter()
        .filter(|m| settled_id(m.record.event_id.as_str()))
        .collect();
    Ok(round)
}
