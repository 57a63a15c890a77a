//! Where every accepted copy of an event goes: into the D1 outbox (merged with other copies of the
//! same event) and on to delivery — real-time after the merge window, batched via the Queue.
//!
//! A request's copies are handled together, whatever their number (up to 1000 per
//! `/_ar/events` request): Cloudflare limits the D1 queries and subrequests of one invocation
//! (50 on the free plan), so the cost is one D1 read, one D1 batch write, one timer and one Queue
//! send per 100 batched copies, never a round trip per copy.

use std::time::Duration;

use ar_shared::delivery::message::QueueMessage;
use ar_shared::delivery::plan::CopyOutcome;
use ar_shared::mapping::DeliveryPath;
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{Context, Delay, Env};

use crate::delivery::realtime;
use crate::error::Error;
use crate::store::{adjustments, events};
use crate::{bindings, runtime};

/// Most messages in one `send_batch` (Cloudflare Queues: 100 messages per batch).
const QUEUE_BATCH_MESSAGES: usize = 100;
/// Most message bytes in one `send_batch` (Cloudflare Queues: 256 KB per batch), with headroom.
const QUEUE_BATCH_BYTES: usize = 200 * 1024;
/// Largest message sent through the Queue (Cloudflare Queues: 128 KB per message), with
/// headroom; a larger batched copy is written to D1 at once instead, for the cron flush.
const QUEUE_MESSAGE_BYTES: usize = 100 * 1024;

/// Stores `record` (merging with other copies) and schedules its delivery: [`accept_many`] with
/// one copy.
///
/// # Errors
/// [`Error::Store`] or [`Error::Contended`]: the copy should be sent again later.
pub(crate) async fn accept(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    record: EventRecord,
) -> Result<CopyOutcome, Error> {
    let accepted = accept_many(env, ctx, settings, vec![record]).await?;
    Ok(accepted.first().copied().unwrap_or(CopyOutcome::New))
}

/// Stores `records` (merging each with the stored copies of its event and with the earlier
/// copies in `records`) and schedules their delivery; the outcome of each copy, in input order.
///
/// Real-time events (DESIGN §5) are merged into D1 at once (one read, one batch write; again for
/// the copies another writer changed meanwhile) and one timer sends them all after the merge
/// window; batched events go to the Queue, whose consumer merges a whole batch into D1 for the
/// cron flush.
///
/// # Errors
/// [`Error::Store`] or [`Error::Contended`]: the copies should be sent again later (merging
/// makes that safe).
pub(crate) async fn accept_many(
    env: &Env,
    ctx: &Context,
    settings: &Settings,
    mut records: Vec<EventRecord>,
) -> Result<Vec<CopyOutcome>, Error> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let db = env.d1(bindings::DB).map_err(Error::Store)?;
    // Refunds and cancellations take their purchase's identifiers and restated total now.
    adjustments::link(&db, &mut records)
        .await
        .map_err(Error::Store)?;
    let now = runtime::now_ms();
    let path = |r: &EventRecord| r.delivery_path(&settings.mappings);
    // Batched copies go to the Queue as they came; their merge here only tells what each copy
    // did (the consumer writes them). One too large for a message is written here instead.
    let mut batched: Vec<String> = Vec::new();
    let mut direct: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for r in records.iter().filter(|r| path(r) == DeliveryPath::Batched) {
        let message = QueueMessage::Record(Box::new(r.clone())).to_text();
        if message.len() > QUEUE_MESSAGE_BYTES {
            direct.insert(r.event_id.to_string());
        } else {
            batched.push(message);
        }
    }
    let written = events::merge_and_write(&db, settings, records, now, |m| {
        path(&m.record) == DeliveryPath::RealTime || direct.contains(m.record.event_id.as_str())
    })
    .await?;
    let real_time: Vec<String> = written
        .merged
        .into_iter()
        .filter(|m| path(&m.record) == DeliveryPath::RealTime)
        .map(|m| m.record.event_id.to_string())
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
        let queue = env.queue(bindings::EVENTS_QUEUE).map_err(Error::Store)?;
        for chunk in queue_batches(batched) {
            queue.send_batch(chunk).await.map_err(Error::Store)?;
        }
    }
    Ok(written.outcomes)
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
