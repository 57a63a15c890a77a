//! Real-time delivery (DESIGN §5): a purchase, payment, sign-up or lead is sent by the timer that
//! its arrival started, once the merge window has passed, so the pixel's and the backend's copies
//! meet first. Every copy starts a timer; the atomic claim (`outbox::claim_event`) lets exactly
//! one of them send each row. Rows a timer misses (an evicted isolate) are due for the cron flush.

use ar_shared::delivery_plan::Platform;
use ar_shared::settings::Settings;
use worker::{Env, console_error, console_log};

use super::send::Sender;
use crate::bindings;
use crate::runtime;
use crate::store::outbox::{self, Claimed};

/// Timers and clocks are not exact: a row due within this much is sent by the timer.
const DUE_SLACK_MS: u64 = 500;

/// Sends the due rows of `event_id`. Errors are logged (event id only: never PII).
pub async fn deliver(env: &Env, settings: &Settings, event_id: &str) {
    if let Err(e) = try_deliver(env, settings, event_id).await {
        console_error!("ar: real-time delivery of event_id={event_id} failed: {e}");
    }
}

async fn try_deliver(env: &Env, settings: &Settings, event_id: &str) -> worker::Result<()> {
    let db = env.d1(bindings::DB)?;
    let now = runtime::now_ms();
    let claimed = outbox::claim_event(&db, event_id, now + DUE_SLACK_MS, now).await?;
    if claimed.is_empty() {
        return Ok(());
    }
    let records = outbox::load_records(&db, &[event_id]).await?;
    let sender = Sender {
        env,
        settings,
        policy: super::retry_policy(env),
        now_ms: now,
    };
    for platform in Platform::ALL {
        let rows: Vec<Claimed> = claimed
            .iter()
            .filter(|c| c.platform == platform)
            .cloned()
            .collect();
        if rows.is_empty() {
            continue;
        }
        let outcomes = sender.send(platform, &rows, &records).await;
        let done = runtime::now_ms();
        for o in &outcomes {
            console_log!(
                "ar: event_id={} platform={} status={}",
                o.event_id,
                platform.as_str(),
                o.update.status.as_str()
            );
        }
        outbox::apply(&db, platform, &outcomes, done).await?;
    }
    Ok(())
}
