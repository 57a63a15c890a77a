use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::delivery::fixtures::{self, NOW};
use crate::delivery::outcome::RowUpdate;
use crate::delivery::plan::RowStatus;
use crate::delivery::run::RowOutcome;
use crate::health_counters::{arrival, outcomes};
use crate::health_report::health_figures;
use crate::mapping_config::Mappings;
use crate::platform::Platform;
use crate::record::Source;

fn config(agent: Option<&str>) -> MetaConfig {
    MetaConfig {
        base_url: "https://graph.facebook.com/".into(),
        api_version: "v25.0".into(),
        pixel_id: "123".into(),
        access_token: "SECRET".into(),
        partner_agent: agent.map(str::to_owned),
        test_event_code: None,
    }
}

fn query(url: &str) -> BTreeMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

// meta-capi.md §12.1: `[partner_name]_[majorversion]_[minorVersion]` → `partner_name`, lowercase.
#[test]
fn agent_name_is_the_partner_agent_lowercased_without_its_version() {
    assert_eq!(
        agent_name("ActiveReach_1_2").as_deref(),
        Some("activereach")
    );
    assert_eq!(agent_name("shop_app_3_10").as_deref(), Some("shop_app"));
    assert_eq!(agent_name("activereach").as_deref(), Some("activereach"));
    assert_eq!(agent_name("v2_beta").as_deref(), Some("v2_beta"));
    assert_eq!(agent_name("  "), None);
}

// meta-capi.md §12.1 (GET, dataset_id, agent_name, fields, access_token), §12.3 (`dedupe_…`).
#[test]
fn the_request_is_a_get_filtered_by_agent_name_with_dedupe_spelled_with_an_e() {
    let r = quality_request(&config(Some("ActiveReach_1_0")));
    assert_eq!(r.method, Method::Get);
    assert!(
        r.url
            .starts_with("https://graph.facebook.com/v25.0/dataset_quality?"),
        "{}",
        r.url
    );
    let q = query(&r.url);
    assert_eq!(q["dataset_id"], "123");
    assert_eq!(q["agent_name"], "activereach");
    assert_eq!(q["access_token"], "SECRET");
    assert_eq!(q["fields"], FIELDS);
    assert!(FIELDS.contains("dedupe_key_feedback{"));
    assert!(!FIELDS.contains("dedup_key"));
    assert!(!format!("{r:?}").contains("SECRET"));
}

#[test]
#[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
fn snapshot_of_the_dataset_quality_request() {
    insta::assert_json_snapshot!(
        "meta_dataset_quality_request",
        quality_request(&config(Some("activereach")))
    );
}

// meta-capi.md §12.1: "If you do not provide an agent_name, all events … will be included".
#[test]
fn without_a_partner_agent_every_event_of_the_dataset_is_graded() {
    let q = query(&quality_request(&config(None)).url);
    assert!(!q.contains_key("agent_name"));
    assert!(!query(&quality_request(&config(Some(" "))).url).contains_key("agent_name"));
}

// meta-capi.md §12.4: at most once an hour.
#[test]
fn a_fetch_is_due_first_and_then_once_an_hour() {
    assert!(due(None, NOW, FETCH_EVERY_MS));
    assert!(!due(Some(NOW), NOW + FETCH_EVERY_MS - 1, FETCH_EVERY_MS));
    assert!(due(Some(NOW), NOW + FETCH_EVERY_MS, FETCH_EVERY_MS));
}

/// The page's examples of every metric, in one answer (meta-capi.md §12.2).
fn documented_answer() -> String {
    json!({"web": [{
        "event_name": "Purchase",
        "event_match_quality": {"composite_score": 6.2, "match_key_feedback": [
            {"identifier": "email", "coverage": {"percentage": 100}},
            {"identifier": "ip_address", "coverage": {"percentage": 99.9}}],
          "diagnostics": [{"name": "Server sending mismatched IP addresses",
            "description": "…", "solution": "send the client_ip_address …", "percentage": 61.5,
            "affected_event_count": 19567, "total_event_count": 31830}]},
        "event_coverage": {"percentage": 34.1, "goal_percentage": 75, "description": "…"},
        "dedupe_key_feedback": [
            {"dedupe_key": "event_id", "browser_events_with_dedupe_key": {"percentage": 100},
             "server_events_with_dedupe_key": {"percentage": 100},
             "overall_browser_coverage_from_dedupe_key": {"percentage": 14.8}},
            {"dedupe_key": "external_id", "overall_browser_coverage_from_dedupe_key": {"percentage": 15.96}}],
        "data_freshness": {"upload_frequency": "real_time", "description": "…"},
        "acr": {"percentage": 37.9}
    }, {"event_name": "Lead"}]})
    .to_string()
}

