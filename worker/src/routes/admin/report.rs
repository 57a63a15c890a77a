//! The health report (DESIGN §6), as one typed value: `/_ar/health` serializes it, the admin
//! page draws it ([`super::health`] reads it from D1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::codec::Whole;

/// The whole report.
#[derive(Debug, Serialize)]
pub(super) struct Health {
    /// No setting problem and no setup failure.
    pub ok: bool,
    /// Settings and setup.
    pub config: ConfigHealth,
    /// Row counts per platform and status.
    pub delivery: BTreeMap<String, BTreeMap<String, u64>>,
    /// The latest failed rows.
    pub recent_failures: Vec<Failure>,
    /// Why rows are skipped or held, most frequent first.
    pub skipped: Vec<ReasonCount>,
    /// Events seen, by source.
    pub events: EventTotals,
    /// Estimated match quality.
    pub match_quality: MatchQualityReport,
    /// Daily counters of the last two weeks.
    pub history: Vec<Counter>,
    /// Google's own verdict on the delivered Data Manager requests (`requestStatus:retrieve`),
    /// next to what we sent.
    pub google_processing: ar_shared::platform::request_status::GoogleVerdict,
    /// Meta's own grades of our events (Dataset Quality API, fetched hourly by the cron) beside our
    /// estimates; `None` when Meta is not configured (`super::meta_quality`).
    pub meta_quality: Option<ar_shared::platform::dataset_quality::MetaQuality>,
    /// The figures from the counters aggregated as events flow: 24 hours and 7 days, per event
    /// type and platform, with thresholds (`ar_shared::health_report`).
    pub figures: ar_shared::health_report::HealthFigures,
    /// Each platform's credential: connected, expiring, or refused (delivery paused: reconnect).
    pub connections: Vec<ar_shared::settings::connect::ConnectionReport>,
}

/// Settings and setup.
#[derive(Debug, Serialize)]
pub(super) struct ConfigHealth {
    /// Setting problems, each naming its var or secret.
    pub problems: Vec<Problem>,
    /// Which platforms are switched on.
    pub platforms: BTreeMap<&'static str, bool>,
    /// Rows that failed because of the merchant's setup, by platform and reason.
    pub errors: Vec<ReasonCount>,
}

/// One setting problem.
#[derive(Debug, Serialize)]
pub(super) struct Problem {
    /// The var or secret.
    pub name: &'static str,
    /// What is wrong.
    pub problem: String,
}

/// A number of rows with one reason.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ReasonCount {
    /// Platform.
    pub platform: String,
    /// The recorded reason.
    #[serde(rename(deserialize = "last_error"))]
    pub reason: Option<String>,
    /// How many.
    #[serde(rename(deserialize = "n"), serialize_with = "whole")]
    pub events: Whole,
}

/// One failed row.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Failure {
    /// The event.
    pub event_id: String,
    /// Its name.
    pub event: Option<String>,
    /// Platform.
    pub platform: String,
    /// The platform's or our reason.
    #[serde(rename(deserialize = "last_error"))]
    pub reason: Option<String>,
    /// `config` (the merchant's setup) or `event`.
    #[serde(rename(deserialize = "failure_kind"))]
    pub kind: Option<String>,
    /// When it failed, Unix ms.
    #[serde(rename(deserialize = "updated_at"), serialize_with = "whole")]
    pub at_ms: Whole,
}

/// Events seen, by source, and the ratios health shows.
#[derive(Debug, Serialize)]
pub(super) struct EventTotals {
    /// All events.
    pub total: u64,
    /// Seen from the pixel.
    pub from_pixel: u64,
    /// Seen from the shop (backend or edge-routed checkout).
    pub server_copies: u64,
    /// Seen from both.
    pub both_sources: u64,
    /// DESIGN §6: server copies vs all seen.
    pub coverage: Option<f64>,
    /// DESIGN §6: seen from both sides.
    pub dedup_rate: Option<f64>,
}

/// Estimated match quality.
#[derive(Debug, Serialize)]
pub(super) struct MatchQualityReport {
    /// Mean score out of 10.
    pub average_score: f64,
    /// Mean points.
    pub average_points: f64,
    /// The match keys most often missing in recent events.
    pub most_missing: Vec<MissingKey>,
}

/// A match key and how many recent events lack it.
#[derive(Debug, Serialize)]
pub(super) struct MissingKey {
    /// Meta's name of the key.
    pub key: String,
    /// Events without it.
    pub events: u64,
}

/// One daily counter.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Counter {
    /// Days since the epoch.
    #[serde(serialize_with = "whole")]
    pub day: Whole,
    /// Platform.
    pub platform: String,
    /// Row status counted.
    pub metric: String,
    /// How many.
    #[serde(serialize_with = "whole")]
    pub n: Whole,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn whole<S: serde::Serializer>(v: &Whole, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.0)
}
