//! The fake Dataset Quality API (docs/platforms/meta-capi.md §12) grades what the fake Conversions
//! API received for the dataset, filtered by `agent_name`, with the browser copies the stand-in tags
//! recorded; it checks tokens, datasets and field names as strictly as the other Graph fakes.

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ar_sandbox::Sandbox;
use ar_sandbox::checks::sha256_hex;
use common::*;
use serde_json::{Value, json};

const DATASET: &str = "1234567890123";
const PAGE: &str = "https://shop.example.com/thank-you";
/// What the worker asks for (`ar_shared::platform::dataset_quality::FIELDS`).
const FIELDS: &str = "web{event_name,event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage}},diagnostics},event_coverage{percentage,goal_percentage},dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage},server_events_with_dedupe_key{percentage},overall_browser_coverage_from_dedupe_key{percentage}},data_freshness{upload_frequency},acr{percentage}}";

async fn quality(sb: &Sandbox, params: &[(&str, &str)]) -> (u16, Value) {
    let res = http()
        .get(format!("{}/v25.0/dataset_quality", sb.platform_url))
        .query(params)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn grades(sb: &Sandbox, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![
        ("dataset_id", DATASET),
        ("fields", FIELDS),
        ("access_token", "sandbox-meta-token"),
    ];
    params.extend_from_slice(extra);
    let (status, body) = quality(sb, &params).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn entry<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["web"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {body:#}"))
}

fn key_pct(emq: &Value, identifier: &str) -> Option<f64> {
    emq["match_key_feedback"]
        .as_array()?
        .iter()
        .find(|k| k["identifier"] == identifier)?["coverage"]["percentage"]
        .as_f64()
}

/// A Lead with only a hashed email, an IPv4 address and a user agent.
fn thin_lead(id: &str) -> Value {
    json!({"event_name": "Lead", "event_time": now_s() - 30, "event_id": id,
           "action_source": "website", "event_source_url": PAGE,
           "user_data": {"em": [sha256_hex("a@example.com")], "client_ip_address": "203.0.113.9",
                         "client_user_agent": "Mozilla/5.0 test"}})
}

async fn tag(sb: &Sandbox, args: Value) {
    let body = json!({ "tag": "fbq", "args": args, "page": PAGE });
    let url = format!("{}/_sandbox/browser-tags", sb.platform_url);
    assert_eq!(post_json(&url, &body, &[]).await.0, 200);
}

#[tokio::test]
async fn grades_follow_what_the_fake_capi_received_per_event_name() {
    let sb = sandbox().await;
    let (status, _) = post_meta(&sb, vec![meta_event("p-1"), meta_event("p-2")]).await;
    assert_eq!(status, 200);
    let mut half = thin_lead("l-1");
    half["user_data"]["client_ip_address"] = json!("2001:db8::9");
    assert_eq!(post_meta(&sb, vec![thin_lead("l-2"), half]).await.0, 200);
    let body = grades(&sb, &[]).await;

    let purchase = &entry(&body, "Purchase")["event_match_quality"];
    // email 3 + phone 1.5 + fbc 1.5 + external_id 1 + fbp 1 + IP 0.5 + user agent 0.5 (the
    // sandbox's weights), every key on every event.
    assert_eq!(purchase["composite_score"], 9.0, "{purchase:#}");
    assert_eq!(key_pct(purchase, "email"), Some(100.0));
    assert_eq!(key_pct(purchase, "ip_address"), Some(100.0));
    assert_eq!(purchase["diagnostics"], json!([]));
    let lead = entry(&body, "Lead");
    assert_eq!(lead["event_match_quality"]["composite_score"], 4.0);
    assert_eq!(key_pct(&lead["event_match_quality"], "phone"), None);
    let ipv4 = &lead["event_match_quality"]["diagnostics"][0];
    assert_eq!(
        ipv4["name"],
        "Update your IPv4 IP addresses to IPv6 IP addresses"
    );
    assert_eq!(
        (&ipv4["percentage"], &ipv4["affected_event_count"]),
        (&json!(50.0), &json!(1))
    );
    assert_eq!(lead["data_freshness"]["upload_frequency"], "real_time");
    assert!(lead.get("event_coverage").is_none(), "no browser copies");
    let server = &lead["dedupe_key_feedback"][0];
    assert_eq!(server["dedupe_key"], "event_id");
    assert_eq!(server["server_events_with_dedupe_key"]["percentage"], 100.0);
}

// §12.1: agent_name keeps the events whose partner_agent normalizes to it.
#[tokio::test]
async fn agent_name_keeps_only_events_sent_with_that_partner_agent() {
    let sb = sandbox().await;
    let ours = json!({ "data": [meta_event("a-1")], "partner_agent": "ActiveReach_1_2" });
    assert_eq!(post_json(&meta_url(&sb), &ours, &[]).await.0, 200);
    assert_eq!(post_meta(&sb, vec![thin_lead("other-1")]).await.0, 200);

    let filtered = grades(&sb, &[("agent_name", "activereach")]).await;
    let names: Vec<&Value> = filtered["web"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event_name"])
        .collect();
    assert_eq!(names, [&json!("Purchase")], "{filtered:#}");
    let all = grades(&sb, &[]).await;
    assert_eq!(all["web"].as_array().unwrap().len(), 2);
    let none = grades(&sb, &[("agent_name", "someoneelse")]).await;
    assert_eq!(none, json!({"web": []}));
}

#[tokio::test]
async fn browser_copies_give_coverage_deduplication_and_acr() {
    let sb = sandbox().await;
    tag(
        &sb,
        json!(["init", DATASET, {"external_id": sha256_hex("cust-7")}]),
    )
    .await;
    for id in ["p-1", "p-9"] {
        tag(&sb, json!(["track", "Purchase", {}, {"eventID": id}])).await;
    }
    tag(&sb, json!(["track", "Purchase", {}])).await;
    assert_eq!(
        post_meta(&sb, vec![meta_event("p-1"), meta_event("p-2")])
            .await
            .0,
        200
    );
    let p = entry(&grades(&sb, &[]).await, "Purchase").clone();
    // 2 server events against 3 unique browser events.
    assert_eq!(
        p["event_coverage"],
        json!({"percentage": 66.67, "goal_percentage": 75})
    );
    let keys = p["dedupe_key_feedback"].as_array().unwrap();
    let overall =
        |i: usize| keys[i]["overall_browser_coverage_from_dedupe_key"]["percentage"].clone();
    // p-1 meets by event_id; the two others by external_id (the init's advanced matching), which
    // the servers' events carry too.
    assert_eq!(
        (overall(0), overall(1), overall(2)),
        (json!(33.33), json!(66.67), json!(0.0))
    );
    assert_eq!(
        keys[0]["browser_events_with_dedupe_key"]["percentage"],
        66.67
    );
    assert_eq!(keys[2]["dedupe_key"], "fbp");
    // p-2 has no browser copy: one more conversion for 3 browser events.
    assert_eq!(p["acr"]["percentage"], 33.33);
}

// §12.3: the page table's `dedup_key_feedback` is refused; `dedupe_key_feedback` is the field.
#[tokio::test]
async fn the_tables_spelling_dedup_key_feedback_is_refused_like_meta_does() {
    let sb = sandbox().await;
    let (status, body) = quality(
        &sb,
        &[
            ("dataset_id", DATASET),
            ("fields", "web{event_name,dedup_key_feedback}"),
            ("access_token", "sandbox-meta-token"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["type"], "OAuthException");
    assert_eq!(
        body["error"]["message"],
        "(#100) Tried accessing nonexisting field (dedup_key_feedback) on node type (AdsPixelCAPIIntegrationQuality)"
    );
}

#[tokio::test]
async fn only_the_fields_asked_for_are_answered() {
    let sb = sandbox().await;
    assert_eq!(post_meta(&sb, vec![meta_event("p-1")]).await.0, 200);
    let (status, body) = quality(
        &sb,
        &[
            ("dataset_id", DATASET),
            (
                "fields",
                "web{event_match_quality{composite_score},event_name}",
            ),
            ("access_token", "sandbox-meta-token"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"web": [{"event_match_quality": {"composite_score": 9.0}, "event_name": "Purchase"}]})
    );
}

#[tokio::test]
async fn tokens_and_datasets_are_checked_like_the_other_graph_reads() {
    let sb = sandbox().await;
    let code = |b: &Value| {
        (
            b["error"]["code"].as_i64(),
            b["error"]["error_subcode"].as_i64(),
        )
    };
    let (s, b) = quality(&sb, &[("dataset_id", DATASET), ("fields", FIELDS)]).await;
    assert_eq!((s, code(&b)), (400, (Some(104), None)), "{b}");
    let (s, b) = quality(&sb, &[("dataset_id", DATASET), ("access_token", "nope")]).await;
    assert_eq!((s, code(&b)), (400, (Some(190), None)));
    let (_, b) = quality(&sb, &[("access_token", "sandbox-meta-token")]).await;
    assert_eq!(
        b["error"]["message"],
        "(#100) The parameter dataset_id is required"
    );
    let (_, b) = quality(
        &sb,
        &[
            ("dataset_id", "pixel"),
            ("access_token", "sandbox-meta-token"),
        ],
    )
    .await;
    assert_eq!(code(&b), (Some(100), Some(2_044_055)));
    // The system user reaches only the configured ad accounts' datasets.
    let system = "sandbox-system-user-token";
    let (_, b) = quality(&sb, &[("dataset_id", DATASET), ("access_token", system)]).await;
    assert_eq!(code(&b), (Some(10), None), "{b}");
    let (s, b) = quality(
        &sb,
        &[("dataset_id", "123456789"), ("access_token", system)],
    )
    .await;
    assert_eq!((s, b), (200, json!({"web": []})));
    let s = http()
        .get(format!(
            "{}/v25.0/dataset_quality?dataset_id={DATASET}",
            sb.platform_url
        ))
        .bearer_auth("sandbox-meta-token")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 200, "a bearer token serves too");
}

// §7: the score uses the last 48 hours; coverage and deduplication the last 7 days.
#[tokio::test]
async fn the_score_forgets_events_older_than_48_hours() {
    let sb = sandbox().await;
    assert_eq!(post_meta(&sb, vec![meta_event("p-1")]).await.0, 200);
    let clock = format!("{}/_sandbox/clock", sb.platform_url);
    let advance = json!({ "advance_ms": 49 * 3_600_000_i64 });
    assert_eq!(post_json(&clock, &advance, &[]).await.0, 200);
    let p = entry(&grades(&sb, &[]).await, "Purchase").clone();
    assert!(p.get("event_match_quality").is_none(), "{p:#}");
    assert!(p["dedupe_key_feedback"].is_array());
    let week = json!({ "advance_ms": 6 * 24 * 3_600_000_i64 });
    assert_eq!(post_json(&clock, &week, &[]).await.0, 200);
    assert_eq!(grades(&sb, &[]).await, json!({"web": []}));
}
