//! The health figures from the counters of [`crate::health_counters`]: per window (24 hours,
//! 7 days), per event type (and all together) and per platform, with pass/warn thresholds and
//! a one-line "what to do" for each.
//!
//! Thresholds: Meta's match quality above 7 of 10 (the seed's aim); server coverage against
//! Meta's documented 75 % goal; pixel + server combined close to 100 % (the seed's "~100 %");
//! dedup rate higher is better (warned under half).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::health_counters::{Count, HOUR_MS, LATENCY_BUCKETS_MS};
use crate::match_quality::MatchKey;
use crate::platform::Platform;

/// Meta's match quality a healthy event type reaches (of 10).
pub const MATCH_QUALITY_GOAL: f64 = 7.0;
/// Meta's documented event-coverage goal for server copies.
pub const COVERAGE_GOAL: f64 = 0.75;
/// Pixel + server combined coverage counted as "~100 %".
pub const COMBINED_GOAL: f64 = 0.95;
/// Dedup rate under which the console warns.
pub const DEDUP_GOAL: f64 = 0.5;

/// A figure with its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The figure (a ratio, or a score of 10).
    pub value: Option<f64>,
    /// The goal it is held to.
    pub goal: f64,
    /// `pass`, `warn`, or `none` (nothing to judge yet).
    pub state: &'static str,
    /// What to do when it warns.
    pub what_to_do: &'static str,
}

pub(crate) fn check(value: Option<f64>, goal: f64, above: bool, what_to_do: &'static str) -> Check {
    let state = match value {
        None => "none",
        Some(v) if (above && v > goal) || (!above && v >= goal) => "pass",
        Some(_) => "warn",
    };
    Check {
        value,
        goal,
        state,
        what_to_do,
    }
}

/// One platform's figures for one event type and window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformFigures {
    /// Rows the platform accepted.
    pub delivered: i64,
    /// Rows given up, with reasons.
    pub failed: i64,
    /// Sends answered with a retryable fault.
    pub retried: i64,
    /// Sends answered with throttling.
    pub throttled: i64,
    /// The most frequent failure reasons, most first (at most 3).
    pub top_reasons: Vec<(String, i64)>,
    /// Delivered ÷ seen.
    pub coverage: Option<f64>,
    /// (Browser tag fired, or delivered from the server) ÷ seen.
    pub combined_coverage: Option<f64>,
    /// Occurrence to acceptance, median: the upper bound of its histogram bucket, ms.
    pub latency_p50_ms: Option<u64>,
    /// The same, 95th percentile.
    pub latency_p95_ms: Option<u64>,
    /// Server coverage against the goal (Meta: 75 %).
    pub coverage_check: Check,
    /// Combined coverage against "~100 %".
    pub combined_check: Check,
}

/// One event type's (or all events') figures for one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Events seen from any source.
    pub seen: i64,
    /// Seen from the pixel.
    pub from_pixel: i64,
    /// Seen from the shop (backend or edge).
    pub from_shop: i64,
    /// Seen from both: the copies met and merged.
    pub both: i64,
    /// Both ÷ seen.
    pub dedup_rate: Option<f64>,
    /// Mean match-quality estimate, of 10.
    pub match_quality: Option<f64>,
    /// Share of events carrying each Meta match key.
    pub identifiers: BTreeMap<String, f64>,
    /// Per consent signal: events with it granted, denied, unset.
    pub consent: BTreeMap<String, BTreeMap<String, i64>>,
    /// Per platform.
    pub platforms: BTreeMap<String, PlatformFigures>,
    /// Match quality against 7/10.
    pub match_quality_check: Check,
    /// Dedup rate, higher is better.
    pub dedup_check: Check,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
}

/// The upper bound of the bucket holding the `q` quantile of `histogram`.
fn quantile(histogram: &[i64], q: f64) -> Option<u64> {
    let total: i64 = histogram.iter().sum();
    if total <= 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let rank = ((total as f64) * q).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, n) in histogram.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(LATENCY_BUCKETS_MS.get(i).copied().unwrap_or(u64::MAX));
        }
    }
    None
}

type Totals = BTreeMap<(String, String), i64>;

fn get(counts: &Totals, platform: &str, metric: &str) -> i64 {
    counts
        .get(&(platform.to_owned(), metric.to_owned()))
        .copied()
        .unwrap_or(0)
}

