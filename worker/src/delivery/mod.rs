//! Sending: real-time after the merge window, batched by the cron flush, retries and verdicts.

pub mod flush;
pub mod oauth;
pub mod realtime;
pub mod send;

use ar_shared::delivery_outcome::{RetryPolicy, wake_ups};
use worker::{Env, MessageBuilder, console_error};

use crate::store::outbox::Outcome;
use crate::{bindings, queue};

/// The retry backoff; `RETRY_BASE_SECS` (dev/test only) shortens the first wait.
pub fn retry_policy(env: &Env) -> RetryPolicy {
    let var = env.var("RETRY_BASE_SECS").ok().map(|v| v.to_string());
    RetryPolicy::from_var(var.as_deref())
}

/// Rows an answer sent back to `pending` (retry, throttled, `TOO_RECENT_EVENT`) are sent again
/// when their backoff ends by a delayed Queue wake-up (`ar_shared::delivery_outcome::wake_ups`:
/// one message per distinct wait), rather than at the next cron run; the cron flush stays the
/// backstop for a lost message or a wait beyond the Queue's delay limit. Failures are logged,
/// never raised: the rows are safe in D1.
pub async fn schedule_retries(env: &Env, outcomes: &[Outcome], now_ms: u64) {
    let wakes = wake_ups(
        outcomes.iter().map(|o| (o.event_id.as_str(), &o.update)),
        now_ms,
    );
    if wakes.is_empty() {
        return;
    }
    let events = match env.queue(bindings::EVENTS_QUEUE) {
        Ok(q) => q,
        Err(e) => {
            console_error!("ar: retry wake-ups not scheduled: {e}");
            return;
        }
    };
    for (secs, ids) in wakes {
        let message = MessageBuilder::new(queue::wake_message(&ids))
            .delay_seconds(secs)
            .build();
        if let Err(e) = events.send(message).await {
            console_error!("ar: retry wake-up in {secs} s not scheduled: {e}");
        }
    }
}
