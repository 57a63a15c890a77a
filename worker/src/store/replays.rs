//! Signed requests already taken (D1 `request_macs`, `migrations/0006_request_replays.sql`).
//!
//! A request is reserved before its events are stored and released if storing fails, so the
//! shop's retry of a request that could not be stored is not refused as a replay.

use worker::{D1Database, Result};

use super::codec::{EventIdRow, num, statement, text};

/// Reserves `mac` until `expires_at_ms`; `false` when it was already taken (a replay).
///
/// # Errors
/// D1 failures.
pub(crate) async fn reserve(db: &D1Database, mac: &str, expires_at_ms: u64) -> Result<bool> {
    let rows = statement(
        db,
        "INSERT INTO request_macs (mac, expires_at) VALUES (?1, ?2) \
         ON CONFLICT (mac) DO NOTHING RETURNING mac AS event_id",
        &[text(Some(mac)), num(expires_at_ms)],
    )?
    .all()
    .await?
    .results::<EventIdRow>()?;
    Ok(!rows.is_empty())
}

/// Releases `mac` after its request could not be stored.
///
/// # Errors
/// D1 failures.
pub(crate) async fn release(db: &D1Database, mac: &str) -> Result<()> {
    statement(
        db,
        "DELETE FROM request_macs WHERE mac = ?1",
        &[text(Some(mac))],
    )?
    .run()
    .await?;
    Ok(())
}