fn platform_figures(counts: &Totals, p: Platform, seen: i64) -> PlatformFigures {
    let name = p.as_str();
    let delivered = get(counts, name, "delivered");
    let fired = get(
        counts,
        "",
        if p == Platform::Meta {
            "fired:meta"
        } else {
            "fired:google"
        },
    );
    let histogram: Vec<i64> = (0..=LATENCY_BUCKETS_MS.len())
        .map(|b| get(counts, name, &format!("latency:{b}")))
        .collect();
    let mut reasons: Vec<(String, i64)> = counts
        .iter()
        .filter(|((pl, m), n)| pl == name && m.starts_with("failed:") && **n > 0)
        .map(|((_, m), n)| (m["failed:".len()..].to_owned(), *n))
        .collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    reasons.truncate(3);
    let coverage = ratio(delivered, seen);
    let combined = ratio(fired + get(counts, name, "delivered_unfired"), seen);
    let goal = if p == Platform::Meta {
        COVERAGE_GOAL
    } else {
        0.0
    };
    PlatformFigures {
        delivered,
        failed: get(counts, name, "failed"),
        retried: get(counts, name, "retry"),
        throttled: get(counts, name, "throttled"),
        top_reasons: reasons,
        coverage,
        combined_coverage: combined,
        latency_p50_ms: quantile(&histogram, 0.5),
        latency_p95_ms: quantile(&histogram, 0.95),
        coverage_check: check(
            coverage,
            goal,
            false,
            "send the shop's copies to /_ar/events (with session_id) and look at the skipped and \
             failed reasons: consent, missing context, setup",
        ),
        combined_check: check(
            combined,
            COMBINED_GOAL,
            false,
            "report every event from both the page (ar('track')) and the backend, so what a \
             blocker stops in the browser still arrives from the server",
        ),
    }
}

fn figures(counts: &Totals) -> Figures {
    let seen = get(counts, "", "seen");
    let both = get(counts, "", "both");
    let mut identifiers = BTreeMap::new();
    for key in MatchKey::ALL {
        let n = get(counts, "", &format!("id:{}", key.meta_name()));
        if let Some(share) = ratio(n, seen) {
            identifiers.insert(key.meta_name().to_owned(), share);
        }
    }
    let mut consent: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for ((platform, metric), n) in counts {
        if let (true, Some(rest)) = (platform.is_empty(), metric.strip_prefix("consent:"))
            && let Some((signal, state)) = rest.split_once(':')
        {
            *consent
                .entry(signal.to_owned())
                .or_default()
                .entry(state.to_owned())
                .or_default() += n;
        }
    }
    let platforms = Platform::ALL
        .iter()
        .map(|p| (p.as_str().to_owned(), platform_figures(counts, *p, seen)))
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let mq = (seen > 0).then(|| (get(counts, "", "mq") as f64 / seen as f64).round() / 10.0);
    let dedup = ratio(both, seen);
    Figures {
        seen,
        from_pixel: get(counts, "", "pixel"),
        from_shop: get(counts, "", "shop"),
        both,
        dedup_rate: dedup,
        match_quality: mq,
        identifiers,
        consent,
        platforms,
        match_quality_check: check(
            mq,
            MATCH_QUALITY_GOAL,
            true,
            "send hashed email and phone from the backend and pass the visit's session_id, so \
             fbc, fbp, IP and user agent join the event",
        ),
        dedup_check: check(
            dedup,
            DEDUP_GOAL,
            false,
            "report the same events from the pixel and the backend with the same business keys \
             (order_id, lead_id…), so the copies meet",
        ),
    }
}

/// The report for one window: all events together and per event type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    /// How many hours it covers.
    pub hours: u64,
    /// Every event type together.
    pub all: Figures,
    /// Per event type.
    pub events: BTreeMap<String, Figures>,
}

/// Both windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthFigures {
    /// The last 24 hours (by the hour each event happened).
    pub last_24h: Window,
    /// The last 7 days.
    pub last_7d: Window,
}

fn window(rows: &[Count], now_ms: u64, hours: u64) -> Window {
    let from = (now_ms / HOUR_MS).saturating_sub(hours - 1);
    let mut all: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut per: BTreeMap<String, BTreeMap<(String, String), i64>> = BTreeMap::new();
    for c in rows.iter().filter(|c| c.hour >= from) {
        let key = (c.platform.clone(), c.metric.clone());
        *all.entry(key.clone()).or_default() += c.n;
        *per.entry(c.event.clone())
            .or_default()
            .entry(key)
            .or_default() += c.n;
    }
    Window {
        hours,
        all: figures(&all),
        events: per.iter().map(|(e, c)| (e.clone(), figures(c))).collect(),
    }
}

