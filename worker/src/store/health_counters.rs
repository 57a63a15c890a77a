//! The health counters (D1 `health_counters`, `migrations/0011_health_counters.sql`): the
//! statements that add `ar_shared::health_counters` changes, and the rows a health view reads.

use ar_shared::health_counters::{Count, HOUR_MS};
use serde::Deserialize;
use serde_json::{Value, json};
use worker::{D1Database, D1PreparedStatement, Result};

use super::codec::{all, num, statement, text};

/// Hours a view reads: the 7-day window.
pub(crate) const VIEW_HOURS: u64 = 7 * 24;

fn items(counts: &[(Option<&str>, &Count)]) -> String {
    let list: Vec<Value> = counts
        .iter()
        .map(|(id, c)| {
            json!({"id": id, "h": c.hour, "e": c.event, "p": c.platform, "m": c.metric, "n": c.n})
        })
        .collect();
    Value::from(list).to_string()
}

const UPSERT: &str = "INSERT INTO health_counters (hour, event, platform, metric, n) ";
const SUM: &str = "SELECT json_extract(c.value, '$.h'), json_extract(c.value, '$.e'), \
                   json_extract(c.value, '$.p'), json_extract(c.value, '$.m'), \
                   SUM(json_extract(c.value, '$.n')) FROM json_each(?1) c";
const GROUP: &str = " GROUP BY 1, 2, 3, 4 \
                     ON CONFLICT (hour, event, platform, metric) DO UPDATE SET n = n + excluded.n";

/// Adds `counts` (each for its event id) only for the events whose write in this batch applied
/// (they carry `write_id`): put it after the event writes of the same batch.
///
/// # Errors
/// When D1 rejects the bindings.
pub(crate) fn for_written(
    db: &D1Database,
    counts: &[(&str, Count)],
    write_id: &str,
) -> Result<Option<D1PreparedStatement>> {
    if counts.is_empty() {
        return Ok(None);
    }
    let list: Vec<(Option<&str>, &Count)> = counts.iter().map(|(id, c)| (Some(*id), c)).collect();
    let sql = format!(
        "{UPSERT}{SUM}, events e WHERE e.event_id = json_extract(c.value, '$.id') \
         AND e.write_id = ?2{GROUP}"
    );
    statement(db, &sql, &[text(Some(&items(&list))), text(Some(write_id))]).map(Some)
}

/// Adds `counts`.
///
/// # Errors
/// When D1 rejects the bindings.
pub(crate) fn add(db: &D1Database, counts: &[Count]) -> Result<Option<D1PreparedStatement>> {
    if counts.is_empty() {
        return Ok(None);
    }
    let list: Vec<(Option<&str>, &Count)> = counts.iter().map(|c| (None, c)).collect();
    let sql = format!("{UPSERT}{SUM} WHERE true{GROUP}");
    statement(db, &sql, &[text(Some(&items(&list)))]).map(Some)
}

#[derive(Deserialize)]
struct Row {
    hour: super::codec::Whole,
    event: String,
    platform: String,
    metric: String,
    n: f64,
}

/// The counter rows of the last [`VIEW_HOURS`] hours.
///
/// # Errors
/// D1 failures.
pub(crate) async fn recent(db: &D1Database, now_ms: u64) -> Result<Vec<Count>> {
    let from = (now_ms / HOUR_MS).saturating_sub(VIEW_HOURS);
    let rows: Vec<Row> = all(
        db,
        "SELECT hour, event, platform, metric, n FROM health_counters WHERE hour >= ?1",
        &[num(from)],
    )
    .await?;
    #[allow(clippy::cast_possible_truncation)]
    Ok(rows
        .into_iter()
        .map(|r| Count {
            hour: r.hour.0,
            event: r.event,
            platform: r.platform,
            metric: r.metric,
            n: r.n as i64,
        })
        .collect())
}
