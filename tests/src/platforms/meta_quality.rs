//! Fake Meta Dataset Quality API: `GET /{version}/dataset_quality?dataset_id=…&agent_name=…
//! &fields=web{…}&access_token=…` (docs/platforms/meta-capi.md §12), answered from what the fake
//! Conversions API accepted for the dataset and what the stand-in tags recorded, so the grades
//! move with what was actually sent:
//!
//! - per `event_name`, the server events of the last 7 days, only those sent with a
//!   `partner_agent` that normalizes to `agent_name` when one is given (§12.1: lowercase, trailing
//!   `_<digits>` parts dropped); the browser copies are the `fbq('track'…)` calls on pages that
//!   ran `fbq('init', <dataset_id>)`;
//! - `event_match_quality`: the share of the last 48 hours' server events carrying each match key,
//!   and a score of 10 from them with the sandbox's own weights (Meta's formula is not public, §7);
//!   a diagnostic when IPv4 addresses were sent (the page's example diagnostic);
//! - `event_coverage`: unique server events ÷ unique browser events (capped at 100), goal 75;
//! - `dedupe_key_feedback`: per key (`event_id`, `external_id`, `fbp`) the shares of browser and
//!   server events carrying it, and the browser events each key deduplicates, incrementally;
//! - `data_freshness`: from the mean delay between `event_time` and receipt;
//! - `acr`: server events without a browser copy ÷ browser events.
//!
//! Strict like the other Graph fakes: token checked as `meta_tokens` does (104, 190), `dataset_id`
//! required and a dataset the token may use (Meta's offline-events page lists 2044055 "doesn't
//! exist" and 10 "doesn't have permission"), field names checked per node type
//! (`meta_quality_fields`).

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::meta::GraphError;
use super::meta_graph::{parse_fields, request_token};
use super::meta_quality_fields::{ROOT, check, select};
use super::meta_quality_grade::grade;
use super::meta_tokens::{check_token, may_use_dataset};
use super::{Outcome, PlatformRequest};
use crate::record::{Platform, RecordedRequest, Verdict};
use crate::state::{AppState, lock};

const ENDPOINT: &str = "dataset_quality";
/// Event coverage and ACR are 7-day figures (§12.1).
const WEEK_MS: i64 = 7 * 24 * 3_600_000;

/// `user_data` key → Meta's `match_key_feedback` identifier, and the sandbox's weight of it.
pub(crate) const KEYS: [(&str, &str, f64); 15] = [
    ("em", "email", 3.0),
    ("ph", "phone", 1.5),
    ("fbc", "fbc", 1.5),
    ("external_id", "external_id", 1.0),
    ("fbp", "fbp", 1.0),
    ("client_ip_address", "ip_address", 0.5),
    ("client_user_agent", "user_agent", 0.5),
    ("fn", "first_name", 0.25),
    ("ln", "last_name", 0.25),
    ("ct", "city", 0.25),
    ("st", "state", 0.25),
    ("zp", "zip", 0.25),
    ("country", "country", 0.25),
    ("db", "date_of_birth", 0.25),
    ("ge", "gender", 0.25),
];

/// A server event the fake Conversions API accepted.
pub(crate) struct ServerCopy {
    /// `event_name`.
    pub name: String,
    /// `event_id`.
    pub id: Option<String>,
    /// The match-key identifiers it carries.
    pub keys: BTreeSet<&'static str>,
    /// Whether its `client_ip_address` is IPv4.
    pub ipv4: bool,
    /// Its hashed `external_id`.
    pub external_id: Option<String>,
    /// Seconds from `event_time` to receipt.
    pub delay_s: i64,
    /// Sandbox time of receipt.
    pub at_ms: i64,
}

/// A browser copy (`fbq('track'|'trackCustom', name, params, {eventID})`).
pub(crate) struct BrowserCopy {
    /// The event name.
    pub name: String,
    /// `eventID`.
    pub id: Option<String>,
    /// The page's advanced-matching `external_id` (`fbq('init', id, {external_id})`).
    pub external_id: Option<String>,
}

/// Handles `GET /{version}/dataset_quality`.
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    match answer(state, req) {
        Ok(body) => Outcome::new(ENDPOINT, StatusCode::OK, Some(body), Verdict::Accepted),
        Err(e) => e.outcome_at(ENDPOINT),
    }
}

