//! Session context per first-party session cookie (D1 `sessions`, `migrations/0002_sessions.sql`).
//!
//! Storage only: how a stored context changes is `ar_shared::session_update`. The row holds the
//! JSON of `ar_shared::record::SessionContext` (click IDs, consent, GA4 ids, IP, user agent,
//! location: never raw PII) and the time of its last change, which the retention job prunes by.

use ar_shared::record::SessionContext;
use ar_shared::session_update::update_session;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result, console_warn};

/// A Unix-ms time as a JS number (exact below 2^53).
#[allow(clippy::cast_precision_loss)]
fn ms(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}

/// The stored context of `session_id`, if any. A row that no longer parses (written by an older
/// build) counts as absent: it is rewritten on the next page view.
///
/// # Errors
/// D1 failures.
pub async fn get(db: &D1Database, session_id: &str) -> Result<Option<SessionContext>> {
    let json: Option<String> = db
        .prepare("SELECT context FROM sessions WHERE session_id = ?1")
        .bind(&[JsValue::from_str(session_id)])?
        .first(Some("context"))
        .await?;
    Ok(json.and_then(|j| match serde_json::from_str(&j) {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            console_warn!("ar: stored session context unreadable ({e}); ignoring it");
            None
        }
    }))
}

/// The stored contexts of `session_ids`, read with one query (a `/_ar/events` request may name a
/// thousand sessions; one query each would exceed the per-request D1 query limit). Absent or
/// unreadable rows are missing from the map.
///
/// # Errors
/// D1 failures.
pub async fn get_many(
    db: &D1Database,
    session_ids: &[&str],
) -> Result<std::collections::BTreeMap<String, SessionContext>> {
    let ids = serde_json::Value::from(session_ids).to_string();
    let rows = db
        .prepare(
            "SELECT session_id, context FROM sessions \
             WHERE session_id IN (SELECT value FROM json_each(?1))",
        )
        .bind(&[JsValue::from_str(&ids)])?
        .all()
        .await?
        .results::<serde_json::Value>()?;
    let mut out = std::collections::BTreeMap::new();
    for row in rows {
        let (Some(id), Some(json)) = (row["session_id"].as_str(), row["context"].as_str()) else {
            continue;
        };
        match serde_json::from_str(json) {
            Ok(ctx) => {
                out.insert(id.to_owned(), ctx);
            }
            Err(e) => console_warn!("ar: stored session context unreadable ({e}); ignoring it"),
        }
    }
    Ok(out)
}

/// Writes `context` as the stored context of `session_id`.
///
/// # Errors
/// D1 failures.
pub async fn put(
    db: &D1Database,
    session_id: &str,
    context: &SessionContext,
    now_ms: u64,
) -> Result<()> {
    let json = serde_json::to_string(context)?;
    db.prepare(
        "INSERT INTO sessions (session_id, context, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (session_id) DO UPDATE SET context = excluded.context, \
         updated_at = excluded.updated_at",
    )
    .bind(&[
        JsValue::from_str(session_id),
        JsValue::from_str(&json),
        ms(now_ms),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Merges what a request saw into the stored context (`stored`, as read before) and writes it
/// only when something changed. Returns the context now stored.
///
/// # Errors
/// D1 failures.
pub async fn upsert(
    db: &D1Database,
    session_id: &str,
    stored: Option<SessionContext>,
    seen: &SessionContext,
    now_ms: u64,
) -> Result<Option<SessionContext>> {
    match update_session(stored.as_ref(), seen) {
        Some(next) => {
            put(db, session_id, &next, now_ms).await?;
            Ok(Some(next))
        }
        None => Ok(stored),
    }
}
