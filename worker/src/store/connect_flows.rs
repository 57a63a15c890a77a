//! Sign-ins in progress (D1 `connect_flows`, `migrations/0013_connections.sql`): started, taken
//! for their one exchange, granted, deleted. Storage only: what a flow may do next is
//! `ar_shared::connect::flow`'s. The verifier or grant is stored sealed.

use ar_shared::connect::Provider;
use ar_shared::connect::flow::{FLOW_TTL_MS, Flow, Stage};
use serde::Deserialize;
use worker::{D1Database, Result};

use super::codec::{Whole, all, num, statement, text};

/// A stored flow and what it holds.
pub(crate) struct StoredFlow {
    /// Provider, session, stage, start.
    pub flow: Flow,
    /// The sealed verifier or grant.
    pub sealed: Option<String>,
    /// The choices (granted).
    pub choices: Option<String>,
}

#[derive(Deserialize)]
struct FlowRow {
    provider: String,
    session_tag: String,
    stage: String,
    started_at: Whole,
    sealed: Option<String>,
    choices: Option<String>,
}

/// Stores a started flow, dropping flows older than [`FLOW_TTL_MS`].
///
/// # Errors
/// D1 failures.
pub(crate) async fn start_flow(
    db: &D1Database,
    state_hash: &str,
    flow: &Flow,
    sealed_verifier: Option<&str>,
) -> Result<()> {
    db.batch(vec![
        statement(
            db,
            "DELETE FROM connect_flows WHERE started_at < ?1",
            &[num(flow.started_at_ms.saturating_sub(FLOW_TTL_MS))],
        )?,
        statement(
            db,
            "INSERT INTO connect_flows (state_hash, provider, session_tag, stage, started_at, sealed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                text(Some(state_hash)),
                text(Some(flow.provider.as_str())),
                text(Some(&flow.session_tag)),
                text(Some(Stage::Started.as_str())),
                num(flow.started_at_ms),
                text(sealed_verifier),
            ],
        )?,
    ])
    .await?;
    Ok(())
}

/// The flow stored under `state_hash`.
///
/// # Errors
/// D1 failures.
pub(crate) async fn flow(db: &D1Database, state_hash: &str) -> Result<Option<StoredFlow>> {
    let rows: Vec<FlowRow> = all(
        db,
        "SELECT provider, session_tag, stage, started_at, sealed, choices FROM connect_flows \
         WHERE state_hash = ?1",
        &[text(Some(state_hash))],
    )
    .await?;
    Ok(rows.into_iter().next().and_then(|r| {
        Some(StoredFlow {
            flow: Flow {
                provider: Provider::parse(&r.provider)?,
                session_tag: r.session_tag,
                stage: Stage::parse(&r.stage)?,
                started_at_ms: r.started_at.0,
            },
            sealed: r.sealed,
            choices: r.choices,
        })
    }))
}

/// Takes a started flow for its one exchange: `true` when this call moved it out of `started`
/// (so a replayed callback, racing or later, finds nothing to exchange).
///
/// # Errors
/// D1 failures.
pub(crate) async fn take_started(db: &D1Database, state_hash: &str) -> Result<bool> {
    let result = statement(
        db,
        "UPDATE connect_flows SET stage = 'exchanging', sealed = NULL \
         WHERE state_hash = ?1 AND stage = ?2",
        &[text(Some(state_hash)), text(Some(Stage::Started.as_str()))],
    )?
    .run()
    .await?;
    let changes = result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(changes == 1)
}

/// Records the grant (sealed) and the choices of an exchanged flow.
///
/// # Errors
/// D1 failures.
pub(crate) async fn grant(
    db: &D1Database,
    state_hash: &str,
    sealed: &str,
    choices: &str,
) -> Result<()> {
    statement(
        db,
        "UPDATE connect_flows SET stage = ?2, sealed = ?3, choices = ?4 WHERE state_hash = ?1",
        &[
            text(Some(state_hash)),
            text(Some(Stage::Granted.as_str())),
            text(Some(sealed)),
            text(Some(choices)),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Deletes a flow (picked, failed or cancelled).
///
/// # Errors
/// D1 failures.
pub(crate) async fn delete_flow(db: &D1Database, state_hash: &str) -> Result<()> {
    statement(
        db,
        "DELETE FROM connect_flows WHERE state_hash = ?1",
        &[text(Some(state_hash))],
    )?
    .run()
    .await?;
    Ok(())
}
