//! The metrics of one event name for the fake Dataset Quality API (`meta_quality`), in the
//! answer's full shape (docs/platforms/meta-capi.md §12.2); field selection comes after.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::meta_quality::{BrowserCopy, KEYS, ServerCopy};

/// EMQ uses "The last 48 hours of data" (§7).
const EMQ_MS: i64 = 48 * 3_600_000;

#[allow(clippy::cast_precision_loss)]
fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    ((part as f64 / whole as f64) * 10_000.0).round() / 100.0
}

/// Copies counted once per event id (copies without one each count).
fn unique<'a>(ids: impl Iterator<Item = &'a Option<String>>) -> usize {
    let mut seen = BTreeSet::new();
    ids.filter(|id| id.as_ref().is_none_or(|i| seen.insert(i.clone())))
        .count()
}

/// Every metric of one event name, in the answer's full shape (field selection comes after).
pub(crate) fn grade(
    name: &str,
    servers: &[&ServerCopy],
    browsers: &[&BrowserCopy],
    now_ms: i64,
) -> Value {
    let mut out = json!({ "event_name": name });
    let recent: Vec<&&ServerCopy> = servers
        .iter()
        .filter(|s| now_ms - s.at_ms <= EMQ_MS)
        .collect();
    if !recent.is_empty() {
        out["event_match_quality"] = match_quality(&recent);
    }
    if servers.is_empty() {
        return out;
    }
    let browser_n = unique(browsers.iter().map(|b| &b.id));
    let server_n = unique(servers.iter().map(|s| &s.id));
    if browser_n > 0 {
        out["event_coverage"] = json!({
            "percentage": pct(server_n, browser_n).min(100.0), "goal_percentage": 75,
            "description": "The percentage of events received from your Conversions API compared to unique browser events from the Meta Pixel.",
        });
        let ids: BTreeSet<&str> = browsers.iter().filter_map(|b| b.id.as_deref()).collect();
        let server_only = servers
            .iter()
            .filter(|s| s.id.as_deref().is_none_or(|i| !ids.contains(i)))
            .count();
        out["acr"] = json!({
            "percentage": pct(server_only, browser_n),
            "description": format!("In the last 7 days, you saw about {}% more conversions reported for {name} events by using the Conversions API alongside the Meta Pixel.", pct(server_only, browser_n)),
        });
    }
    out["dedupe_key_feedback"] = dedupe(servers, browsers);
    #[allow(clippy::cast_possible_wrap)]
    let mean_delay = servers.iter().map(|s| s.delay_s).sum::<i64>() / servers.len() as i64;
    let frequency = match mean_delay {
        d if d <= 20 * 60 => "real_time",
        d if d <= 2 * 3_600 => "hourly",
        d if d <= 2 * 86_400 => "daily",
        _ => "weekly",
    };
    out["data_freshness"] = json!({ "upload_frequency": frequency,
        "description": "The average frequency with which instances of this event are received through the Conversions API." });
    out
}

fn match_quality(recent: &[&&ServerCopy]) -> Value {
    let n = recent.len();
    let mut score = 0.0;
    let mut feedback = Vec::new();
    for (_, id, weight) in KEYS {
        let with = recent.iter().filter(|s| s.keys.contains(id)).count();
        if with > 0 {
            score += weight * pct(with, n) / 100.0;
            feedback.push(json!({ "identifier": id, "coverage": { "percentage": pct(with, n) } }));
        }
    }
    let mut emq = json!({
        "composite_score": (score.min(10.0) * 10.0).round() / 10.0,
        "match_key_feedback": feedback,
        "diagnostics": [],
    });
    let ipv4 = recent.iter().filter(|s| s.ipv4).count();
    if ipv4 > 0 {
        // The page's example diagnostic, in Meta's words (§12.2).
        emq["diagnostics"] = json!([{
            "name": "Update your IPv4 IP addresses to IPv6 IP addresses",
            "description": "Your server is sending IPV4 IP addresses through the Conversions API. We recommend updating to IPV6 IP addresses because this is the industry standard and offers better durability for this integration.",
            "solution": "You can update your web server and DNS provider configuration to support IPv6. In your server payload, send the client_ip_address retrieved from customer interactions.",
            "percentage": pct(ipv4, n), "affected_event_count": ipv4, "total_event_count": n,
        }]);
    }
    emq
}

/// Per dedupe key: browser and server shares carrying it, and the browser events it deduplicates
/// that no earlier key did ("incremental for each dedupe key", §12.2). The stand-in tags carry no
/// cookies, so no browser copy has an `fbp`.
fn dedupe(servers: &[&ServerCopy], browsers: &[&BrowserCopy]) -> Value {
    let server_ids: BTreeSet<&str> = servers.iter().filter_map(|s| s.id.as_deref()).collect();
    let server_ext: BTreeSet<&str> = servers
        .iter()
        .filter_map(|s| s.external_id.as_deref())
        .collect();
    let mut matched = vec![false; browsers.len()];
    let mut out = Vec::new();
    for key in ["event_id", "external_id", "fbp"] {
        let browser_value = |b: &BrowserCopy| match key {
            "event_id" => b.id.clone(),
            "external_id" => b.external_id.clone(),
            _ => None,
        };
        let server_has = servers
            .iter()
            .filter(|s| match key {
                "event_id" => s.id.is_some(),
                "external_id" => s.external_id.is_some(),
                _ => s.keys.contains("fbp"),
            })
            .count();
        let mut newly = 0;
        for (i, b) in browsers.iter().enumerate() {
            let hit = browser_value(b).is_some_and(|v| match key {
                "event_id" => server_ids.contains(v.as_str()),
                _ => server_ext.contains(v.as_str()),
            });
            if hit && !matched[i] {
                matched[i] = true;
                newly += 1;
            }
        }
        let carrying = browsers
            .iter()
            .filter(|b| browser_value(b).is_some())
            .count();
        let share = |p: f64, what: &str| json!({ "percentage": p, "description": what });
        out.push(json!({
            "dedupe_key": key,
            "browser_events_with_dedupe_key": share(pct(carrying, browsers.len()), "The percentage of browser events that contain this dedupe key."),
            "server_events_with_dedupe_key": share(pct(server_has, servers.len()), "The percentage of server events that contain this dedupe key."),
            "overall_browser_coverage_from_dedupe_key": share(pct(newly, browsers.len()), "The overall percentage of browser events that are deduped with Conversions API events using this key. This percentage is incremental for each dedupe key."),
        }));
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_with_the_same_event_id_count_once() {
        let ids = [Some("a".to_owned()), Some("a".to_owned()), None, None];
        assert_eq!(unique(ids.iter()), 3);
    }
}
