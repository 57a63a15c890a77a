//! Where every accepted copy of an event goes: into the D1 outbox (merged with other copies of the
//! same event) and on to delivery — real-time after the merge window, batched via the Queue.
//!
//! A request's copies are handled together, whatever their number (up to 1000 per
//! `/_ar/events` request): Cloudflare limits the D1 queries and subrequests of one invocation
//! (50 on the free plan), so the cost is one D1 read, one D1 batch write, one timer and one Queue
//! send per 100 batched copies, never a round trip per copy.

use std::time::Duration;

use ar_shared::delivery_plan::CopyOutcome;
use ar_shared::mapping::DeliveryPath;
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{Context, Delay, Env, Result};

use crate::delivery::realtime;
use crate::store::outbox;
use crate::{bindings, queue, runtime};

/// Most messages in one `send_batch` (Cloudflare Queues: 100 messages per batch).
const QUEUE_BATCH_MESSAGES: usize = 100;
/// Most message bytes in one `send_batch` (Cloudflare Queues: 256 KB per batch), with headroom.
const QUEUE_BATCH_BYTES: usize = 200 * 1024;

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

/// Stores `record` (merging with other copies) and schedules its delivery: [`accept_many`] with
/// one copy.
///
/// # Errors
/// D1 or Queue failures.
pub async fn accept(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    record: EventRecord,
) -> Result<Accepted> {
    let accepted = accept_many(env, ctx, settings, vec![record]).await?;
    Ok(accepted.first().copied().unwrap_or(Accepted::New))
}

/// Stores `records` (merging each with the stored copies of its event and with the earlier
/// copies in `records`) and schedules their delivery; the result of each copy, in input order.
///
/// Real-time events (DESIGN §5) are merged into D1 at once (one read, one batch write; again for
/// the copies another writer changed meanwhile) and one timer sends them all after the merge
/// window; batched events go to the Queue, whose consumer
/// merges a whole batch into D1 for the cron flush.
///
/// # Errors
/// D1 or Queue failures; the copies should then be sent again (merging makes that safe).
pub async fn accept_many(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    records: Vec<EventRecord>,
) -> Result<Vec<Accepted>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let db = env.d1(bindings::DB)?;
    let now = runtime::now_ms();
    // Batched copies go to the Queue as they came; their merge here only tells what each copy
    // did (the consumer writes them).
    let batched: Vec<String> = records
        .iter()
        .filter(|r| path(settings, r) == DeliveryPath::Batched)
        .map(queue::message)
        .collect();
    let written = outbox::merge_and_write(&db, settings, records, now, |m| {
        path(settings, &m.record) == DeliveryPath::RealTime
    })
    .await?;
    let real_time: Vec<String> = written
        .merged
        .into_iter()
        .filter(|m| path(settings, &m.record) == DeliveryPath::RealTime)
        .map(|m| m.record.event_id)
        .collect();
    if !real_time.is_empty() {
        let (env, settings) = (env.clone(), settings.clone());
        let window = Duration::from_millis(settings.merge_window_ms);
        // Every request starts a timer; the atomic claim lets only one send each row (DESIGN §5).
        ctx.wait_until(async move {
            Delay::from(window).await;
            realtime::deliver(&env, &settings, &real_time).await;
        });
    }
    if !batched.is_empty() {
        let queue = env.queue(bindings::EVENTS_QUEUE)?;
        for chunk in queue_batches(batched) {
            queue.send_batch(chunk).await?;
        }
    }
    Ok(written.outcomes.into_iter().map(accepted).collect())
}

fn path(settings: &Settings, record: &EventRecord) -> DeliveryPath {
    record
        .event
        .parse()
        .ok()
        .and_then(|name| settings.mappings.lookup(&name))
        .map_or(DeliveryPath::Batched, |m| m.path)
}

/// Splits messages into Queue batches within Cloudflare's count and size limits.
fn queue_batches(messages: Vec<String>) -> Vec<Vec<String>> {
    let mut batches: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        if !current.is_empty()
            && (current.len() >= QUEUE_BATCH_MESSAGES || bytes + m.len() > QUEUE_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += m.len();
        current.push(m);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

fn accepted(outcome: CopyOutcome) -> Accepted {
    match outcome {
        CopyOutcome::New => Accepted::New,
        CopyOutcome::Merged => Accepted::Merged,
        CopyOutcome::AlreadySent => Accepted::AlreadySent,
    }
}
