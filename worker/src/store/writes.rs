//! The statements that write merged events and their outbox rows (`super::events` runs them).
//!
//! Each event is written only if D1 still holds the version its merge read, and its outbox rows
//! only if that event write applied: the event row then carries this batch's `write_id` (the
//! statements run in one D1 batch, a single transaction).

use ar_shared::delivery::merge::Merged;
use ar_shared::delivery::plan::RowStatus;
use ar_shared::settings::Settings;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

use super::codec::{json_list, num, statement, statuses};

/// Most events per D1 write statement: each statement binds its events as one JSON text, which
/// D1 caps at 2 MB.
const EVENTS_PER_STATEMENT: usize = 100;

/// The statements that write merged events and their rows (one per table per
/// [`EVENTS_PER_STATEMENT`] events), and the indices of the event statements, whose `RETURNING`
/// rows name the events whose version check passed.
pub(super) fn write_statements(
    db: &D1Database,
    settings: &Settings,
    merged: &[&Merged],
    now_ms: u64,
    write_id: &str,
) -> Result<(Vec<D1PreparedStatement>, Vec<usize>)> {
    let mut out = Vec::new();
    let mut event_statements = Vec::new();
    // A row a sender claimed meanwhile, or that is final, is never overwritten: never sent twice.
    let replannable = statuses(RowStatus::ALL.into_iter().filter(|s| s.replannable()));
    for chunk in merged.chunks(EVENTS_PER_STATEMENT) {
        let mut events = Vec::new();
        let mut rows = Vec::new();
        for m in chunk {
            let r = &m.record;
            let quality = r.match_quality();
            let missing: Vec<&str> = quality.missing.iter().map(|k| k.meta_name()).collect();
            events.push(json!({
                "id": r.event_id,
                "event": r.event,
                // Hashed and mergeable: no raw PII is ever part of a record (DESIGN §4).
                "record": serde_json::to_string(r)?,
                "path": r.delivery_path(&settings.mappings).as_str(),
                "status": m.status.as_str(),
                "mq": quality.points,
                "missing": missing.join(","),
                "pixel": u8::from(r.sources.pixel),
                "shop": u8::from(r.sources.from_shop()),
                "v": m.base_version + 1,
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
        let replaced: Vec<&str> = chunk
            .iter()
            .filter(|m| m.replaced)
            .map(|m| m.record.event_id.as_str())
            .collect();
        if !replaced.is_empty() {
            // A shop copy replaced a browser record of another name: its rows were that other
            // event's (sent, if at all, under the other name) and are planned afresh.
            out.push(statement(
                db,
                "DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?1)) \
                 AND EXISTS (SELECT 1 FROM events e WHERE e.event_id = outbox.event_id \
                   AND e.write_id = ?2)",
                &[json_list(replaced), JsValue::from_str(write_id)],
            )?);
        }
        if !rows.is_empty() {
            // Only rows whose event write this batch made (its `write_id`).
            out.push(statement(
                db,
                "INSERT INTO outbox (event_id, platform, status, attempts, next_attempt_at, last_error, updated_at) \
                 SELECT json_extract(value, '$.id'), json_extract(value, '$.p'), json_extract(value, '$.s'), 0, json_extract(value, '$.at'), json_extract(value, '$.r'), ?2 \
                 FROM json_each(?1) WHERE EXISTS (SELECT 1 FROM events e \
                   WHERE e.event_id = json_extract(value, '$.id') AND e.write_id = ?3) \
                 ON CONFLICT (event_id, platform) DO UPDATE SET status = excluded.status, \
                   next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, \
                   updated_at = excluded.updated_at \
                 WHERE outbox.status IN (SELECT value FROM json_each(?4))",
                &[
                    JsValue::from_str(&Value::from(rows).to_string()),
                    num(now_ms),
                    JsValue::from_str(write_id),
                    replannable.clone(),
                ],
            )?);
        }
    }
    Ok((out, event_statements))
}
