//! Reading the health report (`super::report`) from D1 and the settings.

use std::collections::BTreeMap;

use ar_shared::delivery::outcome::FailureKind;
use ar_shared::delivery::plan::RowStatus;
use ar_shared::platform::Platform;
use ar_shared::platform::request_status::{self, GoogleVerdict, RequestStatus};
use ar_shared::settings::SettingProblem;
use serde::Deserialize;
use worker::{D1Database, Env};

use super::report::{
    ConfigHealth, Counter, EventTotals, Failure, Health, MatchQualityReport, MissingKey, Problem,
    ReasonCount,
};
use crate::error::Error;
use crate::store::claims::DAY_MS;
use crate::store::codec::{Whole, all, num, status, statuses, text};
use crate::{bindings, runtime, settings};

#[derive(Deserialize)]
struct StatusCount {
    platform: String,
    status: String,
    n: Whole,
}

#[derive(Deserialize)]
struct Totals {
    total: Whole,
    shop: Whole,
    pixel: Whole,
    both: Whole,
    mq: Option<f64>,
}

#[derive(Deserialize)]
struct Missing {
    missing_keys: Option<String>,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
}

/// Reads the report from D1 (and the settings).
///
/// # Errors
/// D1 failures.
pub(super) async fn report(env: &Env) -> Result<Health, Error> {
    let loaded = settings::current(env).await;
    let (problems, platforms): (Vec<SettingProblem>, _) = match &loaded {
        Ok(s) => (
            Vec::new(),
            Platform::ALL
                .iter()
                .map(|p| (p.as_str(), p.enabled(s)))
                .collect(),
        ),
        Err(p) => (p.clone(), BTreeMap::new()),
    };
    let connections = loaded
        .as_ref()
        .map(|s| s.connection_reports(runtime::now_ms()))
        .unwrap_or_default();
    let db = env.d1(bindings::DB).map_err(Error::Store)?;
    let mut health = read(&db, problems, platforms).await.map_err(Error::Store)?;
    if let Ok(s) = &loaded {
        health.meta_quality = super::meta_quality::read(env, &db, s, &health.figures).await;
    }
    health.ok &= connections.iter().all(|c| c.level != "fail");
    health.connections = connections;
    Ok(health)
}

async fn read(
    db: &D1Database,
    problems: Vec<SettingProblem>,
    platforms: BTreeMap<&'static str, bool>,
) -> worker::Result<Health> {
    // Totals kept by triggers (migrations/0015_health_totals.sql): a view reads a few dozen rows
    // whatever the size of the outbox and events tables (docs/capacity.md).
    let config_errors: Vec<ReasonCount> = all(
        db,
        "SELECT platform, NULLIF(reason, '') AS last_error, n FROM outbox_totals \
         WHERE status = ?1 AND kind = ?2 AND n > 0 ORDER BY n DESC LIMIT 10",
        &[
            status(RowStatus::Failed),
            text(Some(FailureKind::Config.as_str())),
        ],
    )
    .await?;
    let recent_failures: Vec<Failure> = all(
        db,
        "SELECT o.event_id, o.platform, o.last_error, o.failure_kind, o.updated_at, e.event \
         FROM outbox o LEFT JOIN events e ON e.event_id = o.event_id WHERE o.status = ?1 \
         ORDER BY o.updated_at DESC LIMIT 20",
        &[status(RowStatus::Failed)],
    )
    .await?;
    let skipped: Vec<ReasonCount> = all(
        db,
        "SELECT platform, NULLIF(reason, '') AS last_error, SUM(n) AS n FROM outbox_totals \
         WHERE status IN (SELECT value FROM json_each(?1)) AND n > 0 \
         GROUP BY platform, reason ORDER BY n DESC LIMIT 10",
        &[statuses([RowStatus::Skipped, RowStatus::Held])],
    )
    .await?;
    let history: Vec<Counter> = all(
        db,
        "SELECT day, platform, metric, n FROM counters WHERE day >= ?1 ORDER BY day",
        &[num((runtime::now_ms() / DAY_MS).saturating_sub(14))],
    )
    .await?;
    let (events, mq) = event_totals(db).await?;
    let now = runtime::now_ms();
    let counts = crate::store::health_counters::recent(db, now).await?;
    let figures = ar_shared::health_report::health_figures(&counts, now);
    Ok(Health {
        ok: problems.is_empty() && config_errors.is_empty(),
        config: ConfigHealth {
            problems: problems
                .into_iter()
                .map(|p| Problem {
                    name: p.name,
                    problem: p.problem,
                })
                .collect(),
            platforms,
            errors: config_errors,
        },
        delivery: delivery_counts(db).await?,
        recent_failures,
        skipped,
        events,
        match_quality: MatchQualityReport {
            average_score: (mq / 10.0 * 10.0).round() / 10.0,
            average_points: mq.round(),
            most_missing: most_missing(db).await?,
        },
        history,
        google_processing: google_processing(db).await?,
        meta_quality: None,
        figures,
        connections: Vec::new(),
    })
}

