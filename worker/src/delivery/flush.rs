//! The cron trigger (every 5 minutes, wrangler.toml): flush pending rows per platform in
//! platform-sized batches (DESIGN §5: Meta 1000, Google 2000, GA4 25 per client), well inside the
//! 1-hour promise; retry rows whose backoff has passed (normally a delayed Queue wake-up has
//! already done so: `delivery::schedule_retries`); release claims of senders that died; ask
//! Google about delivered Data Manager requests (`delivery::request_status`); ask Meta for its own
//! grades, hourly (`delivery::dataset_quality`); and prune rows past the retention period.

use ar_shared::delivery::plan::RowStatus;
use ar_shared::platform::Platform;
use ar_shared::settings::Settings;
use worker::{Env, console_error, console_log};

use super::send::Sender;
use crate::store::{claims, events, retention};
use crate::{bindings, runtime, settings};

/// Claim rounds per platform and run: a backlog larger than this many full requests waits for
/// the next run (5 minutes later), which still keeps the hour.
const ROUNDS: usize = 3;

/// Runs one flush and prune pass.
pub(crate) async fn run(env: &Env) {
    let settings = match settings::current(env).await {
        Ok(s) => s,
        Err(problems) => {
            let names: Vec<&str> = problems.iter().map(|p| p.name).collect();
            console_error!(
                "ar: flush skipped, settings have problems: {}",
                names.join(", ")
            );
            return;
        }
    };
    if let Err(e) = flush(env, &settings).await {
        console_error!("ar: flush failed: {e}");
    }
    super::request_status::poll(env, &settings).await;
    super::dataset_quality::poll(env, &settings).await;
    let db = env.d1(bindings::DB);
    let pruned = match db {
        Ok(db) => retention::prune(&db, settings.retention_days, runtime::now_ms()).await,
        Err(e) => Err(e),
    };
    if let Err(e) = pruned {
        console_error!("ar: prune failed: {e}");
    }
}

/// Sends every due row, platform by platform.
///
/// # Errors
/// D1 failures (platform failures become row states).
pub(crate) async fn flush(env: &Env, settings: &Settings) -> worker::Result<()> {
    let db = env.d1(bindings::DB)?;
    claims::release_stale_claims(&db, runtime::now_ms()).await?;
    for platform in Platform::ALL {
        if !platform.enabled(settings) {
            continue;
        }
        // connect::status: a refused credential pauses the platform; its rows wait unclaimed.
        if let Some(why) = settings.paused(platform, runtime::now_ms()) {
            console_log!("ar: flush platform={} paused: {why}", platform.as_str());
            continue;
        }
        for _ in 0..ROUNDS {
            let now = runtime::now_ms();
            let limit = platform.claim_limit();
            let claimed = claims::claim_due(&db, platform, now, limit).await?;
            if claimed.is_empty() {
                break;
            }
            let ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
            let records = events::load_records(&db, &ids).await?;
            let sender = Sender {
                env,
                settings,
                policy: super::retry_policy(env),
                now_ms: now,
            };
            let outcomes = sender.send(platform, &claimed, &records).await;
            let delivered = outcomes
                .iter()
                .filter(|o| o.update.status == RowStatus::Delivered)
                .count();
            console_log!(
                "ar: flush platform={} claimed={} delivered={}",
                platform.as_str(),
                claimed.len(),
                delivered
            );
            let done = runtime::now_ms();
            let counts = ar_shared::health_counters::outcomes(platform, &outcomes, &records, done);
            claims::apply(&db, platform, &outcomes, &counts, now, done).await?;
            super::schedule_retries(env, &outcomes, done).await;
            if claimed.len() < limit as usize {
                break;
            }
        }
    }
    Ok(())
}
