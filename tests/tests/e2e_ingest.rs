//! The worker's ingest edges, end to end against the real worker (workerd via `wrangler dev`):
//! signed server events (`/_ar/events`), pixel events (`/_ar/collect`), the storefront proxy with
//! its first-party cookies per consent, and the edge-routed checkout header. What reaches the fake
//! platforms is delivery's business and is tested elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ar_sandbox::harness::{Worker, free_port};
use ar_sandbox::shop::report::signature;
use ar_sandbox::{ReportMode, Sandbox, SandboxConfig};
use serde_json::{Value, json};

/// The admin token these tests use (long enough for the minimum length).
const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789abcdef";
const SECRET: &str = "e2e-ingest-secret";
/// A real-looking fbclid: base64url characters (a `.` is refused, `ar_shared::click_ids::id`).
const FBCLID: &str = "IwAR-e2e_Ingest_1";

/// How a test request is signed: `(secret, timestamp)`, or not at all.
type Signing<'a> = Option<(&'a str, i64)>;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn now_s() -> i64 {
    ar_sandbox::clock::real_now_ms() / 1_000
}

/// Posts `body` to `/_ar/events`, signed at `timestamp` with `secret` (or unsigned).
async fn post_events(worker: &Worker, body: &[u8], signed: Option<(&str, i64)>) -> (u16, Value) {
    let mut req = http()
        .post(format!("{}/_ar/events", worker.base_url))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some((secret, ts)) = signed {
        req = req
            .header("x-ar-timestamp", ts.to_string())
            .header("x-ar-signature", signature(secret, ts, body));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn post_signed(worker: &Worker, body: &Value) -> (u16, Value) {
    post_events(worker, body.to_string().as_bytes(), Some((SECRET, now_s()))).await
}

/// The `Set-Cookie` values of a response, by cookie name.
fn set_cookies(res: &reqwest::Response) -> Vec<(String, String)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (name, _) = v.split_once('=')?;
            Some((name.trim().to_owned(), v.to_owned()))
        })
        .collect()
}

