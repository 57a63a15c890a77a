//! Queue consumer: batched events into D1 in one batch call; delayed wake-ups that resend rows
//! whose retry backoff has ended; the dead-letter queue.
//!
//! Messages are `ar_shared::delivery::message::QueueMessage`s as JSON text. A batch whose D1 write fails is
//! retried as a whole after [`RETRY_DELAY_SECS`]; after `max_retries` (wrangler.toml) Cloudflare
//! moves it to `ar-events-dlq`. By the time a batch is dead-lettered D1 is usually back, so the
//! dead-letter consumer stores it the same way (marking its rows failed would also fail rows that
//! other, healthy copies of the same events had planned), only more patiently; each event it still
//! cannot store is logged by event id before Cloudflare drops it.

use ar_shared::delivery::message::QueueMessage;
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{Env, MessageBatch, QueueRetryOptionsBuilder, console_error, console_log};

use crate::delivery::realtime;
use crate::error::Error;
use crate::store::events;
use crate::{bindings, runtime};

/// Wait before a failed batch is redelivered.
const RETRY_DELAY_SECS: u32 = 30;
/// Wait before a failed dead-letter batch is redelivered.
const DEAD_RETRY_DELAY_SECS: u32 = 300;

/// Consumes one batch from the events queue or its dead-letter queue.
pub(crate) async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: &Env,
) -> worker::Result<()> {
    let queue = batch.queue();
    let dead = queue == bindings::DEAD_LETTER_QUEUE_NAME;
    if !dead && queue != bindings::EVENTS_QUEUE_NAME {
        console_error!("ar: messages from an unknown queue {queue}; treated as events");
    }
    let mut copies = Vec::new();
    let mut wake: Vec<String> = Vec::new();
    for message in batch.messages()? {
        match QueueMessage::parse(message.body()) {
            Some(QueueMessage::Record(record)) => copies.push(*record),
            Some(QueueMessage::Wake(ids)) => wake.extend(ids),
            // Only we produce these messages; an unreadable one can never succeed.
            None => console_error!("ar: dropped an unreadable queue message"),
        }
    }
    let ids: Vec<String> = copies.iter().map(|c| c.event_id.to_string()).collect();
    // Read once per batch: storing the copies and answering the wake-ups both need them.
    let settings = crate::routes::settings(env).await;
    let stored = match &settings {
        Ok(settings) => store(env, settings, copies).await,
        Err(e) if !copies.is_empty() => Err(Error::Internal(e.to_string())),
        Err(_) => Ok(()),
    };
    match stored {
        Ok(()) => {
            batch.ack_all();
            if dead && !ids.is_empty() {
                console_log!("ar: stored {} dead-lettered events", ids.len());
            }
            // A lost wake-up costs only time: the cron flush sends due rows too.
            if !wake.is_empty() {
                wake.sort_unstable();
                wake.dedup();
                match &settings {
                    Ok(settings) => realtime::deliver(env, settings, &wake).await,
                    Err(e) => console_error!("ar: retry wake-up skipped: {e}"),
                }
            }
        }
        Err(e) => {
            console_error!("ar: queue batch not stored, retrying: {e}");
            if dead {
                // The last chance: Cloudflare drops the batch after the dead-letter queue's own
                // retries, so name what would be lost (event ids only, never PII).
                console_error!("ar: dead-lettered events not stored yet: {}", ids.join(","));
            }
            let delay = if dead {
                DEAD_RETRY_DELAY_SECS
            } else {
                RETRY_DELAY_SECS
            };
            batch.retry_all_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay)
                    .build(),
            );
        }
    }
    Ok(())
}

/// Merges the batch into D1: one read, one `batch` write. The cron flush sends the rows.
async fn store(env: &Env, settings: &Settings, copies: Vec<EventRecord>) -> Result<(), Error> {
    if copies.is_empty() {
        return Ok(());
    }
    let db = env.d1(bindings::DB).map_err(Error::Store)?;
    let n = copies.len();
    events::merge_and_write(&db, settings, copies, runtime::now_ms(), |_| true).await?;
    console_log!("ar: queue stored {n} events");
    Ok(())
}
