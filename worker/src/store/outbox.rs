//! Events and their per-platform delivery rows (D1 `events`, `outbox`, `counters`;
//! `migrations/0003_outbox.sql`).
//!
//! Storage only: which rows an event gets and what an answer does to a row are decided in
//! `ar_shared::delivery_plan` and `ar_shared::delivery_outcome`. Sets of rows are passed to D1 as
//! one JSON array bound to a single parameter and unpacked with `json_each`, so a whole queue
//! batch is one statement per table (D1 allows at most 100 bound parameters per statement).

use std::collections::{BTreeMap, BTreeSet};

use ar_shared::delivery_outcome::RowUpdate;
use ar_shared::delivery_plan::{
    CopyOutcome, EventStatus, ExistingRow, PlannedRow, Platform, RowStatus, merge_rows, plan_rows,
};
use ar_shared::mapping::DeliveryPath;
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

/// A Unix-ms timestamp or count as a JS number (exact below 2^53, which every value here is).
#[allow(clippy::cast_precision_loss)]
pub fn num(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}

/// A JS value for optional text.
pub fn text(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

/// A whole number from a D1 row field (D1 hands numbers to Rust as floats or integers).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn field_u64(row: &Value, name: &str) -> u64 {
    let v = &row[name];
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        .unwrap_or(0)
}

/// A text field of a D1 row.
pub fn field_str<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or_default()
}

/// Binds `values` to `sql`.
///
/// # Errors
/// When D1 rejects the bindings.
pub fn statement(db: &D1Database, sql: &str, values: &[JsValue]) -> Result<D1PreparedStatement> {
    db.prepare(sql).bind(values)
}

fn ids_json(ids: &[&str]) -> JsValue {
    JsValue::from_str(&Value::from(ids).to_string())
}

/// The stored records of `ids`, their versions and their outbox rows, read with one D1 batch
/// call.
///
/// # Errors
/// D1 failures.
pub async fn read_existing(db: &D1Database, ids: &[&str]) -> Result<Stored> {
    let ids = ids_json(ids);
    let results = db
        .batch(vec![
            statement(
                db,
                "SELECT event_id, record, version FROM events \
                 WHERE event_id IN (SELECT value FROM json_each(?1))",
                std::slice::from_ref(&ids),
            )?,
            statement(
                db,
                "SELECT event_id, platform, status, next_attempt_at FROM outbox \
                 WHERE event_id IN (SELECT value FROM json_each(?1))",
                &[ids],
            )?,
        ])
        .await?;
    let mut stored = Stored::default();
    if let Some(r) = results.first() {
        for row in r.results::<Value>()? {
            let id = field_str(&row, "event_id").to_owned();
            // The version is kept even when the record no longer parses (a schema change): the
            // new copy then replaces the record, still guarded by the version.
            stored
                .versions
                .insert(id.clone(), field_u64(&row, "version"));
            if let Ok(record) = serde_json::from_str::<EventRecord>(field_str(&row, "record")) {
                stored.records.insert(id, record);
            }
        }
    }
    if let Some(r) = results.get(1) {
        for row in r.results::<Value>()? {
            let (Some(platform), Some(status)) = (
                Platform::parse(field_str(&row, "platform")),
                RowStatus::parse(field_str(&row, "status")),
            ) else {
                continue;
            };
            stored
                .rows
                .entry(field_str(&row, "event_id").to_owned())
                .or_default()
                .push(ExistingRow {
                    platform,
                    status,
                    next_attempt_at_ms: field_u64(&row, "next_attempt_at"),
                });
        }
    }
    Ok(stored)
}

/// One event ready to be written: its merged record, the rows to write, its state.
pub struct Merged {
    /// The merged record.
    pub record: EventRecord,
    /// Rows to insert or re-plan.
    pub rows: Vec<PlannedRow>,
    /// The event's state.
    pub status: EventStatus,
    /// The stored version this merge started from (0: no stored event). The write applies only
    /// if D1 still holds this version.
    pub base_version: u64,
}

