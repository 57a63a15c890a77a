//! Meta's grades beside our own estimates, per Meta event name (meta-capi.md §12.4): Meta's
//! `composite_score` beside our match-quality estimate (`match_quality`, §7), each match key's
//! coverage beside the share of our events carrying it, Meta's event coverage and its goal beside
//! our server coverage, Meta's deduplication beside our dedup rate, Meta's `upload_frequency`
//! beside our latency. Our figures are `health_report`'s, grouped by the Meta name each of our
//! event types maps to (`mapping_config`).
//!
//! Windows: Meta's coverage, dedup and ACR are 7-day figures (§12.1), so ours come from the 7-day
//! window; Meta's score uses the last 48 hours, ours the last 24 hours (the 7 days when the event
//! type was not seen in the last day).

use crate::event::EventName;
use crate::health_report::{
    COVERAGE_GOAL, Figures, HealthFigures, MATCH_QUALITY_GOAL, Window, check,
};
use crate::mapping_config::Mappings;
use crate::match_quality::MatchKey;

use super::EventGrade;
use super::report::{Cached, DedupeShare, EventComparison, Freshness, KeyPair, MetaQuality, Pair};

/// Our latency in Meta's `upload_frequency` words, with the end-to-end guide's thresholds
/// (meta-capi.md §5.1): "real time or within 1 hour" → `real_time`; within 2 hours ("> 2 hours …
/// significant decrease in performance") → `hourly`; within 24 hours → `daily`; else `weekly`.
pub fn freshness_class(latency_ms: u64) -> &'static str {
    const HOUR: u64 = 3_600_000;
    match latency_ms {
        l if l <= HOUR => "real_time",
        l if l <= 2 * HOUR => "hourly",
        l if l <= 24 * HOUR => "daily",
        _ => "weekly",
    }
}

/// Meta's `match_key_feedback` identifier of a key: Meta's examples show `email`, `ip_address`,
/// `user_agent`, `external_id`, integrators read `phone` and `fbc`; the rest follow the same
/// pattern (inference, meta-capi.md §12.2).
fn identifier(key: MatchKey) -> &'static str {
    match key {
        MatchKey::Email => "email",
        MatchKey::Fbc => "fbc",
        MatchKey::Phone => "phone",
        MatchKey::ExternalId => "external_id",
        MatchKey::Fbp => "fbp",
        MatchKey::DateOfBirth => "date_of_birth",
        MatchKey::Country => "country",
        MatchKey::ClientIpAddress => "ip_address",
        MatchKey::ClientUserAgent => "user_agent",
        MatchKey::FirstName => "first_name",
        MatchKey::LastName => "last_name",
        MatchKey::City => "city",
        MatchKey::Zip => "zip",
        MatchKey::State => "state",
        MatchKey::Gender => "gender",
    }
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10_f64.powi(places);
    (v * f).round() / f
}

/// Our figures of the event types reported under one Meta name.
#[derive(Debug, Default)]
struct Ours {
    events: Vec<String>,
    seen: i64,
    /// Match quality times events, and the events it is known for.
    mq: (f64, i64),
    /// Events carrying each key, in [`MatchKey::ALL`] order.
    keys: [f64; MatchKey::ALL.len()],
    delivered: i64,
    both: i64,
    p95: Option<u64>,
}

#[allow(clippy::cast_precision_loss)]
impl Ours {
    fn add(&mut self, event: &str, f: &Figures) {
        self.events.push(event.to_owned());
        self.seen += f.seen;
        if let Some(mq) = f.match_quality {
            self.mq.0 += mq * f.seen as f64;
            self.mq.1 += f.seen;
        }
        for (i, key) in MatchKey::ALL.iter().enumerate() {
            let share = f.identifiers.get(key.meta_name()).copied().unwrap_or(0.0);
            self.keys[i] += share * f.seen as f64;
        }
        let meta = f.platforms.get("meta");
        self.delivered += meta.map_or(0, |m| m.delivered);
        self.both += f.both;
        self.p95 = self.p95.max(meta.and_then(|m| m.latency_p95_ms));
    }

    fn match_quality(&self) -> Option<f64> {
        (self.mq.1 > 0).then(|| round(self.mq.0 / self.mq.1 as f64, 1))
    }

    fn share(&self, n: f64) -> Option<f64> {
        (self.seen > 0).then(|| round(n / self.seen as f64, 3))
    }
}

/// Our figures of `w`, by the Meta name of each event type (event types without one are left out).
fn ours_by_name(w: &Window, mappings: &Mappings) -> Vec<(String, Ours)> {
    let mut out: Vec<(String, Ours)> = Vec::new();
    for (event, f) in &w.events {
        let meta = event
            .parse::<EventName>()
            .ok()
            .and_then(|name| mappings.lookup(&name))
            .map(|m| m.meta)
            .filter(|m| !m.is_empty());
        if let Some(meta) = meta {
            if !out.iter().any(|(name, _)| *name == meta) {
                out.push((meta.clone(), Ours::default()));
            }
            if let Some((_, ours)) = out.iter_mut().find(|(name, _)| *name == meta) {
                ours.add(event, f);
            }
        }
    }
    out
}

fn pair(meta: Option<f64>, ours: Option<f64>, places: i32) -> Pair {
    let gap = meta.zip(ours).map(|(m, o)| round(o - m, places));
    Pair { meta, ours, gap }
}

fn ratio(pct: Option<f64>) -> Option<f64> {
    pct.map(|p| round(p / 100.0, 3))
}