/// The figures from the counter rows of the last 7 days, at `now_ms`.
pub fn health_figures(rows: &[Count], now_ms: u64) -> HealthFigures {
    HealthFigures {
        last_24h: window(rows, now_ms, 24),
        last_7d: window(rows, now_ms, 7 * 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::fixtures;
    use crate::delivery::outcome::RowUpdate;
    use crate::delivery::plan::RowStatus;
    use crate::delivery::run::RowOutcome;
    use crate::health_counters::{arrival, outcomes};
    use crate::record::Source;

    const NOW: u64 = 1_764_000_000_000;

    fn copy(json: &str, source: Source) -> crate::record::EventRecord {
        fixtures::record(json, source)
    }

    #[test]
    fn each_event_counts_once_as_it_is_after_merges() {
        let server = copy(
            r#"{"event":"transaction.purchase","order_id":"h-1","value":5,"currency":"EUR","user":{"email":"a@example.com"}}"#,
            Source::Server,
        );
        let pixel = copy(
            r#"{"event":"transaction.purchase","order_id":"h-1","value":5,"currency":"EUR"}"#,
            Source::Pixel,
        );
        let mut merged = server.clone();
        merged.merge(&pixel);
        let mut rows = arrival(None, &server);
        rows.extend(arrival(Some(&server), &merged));
        let other = copy(
            r#"{"event":"user.signed_up","user_id":"u-1"}"#,
            Source::Pixel,
        );
        rows.extend(arrival(None, &other));
        let f = health_figures(&rows, NOW);
        let all = &f.last_24h.all;
        assert_eq!(
            (all.seen, all.from_pixel, all.from_shop, all.both),
            (2, 2, 1, 1)
        );
        assert_eq!(all.dedup_rate, Some(0.5));
        assert_eq!(all.identifiers.get("em"), Some(&0.5));
        let purchase = &f.last_24h.events["transaction.purchase"];
        assert_eq!(purchase.seen, 1);
        assert_eq!(purchase.dedup_check.state, "pass");
        assert_eq!(f.last_7d.all.seen, 2);
    }

    #[test]
    fn deliveries_give_coverage_latency_and_reasons() {
        let r = copy(
            r#"{"event":"user.signed_up","user_id":"u-2"}"#,
            Source::Server,
        );
        let s = copy(
            r#"{"event":"user.signed_up","user_id":"u-3"}"#,
            Source::Server,
        );
        let mut rows = arrival(None, &r);
        rows.extend(arrival(None, &s));
        let records: BTreeMap<String, _> = [
            (r.event_id.to_string(), r.clone()),
            (s.event_id.to_string(), s.clone()),
        ]
        .into_iter()
        .collect();
        let update = |status, reason: Option<&str>| RowUpdate {
            status,
            next_attempt_at_ms: NOW,
            last_error: reason.map(str::to_owned),
            failure: None,
            attempted: true,
        };
        let done = [
            RowOutcome {
                event_id: r.event_id.to_string(),
                update: update(RowStatus::Delivered, None),
                trace_id: None,
            },
            RowOutcome {
                event_id: s.event_id.to_string(),
                update: update(RowStatus::Failed, Some("bad token")),
                trace_id: None,
            },
        ];
        rows.extend(outcomes(
            Platform::Meta,
            &done,
            &records,
            r.occurred_at_ms + 1_500,
        ));
        let f = health_figures(&rows, NOW);
        let meta = &f.last_24h.all.platforms["meta"];
        assert_eq!((meta.delivered, meta.failed), (1, 1));
        assert_eq!(meta.coverage, Some(0.5));
        assert_eq!(meta.combined_coverage, Some(0.5), "no tag fired");
        assert_eq!(meta.latency_p50_ms, Some(2_000));
        assert_eq!(meta.top_reasons, vec![("bad token".to_owned(), 1)]);
        assert_eq!(meta.coverage_check.state, "warn");
    }

    #[test]
    fn quantiles_are_bucket_upper_bounds() {
        let mut h = vec![0; LATENCY_BUCKETS_MS.len() + 1];
        h[0] = 9;
        h[3] = 1;
        assert_eq!(quantile(&h, 0.5), Some(1_000));
        assert_eq!(quantile(&h, 0.95), Some(10_000));
        assert_eq!(quantile(&[0, 0], 0.5), None);
    }
}
