//! What `/_ar/health` (`meta_quality`) and the console show: Meta's grades beside ours, per Meta
//! event name ([`super::view`] builds it), and what the worker keeps of its last fetch. Ratios
//! (0–1) for coverage, dedup and key shares, as the rest of the health report; scores of 10.

use serde::Serialize;

use super::{Diagnostic, MetaGrades};
use crate::health_report::Check;

/// What the worker keeps of its last fetch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cached {
    /// The `agent_name` asked with.
    pub agent_name: Option<String>,
    /// The last attempt, answered or not, Unix ms.
    pub attempted_at_ms: u64,
    /// The last answer with grades, Unix ms.
    pub fetched_at_ms: Option<u64>,
    /// Those grades.
    pub grades: Option<MetaGrades>,
    /// Why the last attempt failed (`None`: it succeeded).
    pub error: Option<String>,
    /// What to do about it.
    pub what_to_do: Option<String>,
}

/// The section of `/_ar/health` and the console: Meta's grades beside ours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaQuality {
    /// The dataset (pixel) asked about.
    pub dataset_id: String,
    /// The `agent_name` filter (`None`: every event of the dataset is graded).
    pub agent_name: Option<String>,
    /// `ok`, `error` (the last fetch failed; earlier grades are still shown) or `not_fetched`.
    pub state: &'static str,
    /// When the grades shown were fetched, Unix ms.
    pub fetched_at_ms: Option<u64>,
    /// The same, for people.
    pub fetched_at: Option<String>,
    /// The next fetch, at the earliest (the cron runs every 5 minutes).
    pub next_fetch_at_ms: Option<u64>,
    /// Why the last fetch failed.
    pub error: Option<String>,
    /// What to do about it.
    pub what_to_do: Option<String>,
    /// Per Meta event name, Meta's and ours.
    pub events: Vec<EventComparison>,
}

/// A figure as Meta reports it and as we estimate it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pair {
    /// Meta's.
    pub meta: Option<f64>,
    /// Ours.
    pub ours: Option<f64>,
    /// Ours minus Meta's, when both are known.
    pub gap: Option<f64>,
}

/// One match key's coverage, ratios.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPair {
    /// Meta's identifier (`email`, …).
    pub identifier: String,
    /// Our name of the key (`em`, …), when it is one of ours.
    pub key: Option<&'static str>,
    /// Meta's coverage.
    pub meta: Option<f64>,
    /// Share of our events carrying it.
    pub ours: Option<f64>,
}

/// One of Meta's deduplication keys, ratios.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DedupeShare {
    /// `event_id`, `external_id`, `fbp`.
    pub key: String,
    /// Browser events carrying it.
    pub browser: Option<f64>,
    /// Server events carrying it.
    pub server: Option<f64>,
    /// Browser events deduplicated with a server copy by this key (incremental per key).
    pub overall_browser_coverage: Option<f64>,
}

/// How soon events arrive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freshness {
    /// Meta's `upload_frequency`.
    pub meta: Option<String>,
    /// Our 95th-percentile latency in the same words ([`freshness_class`]).
    pub ours: Option<&'static str>,
    /// That latency, ms (a histogram bucket's upper bound).
    pub our_latency_p95_ms: Option<u64>,
}

/// One Meta event name: Meta's grades and our estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventComparison {
    /// Meta's event name.
    pub event_name: String,
    /// Our event types reported under it.
    pub our_events: Vec<String>,
    /// Match quality, of 10.
    pub match_quality: Pair,
    /// Meta's score against 7/10.
    pub match_quality_check: Check,
    /// Per match key.
    pub match_keys: Vec<KeyPair>,
    /// Event coverage, ratios: Meta's (CAPI vs pixel events) and our server coverage.
    pub coverage: Pair,
    /// Meta's coverage against Meta's goal.
    pub coverage_check: Check,
    /// Deduplication, ratios: Meta's browser events deduplicated by any key, our copies that met.
    pub dedup: Pair,
    /// Meta's per-key feedback.
    pub dedupe_keys: Vec<DedupeShare>,
    /// Freshness.
    pub freshness: Freshness,
    /// Meta's additional conversions reported, ratio.
    pub acr: Option<f64>,
    /// Meta's diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}
