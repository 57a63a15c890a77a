//! Sending: real-time after the merge window, batched by the cron flush, retries and verdicts.

pub(crate) mod dataset_quality;
pub(crate) mod flush;
pub(crate) mod oauth;
pub(crate) mod realtime;
pub(crate) mod request_status;
pub(crate) mod send;

use ar_shared::connect::status::Refusal;
use ar_shared::delivery::message::QueueMessage;
use ar_shared::delivery::outcome::{RetryPolicy, wake_ups};
use ar_shared::delivery::run::RowOutcome;
use ar_shared::platform::Platform;
use ar_shared::settings::Settings;
use ar_shared::settings::connect::provider_of;
use worker::{Env, MessageBuilder, console_error};

use crate::bindings;
use crate::store::connections;

/// The retry backoff; `RETRY_BASE_SECS` (dev/test only) shortens the first wait.
pub(crate) fn retry_policy(env: &Env) -> RetryPolicy {
    let var = env.var("RETRY_BASE_SECS").ok().map(|v| v.to_string());
    RetryPolicy::from_var(var.as_deref())
}

/// Rows an answer sent back to `pending` (retry, throttled, `TOO_RECENT_EVENT`) are sent again
/// when their backoff ends by a delayed Queue wake-up (`ar_shared::delivery::outcome::wake_ups`:
/// one message per distinct wait), rather than at the next cron run; the cron flush stays the
/// backstop for a lost message or a wait beyond the Queue's delay limit. Failures are logged,
/// never raised: the rows are safe in D1.
pub(crate) async fn schedule_retries(env: &Env, outcomes: &[RowOutcome], now_ms: u64) {
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
        let ids = ids.into_iter().map(str::to_owned).collect();
        let message = MessageBuilder::new(QueueMessage::Wake(ids).to_text())
            .delay_seconds(secs)
            .build();
        if let Err(e) = events.send(message).await {
            console_error!("ar: retry wake-up in {secs} s not scheduled: {e}");
        }
    }
}

/// Event ids per wake-up message.
const WAKE_CHUNK: usize = 100;

/// Sends `ids` now (no delay) through the queue's wake-up path: after a platform is reconnected,
/// the rows that waited for it go out at once instead of at the next cron flush.
pub(crate) async fn wake_now(env: &Env, ids: Vec<String>) {
    let Ok(events) = env.queue(bindings::EVENTS_QUEUE) else {
        return;
    };
    for chunk in ids.chunks(WAKE_CHUNK) {
        let message = MessageBuilder::new(QueueMessage::Wake(chunk.to_vec()).to_text()).build();
        if let Err(e) = events.send(message).await {
            console_error!("ar: wake-up after reconnection not sent: {e}");
        }
    }
}

/// Records that `platform` refused the credential in use (`Verdict::Reconnect`), so it pauses
/// (here at once, in other isolates within `settings::MAPPINGS_TTL_MS`) until the merchant
/// reconnects. Every use of the credential reports it: sending, and Google's request status.
pub(crate) async fn record_refusal(
    env: &Env,
    settings: &Settings,
    platform: Platform,
    reason: &str,
    now_ms: u64,
) {
    let Some(provider) = provider_of(platform) else {
        return;
    };
    let Some(fingerprint) = settings.credential_fingerprint(provider) else {
        return;
    };
    let refusal = Refusal {
        provider,
        fingerprint,
        reason: reason.chars().take(300).collect(),
        since_ms: now_ms,
    };
    let saved = match env.d1(bindings::DB) {
        Ok(db) => connections::refuse(&db, &refusal).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => {
            console_error!(
                "ar: {} refused the credential; delivery paused until it is reconnected",
                provider.label()
            );
            crate::settings::mappings_changed();
        }
        Err(e) => console_error!(
            "ar: recording the refused {} credential failed: {e}",
            provider.as_str()
        ),
    }
}