fn cookie<'a>(cookies: &'a [(String, String)], name: &str) -> Option<&'a str> {
    cookies
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn names(cookies: &[(String, String)]) -> Vec<&str> {
    cookies.iter().map(|(n, _)| n.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_events_are_authenticated_then_judged_one_by_one() {
    let worker = Worker::start(&[("AR_SERVER_SECRET", SECRET)]);
    assert_unsigned_events_are_refused(&worker).await;
    assert_bad_batches_name_the_field(&worker).await;
    assert_each_event_gets_its_own_result(&worker).await;
}

/// Authentication: 401 JSON naming the problem.
async fn assert_unsigned_events_are_refused(worker: &Worker) {
    let body = br#"{"events":[{"event":"lead.submitted","lead_id":"L-1"}]}"#;
    // Authentication: 401 JSON naming the problem.
    let cases: [(Signing<'_>, &str, &str); 4] = [
        (None, "missing_timestamp", "x-ar-timestamp"),
        (
            Some(("wrong-secret", now_s())),
            "signature_mismatch",
            "x-ar-signature",
        ),
        (
            Some((SECRET, now_s() - 3_600)),
            "stale_timestamp",
            "x-ar-timestamp",
        ),
        (Some((SECRET, now_s() + 3_600)), "stale_timestamp", "clock"),
    ];
    for (signed, problem, needle) in cases {
        let (status, json) = post_events(worker, body, signed).await;
        assert_eq!(status, 401, "{problem}: {json}");
        assert_eq!(json["error"], "unauthorized", "{json}");
        assert_eq!(json["problem"], problem, "{json}");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{problem}: {json}");
    }
    let res = http()
        .post(format!("{}/_ar/events", worker.base_url))
        .header("x-ar-timestamp", now_s().to_string())
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["problem"], "missing_signature", "{json}");
}

/// Batch-level problems: 400 naming the field; oversize 413.
async fn assert_bad_batches_name_the_field(worker: &Worker) {
    // Batch-level problems: 400 naming the field.
    for (raw, field) in [
        // Malformed JSON names the parse problem (its `field` is the parser's position).
        (&b"{not json"[..], "key must be a string"),
        (br#"{"events":{}}"#, "events"),
        (br#"{"events":[]}"#, "events"),
        (br#"{"events":[],"extra":1}"#, "extra"),
    ] {
        let (status, json) = post_events(worker, raw, Some((SECRET, now_s()))).await;
        assert_eq!(status, 400, "{}: {json}", String::from_utf8_lossy(raw));
        assert_eq!(json["error"], "invalid_batch", "{json}");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(
            json["field"].as_str().unwrap_or_default().contains(field) || message.contains(field),
            "{field}: {json}"
        );
    }
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"event":"lead.submitted","lead_id": format!("L{i}")}))
        .collect();
    let (status, json) = post_signed(worker, &json!({ "events": too_many })).await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["field"], "events", "{json}");

    // Oversize: 413 before anything else is read.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, json) = post_events(worker, &big, Some((SECRET, now_s()))).await;
    assert_eq!(status, 413, "{json}");
    assert_eq!(json["error"], "too_large");
}

/// One result per event, in order; the bad ones name their field and the good ones go on.
async fn assert_each_event_gets_its_own_result(worker: &Worker) {
    // One result per event, in order; the bad ones name their field and the good ones go on.
    let batch = json!({"events": [
        {"event": "lead.submitted", "lead_id": "L-ok-1", "user": {"email": "Jane.Doe@Example.com"},
         "client": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 e2e"}},
        {"event": "transaction.purchase", "order_id": "O-1", "value": "59.90", "currency": "EUR"},
        {"event": "no.such_event", "lead_id": "x"},
        {"event": "transaction.purchase", "order_id": "O-2", "value": 10, "currency": "EUR", "colour": "red"},
        {"event": "transaction.purchase", "order_id": "O-3", "value": 10},
        {"event": "lead.submitted", "lead_id": "L-ok-2", "user": {"phone": "12"}}
    ]});
    let (status, json) = post_signed(worker, &batch).await;
    assert_eq!(status, 200, "{json}");
    let results = json["results"].as_array().expect("results");
    assert_eq!(results.len(), 6, "{json}");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], i, "{r}");
    }
    let rejected_field = |i: usize| results[i]["error"]["field"].as_str().unwrap_or_default();
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(rejected_field(1), "value", "wrong type: {}", results[1]);
    assert_eq!(rejected_field(2), "event", "unknown event: {}", results[2]);
    assert_eq!(rejected_field(3), "colour", "unknown field: {}", results[3]);
    assert_eq!(
        rejected_field(4),
        "currency",
        "missing currency: {}",
        results[4]
    );
    for i in [1, 2, 3, 4] {
        assert_eq!(results[i]["status"], "rejected", "{}", results[i]);
        assert_eq!(results[i]["retryable"], Value::Null, "{}", results[i]);
    }
    assert_eq!(json["rejected"], 4, "{json}");
    assert_eq!(json["accepted"], 2, "good events are stored: {json}");
    for i in [0, 5] {
        let status = results[i]["status"].as_str().unwrap_or_default();
        assert!(
            ["accepted", "merged", "duplicate"].contains(&status),
            "{}",
            results[i]
        );
        assert!(
            results[i]["event_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("ar")),
            "{}",
            results[i]
        );
    }
    // The browserless lead with a bad phone: stored, with warnings instead of an error.
    let warnings = results[5]["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.starts_with("user.phone"))),
        "{}",
        results[5]
    );
    assert_eq!(results[5]["insufficient_context"], true, "{}", results[5]);
    assert_eq!(results[0]["insufficient_context"], Value::Null);
    // PII never reaches the logs.
    let log = worker.process.output().join("\n");
    assert!(!log.to_lowercase().contains("jane.doe"), "raw email logged");
    // One line for the request, not one per event (`routes::events::log_request`).
    let line = worker
        .process
        .wait_for_line("ar: server events=2 ", Duration::from_secs(5));
    assert!(
        line.contains("(lead.submitted=2)") && line.contains("rejected=4"),
        "{line}"
    );
    assert!(
        !log.contains("ar: server event=lead.submitted"),
        "no line per event: {log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_guards_its_door_and_names_bad_fields() {
    // No ORIGIN_URL, no server secret.
    let worker = Worker::start(&[("GEO_OVERRIDE", "US")]);
    assert_collect_refuses_bad_requests(&worker).await;
    assert_valid_pixel_events_refresh_cookies(&worker).await;
    assert_routes_without_an_origin(&worker).await;
}

/// Content type, origin, size and malformed events: each refused with its code.
async fn assert_collect_refuses_bad_requests(worker: &Worker) {
    let url = format!("{}/_ar/collect", worker.base_url);
    let event = r#"{"event":"product.viewed","event_id":"ar1_0123456789abcdef0123456789abcdef","items":[{"id":"sku-1"}]}"#;
    let res = http()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    let res = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("origin", "https://evil.example")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let json: Value = res.json().await.unwrap();
    assert!(
        json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ALLOWED_ORIGINS"),
        "{json}"
    );
    let big = format!(r#"{{"event":"x","pad":"{}"}}"#, "x".repeat(17 * 1024));
    let res = http()
        .post(&url)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);

    let res = http()
        .post(&url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["error"], "invalid_event", "{json}");
    assert!(
        json["message"].as_str().unwrap_or_default().contains("EOF"),
        "{json}"
    );
    for (body, field) in [
        (r#"{"event":"product.viewed","value":"1"}"#, "value"),
        (r#"{"event":"unknown.thing"}"#, "event"),
        (
            r#"{"event":"transaction.purchase","value":1,"currency":"EUR"}"#,
            "order_id",
        ),
        (
            r#"{"event":"product.viewed","page":{"url":"ftp://x"}}"#,
            "page.url",
        ),
    ] {
        let res = http()
            .post(&url)
            .header("content-type", "application/json")
            .header("origin", &worker.base_url)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{body}");
        let json: Value = res.json().await.unwrap();
        assert_eq!(json["error"], "invalid_event", "{json}");
        assert_eq!(json["field"], field, "{body}: {json}");
        assert!(
            json["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field),
            "{json}"
        );
    }
    // The pixel's send time (`collect_guard::sent_at`): not a whole number of milliseconds, a 400
    // naming it; an event is never dated by a garbled clock.
    let res = http()
        .post(format!("{url}?sent=1.7e12"))
        .header("content-type", "text/plain")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["field"], "sent", "{json}");
}

/// A valid pixel event from the shop's own origin: stored (204) and the cookies refreshed.
async fn assert_valid_pixel_events_refresh_cookies(worker: &Worker) {
    let url = format!("{}/_ar/collect", worker.base_url);
    // A valid pixel event from the shop's own origin: stored (204) and the cookies refreshed.
    let page = format!("{}/p/1?fbclid={FBCLID}", worker.base_url);
    let res = http()
        .post(&url)
        .header("content-type", "application/json")
        .header("origin", &worker.base_url)
        .body(
            json!({"event": "product.viewed", "items": [{"id": "sku-1"}], "page": {"url": page}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&res);
    assert_eq!(res.status().as_u16(), 204, "{:?}", res.text().await);
    assert!(
        cookie(&cookies, "_fbc").is_some_and(|c| c.contains(FBCLID)),
        "{cookies:?}"
    );
    assert!(cookie(&cookies, "_ar_sid").is_some(), "{cookies:?}");
}

/// Without `ORIGIN_URL`: the status page, 404 JSON elsewhere, server events need the secret.
async fn assert_routes_without_an_origin(worker: &Worker) {
    // Without ORIGIN_URL: the status page at `/`, 404 JSON elsewhere, and server events need
    // the secret (a configuration error naming it).
    let res = http().get(&worker.base_url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Active Reach"));
    let res = http()
        .get(format!("{}/nowhere", worker.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let json: Value = res.json().await.unwrap();
    assert!(
        json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ORIGIN_URL")
    );
    let (status, json) = post_events(worker, b"{}", Some((SECRET, now_s()))).await;
    assert_eq!(status, 503, "{json}");
    assert_eq!(json["error"], "server_events_off");
    assert!(
        json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("AR_SERVER_SECRET"),
        "{json}"
    );
}

/// A tracking misconfiguration never takes the shop down: the storefront is served unchanged
/// (no cookies of ours), public routes answer a generic `not_configured` that echoes no setting
/// value, and the health page names what to fix.
#[tokio::test(flavor = "multi_thread")]
async fn a_tracking_misconfiguration_serves_the_shop_and_names_the_problem_on_health_only() {
    let worker_port = free_port();
    let sandbox = edge_sandbox(worker_port).await;
    let worker = Worker::start_on(
        worker_port,
        &[
            ("ORIGIN_URL", &sandbox.shop_url),
            ("DEFAULT_COUNTRY", "Germany-secret-value"),
            ("META_PIXEL_ID", "123"),
            ("ADMIN_TOKEN", ADMIN_TOKEN),
        ],
    );
    let res = http()
        .get(format!("{}/?fbclid={FBCLID}", worker.base_url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "the shop is served");
    let ours: Vec<String> = set_cookies(&res)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("_fb") || n.starts_with("_ar"))
        .collect();
    assert!(
        ours.is_empty(),
        "no tracking cookies while misconfigured: {ours:?}"
    );
    assert!(res.text().await.unwrap().contains("id=\"products\""));
    let res = http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .body(r#"{"event":"product.viewed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    let text = res.text().await.unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["error"], "not_configured", "{json}");
    assert!(
        !text.contains("Germany") && !text.contains("DEFAULT_COUNTRY"),
        "{text}"
    );
    let health = http()
        .get(format!("{}/_ar/health", worker.base_url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let problems: Vec<&str> = health["config"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(problems.contains(&"DEFAULT_COUNTRY"), "{health}");
    assert!(problems.contains(&"META_ACCESS_TOKEN"), "{health}");
    let log = worker.process.output().join("\n");
    assert!(
        !log.contains("Germany-secret-value"),
        "a setting value in the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_origin_is_a_502() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let worker = Worker::start(&[("ORIGIN_URL", &dead)]);
    let res = http().get(&worker.base_url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 502);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["error"], "origin_unreachable", "{json}");
}

async fn edge_sandbox(worker_port: u16) -> Sandbox {
    let mut config = SandboxConfig::default();
    config.shop.worker_url = format!("http://127.0.0.1:{worker_port}");
    config.shop.server_secret = SECRET.into();
    config.shop.report = ReportMode::Edge;
    Sandbox::start_local(config).await.expect("sandbox")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_serves_the_shop_and_sets_cookies_only_as_consent_allows() {
    let worker_port = free_port();
    let sandbox = edge_sandbox(worker_port).await;
    let worker = Worker::start_on(
        worker_port,
        &[
            ("ORIGIN_URL", &sandbox.shop_url),
            ("GEO_OVERRIDE", "US"),
            ("AR_SERVER_SECRET", SECRET),
        ],
    );
    let base = &worker.base_url;

    let sid = assert_landing_sets_first_party_cookies(base).await;

    // Denied consent cookie: no ad cookie, only our session cookie.
    let res = http()
        .get(format!("{base}/?fbclid={FBCLID}"))
        .header("cookie", "_ar_consent=1.dddd")
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&res);
    assert_eq!(names(&cookies), vec!["_ar_sid"], "{cookies:?}");

    // Non-page responses get no cookies.
    let res = http()
        .get(format!("{base}/_shop/reports?fbclid={FBCLID}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(set_cookies(&res).is_empty());

    assert_edge_routed_checkout_is_the_shops_copy(&worker, &sandbox, &sid).await;

    // A server event naming the visit's session gets its context (no insufficient-context flag).
    let (status, json) = post_signed(
        &worker,
        &json!({"events": [{"event": "lead.submitted", "lead_id": "L-session", "session_id": sid}]}),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["results"][0]["insufficient_context"],
        Value::Null,
        "{json}"
    );
    assert_eq!(json["accepted"], 1, "{json}");
}

/// Landing from a Meta ad, US visitor (no consent needed): the shop's page, with our cookies.
/// Returns the session id the worker minted.
async fn assert_landing_sets_first_party_cookies(base: &str) -> String {
    let res = http()
        .get(format!("{base}/?fbclid={FBCLID}"))
        .header("accept", "text/html")
        .header("user-agent", "Mozilla/5.0 e2e-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let cookies = set_cookies(&res);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"products\""), "the shop's page: {html}");
    for name in ["_fbc", "_fbp", "_ar_sid"] {
        let c = cookie(&cookies, name).unwrap_or_else(|| panic!("{name} not set: {cookies:?}"));
        assert!(c.contains("; Secure"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
        assert!(c.contains("Path=/"), "{c}");
        assert!(c.contains("Max-Age=7776000"), "{c}");
    }
    let fbc = cookie(&cookies, "_fbc").unwrap();
    assert!(
        fbc.starts_with("_fbc=fb.0.") && fbc.contains(&format!(".{FBCLID};")),
        "fbclid verbatim, index 0 on an IP host: {fbc}"
    );
    cookie(&cookies, "_ar_sid")
        .and_then(|c| c.strip_prefix("_ar_sid="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned()
}

/// Edge-routed checkout: the shop answers the order with `x-ar-event`; the browser never sees
/// it, and the worker takes the event as the shop's copy.
async fn assert_edge_routed_checkout_is_the_shops_copy(
    worker: &Worker,
    sandbox: &Sandbox,
    sid: &str,
) {
    let base = &worker.base_url;
    let cart = http()
        .post(format!("{base}/cart/add"))
        .header("cookie", format!("_ar_sid={sid}"))
        .form(&[("sku", "sku-1"), ("quantity", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(cart.status().as_u16(), 303);
    assert_eq!(
        cart.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/cart?added=sku-1")
    );
    let shop_cookie = set_cookies(&cart)
        .into_iter()
        .find(|(n, _)| n == "shop_session")
        .and_then(|(_, v)| v.split(';').next().map(str::to_owned))
        .expect("the shop's own cookie passes through");
    let order = http()
        .post(format!("{base}/payment"))
        .header("cookie", format!("{shop_cookie}; _ar_sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(order.status().as_u16(), 303);
    assert!(
        order.headers().get("x-ar-event").is_none(),
        "x-ar-event reached the browser"
    );
    let reports = reqwest::get(format!("{}/_shop/reports", sandbox.shop_url))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        reports.to_string().contains("\"edge\""),
        "the shop sent the edge header: {reports}"
    );
    let line = worker
        .process
        .wait_for_line("edge event", Duration::from_secs(15));
    assert!(line.contains("event_id=ar"), "{line}");
    assert!(
        line.contains("event=transaction.purchase") && !line.contains("failed"),
        "the edge copy is stored: {line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eea_visitor_gets_ad_cookies_only_after_consenting() {
    let worker_port = free_port();
    let sandbox = edge_sandbox(worker_port).await;
    let worker = Worker::start_on(
        worker_port,
        &[("ORIGIN_URL", &sandbox.shop_url), ("GEO_OVERRIDE", "DE")],
    );
    let url = format!("{}/?fbclid={FBCLID}", worker.base_url);
    let res = http().get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(names(&set_cookies(&res)), vec!["_ar_sid"]);
    let res = http()
        .get(&url)
        .header("cookie", "_ar_consent=1.gggg")
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&res);
    assert_eq!(
        names(&cookies),
        vec!["_fbc", "_fbp", "_ar_sid"],
        "{cookies:?}"
    );
}

/// DESIGN §4 "Rate limits and size limits apply per client": one client gets 300 pixel events a
/// minute (`[[ratelimits]] COLLECT_LIMIT`), then 429 with `Retry-After`; another client is not
/// affected. Rejected bodies count too: the limit runs before the body is read.
#[tokio::test(flavor = "multi_thread")]
async fn collect_limits_each_client_to_300_events_a_minute() {
    let worker = Worker::start(&[("GEO_OVERRIDE", "US")]);
    let url = format!("{}/_ar/collect", worker.base_url);
    let send = |ip: &'static str| {
        http()
            .post(&url)
            .header("content-type", "application/json")
            .header("cf-connecting-ip", ip)
            .body("{")
            .send()
    };
    // Counting windows are fixed minutes, so the 301st request may fall into a fresh window:
    // the limit must bite within two windows' worth, and never before 300 were let through.
    let mut allowed = 0;
    let res = loop {
        let res = send("203.0.113.7").await.unwrap();
        if res.status().as_u16() == 429 {
            break res;
        }
        assert_eq!(res.status().as_u16(), 400, "request {allowed}");
        allowed += 1;
        assert!(allowed <= 600, "no limit after {allowed} requests");
    };
    assert!(allowed >= 300, "limited after only {allowed} requests");
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["error"], "rate_limited", "{json}");
    let other = send("198.51.100.20").await.unwrap();
    assert_eq!(
        other.status().as_u16(),
        400,
        "another client is not limited"
    );
}

/// Sends `chunks` as a chunked body (no `Content-Length`) to `path`, ending the body only when
/// `finish`; returns the answer's status line (empty if none came within 10 s).
async fn post_chunked(
    base_url: &str,
    path: &str,
    chunks: usize,
    chunk: &[u8],
    finish: bool,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let framed = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        // The worker may answer and close before the whole body is sent.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    if finish {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Size limits hold for bodies without a `Content-Length` too: the worker counts what it reads
/// and answers 413 as soon as it passes the limit (collect 16 KiB, server events 1 MiB), even
/// while the client is still sending, instead of buffering whatever a client streams.
#[tokio::test(flavor = "multi_thread")]
async fn chunked_bodies_past_the_size_limit_are_refused_while_still_streaming() {
    let worker = Worker::start(&[("GEO_OVERRIDE", "US"), ("AR_SERVER_SECRET", "s")]);
    let chunk = vec![b' '; 64 * 1024];
    // The body never ends: only a worker that stops reading at the limit can answer.
    let collect = post_chunked(&worker.base_url, "/_ar/collect", 2, &chunk, false).await;
    assert!(collect.contains(" 413"), "collect: {collect:?}");
    let events = post_chunked(&worker.base_url, "/_ar/events", 20, &chunk, false).await;
    assert!(events.contains(" 413"), "events: {events:?}");
    // A small chunked body is read normally (and judged on its content).
    let small = post_chunked(&worker.base_url, "/_ar/collect", 1, b"{", true).await;
    assert!(small.contains(" 400"), "small: {small:?}");
}
