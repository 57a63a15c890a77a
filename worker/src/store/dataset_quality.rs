//! The cache of Meta's Dataset Quality answers (D1 `dataset_quality`, migration 0014): per dataset
//! the last attempt, the last grades and why the last attempt failed. Storage only: when to ask
//! and what an answer means are `ar_shared::platform::dataset_quality`'s.

use ar_shared::platform::dataset_quality::{Cached, MetaGrades};
use serde::Deserialize;
use worker::{D1Database, Result};

use super::codec::{Whole, all, num, statement, text};

#[derive(Deserialize)]
struct Row {
    agent_name: Option<String>,
    attempted_at: Whole,
    fetched_at: Option<Whole>,
    grades: Option<String>,
    error: Option<String>,
    what_to_do: Option<String>,
}

/// What is kept for `dataset_id` (`None`: never asked). Grades that no longer parse are dropped.
///
/// # Errors
/// D1 failures.
pub(crate) async fn load(db: &D1Database, dataset_id: &str) -> Result<Option<Cached>> {
    let rows: Vec<Row> = all(
        db,
        "SELECT agent_name, attempted_at, fetched_at, grades, error, what_to_do \
         FROM dataset_quality WHERE dataset_id = ?1",
        &[text(Some(dataset_id))],
    )
    .await?;
    Ok(rows.into_iter().next().map(|r| Cached {
        agent_name: r.agent_name,
        attempted_at_ms: r.attempted_at.0,
        fetched_at_ms: r.fetched_at.map(|w| w.0),
        grades: r
            .grades
            .and_then(|g| serde_json::from_str::<MetaGrades>(&g).ok()),
        error: r.error,
        what_to_do: r.what_to_do,
    }))
}

/// Records an answer: its grades replace the previous ones and the error is cleared.
///
/// # Errors
/// D1 failures.
pub(crate) async fn answered(
    db: &D1Database,
    dataset_id: &str,
    agent_name: Option<&str>,
    now_ms: u64,
    grades: &MetaGrades,
) -> Result<()> {
    let json =
        serde_json::to_string(grades).map_err(|e| worker::Error::RustError(e.to_string()))?;
    statement(
        db,
        "INSERT INTO dataset_quality (dataset_id, agent_name, attempted_at, fetched_at, grades) \
         VALUES (?1, ?2, ?3, ?3, ?4) ON CONFLICT (dataset_id) DO UPDATE SET \
         agent_name = excluded.agent_name, attempted_at = excluded.attempted_at, \
         fetched_at = excluded.fetched_at, grades = excluded.grades, error = NULL, what_to_do = NULL",
        &[text(Some(dataset_id)), text(agent_name), num(now_ms), text(Some(&json))],
    )?
    .run()
    .await?;
    Ok(())
}

/// Records a failed attempt: the previous grades stay, with why this one failed.
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
