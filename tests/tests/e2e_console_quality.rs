//! Meta's own grades beside ours, end to end: the real worker (workerd via `wrangler dev`, local
//! D1) sends purchases and a sign-up to the fake Meta, the stand-in tags' calls record the pixel's
//! copies there, the cron asks the fake Dataset Quality API (docs/platforms/meta-capi.md §12)
//! filtered by our `agent_name`, and `/_ar/health` (`meta_quality`) and the console page show
//! Meta's answer beside our own figures. A refused fetch is then shown with what to do, the
//! earlier grades kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::harness::Worker;
use serde_json::{Value, json};

const ADMIN: &str = "admin-e2e-quality-0123456789abcdef";
const SECRET: &str = "e2e-quality-secret";
const UA: &str = "Mozilla/5.0 (e2e-quality)";
const PAGE: &str = "https://shop.example.com/done";
/// What the worker asks for (`ar_shared::platform::dataset_quality::FIELDS`).
const FIELDS: &str = ar_shared::platform::dataset_quality::FIELDS;

async fn server(worker: &Worker, event: &str, key: (&str, &str)) {
    let mut e = json!({"event": event, "user": {"email": format!("{}@example.com", key.1)},
        "page": {"url": PAGE}, "client": {"ip": "203.0.113.9", "user_agent": UA},
        "consent": {"ad_storage": "granted", "analytics_storage": "granted",
                    "ad_user_data": "granted", "ad_personalization": "granted"}});
    e[key.0] = json!(key.1);
    if event == "transaction.purchase" {
        e["value"] = json!(10);
        e["currency"] = json!("EUR");
    }
    let (status, answer) =
        common::post_signed_events(&worker.base_url, SECRET, &json!({"events": [e]})).await;
    assert_eq!((status, &answer["rejected"]), (200, &json!(0)), "{answer}");
}

/// The pixel's copy of a purchase, as `/_ar/collect` gets it (the Meta tag fired).
async fn pixel_purchase(worker: &Worker, order: &str) {
    let e = json!({"event": "transaction.purchase", "order_id": order, "value": 10,
                   "currency": "EUR", "page": {"url": PAGE}, "fired": {"meta": true, "google": false}});
    common::post_pixel_event(&worker.base_url, UA, &e).await;
}

/// A call of the stand-in `fbq`, as the page would record it at the sandbox.
async fn fbq(sb: &Sandbox, args: Value) {
    let url = format!("{}/_sandbox/browser-tags", sb.platform_url);
    let body = json!({"tag": "fbq", "args": args, "page": PAGE});
    assert_eq!(common::post_json(&url, &body, &[]).await.0, 200);
}

async fn health(worker: &Worker) -> Value {
    common::admin_health(&worker.base_url, ADMIN).await
}