#[derive(Deserialize)]
struct GoogleRequest {
    events: Whole,
    status: String,
    record_count: Whole,
    errors: String,
    destination: String,
    #[serde(rename = "final")]
    done: Whole,
}

/// Google's verdict over the registered Data Manager requests (`delivery::request_status`).
async fn google_processing(db: &D1Database) -> worker::Result<GoogleVerdict> {
    let rows: Vec<GoogleRequest> = all(
        db,
        "SELECT events, status, record_count, errors, destination, final FROM google_requests",
        &[],
    )
    .await?;
    let statuses: Vec<(u64, Option<RequestStatus>)> = rows
        .into_iter()
        .map(|r| {
            let status = (r.done.0 == 1).then(|| RequestStatus {
                status: r.status,
                record_count: r.record_count.0,
                errors: serde_json::from_str(&r.errors).unwrap_or_default(),
                warnings: BTreeMap::new(),
                destination: r.destination,
            });
            (r.events.0, status)
        })
        .collect();
    Ok(request_status::verdict(
        statuses.iter().map(|(n, s)| (*n, s.as_ref())),
    ))
}

/// Rows per platform and status, every status present.
async fn delivery_counts(
    db: &D1Database,
) -> worker::Result<BTreeMap<String, BTreeMap<String, u64>>> {
    let mut delivery: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for p in Platform::ALL {
        let counts = delivery.entry(p.as_str().to_owned()).or_default();
        for s in RowStatus::ALL {
            counts.insert(s.as_str().to_owned(), 0);
        }
    }
    let counts: Vec<StatusCount> = all(
        db,
        "SELECT platform, status, SUM(n) AS n FROM outbox_totals GROUP BY platform, status",
        &[],
    )
    .await?;
    for c in counts {
        delivery
            .entry(c.platform)
            .or_default()
            .insert(c.status, c.n.0);
    }
    Ok(delivery)
}

/// Events by source, and the mean match-quality points.
async fn event_totals(db: &D1Database) -> worker::Result<(EventTotals, f64)> {
    let totals: Vec<Totals> = all(
        db,
        "SELECT total, shop, pixel, both, \
           CASE WHEN mq_count > 0 THEN mq_sum / mq_count ELSE 0 END AS mq \
         FROM event_totals WHERE id = 1",
        &[],
    )
    .await?;
    let t = totals.into_iter().next().unwrap_or(Totals {
        total: Whole(0),
        shop: Whole(0),
        pixel: Whole(0),
        both: Whole(0),
        mq: None,
    });
    let events = EventTotals {
        total: t.total.0,
        from_pixel: t.pixel.0,
        server_copies: t.shop.0,
        both_sources: t.both.0,
        coverage: ratio(t.shop.0, t.total.0),
        dedup_rate: ratio(t.both.0, t.total.0),
    };
    Ok((events, t.mq.unwrap_or(0.0)))
}

/// The five match keys most often missing in the latest 1000 events (by creation: the indexed
/// column, so the view reads 1000 rows, not the table).
async fn most_missing(db: &D1Database) -> worker::Result<Vec<MissingKey>> {
    let recent: Vec<Missing> = all(
        db,
        "SELECT missing_keys FROM events ORDER BY created_at DESC LIMIT 1000",
        &[],
    )
    .await?;
    let mut missing: BTreeMap<String, u64> = BTreeMap::new();
    for r in &recent {
        for key in r.missing_keys.as_deref().unwrap_or("").split(',') {
            if !key.is_empty() {
                *missing.entry(key.to_owned()).or_default() += 1;
            }
        }
    }
    let mut most: Vec<MissingKey> = missing
        .into_iter()
        .map(|(key, events)| MissingKey { key, events })
        .collect();
    most.sort_by_key(|m| std::cmp::Reverse(m.events));
    most.truncate(5);
    Ok(most)
}