#[test]
fn metas_documented_answer_reads_into_grades_per_event_name() {
    let g = parse(200, &documented_answer()).unwrap();
    let p = &g.events[0];
    assert_eq!(p.event_name, "Purchase");
    assert_eq!(p.match_quality, Some(6.2));
    assert_eq!(p.match_keys[1].identifier, "ip_address");
    assert_eq!(p.match_keys[1].pct, Some(99.9));
    assert_eq!(p.diagnostics[0].affected_events, Some(19_567));
    assert_eq!(
        (p.coverage_pct, p.coverage_goal_pct),
        (Some(34.1), Some(75.0))
    );
    assert_eq!(p.dedupe_keys[0].key, "event_id");
    assert_eq!(p.dedupe_keys[1].overall_browser_coverage_pct, Some(15.96));
    assert_eq!(p.dedupe_keys[1].browser_pct, None);
    assert_eq!(p.upload_frequency.as_deref(), Some("real_time"));
    assert_eq!(p.acr_pct, Some(37.9));
    // meta-capi.md §12.3: any metric may be missing.
    assert_eq!(
        g.events[1],
        EventGrade {
            event_name: "Lead".into(),
            ..EventGrade::default()
        }
    );
    assert_eq!(parse(200, "{}").unwrap(), MetaGrades::default());
}

fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> String {
    json!({"error": {"message": message, "type": "OAuthException", "code": code,
                     "error_subcode": subcode, "fbtrace_id": "A1"}})
    .to_string()
}

// meta-capi.md §12.3: the page table's spelling is refused as a nonexisting field.
#[test]
fn a_refused_field_is_an_error_that_names_it_and_says_what_to_check() {
    let body = graph_error(
        100,
        None,
        "(#100) Tried accessing nonexisting field (dedup_key_feedback) on node type (AdsPixelCAPIIntegrationQuality)",
    );
    let e = parse(400, &body).unwrap_err();
    assert!(e.to_string().contains("dedup_key_feedback"), "{e}");
    assert!(e.what_to_do().contains("META_PIXEL_ID"));
    assert_eq!(
        parse(200, "[1]"),
        Err(QualityError::Unreadable { status: 200 })
    );
    assert_eq!(
        parse(200, "not json"),
        Err(QualityError::Unreadable { status: 200 })
    );
}

// meta-capi.md §5.2 (190: new token), §12.1 (the permissions the API needs).
#[test]
fn token_and_permission_refusals_say_reconnect_or_which_permission() {
    let expired = parse(400, &graph_error(190, Some(463), "Session has expired")).unwrap_err();
    assert!(expired.what_to_do().contains("reconnect Meta"), "{expired}");
    let denied = parse(403, &graph_error(10, None, "(#10) Permission denied")).unwrap_err();
    assert!(denied.what_to_do().contains("ads_read"));
    let busy = parse(400, &graph_error(17, None, "User request limit reached")).unwrap_err();
    assert!(busy.what_to_do().contains("next hourly fetch"));
    assert!(
        QualityError::NoAnswer
            .what_to_do()
            .contains("next hourly fetch")
    );
}

fn delivered(records: &[&crate::record::EventRecord]) -> Vec<crate::health_counters::Count> {
    let by_id: BTreeMap<String, _> = records
        .iter()
        .map(|r| (r.event_id.to_string(), (*r).clone()))
        .collect();
    let done: Vec<RowOutcome> = records
        .iter()
        .map(|r| RowOutcome {
            event_id: r.event_id.to_string(),
            update: RowUpdate {
                status: RowStatus::Delivered,
                next_attempt_at_ms: NOW,
                last_error: None,
                failure: None,
                attempted: true,
            },
            trace_id: None,
        })
        .collect();
    outcomes(
        Platform::Meta,
        &done,
        &by_id,
        records[0].occurred_at_ms + 1_500,
    )
}

fn figures() -> crate::health_report::HealthFigures {
    let purchase = fixtures::record(fixtures::PURCHASE, Source::Server);
    let cart = fixtures::record(fixtures::CART, Source::Pixel);
    let mut rows = arrival(None, &purchase);
    rows.extend(arrival(None, &cart));
    rows.extend(delivered(&[&purchase]));
    health_figures(&rows, NOW)
}

