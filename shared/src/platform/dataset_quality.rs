//! Meta's own grades of our events: the Dataset Quality API (meta-capi.md §12).
//! `GET {base}/{version}/dataset_quality?dataset_id=…&agent_name=…&fields=web{…}&access_token=…`
//! answers, per event name, the Event Match Quality score and the coverage of each match key, event
//! coverage against Meta's goal, the deduplication keys and data freshness.
//!
//! This module builds the request, says when one is due and reads the answer into [`MetaGrades`];
//! [`view`] puts the grades beside our own estimates (`health_report`). It does not fetch, store
//! or read a clock: the worker's cron does the first two and passes `now`.

mod compare;
mod grades;
mod report;

pub use compare::{freshness_class, view};
pub use grades::{DedupeKey, Diagnostic, EventGrade, KeyCoverage, MetaGrades};
pub use report::{Cached, DedupeShare, EventComparison, Freshness, KeyPair, MetaQuality, Pair};

use serde_json::Value;

use super::request::{Body, HttpRequest, MetaConfig, Method, trim_base};
use super::verdict::{Verdict, classify_meta};

/// At most one fetch an hour: the metrics are 7-day averages and 48-hour scores (meta-capi.md
/// §12.1, §12.4), so asking more often shows nothing new.
pub const FETCH_EVERY_MS: u64 = 60 * 60 * 1000;

/// The fields read, and only those (meta-capi.md §12.2, §12.4). `dedupe_key_feedback` with an `e`:
/// Meta refuses the page table's `dedup_key_feedback` as a nonexisting field (§12.3).
pub const FIELDS: &str = concat!(
    "web{event_name,",
    "event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage}},",
    "diagnostics},event_coverage{percentage,goal_percentage},",
    "dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage},",
    "server_events_with_dedupe_key{percentage},overall_browser_coverage_from_dedupe_key{percentage}},",
    "data_freshness{upload_frequency},acr{percentage}}"
);

/// The `agent_name` that selects the events sent with `partner_agent`: "if your `partner_agent`
/// value is `[partner_name]_[majorversion]_[minorVersion]`, your normalized agent string value will
/// be `partner_name` in lowercase" (meta-capi.md §12.1): lowercased, trailing all-digit
/// `_`-separated parts dropped. `None` for a blank agent.
pub fn agent_name(partner_agent: &str) -> Option<String> {
    let lower = partner_agent.trim().to_lowercase();
    let mut parts: Vec<&str> = lower.split('_').collect();
    while parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        parts.pop();
    }
    let name = parts.join("_");
    (!name.is_empty()).then_some(name)
}

/// The request for `config`'s dataset, filtered to our events by `agent_name` when a partner
/// agent is configured (without it Meta grades every event of the dataset, §12.1).
pub fn quality_request(config: &MetaConfig) -> HttpRequest {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("dataset_id", config.pixel_id.trim());
    if let Some(agent) = config.partner_agent.as_deref().and_then(agent_name) {
        query.append_pair("agent_name", &agent);
    }
    query.append_pair("fields", FIELDS);
    query.append_pair("access_token", &config.access_token);
    HttpRequest {
        method: Method::Get,
        url: format!(
            "{}/{}/dataset_quality?{}",
            trim_base(&config.base_url),
            config.api_version.trim_matches('/'),
            query.finish()
        ),
        headers: Vec::new(),
        body: Body::Form(String::new()),
    }
}

/// Whether to ask Meta again at `now_ms`, the last attempt (answered or not) at `attempted_at_ms`:
/// once `every_ms` ([`FETCH_EVERY_MS`] unless a test shortens it) has passed since.
pub fn due(attempted_at_ms: Option<u64>, now_ms: u64, every_ms: u64) -> bool {
    attempted_at_ms.is_none_or(|at| now_ms >= at.saturating_add(every_ms))
}

/// Why there are no fresh grades.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QualityError {
    /// Meta answered with an error (its Graph code and message, as `classify_meta` reads them).
    #[error("Meta refused the request: {reason}")]
    Refused {
        /// What Meta said.
        reason: String,
        /// How the Conversions API classifier reads the same answer.
        verdict: Verdict,
    },
    /// A success status without the documented shape.
    #[error("Meta's answer (HTTP {status}) is not a dataset quality answer")]
    Unreadable {
        /// HTTP status.
        status: u16,
    },
    /// No answer at all (timeout, connection error).
    #[error("no answer from Meta (timeout or connection error)")]
    NoAnswer,
}

