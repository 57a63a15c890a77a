//! Delivery end to end: the real worker (workerd via `wrangler dev`, local D1, Queues, KV) sends
//! to the in-process fake platforms. Events enter through `/_ar/collect` (the pixel's route, with
//! `HOLD_UNVERIFIED=false` so browser purchases need no shop copy) and go out through the outbox:
//! real-time after the merge window, batched by the cron flush (`GET /__scheduled`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::harness::Worker;
use ar_shared::pii::PiiField::{Email, FirstName, LastName, Phone};
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) e2e-delivery";
const RAW_EMAIL: &str = "jane.doe@example.com";
const RAW_PHONE: &str = "6505551234";
const RAW_FIRST: &str = "Janelle";
const RAW_LAST: &str = "Doemann";

/// The admin token (at least 24 characters, `routes::admin::auth`).
const ADMIN: &str = "admin-e2e-0123456789abcdefghij";

fn start(sb: &Sandbox, extra: &[(&str, &str)]) -> Worker {
    let url = sb.platform_url.clone();
    let mut vars: Vec<(&str, &str)> = vec![
        ("META_BASE_URL", &url),
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("AR_SERVER_SECRET", "dev-server-secret"),
        ("ADMIN_TOKEN", ADMIN),
        ("GEO_OVERRIDE", "US"),
        ("HOLD_UNVERIFIED", "false"),
        ("RETRY_BASE_SECS", "1"),
    ];
    vars.extend_from_slice(extra);
    Worker::start(&vars)
}

async fn collect(worker: &Worker, body: &Value) {
    collect_as(worker, "", body).await;
}

/// Posts `body` to collect with `cookies` (one browser's); returns the `_ar_sid` cookie set.
async fn collect_as(worker: &Worker, cookies: &str, body: &Value) -> Option<String> {
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "application/json")
        .header("user-agent", UA)
        .header("cookie", cookies)
        .json(body)
        .send()
        .await
        .expect("post collect");
    let status = res.status().as_u16();
    let sid = common::session_set(&res);
    let text = res.text().await.unwrap_or_default();
    assert_eq!(status, 204, "collect answered {status}: {text}");
    sid
}

