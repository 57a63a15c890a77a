//! Real-time delivery (DESIGN §5): a purchase, payment, sign-up or lead is sent by the timer that
//! its arrival started, once the merge window has passed, so the pixel's and the backend's copies
//! meet first. Every request that brings copies starts one timer for all of them; the atomic
//! claim (`claims::claim_events`) lets exactly one timer send each row. Rows a timer misses (an
//! evicted isolate) are due for the cron flush.

use ar_shared::platform::Platform;
use ar_shared::settings::Settings;
use worker::{Env, console_error, console_log};

use super::send::Sender;
use crate::bindings;
use crate::runtime;
use crate::store::claims::{self, Claimed};
use crate::store::events;

/// Timers and clocks are not exact: a row due within this much is sent by the timer.
const DUE_SLACK_MS: u64 = 500;

/// Sends the due rows of `event_ids` (the events one request accepted), platform by platform in
/// requests up to each platform's limit. Errors are logged (event ids only: never PII).
pub(crate) async fn deliver(env: &Env, settings: &Settings, event_ids: &[String]) {
    if let Err(e) = try_deliver(env, settings, event_ids).await {
        console_error!(
            "ar: real-time delivery of {} events failed: {e}",
            event_ids.len()
        );
    }
}

async fn try_deliver(env: &Env, settings: &Settings, event_ids: &[String]) -> worker::Result<()> {
    if event_ids.is_empty() {
        return Ok(());
    }
    let db = env.d1(bindings::DB)?;
    let now = runtime::now_ms();
    let ids: Vec<&str> = event_ids.iter().map(String::as_str).collect();
    let claimed = claims::claim_events(&db, &ids, now + DUE_SLACK_MS, now).await?;
    if claimed.is_empty() {
        return Ok(());
    }
    let mut claimed_ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
    claimed_ids.sort_unstable();
    claimed_ids.dedup();
    let records = events::load_records(&db, &claimed_ids).await?;
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
        // The same request sizes as the cron flush (DESIGN §5: Meta 1000, Google 2000, GA4 25).
        let limit = usize::try_from(platform.claim_limit())
            .unwrap_or(usize::MAX)
            .max(1);
        for chunk in rows.chunks(limit) {
            let outcomes = sender.send(platform, chunk, &records).await;
            let done = runtime::now_ms();
            // One line per request sent, not per event (see `routes::events::log_request`).
            let mut statuses = std::collections::BTreeMap::<&str, usize>::new();
            for o in &outcomes {
                *statuses.entry(o.update.status.as_str()).or_default() += 1;
            }
            let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}={n}")).collect();
            match outcomes.as_slice() {
                [one] => console_log!(
                    "ar: event_id={} platform={} status={}",
                    one.event_id,
                    platform.as_str(),
                    one.update.status.as_str()
                ),
                _ => console_log!(
                    "ar: sent platform={} events={} {}",
                    platform.as_str(),
                    outcomes.len(),
                    statuses.join(" ")
                ),
            }
            let counts = ar_shared::health_counters::outcomes(platform, &outcomes, &records, done);
            claims::apply(&db, platform, &outcomes, &counts, now, done).await?;
            super::schedule_retries(env, &outcomes, done).await;
        }
    }
    Ok(())
}
