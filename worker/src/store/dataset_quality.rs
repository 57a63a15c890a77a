//! The cache of Meta's Dataset Quality answers (D1 `dataset_quality`, migration 0014): per dataset
//! the last attempt, the last answer with grades (as Meta sent it) and why the last attempt failed.
//! Storage only: when to ask and what an answer means are `ar_shared::platform::dataset_quality`'s.

use ar_shared::platform::dataset_quality::{Cached, parse};
use serde::Deserialize;
use worker::{D1Database, Result};

use super::codec::{Whole, all, num, statement, text};

#[derive(Deserialize)]
struct Row {
    agent_name: Option<String>,
    attempted_at: Whole,
    fetched_at: Option<Whole>,
    answer: Option<String>,
    error: Option<String>,
    what_to_do: Option<String>,
}

/// What is kept for `dataset_id` (`None`: never asked), the stored answer read again.
///
/// # Errors
/// D1 failures.
pub(crate) async fn load(db: &D1Database, dataset_id: &str) -> Result<Option<Cached>> {
    let rows: Vec<Row> = all(
        db,
        "SELECT agent_name, attempted_at, fetched_at, answer, error, what_to_do \
         FROM dataset_quality WHERE dataset_id = ?1",
        &[text(Some(dataset_id))],
    )
    .await?;
    Ok(rows.into_iter().next().map(|r| Cached {
        agent_name: r.agent_name,
        attempted_at_ms: r.attempted_at.0,
        fetched_at_ms: r.fetched_at.map(|w| w.0),
        grades: r.answer.and_then(|a| parse(200, &a).ok()),
        error: r.error,
        what_to_do: r.what_to_do,
    }))
}

/// Records an answer with grades (`answer`, as Meta sent it): it replaces the previous one and the
/// error is cleared.
///
/// # Errors
/// D1 failures.
pub(crate) async fn answered(
    db: &D1Database,
    dataset_id: &str,
    agent_name: Option<&str>,
    now_ms: u64,
    answer: &str,
) -> Result<()> {
    statement(
        db,
        "INSERT INTO dataset_quality (dataset_id, agent_name, attempted_at, fetched_at, answer) \
         VALUES (?1, ?2, ?3, ?3, ?4) ON CONFLICT (dataset_id) DO UPDATE SET \
         agent_name = excluded.agent_name, attempted_at = excluded.attempted_at, \
         fetched_at = excluded.fetched_at, answer = excluded.answer, error = NULL, \
         what_to_do = NULL",
        &[
            text(Some(dataset_id)),
            text(agent_name),
            num(now_ms),
            text(Some(answer)),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Records a failed attempt: the previous answer stays, with why this one failed.
///
/// # Errors
/// D1 failures.
pub(crate) async fn failed(
    db: &D1Database,
    dataset_id: &str,
    agent_name: Option<&str>,
    now_ms: u64,
    error: &str,
    what_to_do: &str,
) -> Result<()> {
    statement(
        db,
        "INSERT INTO dataset_quality (dataset_id, agent_name, attempted_at, error, what_to_do) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (dataset_id) DO UPDATE SET \
         attempted_at = excluded.attempted_at, error = excluded.error, \
         what_to_do = excluded.what_to_do",
        &[
            text(Some(dataset_id)),
            text(agent_name),
            num(now_ms),
            text(Some(error)),
            text(Some(what_to_do)),
        ],
    )?
    .run()
    .await?;
    Ok(())
}
