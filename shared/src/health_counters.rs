//! Health counters aggregated as events flow (the console's "Health"), so a page view reads a
//! bounded number of counter rows instead of scanning events (`docs/capacity.md`).
//!
//! Counters are keyed by the hour the event happened, its type, the platform (`""` for facts
//! about the event itself) and a metric:
//!
//! - what an event is, from its merged record ([`arrival`]): `seen`, `pixel`, `shop`, `both`
//!   (dedup: seen from both sides), `mq` (match-quality points), `id:<key>` per Meta match key
//!   present, `consent:<signal>:<granted|denied|unset>`. A merge adds the new record's
//!   contributions and takes away the old one's, so each event counts once, as it is now;
//! - what a send did ([`outcomes`]): `delivered`, `failed`, `failed:<reason>`, `retry`,
//!   `throttled`, `latency:<bucket>` (occurrence to acceptance, [`LATENCY_BUCKETS_MS`]).
//!
//! [`figures`] turns the counter rows of the last 7 days into the report.

use std::collections::BTreeMap;

use crate::consent::PartialConsent;
use crate::delivery::plan::RowStatus;
use crate::delivery::run::RowOutcome;
use crate::match_quality::MatchKey;
use crate::platform::Platform;
use crate::record::EventRecord;

/// One hour, ms.
pub const HOUR_MS: u64 = 60 * 60 * 1000;
/// Upper bounds of the latency histogram's buckets, ms; the last bucket is open.
pub const LATENCY_BUCKETS_MS: [u64; 12] = [
    1_000,
    2_000,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    900_000,
    3_600_000,
    21_600_000,
    86_400_000,
    604_800_000,
];
/// Longest reason text kept in a counter's metric.
const REASON_MAX: usize = 160;

/// One counter increment (or decrement).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count {
    /// The hour the event happened (Unix ms / [`HOUR_MS`]).
    pub hour: u64,
    /// Event type.
    pub event: String,
    /// Platform, or `""` for facts about the event itself.
    pub platform: String,
    /// Metric name.
    pub metric: String,
    /// Change.
    pub n: i64,
}

fn consent_states(c: PartialConsent) -> [(&'static str, Option<bool>); 4] {
    let g = |s: Option<crate::consent::Signal>| s.map(crate::consent::Signal::is_granted);
    [
        ("ad_storage", g(c.ad_storage)),
        ("analytics_storage", g(c.analytics_storage)),
        ("ad_user_data", g(c.ad_user_data)),
        ("ad_personalization", g(c.ad_personalization)),
    ]
}

/// What one record contributes.
fn contributions(r: &EventRecord) -> BTreeMap<(u64, String, String), i64> {
    let hour = r.occurred_at_ms / HOUR_MS;
    let event = r.event.as_str().to_owned();
    let mut out = BTreeMap::new();
    let mut add = |metric: String, n: i64| {
        if n != 0 {
            *out.entry((hour, event.clone(), metric)).or_default() += n;
        }
    };
    add("seen".into(), 1);
    add("pixel".into(), i64::from(r.sources.pixel));
    add("shop".into(), i64::from(r.sources.from_shop()));
    add(
        "both".into(),
        i64::from(r.sources.pixel && r.sources.from_shop()),
    );
    add("fired:meta".into(), i64::from(r.fired.meta));
    add("fired:google".into(), i64::from(r.fired.google));
    let quality = r.match_quality();
    add("mq".into(), i64::from(quality.points));
    for key in MatchKey::ALL {
        if !quality.missing.contains(&key) {
            add(format!("id:{}", key.meta_name()), 1);
        }
    }
    for (signal, state) in consent_states(r.session.consent) {
        let state = match state {
            Some(true) => "granted",
            Some(false) => "denied",
            None => "unset",
        };
        add(format!("consent:{signal}:{state}"), 1);
    }
    out
}

/// The counter changes when an event's record goes from `before` (none: a new event) to
/// `after`.
pub fn arrival(before: Option<&EventRecord>, after: &EventRecord) -> Vec<Count> {
    let mut diff = contributions(after);
    if let Some(b) = before {
        for (k, n) in contributions(b) {
            *diff.entry(k).or_default() -= n;
        }
    }
    diff.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((hour, event, metric), n)| Count {
            hour,
            event,
            platform: String::new(),
            metric,
            n,
        })
        .collect()
}

/// The latency bucket of `ms`: the index into [`LATENCY_BUCKETS_MS`], or its length (open).
pub fn latency_bucket(ms: u64) -> usize {
    LATENCY_BUCKETS_MS
        .iter()
        .position(|b| ms <= *b)
        .unwrap_or(LATENCY_BUCKETS_MS.len())
}

/// The counter changes for a send run's outcomes on `platform` (records by event id).
pub fn outcomes(
    platform: Platform,
    outcomes: &[RowOutcome],
    records: &BTreeMap<String, EventRecord>,
    now_ms: u64,
) -> Vec<Count> {
    let mut out: BTreeMap<(u64, String, String), i64> = BTreeMap::new();
    for o in outcomes {
        let Some(r) = records.get(&o.event_id) else {
            continue;
        };
        let key = |m: String| (r.occurred_at_ms / HOUR_MS, r.event.as_str().to_owned(), m);
        let u = &o.update;
        match u.status {
            RowStatus::Delivered => {
                *out.entry(key("delivered".into())).or_default() += 1;
                // Reached the platform only through this server copy (no browser tag fired):
                // with `fired:*`, the pixel + server combined coverage.
                let fired = if platform == Platform::Meta {
                    r.fired.meta
                } else {
                    r.fired.google
                };
                if !fired {
                    *out.entry(key("delivered_unfired".into())).or_default() += 1;
                }
                let b = latency_bucket(now_ms.saturating_sub(r.occurred_at_ms));
                *out.entry(key(format!("latency:{b}"))).or_default() += 1;
            }
            RowStatus::Failed => {
                *out.entry(key("failed".into())).or_default() += 1;
                let reason: String = u
                    .last_error
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(REASON_MAX)
                    .collect();
                *out.entry(key(format!("failed:{reason}"))).or_default() += 1;
            }
            RowStatus::Pending if u.attempted => {
                let throttled = u
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("throttl") || e.contains("rate"));
                let m = if throttled { "throttled" } else { "retry" };
                *out.entry(key(m.into())).or_default() += 1;
            }
            _ => {}
        }
    }
    out.into_iter()
        .map(|((hour, event, metric), n)| Count {
            hour,
            event,
            platform: platform.as_str().to_owned(),
            metric,
            n,
        })
        .collect()
}
