//! Connected accounts and refused credentials (D1 `connections`, `credential_refusals`;
//! `migrations/0013_connections.sql`); sign-ins in progress are `connect_flows`. Storage only:
//! when a platform pauses is `ar_shared::connect`'s. Sealed values are stored as their text
//! form; nothing here sees a credential in clear.

use ar_shared::connect::Provider;
use ar_shared::connect::status::{Connection, Refusal};
use serde::Deserialize;
use worker::{D1Database, Result, console_error};

use super::codec::{Whole, all, num, statement, text};

/// A stored connection: its details and its sealed credential.
pub(crate) struct StoredConnection {
    /// Names, accounts, expiry.
    pub connection: Connection,
    /// `v1.<nonce>.<ciphertext>`.
    pub sealed: String,
}

#[derive(Deserialize)]
struct ConnectionRow {
    provider: String,
    account_id: String,
    details: String,
    sealed: String,
}

/// Every connection.
///
/// # Errors
/// D1 failures.
pub(crate) async fn list(db: &D1Database) -> Result<Vec<StoredConnection>> {
    let rows: Vec<ConnectionRow> = all(
        db,
        "SELECT provider, account_id, details, sealed FROM connections ORDER BY provider",
        &[],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let provider = Provider::parse(&r.provider)?;
            match serde_json::from_str::<Connection>(&r.details) {
                Ok(mut connection) => {
                    connection.provider = Some(provider);
                    // The column is what the credential's associated data names.
                    connection.account_id = r.account_id;
                    Some(StoredConnection {
                        connection,
                        sealed: r.sealed,
                    })
                }
                Err(e) => {
                    console_error!("ar: stored {} connection unreadable: {e}", r.provider);
                    None
                }
            }
        })
        .collect())
}

/// Saves `provider`'s connection (replacing any) and forgets its refusals, in one batch.
///
/// # Errors
/// D1 failures.
pub(crate) async fn save(db: &D1Database, connection: &Connection, sealed: &str) -> Result<()> {
    let provider = connection.provider.map_or("", Provider::as_str);
    let details =
        serde_json::to_string(connection).map_err(|e| worker::Error::RustError(e.to_string()))?;
    db.batch(vec![
        statement(
            db,
            "INSERT INTO connections (provider, account_id, details, sealed, connected_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(provider) DO UPDATE SET \
             account_id = excluded.account_id, details = excluded.details, \
             sealed = excluded.sealed, connected_at = excluded.connected_at",
            &[
                text(Some(provider)),
                text(Some(&connection.account_id)),
                text(Some(&details)),
                text(Some(sealed)),
                num(connection.connected_at_ms),
            ],
        )?,
        statement(
            db,
            "DELETE FROM credential_refusals WHERE provider = ?1",
            &[text(Some(provider))],
        )?,
    ])
    .await?;
    Ok(())
}

/// Deletes `provider`'s connection and refusals.
///
/// # Errors
/// D1 failures.
pub(crate) async fn delete(db: &D1Database, provider: Provider) -> Result<()> {
    let p = text(Some(provider.as_str()));
    db.batch(vec![
        statement(
            db,
            "DELETE FROM connections WHERE provider = ?1",
            std::slice::from_ref(&p),
        )?,
        statement(
            db,
            "DELETE FROM credential_refusals WHERE provider = ?1",
            &[p],
        )?,
    ])
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct RefusalRow {
    provider: String,
    fingerprint: String,
    reason: String,
    since: Whole,
}

/// Every refused credential.
///
/// # Errors
/// D1 failures.
pub(crate) async fn refusals(db: &D1Database) -> Result<Vec<Refusal>> {
    let rows: Vec<RefusalRow> = all(
        db,
        "SELECT provider, fingerprint, reason, since FROM credential_refusals",
        &[],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Refusal {
                provider: Provider::parse(&r.provider)?,
                fingerprint: r.fingerprint,
                reason: r.reason,
                since_ms: r.since.0,
            })
        })
        .collect())
}

/// Records that `provider` refused the credential with `fingerprint` (the first time is kept).
///
/// # Errors
/// D1 failures.
pub(crate) async fn refuse(db: &D1Database, refusal: &Refusal) -> Result<()> {
    statement(
        db,
        "INSERT INTO credential_refusals (provider, fingerprint, reason, since) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT(provider) DO UPDATE SET \
         fingerprint = excluded.fingerprint, reason = excluded.reason, since = excluded.since \
         WHERE credential_refusals.fingerprint <> excluded.fingerprint",
        &[
            text(Some(refusal.provider.as_str())),
            text(Some(&refusal.fingerprint)),
            text(Some(&refusal.reason)),
            num(refusal.since_ms),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Forgets `provider`'s refusal ("Try again").
///
/// # Errors
/// D1 failures.
pub(crate) async fn clear_refusal(db: &D1Database, provider: Provider) -> Result<()> {
    statement(
        db,
        "DELETE FROM credential_refusals WHERE provider = ?1",
        &[text(Some(provider.as_str()))],
    )?
    .run()
    .await?;
    Ok(())
}

/// Makes the waiting rows of `platforms` due now (after reconnecting) and returns their event
/// ids (at most `limit`; the cron flush sends the rest).
///
/// # Errors
/// D1 failures.
pub(crate) async fn wake_waiting(
    db: &D1Database,
    platforms: &[&str],
    now_ms: u64,
    limit: u64,
) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        event_id: String,
    }
    let mut ids = Vec::new();
    for p in platforms {
        statement(
            db,
            "UPDATE outbox SET next_attempt_at = ?2 WHERE platform = ?1 AND status = 'pending' \
             AND next_attempt_at > ?2",
            &[text(Some(p)), num(now_ms)],
        )?
        .run()
        .await?;
        let rows: Vec<Id> = all(
            db,
            "SELECT event_id FROM outbox WHERE platform = ?1 AND status = 'pending' LIMIT ?2",
            &[text(Some(p)), num(limit)],
        )
        .await?;
        ids.extend(rows.into_iter().map(|r| r.event_id));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
