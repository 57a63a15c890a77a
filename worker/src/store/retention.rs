//! Retention (DESIGN §4, §5): events, their outbox rows and session context — the only places
//! IP addresses and user agents are kept — are deleted `RETENTION_DAYS` after they were created;
//! daily health counters are kept [`COUNTER_RETENTION_DAYS`].

use ar_shared::delivery::plan::RowStatus;
use worker::{D1Database, Result};

use super::claims::DAY_MS;
use super::codec::{num, statement, status};

/// Days of daily counters kept for health history, longer than per-event rows (DESIGN §5).
pub(crate) const COUNTER_RETENTION_DAYS: u64 = 90;

/// Deletes events and rows older than the retention period, except rows a sender holds right
/// now, and counters older than [`COUNTER_RETENTION_DAYS`].
///
/// # Errors
/// D1 failures.
pub(crate) async fn prune(db: &D1Database, retention_days: u32, now_ms: u64) -> Result<()> {
    let cutoff = now_ms.saturating_sub(u64::from(retention_days) * DAY_MS);
    db.batch(vec![
        statement(
            db,
            "DELETE FROM outbox WHERE status != ?2 AND event_id IN \
             (SELECT event_id FROM events WHERE created_at < ?1)",
            &[num(cutoff), status(RowStatus::Sending)],
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
        // Totals whose rows are all gone (migrations/0015_health_totals.sql).
        statement(db, "DELETE FROM outbox_totals WHERE n <= 0", &[])?,
        statement(
            db,
            "DELETE FROM request_macs WHERE expires_at < ?1",
            &[num(now_ms)],
        )?,
        statement(
            db,
            "DELETE FROM counters WHERE day < ?1",
            &[num((now_ms / DAY_MS).saturating_sub(COUNTER_RETENTION_DAYS))],
        )?,
        // Sign-ins never finished (a sealed grant waiting for its pick included): ten minutes.
        statement(
            db,
            "DELETE FROM connect_flows WHERE started_at < ?1",
            &[num(
                now_ms.saturating_sub(ar_shared::connect::flow::FLOW_TTL_MS)
            )],
        )?,
        statement(
            db,
            "DELETE FROM health_counters WHERE hour < ?1",
            &[num((now_ms / DAY_MS)
                .saturating_sub(COUNTER_RETENTION_DAYS)
                * 24)],
        )?,
    ])
    .await?;
    Ok(())
}