/// What D1 holds for a set of event IDs.
#[derive(Debug, Default)]
pub struct Stored {
    /// Stored records by event ID.
    pub records: BTreeMap<String, EventRecord>,
    /// Stored versions by event ID (present even when a record no longer parses).
    pub versions: BTreeMap<String, u64>,
    /// Outbox rows by event ID.
    pub rows: BTreeMap<String, Vec<ExistingRow>>,
}

/// Merges `copies` (in arrival order) into what [`read_existing`] returned, without IO: one
/// [`Merged`] per distinct event (its last state) and each copy's outcome, in input order. A
/// later copy of an event merges into the earlier copies of the same call, as into a stored one.
pub fn merge_copies(
    stored: Stored,
    settings: &Settings,
    copies: Vec<EventRecord>,
    now_ms: u64,
) -> (Vec<Merged>, Vec<CopyOutcome>) {
    let Stored {
        mut records,
        versions,
        rows,
    } = stored;
    let mut merged: Vec<Merged> = Vec::new();
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(copies.len());
    for copy in copies {
        let existed = records.contains_key(&copy.event_id);
        let record = match records.remove(&copy.event_id) {
            Some(mut stored) => {
                stored.merge(&copy);
                stored
            }
            None => copy,
        };
        let existing = rows.get(&record.event_id).map_or(&[][..], Vec::as_slice);
        let planned = plan_rows(&record, settings, now_ms);
        let m = merge_rows(existed, existing, planned);
        outcomes.push(m.outcome);
        // A later copy in the same call merges into this result.
        records.insert(record.event_id.clone(), record.clone());
        let next = Merged {
            base_version: versions.get(&record.event_id).copied().unwrap_or(0),
            record,
            rows: m.writes,
            status: m.event_status,
        };
        if let Some(slot) = position
            .get(&next.record.event_id)
            .and_then(|&i| merged.get_mut(i))
        {
            *slot = next;
        } else {
            position.insert(next.record.event_id.clone(), merged.len());
            merged.push(next);
        }
    }
    (merged, outcomes)
}

/// Most events per D1 write statement: each statement binds its events as one JSON text, which
/// D1 caps at 2 MB.
const EVENTS_PER_STATEMENT: usize = 100;

