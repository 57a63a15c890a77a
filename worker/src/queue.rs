//! Queue consumer: batched events into D1 in one batch call; dead letters recorded with reason;
//! delayed wake-ups that resend rows whose retry backoff has ended.
//!
//! Event messages are `{"attempts": n, "record": EventRecord}`: `worker`'s `Message<T>` has no
//! attempts accessor (reference/google.md Addendum B), so the count travels in the body
//! (raised when the admin replays dead-lettered events). A batch whose D1 write fails is retried
//! as a whole with a delay; after `max_retries` (wrangler.toml) Cloudflare moves it to
//! `ar-events-dlq`, whose consumer records each event as failed with the reason.

use ar_shared::delivery_plan::RowStatus;
use ar_shared::record::EventRecord;
use serde_json::{Value, json};
use worker::{
    Context, Env, MessageBatch, QueueRetryOptionsBuilder, Result, console_error, console_log,
};

use crate::delivery::realtime;
use crate::store::outbox;
use crate::{bindings, runtime, settings};

/// Wait before a failed batch is redelivered.
const RETRY_DELAY_SECS: u32 = 30;

/// The message body for `record`: JSON text, because `serde_wasm_bindgen` would turn a JSON
/// object into a JS `Map`, which does not come back as the same value.
pub fn message(record: &EventRecord, attempts: u32) -> String {
    json!({ "attempts": attempts, "record": record }).to_string()
}

/// A wake-up message, `{"wake": [event ids]}`, sent with a delay: when it arrives, the due rows
/// of these events are claimed and sent (`delivery::schedule_retries`).
pub fn wake_message(event_ids: &[&str]) -> String {
    json!({ "wake": event_ids }).to_string()
}

/// What a message asks for.
enum Body {
    /// Store a copy of an event (with the replay count).
    Copy(Box<EventRecord>, u64),
    /// Send the due rows of these events.
    Wake(Vec<String>),
}

fn parse(body: &Value) -> Option<Body> {
    let parsed: Value = match body {
        Value::String(text) => serde_json::from_str(text).ok()?,
        other => other.clone(),
    };
    if let Some(ids) = parsed.get("wake") {
        return serde_json::from_value(ids.clone()).ok().map(Body::Wake);
    }
    let record = serde_json::from_value(parsed.get("record")?.clone()).ok()?;
    Some(Body::Copy(
        Box::new(record),
        parsed["attempts"].as_u64().unwrap_or(0),
    ))
}

/// Consumes one batch from the events queue or its dead-letter queue.
pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: &Env,
    ctx: &Context,
) -> Result<()> {
    let _ = ctx;
    let queue = batch.queue();
    let dead = queue == bindings::DEAD_LETTER_QUEUE_NAME;
    if !dead && queue != bindings::EVENTS_QUEUE_NAME {
        console_error!("ar: messages from an unknown queue {queue}; treated as events");
    }
    let mut copies = Vec::new();
    let mut wake: Vec<String> = Vec::new();
    let mut attempts = 0;
    for message in batch.messages()? {
        match parse(message.body()) {
            Some(Body::Copy(record, n)) => {
                attempts = attempts.max(n);
                copies.push(*record);
            }
            Some(Body::Wake(ids)) => wake.extend(ids),
            // Only we produce these messages; an unreadable one can never succeed.
            None => console_error!("ar: dropped an unreadable queue message"),
        }
    }
    let stored = if dead {
        store_dead(env, copies, attempts).await
    } else {
        store(env, copies).await
    };
    match stored {
        Ok(()) => {
            batch.ack_all();
            // A lost wake-up costs only time: the cron flush sends due rows too.
            if !dead && !wake.is_empty() {
                wake.sort_unstable();
                wake.dedup();
                match load_settings(env) {
                    Ok(settings) => realtime::deliver(env, &settings, &wake).await,
                    Err(e) => console_error!("ar: retry wake-up skipped: {e}"),
                }
            }
        }
        Err(e) => {
            console_error!("ar: queue batch not stored, retrying: {e}");
            batch.retry_all_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(RETRY_DELAY_SECS)
                    .build(),
            );
        }
    }
    Ok(())
}

fn load_settings(env: &Env) -> Result<ar_shared::settings::Settings> {
    settings::load(env).map_err(|problems| {
        let names: Vec<&str> = problems.iter().map(|p| p.name).collect();
        worker::Error::RustError(format!("settings have problems: {}", names.join(", ")))
    })
}

/// Merges the batch into D1: one read, one `batch` write. The cron flush sends the rows.
async fn store(env: &Env, copies: Vec<EventRecord>) -> Result<()> {
    if copies.is_empty() {
        return Ok(());
    }
    let settings = load_settings(env)?;
    let db = env.d1(bindings::DB)?;
    let n = copies.len();
    outbox::merge_and_write(&db, &settings, copies, runtime::now_ms(), |_| true).await?;
    console_log!("ar: queue stored {n} events");
    Ok(())
}

/// Records dead-lettered events as failed on every platform they were meant for, with the reason.
async fn store_dead(env: &Env, copies: Vec<EventRecord>, attempts: u64) -> Result<()> {
    if copies.is_empty() {
        return Ok(());
    }
    let settings = load_settings(env)?;
    let db = env.d1(bindings::DB)?;
    let now = runtime::now_ms();
    let reason = format!(
        "dead-lettered: the queue consumer could not store the event after its retries \
         (replays: {attempts})"
    );
    outbox::merge_and_write(&db, &settings, copies, now, |m| {
        for row in &mut m.rows {
            if row.status == RowStatus::Pending || row.status == RowStatus::Held {
                row.status = RowStatus::Failed;
                row.reason = Some(reason.clone());
            }
        }
        m.status = ar_shared::delivery_plan::EventStatus::Done;
        console_error!(
            "ar: dead-lettered event={} event_id={}",
            m.record.event,
            m.record.event_id
        );
        true
    })
    .await?;
    Ok(())
}