async fn console(worker: &Worker) -> String {
    let res = common::http()
        .get(format!("{}/_ar/admin", worker.base_url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.text().await.unwrap()
}

/// Waits until `done` holds for `/_ar/health`, running the cron each round when `cron` is set.
async fn until(worker: &Worker, cron: bool, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        if cron {
            common::cron(&worker.base_url).await;
        }
        let h = health(worker).await;
        if done(&h) {
            return h;
        }
        assert!(
            Instant::now() < deadline,
            "{:#}\n{}",
            h["meta_quality"],
            worker.process.output().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The fake Meta's answer, asked directly as the worker asks.
async fn metas_answer(sb: &Sandbox) -> Value {
    let res = common::http()
        .get(format!("{}/v25.0/dataset_quality", sb.platform_url))
        .query(&[
            ("dataset_id", "123"),
            ("agent_name", "activereach"),
            ("fields", FIELDS),
            ("access_token", "sandbox-meta-token"),
        ])
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

/// The event id the worker gave the purchase with `order` (from what the fake Meta received).
async fn event_id_of(sb: &Sandbox, order: &str) -> String {
    let requests = common::platform_requests(sb, "meta", None).await;
    requests
        .iter()
        .flat_map(|r| r["body"]["data"].as_array().cloned().unwrap_or_default())
        .find(|e| e["custom_data"]["order_id"] == order)
        .and_then(|e| e["event_id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no purchase {order} at the fake Meta"))
}

fn event<'a>(q: &'a Value, name: &str) -> &'a Value {
    q["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {q:#}"))
}

/// The shop's events, delivered, with the pixel's copies recorded at the fake Meta.
async fn fill(sb: &Sandbox, worker: &Worker) {
    for order in ["q-p1", "q-p2"] {
        server(worker, "transaction.purchase", ("order_id", order)).await;
    }
    pixel_purchase(worker, "q-p1").await;
    server(worker, "user.signed_up", ("user_id", "q-u1")).await;
    until(worker, true, |h| h["delivery"]["meta"]["delivered"] == 3).await;
    // The pixel's copies: q-p1 with the server's event id, and one purchase the server never sent.
    let p1 = event_id_of(sb, "q-p1").await;
    fbq(sb, json!(["init", "123"])).await;
    fbq(sb, json!(["track", "Purchase", {}, {"eventID": p1}])).await;
    fbq(
        sb,
        json!(["track", "Purchase", {}, {"eventID": "browser-only"}]),
    )
    .await;
}

fn check_metas_side(q: &Value, answer: &Value) {
    let web = |name: &str| {
        answer["web"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_name"] == name)
            .cloned()
            .unwrap()
    };
    let meta = web("Purchase");
    let p = event(q, "Purchase");
    assert_eq!(
        p["match_quality"]["meta"],
        meta["event_match_quality"]["composite_score"]
    );
    // Two server purchases against two unique pixel purchases; one met by event_id.
    assert_eq!(p["coverage"]["meta"], 1.0, "{p:#}");
    assert_eq!(p["coverage_check"]["goal"], 0.75);
    assert_eq!(p["dedup"]["meta"], 0.5);
    assert_eq!(p["acr"], 0.5);
    assert_eq!(p["freshness"]["meta"], "real_time");
    let email = p["match_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["identifier"] == "email")
        .unwrap();
    assert_eq!((&email["meta"], &email["key"]), (&json!(1.0), &json!("em")));
    let signup = event(q, "CompleteRegistration");
    assert_eq!(
        signup["match_quality"]["meta"],
        web("CompleteRegistration")["event_match_quality"]["composite_score"]
    );
    assert_eq!(signup["coverage"]["meta"], Value::Null, "no pixel copies");
}

fn check_our_side(q: &Value, figures: &Value) {
    let p = event(q, "Purchase");
    let ours = &figures["last_24h"]["events"]["transaction.purchase"];
    let week = &figures["last_7d"]["events"]["transaction.purchase"];
    assert_eq!(p["our_events"], json!(["transaction.purchase"]));
    assert_eq!(p["match_quality"]["ours"], ours["match_quality"], "{p:#}");
    assert_eq!(p["coverage"]["ours"], week["platforms"]["meta"]["coverage"]);
    assert_eq!(p["dedup"]["ours"], week["dedup_rate"]);
    assert_eq!(p["dedup"]["ours"], 0.5, "q-p1 met its pixel copy");
    assert_eq!(p["freshness"]["ours"], "real_time");
    let gap =
        p["match_quality"]["ours"].as_f64().unwrap() - p["match_quality"]["meta"].as_f64().unwrap();
    assert!(
        (p["match_quality"]["gap"].as_f64().unwrap() - gap).abs() < 0.051,
        "{p:#}"
    );
}

/// The `data-meta` and `data-ours` numbers of the console's `what` cell for Meta event `event`.
fn cell(html: &str, event: &str, what: &str) -> (Option<f64>, Option<f64>) {
    let row = html
        .split(&format!("<tr data-event=\"{event}\">"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row {event}"));
    let cell = row
        .split(&format!("data-what=\"{what}\""))
        .nth(1)
        .and_then(|c| c.split('>').next())
        .unwrap_or_else(|| panic!("no {what} cell in {row}"));
    let number = |attr: &str| {
        cell.split(&format!("{attr}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    (number("data-meta"), number("data-ours"))
}

#[tokio::test(flavor = "multi_thread")]
async fn metas_grades_stand_beside_ours_on_health_and_the_console() {
    let sb = common::sandbox().await;
    let worker = common::meta_worker(
        &sb,
        SECRET,
        &[
            ("ADMIN_TOKEN", ADMIN),
            ("HOLD_UNVERIFIED", "false"),
            ("META_PARTNER_AGENT", "activereach_1_0"),
            ("DATASET_QUALITY_EVERY_SECS", "0"),
        ],
    );
    let before = health(&worker).await;
    assert_eq!(before["meta_quality"]["state"], "not_fetched", "{before:#}");
    fill(&sb, &worker).await;

    let h = until(&worker, true, |h| {
        h["meta_quality"]["state"] == "ok"
            && h["meta_quality"]["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["coverage"]["meta"] == 1.0))
    })
    .await;
    let q = &h["meta_quality"];
    assert_eq!(
        (&q["dataset_id"], &q["agent_name"]),
        (&json!("123"), &json!("activereach"))
    );
    assert!(q["fetched_at"].as_str().unwrap().ends_with(" UTC"));
    // The worker asked as Meta documents: agent_name normalized, `dedupe_key_feedback` with an e.
    let asked = common::platform_requests(&sb, "meta", None).await;
    let ask = asked
        .iter()
        .rev()
        .find(|r| r["endpoint"] == "dataset_quality")
        .unwrap();
    assert_eq!(ask["query"]["agent_name"], "activereach");
    assert_eq!(ask["query"]["fields"], FIELDS);
    assert_eq!(ask["status"], 200);
    check_metas_side(q, &metas_answer(&sb).await);
    check_our_side(q, &h["figures"]);

    let html = console(&worker).await;
    assert!(html.contains("id=\"meta-quality\""));
    let mq = &event(q, "Purchase")["match_quality"];
    assert_eq!(
        cell(&html, "Purchase", "match_quality"),
        (mq["meta"].as_f64(), mq["ours"].as_f64())
    );
    assert_eq!(cell(&html, "Purchase", "coverage").0, Some(1.0));
    assert!(html.contains("data-state=\"ok\""));

    // Meta refuses the next fetch (a missing permission): the error and what to do are shown,
    // Meta's earlier grades stay.
    let fault = json!({"platform": "meta", "kind": "permanent", "code": 10, "count": 1});
    let url = format!("{}/_sandbox/faults", sb.platform_url);
    assert!(common::post_json(&url, &fault, &[]).await.0 < 300);
    let h = until(&worker, true, |h| h["meta_quality"]["state"] == "error").await;
    let q = &h["meta_quality"];
    assert!(q["error"].as_str().unwrap().contains("meta 10"), "{q:#}");
    assert!(q["what_to_do"].as_str().unwrap().contains("ads_read"));
    assert_eq!(
        event(q, "Purchase")["coverage"]["meta"],
        1.0,
        "earlier grades kept"
    );
    let html = console(&worker).await;
    assert!(
        html.contains("id=\"meta-quality-error\""),
        "the console shows the failure"
    );
    assert!(html.contains("ads_read"));
}
