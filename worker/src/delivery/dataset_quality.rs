//! The cron's look at Meta's own grades of our events (`ar_shared::platform::dataset_quality`,
//! meta-capi.md §12): at most once an hour, the Dataset Quality API is asked about the configured
//! dataset, filtered by `agent_name` when a partner agent is set, and the answer is cached in D1
//! (`store::dataset_quality`) for `/_ar/health` and the console. A failure is logged and recorded
//! beside the previous grades; it never stops the cron, and delivery does not depend on it.

use ar_shared::platform::Platform;
use ar_shared::platform::dataset_quality::{
    FETCH_EVERY_MS, QualityError, agent_name, due, parse, quality_request,
};
use ar_shared::settings::Settings;
use worker::{Env, console_error, console_log};

use super::send::fetch;
use crate::store::dataset_quality as cache;
use crate::{bindings, runtime};

/// How often to ask: `DATASET_QUALITY_EVERY_SECS` (dev/test only) or once an hour.
pub(crate) fn every_ms(env: &Env) -> u64 {
    env.var("DATASET_QUALITY_EVERY_SECS")
        .ok()
        .and_then(|v| v.to_string().parse::<u64>().ok())
        .map_or(FETCH_EVERY_MS, |s| s.saturating_mul(1000))
}

/// Asks Meta when due. Failures are logged: the next run tries again when due.
pub(crate) async fn poll(env: &Env, settings: &Settings) {
    if let Err(e) = run(env, settings).await {
        console_error!("ar: dataset quality not fetched: {e}");
    }
}

async fn run(env: &Env, settings: &Settings) -> worker::Result<()> {
    let Some(config) = &settings.meta else {
        return Ok(());
    };
    let now = runtime::now_ms();
    // A refused credential pauses Meta (connect::status): asking with it would fail the same way.
    if settings.paused(Platform::Meta, now).is_some() {
        return Ok(());
    }
    let db = env.d1(bindings::DB)?;
    let dataset = config.pixel_id.trim();
    let cached = cache::load(&db, dataset).await?;
    if !due(cached.map(|c| c.attempted_at_ms), now, every_ms(env)) {
        return Ok(());
    }
    let agent = config.partner_agent.as_deref().and_then(agent_name);
    let (read, body) = match fetch(&quality_request(config)).await {
        Ok((status, body)) => (parse(status, &body), body),
        Err(_) => (Err(QualityError::NoAnswer), String::new()),
    };
    match read {
        Ok(grades) => {
            console_log!(
                "ar: dataset quality dataset={dataset} events={}",
                grades.events.len()
            );
            // The answer itself is kept: it is read again for each view (`store::dataset_quality`).
            cache::answered(&db, dataset, agent.as_deref(), now, &body).await
        }
        Err(e) => {
            console_error!("ar: dataset quality dataset={dataset} failed: {e}");
            let error = e.to_string();
            cache::failed(&db, dataset, agent.as_deref(), now, &error, e.what_to_do()).await
        }
    }
}