/// The statements that write merged events and their rows (one per table per
/// [`EVENTS_PER_STATEMENT`] events), and the indices of the event statements, whose `RETURNING`
/// rows name the events whose version check passed.
///
/// Each event is written only if D1 still holds the version its merge read, and its outbox rows
/// only if that event write applied — the event row then carries this batch's `write_id` (the
/// statements run in one D1 batch, a single transaction).
///
/// # Errors
/// When a record cannot be serialized or D1 rejects the bindings.
pub fn write_statements(
    db: &D1Database,
    settings: &Settings,
    merged: &[&Merged],
    now_ms: u64,
    write_id: &str,
) -> Result<(Vec<D1PreparedStatement>, Vec<usize>)> {
    let mut out = Vec::new();
    let mut event_statements = Vec::new();
    for chunk in merged.chunks(EVENTS_PER_STATEMENT) {
        let mut events = Vec::new();
        let mut rows = Vec::new();
        for m in chunk {
            let r = &m.record;
            let path = r
                .event
                .parse()
                .ok()
                .and_then(|name| settings.mappings.lookup(&name))
                .map_or(DeliveryPath::Batched, |mapping| mapping.path);
            let quality = r.match_quality();
            let missing: Vec<&str> = quality.missing.iter().map(|k| k.meta_name()).collect();
            let version = m.base_version + 1;
            events.push(json!({
                "id": r.event_id,
                "event": r.event,
                // Hashed and mergeable: no raw PII is ever part of a record (DESIGN §4).
                "record": serde_json::to_string(r)?,
                "path": match path { DeliveryPath::RealTime => "real_time", DeliveryPath::Batched => "batched" },
                "status": m.status.as_str(),
                "mq": quality.points,
                "missing": missing.join(","),
                "pixel": u8::from(r.sources.pixel),
                "shop": u8::from(r.sources.from_shop()),
                "v": version,
            }));
            for row in &m.rows {
                rows.push(json!({
                    "id": r.event_id,
                    "p": row.platform.as_str(),
                    "s": row.status.as_str(),
                    "at": row.next_attempt_at_ms,
                    "r": row.reason,
                }));
            }
        }
        if events.is_empty() {
            continue;
        }
        event_statements.push(out.len());
        out.push(statement(
            db,
            "INSERT INTO events (event_id, event, record, path, status, match_quality, missing_keys, \
               from_pixel, from_shop, version, write_id, created_at, updated_at) \
             SELECT json_extract(value, '$.id'), json_extract(value, '$.event'), json_extract(value, '$.record'), json_extract(value, '$.path'), \
               json_extract(value, '$.status'), json_extract(value, '$.mq'), json_extract(value, '$.missing'), json_extract(value, '$.pixel'), \
               json_extract(value, '$.shop'), json_extract(value, '$.v'), ?3, ?2, ?2 FROM json_each(?1) WHERE true \
             ON CONFLICT (event_id) DO UPDATE SET record = excluded.record, status = excluded.status, \
               match_quality = excluded.match_quality, missing_keys = excluded.missing_keys, \
               from_pixel = excluded.from_pixel, from_shop = excluded.from_shop, \
               version = excluded.version, write_id = excluded.write_id, updated_at = excluded.updated_at \
             WHERE events.version = excluded.version - 1 \
             RETURNING event_id",
            &[
                JsValue::from_str(&Value::from(events).to_string()),
                num(now_ms),
                JsValue::from_str(write_id),
            ],
        )?);
        if !rows.is_empty() {
            // Only rows whose event write this batch made (its `write_id`); the status guard keeps
            // a row that a sender claimed meanwhile: never sent twice.
            out.push(statement(
                db,
                "INSERT INTO outbox (event_id, platform, status, attempts, next_attempt_at, last_error, updated_at) \
                 SELECT json_extract(value, '$.id'), json_extract(value, '$.p'), json_extract(value, '$.s'), 0, json_extract(value, '$.at'), json_extract(value, '$.r'), ?2 \
                 FROM json_each(?1) WHERE EXISTS (SELECT 1 FROM events e \
                   WHERE e.event_id = json_extract(value, '$.id') AND e.write_id = ?3) \
                 ON CONFLICT (event_id, platform) DO UPDATE SET status = excluded.status, \
                   next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, \
                   updated_at = excluded.updated_at \
                 WHERE outbox.status IN ('pending', 'skipped', 'held')",
                &[
                    JsValue::from_str(&Value::from(rows).to_string()),
                    num(now_ms),
                    JsValue::from_str(write_id),
                ],
            )?);
        }
    }
    Ok((out, event_statements))
}

/// A fresh random token for one write batch (64 bits, hex).
fn write_token() -> Result<String> {
    let bytes: [u8; 8] = crate::runtime::random_bytes()?;
    Ok(format!("{:016x}", u64::from_be_bytes(bytes)))
}

/// How often a copy is re-merged after another writer changed its event first. Each round
/// means some other copy was written, so the loop always makes progress.
const MERGE_ROUNDS: usize = 8;

/// What [`merge_and_write`] did: the written events and each copy's outcome, in input order.
pub struct Written {
    /// The merged events that were written (or that `write` chose not to write).
    pub merged: Vec<Merged>,
    /// Each copy's outcome, in input order.
    pub outcomes: Vec<CopyOutcome>,
}