#[test]
fn metas_grades_stand_beside_our_estimates_per_meta_event_name() {
    let grades = parse(200, &documented_answer()).unwrap();
    let cached = Cached {
        agent_name: Some("activereach".into()),
        attempted_at_ms: NOW,
        fetched_at_ms: Some(NOW),
        grades: Some(grades),
        ..Cached::default()
    };
    let v = view(
        "123",
        None,
        Some(&cached),
        &figures(),
        &Mappings::default(),
        FETCH_EVERY_MS,
    );
    assert_eq!(
        (v.state, v.agent_name.as_deref()),
        ("ok", Some("activereach"))
    );
    assert_eq!(v.fetched_at.as_deref(), Some("2025-11-24 16:00:00 UTC"));
    assert_eq!(v.next_fetch_at_ms, Some(NOW + FETCH_EVERY_MS));
    let names: Vec<&str> = v.events.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(names, ["AddToCart", "Lead", "Purchase"], "ours and Meta's");
    let p = &v.events[2];
    assert_eq!(p.our_events, ["transaction.purchase"]);
    // email 20 + fbp 8 + IP and user agent 8 points = 3.6 (match_quality.rs).
    assert_eq!(
        p.match_quality,
        Pair {
            meta: Some(6.2),
            ours: Some(3.6),
            gap: Some(-2.6)
        }
    );
    assert_eq!(p.match_quality_check.state, "warn");
    let email = p
        .match_keys
        .iter()
        .find(|k| k.identifier == "email")
        .unwrap();
    assert_eq!(
        (email.key, email.meta, email.ours),
        (Some("em"), Some(1.0), Some(1.0))
    );
    assert!(
        p.match_keys
            .iter()
            .any(|k| k.identifier == "fbp" && k.meta.is_none())
    );
    assert_eq!(
        p.coverage,
        Pair {
            meta: Some(0.341),
            ours: Some(1.0),
            gap: Some(0.659)
        }
    );
    assert_eq!(
        (p.coverage_check.goal, p.coverage_check.state),
        (0.75, "warn")
    );
    // 14.8 % by event_id, 15.96 % more by external_id.
    assert_eq!(p.dedup.meta, Some(0.308));
    assert_eq!(p.dedup.ours, Some(0.0));
    assert_eq!(p.freshness.meta.as_deref(), Some("real_time"));
    assert_eq!(p.freshness.ours, Some("real_time"));
    assert_eq!(p.acr, Some(0.379));
    let cart = &v.events[0];
    assert_eq!(
        (cart.match_quality.meta, cart.coverage.ours),
        (None, Some(0.0))
    );
    assert_eq!(
        cart.match_quality_check.state, "none",
        "Meta has not graded it"
    );
}

#[test]
fn a_failed_fetch_keeps_the_last_grades_and_shows_the_error() {
    let cached = Cached {
        attempted_at_ms: NOW + 1,
        fetched_at_ms: Some(NOW),
        grades: Some(parse(200, &documented_answer()).unwrap()),
        error: Some(QualityError::NoAnswer.to_string()),
        what_to_do: Some(QualityError::NoAnswer.what_to_do().into()),
        ..Cached::default()
    };
    let v = view(
        "123",
        None,
        Some(&cached),
        &figures(),
        &Mappings::default(),
        FETCH_EVERY_MS,
    );
    assert_eq!(v.state, "error");
    assert!(v.error.as_deref().unwrap().contains("no answer"));
    assert!(v.events.iter().any(|e| e.match_quality.meta == Some(6.2)));
    let never = view(
        "123",
        Some("a".into()),
        None,
        &figures(),
        &Mappings::default(),
        1,
    );
    assert_eq!((never.state, never.fetched_at_ms), ("not_fetched", None));
    assert!(never.events.iter().all(|e| e.match_quality.meta.is_none()));
}

// meta-capi.md §5.1: within 1 hour is real time; > 2 hours loses performance; 24 hours or more
// has significant issues.
#[test]
fn our_latency_is_classed_in_metas_frequency_words() {
    assert_eq!(freshness_class(5_000), "real_time");
    assert_eq!(freshness_class(3_600_000), "real_time");
    assert_eq!(freshness_class(7_200_000), "hourly");
    assert_eq!(freshness_class(21_600_000), "daily");
    assert_eq!(freshness_class(u64::MAX), "weekly");
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(status in 0_u16..600, body in ".{0,300}") {
            let _ = super::parse(status, &body);
        }

        #[test]
        fn agent_names_are_normalized_once_and_for_all(agent in "[A-Za-z0-9_]{0,24}") {
            let once = super::agent_name(&agent);
            prop_assert_eq!(once.as_deref().and_then(super::agent_name), once);
        }
    }
}
