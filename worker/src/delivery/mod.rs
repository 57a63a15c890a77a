//! Sending: real-time after the merge window, batched by the cron flush, retries and verdicts.

pub mod flush;
pub mod oauth;
pub mod realtime;
pub mod send;

use std::collections::BTreeMap;

use ar_shared::delivery_outcome::RetryPolicy;
use ar_shared::delivery_plan::RowStatus;
use worker::{Env, MessageBuilder, console_error};

use crate::store::outbox::Outcome;
use crate::{bindings, queue};

/// The longest delay a Queue message can have (Cloudflare Queues: 12 hours).
const MAX_QUEUE_DELAY_SECS: u64 = 12 * 60 * 60;

/// The retry backoff; `RETRY_BASE_SECS` (dev/test only) shortens the first wait.
pub fn retry_policy(env: &Env) -> RetryPolicy {
    let var = env.var("RETRY_BASE_SECS").ok().map(|v| v.to_string());
    RetryPolicy::from_var(var.as_deref())
}

/// Rows an answer sent back to `pending` (retry, throttled, `TOO_RECENT_EVENT`) are sent again
/// when their backoff ends by a delayed Queue wake-up (one message per distinct wait), rather than
/// at the next cron run; the cron flush stays the backstop for a lost message or a wait beyond the
/// Queue's 12-hour delay limit. Failures are logged, never raised: the rows are safe in D1.
pub async fn schedule_retries(env: &Env, outcomes: &[Outcome], now_ms: u64) {
    let mut by_delay: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for o in outcomes {
        let u = &o.update;
        if u.status != RowStatus::Pending || u.next_attempt_at_ms <= now_ms {
            continue;
        }
        let secs = (u.next_attempt_at_ms - now_ms).div_ceil(1000);
        if let Ok(secs) = u32::try_from(secs)
            && u64::from(secs) <= MAX_QUEUE_DELAY_SECS
        {
            by_delay.entry(secs).or_default().push(o.event_id.as_str());
        }
    }
    if by_delay.is_empty() {
        return;
    }
    let events = match env.queue(bindings::EVENTS_QUEUE) {
        Ok(q) => q,
        Err(e) => {
            console_error!("ar: retry wake-ups not scheduled: {e}");
            return;
        }
    };
    for (secs, mut ids) in by_delay {
        ids.sort_unstable();
        ids.dedup();
        let message = MessageBuilder::new(queue::wake_message(&ids))
            .delay_seconds(secs)
            .build();
        if let Err(e) = events.send(message).await {
            console_error!("ar: retry wake-up in {secs} s not scheduled: {e}");
        }
    }
}