#[allow(clippy::cast_precision_loss)]
fn compare_one(name: &str, grade: Option<&EventGrade>, day: &Ours, week: &Ours) -> EventComparison {
    let recent = if day.seen > 0 { day } else { week };
    let meta_score = grade.and_then(|g| g.match_quality);
    let mut keys: Vec<KeyPair> = Vec::new();
    for k in grade.map(|g| g.match_keys.as_slice()).unwrap_or_default() {
        let ours = (0..MatchKey::ALL.len()).find(|i| identifier(MatchKey::ALL[*i]) == k.identifier);
        keys.push(KeyPair {
            identifier: k.identifier.clone(),
            key: ours.map(|i| MatchKey::ALL[i].meta_name()),
            meta: ratio(k.pct),
            ours: ours.and_then(|i| recent.share(recent.keys[i])),
        });
    }
    // Keys our events carry that Meta's feedback does not list.
    for (m, n) in MatchKey::ALL.into_iter().zip(recent.keys) {
        if n > 0.0 && !keys.iter().any(|k| k.key == Some(m.meta_name())) {
            keys.push(KeyPair {
                identifier: identifier(m).to_owned(),
                key: Some(m.meta_name()),
                meta: None,
                ours: recent.share(n),
            });
        }
    }
    let goal = grade
        .and_then(|g| ratio(g.coverage_goal_pct))
        .unwrap_or(COVERAGE_GOAL);
    let meta_coverage = grade.and_then(|g| ratio(g.coverage_pct));
    let dedupe_keys: Vec<DedupeShare> = grade
        .map(|g| g.dedupe_keys.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|k| DedupeShare {
            key: k.key.clone(),
            browser: ratio(k.browser_pct),
            server: ratio(k.server_pct),
            overall_browser_coverage: ratio(k.overall_browser_coverage_pct),
        })
        .collect();
    // "This percentage is incremental for each dedupe key" (meta-capi.md §12.2): the keys add up.
    let meta_dedup = dedupe_keys
        .iter()
        .filter_map(|k| k.overall_browser_coverage)
        .reduce(|a, b| a + b)
        .map(|d| round(d.min(1.0), 3));
    EventComparison {
        event_name: name.to_owned(),
        our_events: week.events.clone(),
        match_quality: pair(meta_score, recent.match_quality(), 1),
        match_quality_check: check(
            meta_score,
            MATCH_QUALITY_GOAL,
            true,
            "Meta scores this event under 7/10: follow Meta's diagnostics and send the match keys \
             Meta sees least (hashed email and phone from the backend, the visit's session_id)",
        ),
        match_keys: keys,
        coverage: pair(meta_coverage, week.share(week.delivered as f64), 3),
        coverage_check: check(
            meta_coverage,
            goal,
            false,
            "Meta sees fewer server copies than pixel events: report the event from the shop too \
             (/_ar/events), with the same business keys as the page",
        ),
        dedup: pair(meta_dedup, week.share(week.both as f64), 3),
        dedupe_keys,
        freshness: Freshness {
            meta: grade.and_then(|g| g.upload_frequency.clone()),
            ours: week.p95.map(freshness_class),
            our_latency_p95_ms: week.p95,
        },
        acr: grade.and_then(|g| ratio(g.acr_pct)),
        diagnostics: grade.map(|g| g.diagnostics.clone()).unwrap_or_default(),
    }
}

fn find<'a>(ours: &'a [(String, Ours)], name: &str) -> Option<&'a Ours> {
    ours.iter().find(|(n, _)| n == name).map(|(_, o)| o)
}

/// The comparison for `dataset_id`: the cached grades (if any) beside `figures`, per Meta event
/// name (every name Meta graded and every one our events map to), in name order.
pub fn view(
    dataset_id: &str,
    agent_name: Option<String>,
    cached: Option<&Cached>,
    figures: &HealthFigures,
    mappings: &Mappings,
    every_ms: u64,
) -> MetaQuality {
    let day = ours_by_name(&figures.last_24h, mappings);
    let week = ours_by_name(&figures.last_7d, mappings);
    let grades = cached.and_then(|c| c.grades.as_ref());
    let mut names: Vec<&str> = week.iter().map(|(name, _)| name.as_str()).collect();
    names.extend(
        grades
            .into_iter()
            .flat_map(|g| g.events.iter().map(|e| e.event_name.as_str())),
    );
    names.sort_unstable();
    names.dedup();
    let none = Ours::default();
    let events = names
        .into_iter()
        .map(|name| {
            let grade = grades.and_then(|g| g.events.iter().find(|e| e.event_name == name));
            let (d, w) = (find(&day, name), find(&week, name));
            compare_one(name, grade, d.unwrap_or(&none), w.unwrap_or(&none))
        })
        .collect();
    let state = match cached {
        None => "not_fetched",
        Some(c) if c.error.is_some() => "error",
        Some(_) => "ok",
    };
    let fetched = cached.and_then(|c| c.fetched_at_ms);
    MetaQuality {
        dataset_id: dataset_id.to_owned(),
        agent_name: cached.map_or(agent_name, |c| c.agent_name.clone()),
        state,
        fetched_at_ms: fetched,
        fetched_at: fetched.map(crate::console::utc_time),
        next_fetch_at_ms: cached.map(|c| c.attempted_at_ms.saturating_add(every_ms)),
        error: cached.and_then(|c| c.error.clone()),
        what_to_do: cached.and_then(|c| c.what_to_do.clone()),
        events,
    }
}