fn answer(state: &AppState, req: &PlatformRequest) -> Result<Value, GraphError> {
    let info = check_token(state, request_token(req).as_deref(), req.now_ms)?;
    let Some(dataset) = req.query_param("dataset_id").filter(|d| !d.is_empty()) else {
        return Err(GraphError::new(
            100,
            "(#100) The parameter dataset_id is required",
        ));
    };
    if !dataset.bytes().all(|b| b.is_ascii_digit()) {
        let mut e = GraphError::new(100, "The dataset_id that was inputted doesn't exist.");
        e.subcode = Some(2_044_055);
        return Err(e);
    }
    if !may_use_dataset(state, &info, dataset) {
        return Err(GraphError::new(
            10,
            "(#10) The application doesn't have permission for this action",
        ));
    }
    let fields = parse_fields(req.query_param("fields").unwrap_or_default());
    check(&ROOT, &fields)?;
    let agent = req
        .query_param("agent_name")
        .map(str::to_lowercase)
        .filter(|a| !a.is_empty());
    let (servers, browsers) = copies(state, dataset, agent.as_deref(), req.now_ms);
    let mut names: BTreeSet<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    if agent.is_none() {
        names.extend(browsers.iter().map(|b| b.name.as_str()));
    }
    let web: Vec<Value> = names
        .into_iter()
        .map(|name| {
            let s: Vec<&ServerCopy> = servers.iter().filter(|c| c.name == name).collect();
            let b: Vec<&BrowserCopy> = browsers.iter().filter(|c| c.name == name).collect();
            grade(name, &s, &b, req.now_ms)
        })
        .collect();
    Ok(select(&json!({ "web": web }), &ROOT, &fields))
}

/// §12.1: "`[partner_name]_[majorversion]_[minorVersion]` … will be `partner_name` in lowercase".
fn normalized_agent(agent: &str) -> String {
    let lower = agent.trim().to_lowercase();
    let mut parts: Vec<&str> = lower.split('_').collect();
    while parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        parts.pop();
    }
    parts.join("_")
}

fn first_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(first_text),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The dataset's server copies (agent-filtered) and browser copies of the last 7 days.
fn copies(
    state: &AppState,
    dataset: &str,
    agent: Option<&str>,
    now_ms: i64,
) -> (Vec<ServerCopy>, Vec<BrowserCopy>) {
    let recorder = lock(&state.recorder);
    let recent: Vec<&RecordedRequest> = recorder
        .all()
        .filter(|r| now_ms - r.received_at_ms <= WEEK_MS)
        .collect();
    let mut servers = Vec::new();
    for r in recent.iter().filter(|r| {
        r.platform == Platform::Meta
            && r.endpoint == "events"
            && r.verdict == Verdict::Accepted
            && r.path.split('/').nth(2) == Some(dataset)
    }) {
        let sent_by = r.body["partner_agent"].as_str().map(normalized_agent);
        if agent.is_some_and(|a| sent_by.as_deref() != Some(a)) {
            continue;
        }
        // A form body keeps `data` as the JSON text it was sent as.
        let data = match &r.body["data"] {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        for e in data.as_array().into_iter().flatten() {
            servers.push(server_copy(e, r.received_at_ms));
        }
    }
    let fbq = |r: &&&RecordedRequest| r.platform == Platform::BrowserTags && r.endpoint == "fbq";
    let mut pages: BTreeMap<String, Option<String>> = BTreeMap::new();
    for r in recent.iter().filter(fbq) {
        let args = &r.body["args"];
        if args[0] == "init" && first_text(&args[1]).as_deref() == Some(dataset) {
            let page = r.body["page"].as_str().unwrap_or_default().to_owned();
            pages.insert(page, first_text(&args[2]["external_id"]));
        }
    }
    let mut browsers = Vec::new();
    for r in recent.iter().filter(fbq) {
        let args = &r.body["args"];
        let page = r.body["page"].as_str().unwrap_or_default();
        if let (Some("track" | "trackCustom"), Some(external_id)) =
            (args[0].as_str(), pages.get(page))
        {
            browsers.push(BrowserCopy {
                name: args[1].as_str().unwrap_or_default().to_owned(),
                id: first_text(&args[3]["eventID"]),
                external_id: external_id.clone(),
            });
        }
    }
    (servers, browsers)
}

fn server_copy(e: &Value, at_ms: i64) -> ServerCopy {
    let user = &e["user_data"];
    let present = |k: &str| match &user[k] {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    let event_time = e["event_time"]
        .as_i64()
        .or_else(|| e["event_time"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(at_ms / 1_000);
    ServerCopy {
        name: e["event_name"].as_str().unwrap_or_default().to_owned(),
        id: first_text(&e["event_id"]),
        keys: KEYS
            .iter()
            .filter(|(k, _, _)| present(k))
            .map(|(_, id, _)| *id)
            .collect(),
        ipv4: user["client_ip_address"]
            .as_str()
            .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()),
        external_id: first_text(&user["external_id"]),
        delay_s: (at_ms / 1_000 - event_time).max(0),
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_normalized_as_meta_describes() {
        assert_eq!(normalized_agent("ActiveReach_2_1"), "activereach");
        assert_eq!(normalized_agent("activereach"), "activereach");
    }
}