/// Merges `copies` into D1 with optimistic concurrency: one read and one batch write per round;
/// copies whose event another writer changed in between are read and merged again, so two
/// copies arriving at the same moment both end up in the stored event.
///
/// `write` says which merged events to write (the ingest path writes real-time events only; the
/// queue consumers write all); the others are merged for their outcome only.
///
/// # Errors
/// D1 failures, or an event still changing under concurrent writers after [`MERGE_ROUNDS`].
pub async fn merge_and_write(
    db: &D1Database,
    settings: &Settings,
    copies: Vec<EventRecord>,
    now_ms: u64,
    write: impl Fn(&Merged) -> bool,
) -> Result<Written> {
    let mut outcomes: Vec<Option<CopyOutcome>> = vec![None; copies.len()];
    let mut done: Vec<Merged> = Vec::new();
    let mut todo: Vec<(usize, EventRecord)> = copies.into_iter().enumerate().collect();
    for _ in 0..MERGE_ROUNDS {
        let mut ids: Vec<&str> = todo.iter().map(|(_, c)| c.event_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let stored = read_existing(db, &ids).await?;
        let copies: Vec<EventRecord> = todo.iter().map(|(_, c)| c.clone()).collect();
        let (merged, copy_outcomes) = merge_copies(stored, settings, copies, now_ms);
        let skipped: BTreeSet<String> = merged
            .iter()
            .filter(|m| !write(m))
            .map(|m| m.record.event_id.clone())
            .collect();
        let to_write: Vec<&Merged> = merged
            .iter()
            .filter(|m| !skipped.contains(m.record.event_id.as_str()))
            .collect();
        let mut applied: BTreeSet<String> = BTreeSet::new();
        let write_id = write_token()?;
        let (statements, event_statements) =
            write_statements(db, settings, &to_write, now_ms, &write_id)?;
        if !statements.is_empty() {
            let results = db.batch(statements).await?;
            for i in event_statements {
                if let Some(r) = results.get(i) {
                    for row in r.results::<Value>()? {
                        applied.insert(field_str(&row, "event_id").to_owned());
                    }
                }
            }
        }
        let settled = |id: &str| skipped.contains(id) || applied.contains(id);
        let mut retry = Vec::new();
        for ((i, copy), outcome) in todo.into_iter().zip(copy_outcomes) {
            if settled(&copy.event_id) {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(outcome);
                }
            } else {
                retry.push((i, copy));
            }
        }
        done.extend(merged.into_iter().filter(|m| settled(&m.record.event_id)));
        if retry.is_empty() {
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
            retry.len()
        );
        todo = retry;
    }
    Err(worker::Error::RustError(format!(
        "{} event(s) kept changing under concurrent writes; send them again",
        todo.len()
    )))
}

/// A row claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The event.
    pub event_id: String,
    /// The platform.
    pub platform: Platform,
    /// Attempts before this one.
    pub attempts: u32,
}

