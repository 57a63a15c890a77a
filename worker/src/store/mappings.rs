//! The console's event mappings (D1 `event_mappings` and `event_mapping_history`,
//! `migrations/0010_event_mappings.sql`): read, saved and removed, each change recorded with its
//! time and the value before it. Storage only: what a valid mapping is, is
//! `ar_shared::mapping_config`'s.

use ar_shared::mapping::EventMapping;
use serde::{Deserialize, Serialize};
use worker::{D1Database, Result, console_error};

use super::codec::{Whole, all, num, statement, text};

/// One stored console mapping.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StoredMapping {
    /// The event name.
    pub event: String,
    /// Its mapping.
    pub mapping: EventMapping,
    /// 1 for the first save, +1 per change.
    pub version: u64,
    /// When it was last changed, Unix ms.
    pub updated_at: u64,
}

#[derive(Deserialize)]
struct MappingRow {
    event: String,
    mapping: String,
    version: Whole,
    updated_at: Whole,
}

/// One change, as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Change {
    /// The event name.
    pub event: String,
    /// The version this change made.
    pub version: u64,
    /// When, Unix ms.
    pub changed_at: u64,
    /// The mapping before, `None` when there was none.
    pub previous: Option<EventMapping>,
    /// The mapping after, `None` for a removal.
    pub value: Option<EventMapping>,
}

#[derive(Deserialize)]
struct ChangeRow {
    event: String,
    version: Whole,
    changed_at: Whole,
    previous: Option<String>,
    value: Option<String>,
}

/// Every console mapping, by event name. A row that no longer reads as a mapping (written by a
/// newer version) is logged and left out, never a failure of the events that use another.
///
/// # Errors
/// D1 failures.
pub(crate) async fn list(db: &D1Database) -> Result<Vec<StoredMapping>> {
    let rows: Vec<MappingRow> = all(
        db,
        "SELECT event, mapping, version, updated_at FROM event_mappings ORDER BY event",
        &[],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match serde_json::from_str(&r.mapping) {
            Ok(mapping) => Some(StoredMapping {
                event: r.event,
                mapping,
                version: r.version.0,
                updated_at: r.updated_at.0,
            }),
            Err(e) => {
                console_error!("ar: stored mapping for {:?} unreadable: {e}", r.event);
                None
            }
        })
        .collect())
}

/// The latest changes, newest first.
///
/// # Errors
/// D1 failures.
pub(crate) async fn history(db: &D1Database, limit: u64) -> Result<Vec<Change>> {
    let rows: Vec<ChangeRow> = all(
        db,
        "SELECT event, version, changed_at, previous, value FROM event_mapping_history \
         ORDER BY id DESC LIMIT ?1",
        &[num(limit)],
    )
    .await?;
    let read = |v: Option<String>| v.and_then(|v| serde_json::from_str(&v).ok());
    Ok(rows
        .into_iter()
        .map(|r| Change {
            event: r.event,
            version: r.version.0,
            changed_at: r.changed_at.0,
            previous: read(r.previous),
            value: read(r.value),
        })
        .collect())
}

/// The version the next change of `event` gets.
async fn next_version(db: &D1Database, event: &str) -> Result<u64> {
    #[derive(Deserialize)]
    struct V {
        v: Whole,
    }
    let rows: Vec<V> = all(
        db,
        "SELECT COALESCE(MAX(version), 0) AS v FROM event_mapping_history WHERE event = ?1",
        &[text(Some(event))],
    )
    .await?;
    Ok(rows.first().map_or(0, |r| r.v.0) + 1)
}

/// Saves `mapping` for `event` and records the change; returns the new version and the previous
/// mapping (JSON). Both writes are one D1 batch (a transaction).
///
/// # Errors
/// D1 failures.
pub(crate) async fn save(
    db: &D1Database,
    event: &str,
    mapping: &EventMapping,
    now_ms: u64,
) -> Result<(u64, Option<String>)> {
    let value =
        serde_json::to_string(mapping).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let previous = current(db, event).await?;
    let version = next_version(db, event).await?;
    db.batch(vec![
        statement(
            db,
            "INSERT INTO event_mapping_history (event, version, changed_at, previous, value) \
             VALUES (?1, ?2, ?3, (SELECT mapping FROM event_mappings WHERE event = ?1), ?4)",
            &[text(Some(event)), num(version), num(now_ms), text(Some(&value))],
        )?,
        statement(
            db,
            "INSERT INTO event_mappings (event, mapping, version, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (event) DO UPDATE SET mapping = excluded.mapping, \
             version = excluded.version, updated_at = excluded.updated_at",
            &[text(Some(event)), text(Some(&value)), num(version), num(now_ms)],
        )?,
    ])
    .await?;
    Ok((version, previous))
}

/// Removes `event`'s console mapping and records the change; `None` when it had none.
///
/// # Errors
/// D1 failures.
pub(crate) async fn remove(db: &D1Database, event: &str, now_ms: u64) -> Result<Option<String>> {
    let Some(previous) = current(db, event).await? else {
        return Ok(None);
    };
    let version = next_version(db, event).await?;
    db.batch(vec![
        statement(
            db,
            "INSERT INTO event_mapping_history (event, version, changed_at, previous, value) \
             VALUES (?1, ?2, ?3, ?4, NULL)",
            &[
                text(Some(event)),
                num(version),
                num(now_ms),
                text(Some(&previous)),
            ],
        )?,
        statement(
            db,
            "DELETE FROM event_mappings WHERE event = ?1",
            &[text(Some(event))],
        )?,
    ])
    .await?;
    Ok(Some(previous))
}

async fn current(db: &D1Database, event: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct M {
        mapping: String,
    }
    let rows: Vec<M> = all(
        db,
        "SELECT mapping FROM event_mappings WHERE event = ?1",
        &[text(Some(event))],
    )
    .await?;
    Ok(rows.into_iter().next().map(|r| r.mapping))
}
