//! The cron's look at Google's own verdict (`ar_shared::platform::request_status`): request ids
//! of delivered Data Manager rows (their `trace_id`) are registered in `google_requests`
//! (migration 0008), and each is asked about with `requestStatus:retrieve` when due, until its
//! status is final or a day has passed. The counts go to `/_ar/health`. No decision is made here.

use ar_shared::platform::Platform;
use ar_shared::platform::request_status::{
    self, FIRST_CHECK_AFTER_MS, RequestStatus, next_check_at,
};
use ar_shared::platform::verdict::Verdict;
use ar_shared::settings::Settings;
use serde::Deserialize;
use worker::{D1Database, Env, console_error, console_log};

use super::oauth;
use super::send::fetch;
use crate::store::codec::{Whole, all, num, text};
use crate::{bindings, runtime};

/// Requests asked about per cron run (each is one subrequest).
const PER_RUN: u32 = 10;
/// Finished requests are kept as long as the daily counters (health history).
const KEEP_MS: u64 = 90 * 24 * 60 * 60 * 1000;

#[derive(Deserialize)]
struct Due {
    request_id: String,
    sent_at: Whole,
    checks: Whole,
}

/// The first look's delay: `DATA_MANAGER_STATUS_AFTER_SECS` (dev/test only) or Google's 30
/// minutes.
fn first_check_ms(env: &Env) -> u64 {
    env.var("DATA_MANAGER_STATUS_AFTER_SECS")
        .ok()
        .and_then(|v| v.to_string().parse::<u64>().ok())
        .map_or(FIRST_CHECK_AFTER_MS, |s| s.saturating_mul(1000))
}

/// Registers new request ids and asks about the due ones. Failures are logged: the next run
/// asks again.
pub(crate) async fn poll(env: &Env, settings: &Settings) {
    if let Err(e) = run(env, settings).await {
        console_error!("ar: request status check failed: {e}");
    }
}

async fn run(env: &Env, settings: &Settings) -> worker::Result<()> {
    let Some(config) = &settings.data_manager else {
        return Ok(());
    };
    let db = env.d1(bindings::DB)?;
    let now = runtime::now_ms();
    register(&db, first_check_ms(env)).await?;
    db.prepare("DELETE FROM google_requests WHERE final = 1 AND sent_at < ?1")
        .bind(&[num(now.saturating_sub(KEEP_MS))])?
        .run()
        .await?;
    let due: Vec<Due> = all(
        &db,
        "SELECT request_id, sent_at, checks FROM google_requests WHERE final = 0 \
         AND next_check_at <= ?1 ORDER BY next_check_at LIMIT ?2",
        &[num(now), num(u64::from(PER_RUN))],
    )
    .await?;
    if due.is_empty() {
        return Ok(());
    }
    if settings.paused(Platform::DataManager, now).is_some() {
        return Ok(());
    }
    let mut token = match oauth::access_token(env, settings, now, false).await {
        Ok(t) => t,
        Err(v) => {
            refused(env, settings, &v, now).await;
            console_error!("ar: request status not checked: {v:?}");
            return Ok(());
        }
    };
    let mut refreshed = false;
    for d in due {
        let request = request_status::retrieve_request(config, &token, &d.request_id);
        let mut answer = fetch(&request).await;
        // A refused cached token is replaced once (as for sending, google.md §1.9).
        if matches!(answer, Ok((401, _))) && !refreshed {
            refreshed = true;
            let fresh = oauth::access_token(env, settings, now, true).await;
            if let Err(v) = &fresh {
                refused(env, settings, v, now).await;
            }
            if let Ok(t) = fresh {
                token = t;
                let request = request_status::retrieve_request(config, &token, &d.request_id);
                answer = fetch(&request).await;
            }
        }
        let status = answer
            .ok()
            .and_then(|(code, body)| request_status::parse(code, &body));
        let checks = u32::try_from(d.checks.0)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        store(
            &db,
            &d.request_id,
            d.sent_at.0,
            checks,
            status.as_ref(),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Delivered Data Manager rows' request ids not seen yet, with their event count and send time.
async fn register(db: &D1Database, first_check_ms: u64) -> worker::Result<()> {
    db.prepare(
        "INSERT OR IGNORE INTO google_requests (request_id, events, sent_at, next_check_at) \
         SELECT trace_id, COUNT(*), MIN(COALESCE(sent_at, updated_at)), \
           MIN(COALESCE(sent_at, updated_at)) + ?1 \
         FROM outbox WHERE platform = 'data_manager' AND status = 'delivered' \
           AND trace_id IS NOT NULL \
           AND trace_id NOT IN (SELECT request_id FROM google_requests) \
         GROUP BY trace_id",
    )
    .bind(&[num(first_check_ms)])?
    .run()
    .await?;
    Ok(())
}

async fn store(
    db: &D1Database,
    request_id: &str,
    sent_at: u64,
    checks: u32,
    status: Option<&RequestStatus>,
    now: u64,
) -> worker::Result<()> {
    let final_status = status.filter(|s| s.is_final());
    let next = next_check_at(sent_at, checks, now);
    let (state, is_final, next_at) = match (final_status, next) {
        (Some(s), _) => (s.status.clone(), 1, now),
        (None, Some(at)) => (
            status.map_or_else(|| "PROCESSING".to_owned(), |s| s.status.clone()),
            0,
            at,
        ),
        // Still not final a day after sending: Google's guidance stops looking.
        (None, None) => ("GAVE_UP".to_owned(), 1, now),
    };
    let errors = status.map_or_else(
        || "{}".to_owned(),
        |s| serde_json::to_string(&s.errors).unwrap_or_else(|_| "{}".into()),
    );
    console_log!("ar: request status request={request_id} status={state}");
    db.prepare(
        "UPDATE google_requests SET status = ?2, record_count = ?3, errors = ?4, checks = ?5, \
         next_check_at = ?6, final = ?7, destination = ?8 WHERE request_id = ?1",
    )
    .bind(&[
        text(Some(request_id)),
        text(Some(&state)),
        num(status.map_or(0, |s| s.record_count)),
        text(Some(&errors)),
        num(u64::from(checks)),
        num(next_at),
        num(is_final),
        text(Some(status.map_or("", |s| s.destination.as_str()))),
    ])?
    .run()
    .await?;
    Ok(())
}

/// A refused refresh (`invalid_grant`) pauses Google here as it does when sending.
async fn refused(env: &Env, settings: &Settings, verdict: &Verdict, now: u64) {
    if let Verdict::Reconnect { reason } = verdict {
        super::record_refusal(env, settings, Platform::DataManager, reason, now).await;
    }
}
