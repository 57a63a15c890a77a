//! Meta's grades as answered (meta-capi.md §12.2), typed: what [`super::parse`] reads (the worker
//! caches Meta's answer itself and reads it again). Percentages are Meta's (0–100); every metric
//! is optional.

use serde::Serialize;

/// Meta's grades of one dataset, per event name, as answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetaGrades {
    /// One entry per event name of `web` (meta-capi.md §12.2).
    pub events: Vec<EventGrade>,
}

/// Meta's grades of one event name. Every metric is optional: Meta leaves some out (§12.3).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventGrade {
    /// `event_name` (Meta's, e.g. `Purchase`).
    pub event_name: String,
    /// `event_match_quality.composite_score`, of 10.
    pub match_quality: Option<f64>,
    /// `event_match_quality.match_key_feedback`: each identifier's coverage, percent.
    pub match_keys: Vec<KeyCoverage>,
    /// `event_match_quality.diagnostics`: Meta's issues and their fixes.
    pub diagnostics: Vec<Diagnostic>,
    /// `event_coverage.percentage`.
    pub coverage_pct: Option<f64>,
    /// `event_coverage.goal_percentage` (75 in Meta's examples).
    pub coverage_goal_pct: Option<f64>,
    /// `dedupe_key_feedback`, per key.
    pub dedupe_keys: Vec<DedupeKey>,
    /// `data_freshness.upload_frequency`: `real_time`, `hourly`, `daily` or `weekly`.
    pub upload_frequency: Option<String>,
    /// `acr.percentage`: more conversions reported thanks to the Conversions API, last 7 days.
    pub acr_pct: Option<f64>,
}

/// One `match_key_feedback` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyCoverage {
    /// `identifier` as Meta writes it (`email`, `ip_address`, …).
    pub identifier: String,
    /// `coverage.percentage`.
    pub pct: Option<f64>,
}

/// One `event_match_quality.diagnostics` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Diagnostic {
    /// `name`, e.g. "Server sending mismatched IP addresses".
    pub name: String,
    /// `solution`.
    pub solution: String,
    /// `percentage` of the events affected (Meta's percent, 0–100, under its own name on
    /// `/_ar/health`).
    #[serde(rename = "percentage")]
    pub pct: Option<f64>,
    /// `affected_event_count`.
    pub affected_events: Option<u64>,
    /// `total_event_count`.
    pub total_events: Option<u64>,
}

/// One `dedupe_key_feedback` entry, percentages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DedupeKey {
    /// `dedupe_key`: `event_id`, `external_id`, `fbp`.
    pub key: String,
    /// `browser_events_with_dedupe_key.percentage`.
    pub browser_pct: Option<f64>,
    /// `server_events_with_dedupe_key.percentage`.
    pub server_pct: Option<f64>,
    /// `overall_browser_coverage_from_dedupe_key.percentage`, "incremental for each dedupe key".
    pub overall_browser_coverage_pct: Option<f64>,
}