fn claimed_rows(rows: &[Value], platform: Option<Platform>) -> Vec<Claimed> {
    rows.iter()
        .filter_map(|row| {
            let platform = platform.or_else(|| Platform::parse(field_str(row, "platform")))?;
            Some(Claimed {
                event_id: field_str(row, "event_id").to_owned(),
                platform,
                attempts: u32::try_from(field_u64(row, "attempts")).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Claims the due pending rows of `event_ids`. The conditional UPDATE is atomic in D1, so when
/// two copies' timers run, only one of them gets each row.
///
/// # Errors
/// D1 failures.
pub async fn claim_events(
    db: &D1Database,
    event_ids: &[&str],
    due_by_ms: u64,
    now_ms: u64,
) -> Result<Vec<Claimed>> {
    let result = statement(
        db,
        "UPDATE outbox SET status = 'sending', claimed_at = ?3, updated_at = ?3 \
         WHERE event_id IN (SELECT value FROM json_each(?1)) AND status = 'pending' \
           AND next_attempt_at <= ?2 \
         RETURNING event_id, platform, attempts",
        &[ids_json(event_ids), num(due_by_ms), num(now_ms)],
    )?
    .all()
    .await?;
    Ok(claimed_rows(&result.results::<Value>()?, None))
}

/// Claims up to `limit` due pending rows of `platform`, oldest first.
///
/// # Errors
/// D1 failures.
pub async fn claim_due(
    db: &D1Database,
    platform: Platform,
    now_ms: u64,
    limit: u32,
) -> Result<Vec<Claimed>> {
    let result = statement(
        db,
        "UPDATE outbox SET status = 'sending', claimed_at = ?2, updated_at = ?2 \
         WHERE rowid IN (SELECT rowid FROM outbox WHERE platform = ?1 AND status = 'pending' \
           AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT ?3) \
         RETURNING event_id, attempts",
        &[
            JsValue::from_str(platform.as_str()),
            num(now_ms),
            num(u64::from(limit)),
        ],
    )?
    .all()
    .await?;
    Ok(claimed_rows(&result.results::<Value>()?, Some(platform)))
}

/// The stored records of `ids`.
///
/// # Errors
/// D1 failures.
pub async fn load_records(db: &D1Database, ids: &[&str]) -> Result<BTreeMap<String, EventRecord>> {
    let result = statement(
        db,
        "SELECT event_id, record FROM events WHERE event_id IN (SELECT value FROM json_each(?1))",
        &[ids_json(ids)],
    )?
    .all()
    .await?;
    let mut out = BTreeMap::new();
    for row in result.results::<Value>()? {
        if let Ok(record) = serde_json::from_str::<EventRecord>(field_str(&row, "record")) {
            out.insert(field_str(&row, "event_id").to_owned(), record);
        }
    }
    Ok(out)
}

/// One row's outcome.
pub struct Outcome {
    /// The event.
    pub event_id: String,
    /// Its next state.
    pub update: RowUpdate,
    /// The platform's trace id (delivered requests).
    pub trace_id: Option<String>,
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Rows that end in the same state: (status, due, reason, attempted, trace id).
type GroupKey<'a> = (&'a str, u64, Option<&'a str>, bool, Option<&'a str>);

/// Writes the outcomes of claimed rows of `platform`, the events' states and the daily counters,
/// in one D1 batch: one statement per distinct outcome, not per row. Only rows still held by this
/// sender's claim (`claimed_at_ms`) change: if a send outlived [`STALE_CLAIM_MS`] and the cron
/// released and re-claimed the row, the late answer must not overwrite the new claim.
///
/// # Errors
/// D1 failures.
pub async fn apply(
    db: &D1Database,
    platform: Platform,
    outcomes: &[Outcome],
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
                u.attempted,
                o.trace_id.as_deref(),
            ))
            .or_default()
            .push(o.event_id.as_str());
    }
    let mut statements = Vec::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for ((status, at, error, attempted, trace), ids) in &groups {
        *counts.entry(status).or_default() += ids.len() as u64;
        statements.push(statement(
            db,
            "UPDATE outbox SET status = ?1, next_attempt_at = ?2, last_error = ?3, \
               attempts = attempts + ?4, trace_id = COALESCE(?5, trace_id), \
               sent_at = CASE WHEN ?1 = 'delivered' THEN ?6 ELSE sent_at END, \
               claimed_at = NULL, updated_at = ?6 \
             WHERE platform = ?7 AND status = 'sending' AND claimed_at = ?9 \
               AND event_id IN (SELECT value FROM json_each(?8))",
            &[
                JsValue::from_str(status),
                num(*at),
                text(*error),
                num(u64::from(*attempted)),
                text(*trace),
                num(now_ms),
                JsValue::from_str(platform.as_str()),
                ids_json(ids),
                num(claimed_at_ms),
            ],
        )?);
    }
    let ids: Vec<&str> = outcomes.iter().map(|o| o.event_id.as_str()).collect();
    // `EventStatus::of` in SQL: pending while a row waits, unverified while one is held.
    statements.push(statement(
        db,
        "UPDATE events SET updated_at = ?2, status = CASE \
           WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = events.event_id \
             AND o.status IN ('pending', 'sending')) THEN 'pending' \
           WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = events.event_id \
             AND o.status = 'held') THEN 'unverified' \
           ELSE 'done' END \
         WHERE event_id IN (SELECT value FROM json_each(?1))",
        &[ids_json(&ids), num(now_ms)],
    )?);
    for (metric, n) in counts {
        statements.push(statement(
            db,
            "INSERT INTO counters (day, platform, metric, n) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (day, platform, metric) DO UPDATE SET n = n + excluded.n",
            &[
                num(now_ms / DAY_MS),
                JsValue::from_str(platform.as_str()),
                JsValue::from_str(metric),
                num(n),
            ],
        )?);
    }
    db.batch(statements).await?;
    Ok(())
}

/// How long a claim may last before the cron assumes its sender died (a send times out after
/// 10 s; an isolate may be evicted mid-send).
pub const STALE_CLAIM_MS: u64 = 10 * 60 * 1000;

/// Returns rows claimed by a sender that never finished to `pending`. The platform may have
/// received such a request; Meta deduplicates by `event_id` and Google by order/transaction id,
/// so a resend cannot double count.
///
/// # Errors
/// D1 failures.
pub async fn release_stale_claims(db: &D1Database, now_ms: u64) -> Result<()> {
    statement(
        db,
        "UPDATE outbox SET status = 'pending', claimed_at = NULL, updated_at = ?1 \
         WHERE status = 'sending' AND claimed_at < ?2",
        &[num(now_ms), num(now_ms.saturating_sub(STALE_CLAIM_MS))],
    )?
    .run()
    .await?;
    Ok(())
}

/// Re-queues failed rows (all, or one platform's): pending now, attempts reset.
///
/// # Errors
/// D1 failures.
pub async fn replay_failed(
    db: &D1Database,
    platform: Option<Platform>,
    now_ms: u64,
) -> Result<u64> {
    let results = db
        .batch(vec![
            statement(
                db,
                "UPDATE events SET status = 'pending', updated_at = ?1 WHERE event_id IN \
                 (SELECT event_id FROM outbox WHERE status = 'failed' AND (?2 IS NULL OR platform = ?2))",
                &[num(now_ms), text(platform.map(Platform::as_str))],
            )?,
            statement(
                db,
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, \
                 updated_at = ?1 WHERE status = 'failed' AND (?2 IS NULL OR platform = ?2)",
                &[num(now_ms), text(platform.map(Platform::as_str))],
            )?,
        ])
        .await?;
    let changes = results
        .get(1)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(changes as u64)
}

/// Days of daily counters kept for health history, longer than per-event rows (DESIGN §5).
pub const COUNTER_RETENTION_DAYS: u64 = 90;

/// Deletes events and rows older than the retention period (DESIGN §4: IP address and user
/// agent live only in session context and event rows, deleted by this job), except rows a
/// sender holds right now, and counters older than [`COUNTER_RETENTION_DAYS`].
///
/// # Errors
/// D1 failures.
pub async fn prune(db: &D1Database, retention_days: u32, now_ms: u64) -> Result<()> {
    let cutoff = now_ms.saturating_sub(u64::from(retention_days) * DAY_MS);
    db.batch(vec![
        statement(
            db,
            "DELETE FROM outbox WHERE status != 'sending' AND event_id IN \
             (SELECT event_id FROM events WHERE created_at < ?1)",
            &[num(cutoff)],
        )?,
        statement(
            db,
            "DELETE FROM events WHERE created_at < ?1 AND NOT EXISTS \
             (SELECT 1 FROM outbox o WHERE o.event_id = events.event_id)",
            &[num(cutoff)],
        )?,
        // Session context (migrations/0002_sessions.sql) holds IP and user agent too.
        statement(
            db,
            "DELETE FROM sessions WHERE updated_at < ?1",
            &[num(cutoff)],
        )?,
        statement(
            db,
            "DELETE FROM counters WHERE day < ?1",
            &[num((now_ms / DAY_MS).saturating_sub(COUNTER_RETENTION_DAYS))],
        )?,
    ])
    .await?;
    Ok(())
}
