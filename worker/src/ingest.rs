//! Where every accepted copy of an event goes: into the D1 outbox (merged with other copies of the
//! same event) and on to delivery — real-time after the merge window, batched via the Queue.

use std::time::Duration;

use ar_shared::delivery_plan::{CopyOutcome, merge_rows};
use ar_shared::mapping::DeliveryPath;
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{Context, Delay, Env, Result};

use crate::delivery::realtime;
use crate::store::outbox;
use crate::{bindings, queue, runtime};

/// What happened to an accepted copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The first copy of this event.
    New,
    /// Merged into an earlier copy that has not been sent yet.
    Merged,
    /// The event was already sent; this copy only recorded its source.
    AlreadySent,
}

impl Accepted {
    /// The per-event result word the APIs report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "accepted",
            Self::Merged => "merged",
            Self::AlreadySent => "duplicate",
        }
    }
}

/// Stores `record` (merging with other copies) and schedules its delivery.
///
/// Real-time events (DESIGN §5) are merged into D1 at once (one read, one batch write) and a
/// timer sends them after the merge window; batched events go to the Queue, whose consumer
/// merges a whole batch into D1 for the cron flush.
///
/// # Errors
/// D1 or Queue failures.
pub async fn accept(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    record: EventRecord,
) -> Result<Accepted> {
    let db = env.d1(bindings::DB)?;
    let now = runtime::now_ms();
    let path = record
        .event
        .parse()
        .ok()
        .and_then(|name| settings.mappings.lookup(&name))
        .map_or(DeliveryPath::Batched, |m| m.path);
    let event_id = record.event_id.clone();
    match path {
        DeliveryPath::RealTime => {
            let merged = outbox::merge_and_write(&db, settings, vec![record], now).await?;
            let outcome = merged.first().map_or(CopyOutcome::New, |m| m.outcome);
            let (env, settings) = (env.clone(), settings.clone());
            let window = Duration::from_millis(settings.merge_window_ms);
            // Every copy starts a timer; the atomic claim lets only one send (DESIGN §5).
            ctx.wait_until(async move {
                Delay::from(window).await;
                realtime::deliver(&env, &settings, &event_id).await;
            });
            Ok(accepted(outcome))
        }
        DeliveryPath::Batched => {
            let (records, rows) = outbox::read_existing(&db, &[event_id.as_str()]).await?;
            let existing = rows.get(&event_id).map_or(&[][..], Vec::as_slice);
            let outcome = merge_rows(records.contains_key(&event_id), existing, Vec::new()).outcome;
            env.queue(bindings::EVENTS_QUEUE)?
                .send(queue::message(&record, 0))
                .await?;
            Ok(accepted(outcome))
        }
    }
}

fn accepted(outcome: CopyOutcome) -> Accepted {
    match outcome {
        CopyOutcome::New => Accepted::New,
        CopyOutcome::Merged => Accepted::Merged,
        CopyOutcome::AlreadySent => Accepted::AlreadySent,
    }
}
