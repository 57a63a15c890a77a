//! The conversion actions the console's "Set up Google" recorded (D1
//! `google_conversion_actions`, `migrations/0012_google_conversion_actions.sql`): one row per
//! event. Storage only: which action an event should feed is `ar_shared::platform::google_setup`'s.

use ar_shared::platform::google_setup::parse_kind;
use ar_shared::platform::request::{ActionKind, ConversionAction};
use serde::Deserialize;
use worker::{D1Database, Result, console_error};

use super::codec::{all, num, statement, text};

#[derive(Deserialize)]
struct Row {
    event: String,
    action_id: String,
    kind: String,
    send_to: Option<String>,
}

fn kind_text(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Webpage => "webpage",
        ActionKind::UploadClicks => "upload_clicks",
    }
}

/// Every recorded action. A row that no longer reads (a bad tag) is logged and left out.
///
/// # Errors
/// D1 failures.
pub(crate) async fn list(db: &D1Database) -> Result<Vec<ConversionAction>> {
    let rows: Vec<Row> = all(
        db,
        "SELECT event, action_id, kind, send_to FROM google_conversion_actions ORDER BY event",
        &[],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = parse_kind(&r.kind)?;
            let send_to = match r.send_to.as_deref().map(str::parse) {
                None => None,
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    console_error!("ar: recorded tag for {:?} unreadable: {e}", r.event);
                    return None;
                }
            };
            Some(ConversionAction {
                event: r.event,
                action_id: r.action_id,
                kind,
                send_to,
            })
        })
        .collect())
}

/// Records `actions` (event → action, name), replacing each event's previous row.
///
/// # Errors
/// D1 failures.
pub(crate) async fn save(
    db: &D1Database,
    actions: &[(ConversionAction, String)],
    now_ms: u64,
) -> Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    let mut statements = Vec::new();
    for (a, name) in actions {
        let send_to = a.send_to.as_ref().map(ToString::to_string);
        statements.push(statement(
            db,
            "INSERT INTO google_conversion_actions (event, action_id, kind, send_to, name, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event) DO UPDATE SET \
             action_id = excluded.action_id, kind = excluded.kind, send_to = excluded.send_to, \
             name = excluded.name, updated_at = excluded.updated_at",
            &[
                text(Some(&a.event)),
                text(Some(&a.action_id)),
                text(Some(kind_text(a.kind))),
                text(send_to.as_deref()),
                text(Some(name)),
                num(now_ms),
            ],
        )?);
    }
    db.batch(statements).await?;
    Ok(())
}