/// The health report, as the admin sees it.
async fn health(worker: &Worker) -> Value {
    common::http()
        .get(format!("{}/_ar/health", worker.base_url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("health")
        .json::<Value>()
        .await
        .expect("health json")
}

async fn meta_requests(sb: &Sandbox, event_id: Option<&str>) -> Vec<Value> {
    common::platform_requests(sb, "meta", event_id).await
}

async fn cron(worker: &Worker) {
    common::cron(&worker.base_url).await;
}

/// Runs the cron flush until health counts `delivered` Meta deliveries with nothing waiting or
/// being sent, and returns that report: the state after which a later send would be a duplicate.
/// A bound, not the promise: a loaded machine may need longer than an idle one.
async fn settle(worker: &Worker, delivered: u64) -> Value {
    settle_with(worker, delivered, true).await
}

/// [`settle`], running the cron meanwhile only when `flush` (the retention test's cron prunes).
async fn settle_with(worker: &Worker, delivered: u64, flush: bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if flush {
            cron(worker).await;
        }
        let report = health(worker).await;
        let meta = &report["delivery"]["meta"];
        if meta["delivered"] == delivered && meta["pending"] == 0 && meta["sending"] == 0 {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "not settled at {delivered} delivered within 90 s: {meta}; worker log:\n{}",
            worker.process.output().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Accepted Meta events per event id.
fn accepted_ids(requests: &[Value]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r["verdict"] == "accepted")
        .flat_map(|r| r["event_ids"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn purchase(order: &str, extra: Value) -> Value {
    let mut body = json!({
        "event": "transaction.purchase",
        "order_id": order,
        "page": {"url": "https://shop.example.com/thank-you"},
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purchase_reaches_meta_without_any_cron_run_exactly_once() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let id = EventId::from_business_key(&EventName::Purchase, "e2e-1001");
    let started = Instant::now();
    collect(
        &worker,
        &purchase(
            "e2e-1001",
            json!({"value": 59.9, "currency": "EUR", "user": common::pixel_user(&[(Email, RAW_EMAIL)])}),
        ),
    )
    .await;
    let mut found = Vec::new();
    // A bound, not the promise: how fast purchases leave is measured by `make bench`
    // (purchase to platform), not by a timed test that a loaded machine could fail.
    while started.elapsed() < Duration::from_mins(1) {
        found = meta_requests(&sb, Some(id.as_str())).await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    assert_eq!(
        found.len(),
        1,
        "no Meta request within a minute; worker log:\n{}",
        worker.process.output().join("\n")
    );
    println!(
        "purchase at Meta after {} ms (merge window 2000 ms)",
        elapsed.as_millis()
    );
    assert_eq!(found[0]["verdict"], "accepted", "{}", found[0]);
    assert_eq!(found[0]["body"]["data"][0]["event_id"], id.as_str());
    // Later timers and cron runs never send it again.
    settle(&worker, 1).await;
    assert_eq!(meta_requests(&sb, Some(id.as_str())).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_copies_of_a_purchase_become_one_meta_request_with_the_merged_data() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let id = EventId::from_business_key(&EventName::Purchase, "e2e-2002");
    // One browser: the second copy carries the session the first was given (trust::same_visit).
    let sid = collect_as(
        &worker,
        "",
        &purchase("e2e-2002", json!({"value": 42.5, "currency": "USD"})),
    )
    .await
    .expect("a session");
    collect_as(
        &worker,
        &format!("_ar_sid={sid}"),
        &purchase(
            "e2e-2002",
            json!({"value": 42.5, "currency": "USD",
                   "user": common::pixel_user(&[(Email, RAW_EMAIL), (Phone, RAW_PHONE)])}),
        ),
    )
    .await;
    // The merged purchase leaves after its merge window, without the cron; then nothing more.
    let deadline = Instant::now() + Duration::from_mins(1);
    while meta_requests(&sb, Some(id.as_str())).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    settle(&worker, 1).await;
    let found = meta_requests(&sb, Some(id.as_str())).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let event = &found[0]["body"]["data"][0];
    assert_eq!(event["custom_data"]["value"], 42.5, "{event}");
    assert!(
        !event["user_data"]["em"].is_null(),
        "hashed email from the second copy: {event}"
    );
    assert!(!event["user_data"]["ph"].is_null(), "{event}");
}

#[tokio::test(flavor = "multi_thread")]
async fn batched_events_go_out_in_batches_after_the_cron_flush() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    for i in 0..30 {
        collect(
            &worker,
            &json!({"event": "cart.added", "cart_id": "cart-e2e", "items": [{"id": format!("sku-{i}")}],
                    "page": {"url": "https://shop.example.com/p"}}),
        )
        .await;
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut ids = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(2)).await;
        cron(&worker).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        ids = accepted_ids(&meta_requests(&sb, None).await);
        if ids.len() >= 30 {
            break;
        }
    }
    let requests = meta_requests(&sb, None).await;
    assert_eq!(
        ids.len(),
        30,
        "worker log:\n{}",
        worker.process.output().join("\n")
    );
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 30, "each event exactly once");
    assert!(
        requests
            .iter()
            .any(|r| r["events"].as_u64().unwrap_or(0) > 1),
        "events were batched: {:?}",
        requests.iter().map(|r| &r["events"]).collect::<Vec<_>>()
    );
    assert!(requests.len() < 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn platform_failures_are_retried_by_later_cron_runs_and_delivered_once() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let (status, body) = common::post_json(
        &format!("{}/_sandbox/faults", sb.platform_url),
        &json!({"platform": "meta", "kind": "status", "status": 500, "count": 2}),
        &[],
    )
    .await;
    assert!(status < 300, "{status} {body}");
    for i in 0..5 {
        collect(
            &worker,
            &json!({"event": "cart.added", "cart_id": "cart-faults", "items": [{"id": format!("f-{i}")}],
                    "page": {"url": "https://shop.example.com/p"}}),
        )
        .await;
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut ids = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(2)).await;
        cron(&worker).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        ids = accepted_ids(&meta_requests(&sb, None).await);
        if ids.len() >= 5 {
            break;
        }
    }
    let requests = meta_requests(&sb, None).await;
    assert!(
        requests.iter().filter(|r| r["verdict"] == "fault").count() >= 2,
        "the faults were hit: {requests:#?}"
    );
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (ids.len(), unique.len()),
        (5, 5),
        "each event delivered exactly once"
    );
    // The health report shows them delivered.
    let health = health(&worker).await;
    assert_eq!(health["delivery"]["meta"]["delivered"], 5, "{health:#}");
}

/// A purchase whose first send fails is sent again when its backoff ends, by a delayed Queue
/// wake-up, without waiting for the cron (no cron is triggered here); still exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_purchase_is_retried_by_a_delayed_queue_wake_up_without_the_cron() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[("RETRY_BASE_SECS", "2")]);
    let (status, body) = common::post_json(
        &format!("{}/_sandbox/faults", sb.platform_url),
        &json!({"platform": "meta", "kind": "status", "status": 503, "count": 1}),
        &[],
    )
    .await;
    assert!(status < 300, "{status} {body}");
    let id = EventId::from_business_key(&EventName::Purchase, "e2e-wake");
    collect(
        &worker,
        &purchase("e2e-wake", json!({"value": 5, "currency": "USD"})),
    )
    .await;
    // The row is final once health counts it delivered and nothing waits or is being sent; the
    // wake-up's own delays (backoff, queue delay, batch timeout) take a few seconds, more on a
    // loaded machine, so the deadline is generous.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let health = health(&worker).await;
        let meta = &health["delivery"]["meta"];
        let settled = meta["delivered"] == 1 && meta["pending"] == 0 && meta["sending"] == 0;
        if settled || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A faulted request is recorded without its event ids: look at every Meta request.
    let requests = meta_requests(&sb, None).await;
    let verdicts: Vec<&Value> = requests.iter().map(|r| &r["verdict"]).collect();
    assert_eq!(accepted_ids(&requests), [id.as_str()]);
    assert_eq!(
        verdicts,
        [&json!("fault"), &json!("accepted")],
        "one failed send, then one delivery; worker log:\n{}",
        worker.process.output().join("\n")
    );
}

/// DESIGN §4 / meta-capi.md §6: a US shopper who opted out of sale/sharing — by the Sec-GPC
/// header or by the event's `sale_opt_out` — reaches Meta with Limited Data Use; others without.
#[tokio::test(flavor = "multi_thread")]
async fn a_sale_opt_out_reaches_meta_as_limited_data_use() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let stated = EventId::from_business_key(&EventName::Purchase, "e2e-ldu-stated");
    let plain = EventId::from_business_key(&EventName::Purchase, "e2e-ldu-plain");
    collect(
        &worker,
        &purchase(
            "e2e-ldu-stated",
            json!({"value": 1, "currency": "USD", "sale_opt_out": true}),
        ),
    )
    .await;
    collect(
        &worker,
        &purchase("e2e-ldu-plain", json!({"value": 1, "currency": "USD"})),
    )
    .await;
    // A bound, not a wait: the loop ends as soon as both arrived (seconds), a loaded machine
    // may need longer.
    let deadline = Instant::now() + Duration::from_mins(1);
    let event = |requests: &[Value], id: &str| -> Option<Value> {
        requests
            .iter()
            .filter(|r| r["verdict"] == "accepted")
            .flat_map(|r| r["body"]["data"].as_array().cloned().unwrap_or_default())
            .find(|e| e["event_id"] == id)
    };
    let (mut a, mut b) = (None, None);
    while (a.is_none() || b.is_none()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let requests = meta_requests(&sb, None).await;
        a = event(&requests, stated.as_str());
        b = event(&requests, plain.as_str());
    }
    let (a, b) = (
        a.expect("opted-out purchase at Meta"),
        b.expect("plain purchase at Meta"),
    );
    assert_eq!(a["data_processing_options"], json!(["LDU"]), "{a:#}");
    assert!(b.get("data_processing_options").is_none(), "{b:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_raw_pii_is_stored_in_d1_or_sent_to_the_platforms() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    collect(
        &worker,
        &purchase(
            "e2e-3003",
            json!({"value": 10, "currency": "USD", "user": common::pixel_user(&[(Email, RAW_EMAIL),
                   (Phone, RAW_PHONE), (FirstName, RAW_FIRST), (LastName, RAW_LAST)])}),
        ),
    )
    .await;
    collect(
        &worker,
        &json!({"event": "cart.added", "cart_id": "cart-pii", "items": [{"id": "sku-pii"}],
                "user": common::pixel_user(&[(Email, RAW_EMAIL)]), "page": {"url": "https://shop.example.com/p"}}),
    )
    .await;
    // DESIGN §4 "PII": a raw email arriving from a browser is refused, naming the field.
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .json(&purchase(
            "e2e-3004",
            json!({"value": 1, "currency": "USD", "user": {"email": RAW_EMAIL}}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["field"], "user.email", "{answer}");
    // The purchase and the batched cart event both delivered.
    settle(&worker, 2).await;
    let mut dump = String::new();
    for table in ["events", "outbox", "sessions"] {
        dump.push_str(
            &serde_json::to_string(&worker.d1(&format!("select * from {table}"))).unwrap(),
        );
    }
    assert!(dump.contains("e2e-3003"), "the purchase is stored: {dump}");
    let platforms = serde_json::to_string(&meta_requests(&sb, None).await).unwrap();
    assert!(platforms.contains("em"), "{platforms}");
    for raw in [RAW_EMAIL, RAW_PHONE, RAW_FIRST, RAW_LAST] {
        for (place, text) in [("D1", &dump), ("fake platforms", &platforms)] {
            assert!(
                !text.to_lowercase().contains(&raw.to_lowercase()),
                "{raw} found in {place}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_pages_need_the_token() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let http = common::http();
    let health = format!("{}/_ar/health", worker.base_url);
    assert_eq!(
        http.get(&health).send().await.unwrap().status().as_u16(),
        401
    );
    let res = http.get(&health).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["config"]["platforms"]["meta"], true, "{json:#}");
    // The token in a URL buys a session cookie and a redirect to the clean URL (it must not stay
    // in the address bar, history or logs).
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = no_redirects
        .get(format!("{}/_ar/admin?token={ADMIN}", worker.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    assert_eq!(signed_in.headers()["location"], "/_ar/admin");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/_ar/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = no_redirects
        .get(format!("{}/_ar/admin", worker.base_url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    for (name, value) in [
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(page.headers()[name], value, "{name}");
    }
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"), "{html}");
    // Without a session the page is the sign-in form, not the health report.
    let form = no_redirects
        .get(format!("{}/_ar/admin", worker.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("action=\"/_ar/admin/login\"") && !html.contains("<svg"),
        "{html}"
    );
    let replay = http
        .post(format!("{}/_ar/admin/replay", worker.base_url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 200);
    // A misspelt platform is refused rather than replaying every platform.
    let typo = http
        .post(format!(
            "{}/_ar/admin/replay?platform=metta",
            worker.base_url
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(typo.status().as_u16(), 400);
    let json: Value = typo.json().await.unwrap();
    assert_eq!(json["error"], "invalid_platform", "{json}");
}

/// Issue/DESIGN §5 "Retention": the cron job deletes events, their outbox rows and session
/// context (the only places IP address and user agent are stored) once they are older than
/// `RETENTION_DAYS`, keeps younger ones, and keeps the daily counters for health history.
#[tokio::test(flavor = "multi_thread")]
async fn the_cron_prunes_events_and_sessions_past_the_retention_period() {
    const DAY_MS: u64 = 24 * 60 * 60 * 1000;
    let sb = common::sandbox().await;
    let worker = start(&sb, &[("RETENTION_DAYS", "7")]);
    let old = EventId::from_business_key(&EventName::Purchase, "e2e-old");
    collect(
        &worker,
        &purchase("e2e-old", json!({"value": 1, "currency": "USD"})),
    )
    .await;
    // Delivered and its row final (no write of the worker's still to come), before time moves.
    settle_with(&worker, 1, false).await;
    assert_eq!(
        accepted_ids(&meta_requests(&sb, Some(old.as_str())).await),
        [old.as_str()]
    );
    assert!(
        !worker.d1("select session_id from sessions").is_empty(),
        "collect stored the session context"
    );
    // Eight days pass for everything stored so far.
    let eight_days = 8 * DAY_MS;
    worker.d1(&format!(
        "update events set created_at = created_at - {eight_days}, updated_at = updated_at - {eight_days}"
    ));
    worker.d1(&format!(
        "update sessions set updated_at = updated_at - {eight_days}"
    ));
    let fresh = EventId::from_business_key(&EventName::Purchase, "e2e-fresh");
    collect(
        &worker,
        &purchase("e2e-fresh", json!({"value": 2, "currency": "USD"})),
    )
    .await;
    // The fresh purchase delivered and final, then the cron that prunes (awaited to its end).
    settle_with(&worker, 2, false).await;
    cron(&worker).await;

    let ids = |table: &str| -> Vec<String> {
        worker
            .d1(&format!("select event_id from {table}"))
            .iter()
            .filter_map(|r| r["event_id"].as_str().map(str::to_owned))
            .collect()
    };
    for table in ["events", "outbox"] {
        let left = ids(table);
        assert!(
            !left.iter().any(|id| id == old.as_str()),
            "{table} still holds the 8-day-old event"
        );
        assert!(
            left.iter().any(|id| id == fresh.as_str()),
            "{table} lost the fresh event"
        );
    }
    let sessions = worker.d1("select session_id, updated_at from sessions");
    assert_eq!(
        sessions.len(),
        1,
        "only the fresh visit's session is left: {sessions:?}"
    );
    let stored = serde_json::to_string(&worker.d1("select record from events")).unwrap();
    assert!(!stored.contains("e2e-old"), "{stored}");
    let counters = worker.d1("select sum(n) as n from counters where metric = 'delivered'");
    assert_eq!(
        counters[0]["n"], 2,
        "both deliveries still counted in the health history: {counters:?}"
    );
}