impl QualityError {
    /// What the merchant can do about it.
    pub fn what_to_do(&self) -> &'static str {
        match self {
            Self::Refused {
                verdict: Verdict::Reconnect { .. },
                ..
            } => {
                "Meta refused the access token: reconnect Meta in the console or replace META_ACCESS_TOKEN"
            }
            // meta-capi.md §12.1: "Use events dataset" and ads_read (+ ads_management or
            // business_management).
            Self::Refused {
                verdict: Verdict::ConfigError { .. },
                ..
            } => {
                "the token may not read this dataset's quality: give its user \"Use events dataset\" on \
                 the pixel and the app ads_read with ads_management or business_management"
            }
            Self::Refused {
                verdict: Verdict::Permanent { .. } | Verdict::SplitAndRetry { .. },
                ..
            } => "Meta refused a parameter: check META_PIXEL_ID and META_API_VERSION",
            _ => "a passing fault: the next hourly fetch asks again",
        }
    }
}

/// Reads an answer to [`quality_request`].
///
/// # Errors
/// [`QualityError::Refused`] for an error answer, [`QualityError::Unreadable`] for a success
/// without a JSON object.
pub fn parse(status: u16, body: &str) -> Result<MetaGrades, QualityError> {
    if !(200..300).contains(&status) {
        let verdict = classify_meta(status, body, 1)
            .pop()
            .unwrap_or(Verdict::Permanent {
                reason: format!("meta HTTP {status}"),
            });
        let reason = match &verdict {
            Verdict::Retry { reason, .. }
            | Verdict::Throttled { reason, .. }
            | Verdict::Permanent { reason }
            | Verdict::ConfigError { reason }
            | Verdict::Reconnect { reason }
            | Verdict::SplitAndRetry { reason } => reason.clone(),
            Verdict::Delivered => format!("meta HTTP {status}"),
        };
        return Err(QualityError::Refused { reason, verdict });
    }
    let json: Value =
        serde_json::from_str(body).map_err(|_| QualityError::Unreadable { status })?;
    if !json.is_object() {
        return Err(QualityError::Unreadable { status });
    }
    // An answer without `web` grades nothing yet (§12.3: metrics may be left out).
    let events = json["web"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(event_grade)
        .collect();
    Ok(MetaGrades { events })
}

fn event_grade(entry: &Value) -> Option<EventGrade> {
    let name = entry["event_name"].as_str()?.to_owned();
    let emq = &entry["event_match_quality"];
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    Some(EventGrade {
        event_name: name,
        match_quality: number(&emq["composite_score"]),
        match_keys: list(&emq["match_key_feedback"])
            .iter()
            .filter_map(|k| {
                Some(KeyCoverage {
                    identifier: k["identifier"].as_str()?.to_owned(),
                    pct: number(&k["coverage"]["percentage"]),
                })
            })
            .collect(),
        diagnostics: list(&emq["diagnostics"])
            .iter()
            .map(|d| Diagnostic {
                name: text(&d["name"]),
                solution: text(&d["solution"]),
                pct: number(&d["percentage"]),
                affected_events: whole(&d["affected_event_count"]),
                total_events: whole(&d["total_event_count"]),
            })
            .collect(),
        coverage_pct: number(&entry["event_coverage"]["percentage"]),
        coverage_goal_pct: number(&entry["event_coverage"]["goal_percentage"]),
        dedupe_keys: list(&entry["dedupe_key_feedback"])
            .iter()
            .filter_map(|k| {
                Some(DedupeKey {
                    key: k["dedupe_key"].as_str()?.to_owned(),
                    browser_pct: number(&k["browser_events_with_dedupe_key"]["percentage"]),
                    server_pct: number(&k["server_events_with_dedupe_key"]["percentage"]),
                    overall_browser_coverage_pct: number(
                        &k["overall_browser_coverage_from_dedupe_key"]["percentage"],
                    ),
                })
            })
            .collect(),
        upload_frequency: entry["data_freshness"]["upload_frequency"]
            .as_str()
            .map(str::to_owned),
        acr_pct: number(&entry["acr"]["percentage"]),
    })
}

/// A finite number (Meta's examples send numbers, never strings).
fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|n| n.is_finite())
}

fn whole(v: &Value) -> Option<u64> {
    v.as_u64()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests;
