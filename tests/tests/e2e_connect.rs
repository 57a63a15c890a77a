//! Connecting ad accounts from the console, end to end: headless Chromium, the real worker
//! (workerd via `wrangler dev`, local D1, Queues, KV) and the sandbox's fake authorization servers
//! (README "Connect accounts"; issue acceptance).
//!
//! - Connect Google (OAuth code flow with PKCE, the account picked under its manager) and Meta (a
//!   pasted system-user token), send a test event and see it accepted; revoke the fake tokens,
//!   see "reconnect" while a purchase waits (no attempts, nothing sent); reconnect (Google again,
//!   Meta through Facebook Login) and see the purchase delivered exactly once per platform.
//! - No credential in clear in D1, in the worker's log lines or in any answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::Sandbox;
use ar_sandbox::config::{
    DEFAULT_CUSTOMER_ID, DEFAULT_GOOGLE_CLIENT_SECRET, DEFAULT_META_APP_SECRET,
    DEFAULT_META_SYSTEM_USER_TOKEN,
};
use ar_sandbox::config_accounts::{DEFAULT_MANAGER_ID, DEFAULT_META_PIXEL_ID};
use ar_sandbox::harness::{ChromeDriver, Worker};
use common::console_connect::{
    ADMIN, CREDENTIALS_KEY, SECRET, connect_google, connect_meta, d1_dump, paste_meta_token,
    sign_in, states_become, text_of,
};
use fantoccini::Client;
use serde_json::{Value, json};

/// What the fake authorization servers issue and the secrets configured: none may appear in D1,
/// a log line or an answer. Sandbox formats: Google refresh `1//0sbx…`, access `ya29.sandbox-…`;
/// Meta user tokens `EAASbx…`.
fn credential_markers() -> Vec<&'static str> {
    vec![
        "1//0sbx",
        "ya29.sandbox-",
        "EAASbx",
        // One-time authorization codes (Google `4/0Sbx…`, Meta `AQSbx…`) too.
        "4/0Sbx",
        "4%2F0Sbx",
        "AQSbx",
        DEFAULT_META_SYSTEM_USER_TOKEN,
        DEFAULT_GOOGLE_CLIENT_SECRET,
        DEFAULT_META_APP_SECRET,
        CREDENTIALS_KEY,
    ]
}

fn assert_no_credential(place: &str, text: &str) {
    for marker in credential_markers() {
        assert!(
            !text.contains(marker),
            "{place} holds a credential ({marker}):\n{}",
            text.lines()
                .filter(|l| l.contains(marker))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

async fn purchase(worker: &Worker, order: &str) {
    let body = json!({"events": [{"event": "transaction.purchase", "order_id": order,
        "value": 25, "currency": "EUR", "user": {"email": "connect@example.com"},
        "page": {"url": "https://shop.example.com/thanks"},
        "client": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (connect)"},
        "consent": {"ad_storage": "granted", "ad_user_data": "granted",
                    "ad_personalization": "granted", "analytics_storage": "granted"}}]});
    let (status, answer) = common::post_signed_events(&worker.base_url, SECRET, &body).await;
    assert_eq!(
        (status, answer["rejected"].clone()),
        (200, json!(0)),
        "{answer}"
    );
}

/// Accepted copies of `order` per platform: Meta events and Data Manager events.
async fn accepted(sb: &Sandbox, order: &str) -> (usize, usize) {
    let meta = common::platform_requests(sb, "meta", None)
        .await
        .into_iter()
        .filter(|r| r["verdict"] == "accepted")
        .flat_map(|r| r["body"]["data"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["custom_data"]["order_id"] == order)
        .count();
    let google = common::platform_requests(sb, "data_manager", None)
        .await
        .into_iter()
        .filter(|r| r["verdict"] == "accepted")
        .flat_map(|r| r["body"]["events"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["transactionId"] == order)
        .count();
    (meta, google)
}

/// The outbox rows of `order`'s purchase: `(platform, status, attempts)`.
fn rows_of(worker: &Worker, order: &str) -> Vec<(String, String, u64)> {
    worker
        .d1(&format!(
            "SELECT o.platform, o.status, o.attempts FROM outbox o JOIN events e ON e.event_id = o.event_id \
             WHERE e.record LIKE '%\"{order}\"%' ORDER BY o.platform"
        ))
        .into_iter()
        .map(|r| {
            (
                r["platform"].as_str().unwrap_or_default().to_owned(),
                r["status"].as_str().unwrap_or_default().to_owned(),
                r["attempts"].as_u64().unwrap_or(99),
            )
        })
        .collect()
}

async fn page_source(client: &Client) -> String {
    client.source().await.unwrap_or_default()
}

async fn health(worker: &Worker) -> Value {
    common::admin_health(&worker.base_url, ADMIN).await
}

fn connection<'a>(health: &'a Value, provider: &str) -> &'a Value {
    health["connections"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["provider"] == provider))
        .unwrap_or(&Value::Null)
}

async fn revoke(sb: &Sandbox, platform: &str) {
    let (status, body) = common::post_json(
        &format!("{}/_sandbox/oauth/revoke", sb.platform_url),
        &json!({ "platform": platform }),
        &[],
    )
    .await;
    assert!(status < 300, "{status} {body}");
}

/// Runs the cron until `check` holds (at most a minute).
async fn until(worker: &Worker, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_mins(1);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}\n{}",
            worker.process.output().join("\n")
        );
        common::cron(&worker.base_url).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Step 1: connect Google (its shop account is reached through the manager) and Meta (a
/// system user's token, pasted); both connected, the console and `/_ar/health` say so.
async fn connect_both(client: &Client, worker: &Worker, pages: &mut Vec<String>) {
    states_become(client, worker, ("not connected", "not connected")).await;
    let outcome = connect_google(client, worker, DEFAULT_CUSTOMER_ID).await;
    assert!(
        outcome.contains("Google connected: Sandbox Shop (1234567890)"),
        "{outcome}"
    );
    pages.push(page_source(client).await);
    let outcome = paste_meta_token(
        client,
        worker,
        DEFAULT_META_SYSTEM_USER_TOKEN,
        DEFAULT_META_PIXEL_ID,
    )
    .await;
    assert!(outcome.contains("Meta connected"), "{outcome}");
    states_become(client, worker, ("connected", "connected")).await;
    let line = text_of(client, "#google-connection").await;
    assert!(
        line.contains(&format!("through manager {DEFAULT_MANAGER_ID}")),
        "{line}"
    );
    pages.push(page_source(client).await);
    let h = health(worker).await;
    assert_eq!(
        connection(&h, "google")["connection"]["login_id"],
        DEFAULT_MANAGER_ID,
        "{h:#}"
    );
    assert_eq!(h["config"]["platforms"]["meta"], true, "{h:#}");
}

/// Step 2: Send test reaches every connected platform's test mode; a purchase is delivered.
async fn send_test_and_a_purchase(
    sb: &Sandbox,
    client: &Client,
    worker: &Worker,
    pages: &mut Vec<String>,
) {
    common::browser::click(client, "#send-test").await;
    let answer = text_of(client, "#test-meta").await;
    assert!(answer.contains("accepted by the test mode"), "{answer}");
    let answer = text_of(client, "#test-data_manager").await;
    assert!(answer.contains("accepted by the test mode"), "{answer}");
    pages.push(page_source(client).await);
    purchase(worker, "cx-1").await;
    until(worker, "cx-1 delivered to both", async || {
        accepted(sb, "cx-1").await == (1, 1)
    })
    .await;
}

/// Step 3: the merchant removes access (Meta answers 190, Google's refresh `invalid_grant`):
/// both turn to "reconnect" and a purchase waits — pending, no attempt, nothing sent — flush
/// after flush.
async fn revoked_platforms_pause(
    sb: &Sandbox,
    client: &Client,
    worker: &Worker,
    pages: &mut Vec<String>,
) {
    revoke(sb, "meta").await;
    revoke(sb, "google").await;
    purchase(worker, "cx-2").await;
    until(worker, "both platforms paused", async || {
        let h = health(worker).await;
        connection(&h, "google")["state"] == "reconnect"
            && connection(&h, "meta")["state"] == "reconnect"
    })
    .await;
    let h = health(worker).await;
    assert_eq!(h["ok"], false, "{h:#}");
    let reason = |p: &str| {
        connection(&h, p)["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(reason("meta").contains("190"), "{h:#}");
    assert!(reason("google").contains("invalid_grant"), "{h:#}");
    states_become(client, worker, ("reconnect", "reconnect")).await;
    pages.push(page_source(client).await);
    for _ in 0..3 {
        common::cron(&worker.base_url).await;
    }
    let rows = rows_of(worker, "cx-2");
    for platform in ["data_manager", "meta"] {
        let row = rows
            .iter()
            .find(|r| r.0 == platform)
            .unwrap_or_else(|| panic!("{rows:?}"));
        assert_eq!((row.1.as_str(), row.2), ("pending", 0), "{rows:?}");
    }
    assert_eq!(accepted(sb, "cx-2").await, (0, 0));
}

/// Step 4: reconnect (Google again, Meta through Facebook Login this time): the waiting
/// purchase goes out, exactly once per platform; the login token's expiry is shown.
async fn reconnected_platforms_deliver_once(
    sb: &Sandbox,
    client: &Client,
    worker: &Worker,
    pages: &mut Vec<String>,
) {
    let outcome = connect_google(client, worker, DEFAULT_CUSTOMER_ID).await;
    assert!(outcome.contains("Google connected"), "{outcome}");
    let outcome = connect_meta(client, worker, DEFAULT_META_PIXEL_ID).await;
    assert!(outcome.contains("Meta connected"), "{outcome}");
    until(worker, "cx-2 delivered after reconnecting", async || {
        accepted(sb, "cx-2").await == (1, 1)
    })
    .await;
    for _ in 0..3 {
        common::cron(&worker.base_url).await;
    }
    assert_eq!(accepted(sb, "cx-2").await, (1, 1), "exactly once");
    assert_eq!(accepted(sb, "cx-1").await, (1, 1), "exactly once");
    // A login user token lasts about 60 days: its expiry is shown.
    states_become(client, worker, ("connected", "connected")).await;
    let line = text_of(client, "#meta-connection").await;
    assert!(line.contains("token expires"), "{line}");
    pages.push(page_source(client).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn connected_accounts_deliver_pause_when_revoked_and_deliver_once_after_reconnecting() {
    let sb = common::sandbox().await;
    let worker = common::console_connect::worker(&sb, &[]);
    let driver = ChromeDriver::start();
    let client = common::browser::browser(&driver).await;
    let mut pages = Vec::new();
    sign_in(&client, &worker).await;
    connect_both(&client, &worker, &mut pages).await;
    send_test_and_a_purchase(&sb, &client, &worker, &mut pages).await;
    revoked_platforms_pause(&sb, &client, &worker, &mut pages).await;
    reconnected_platforms_deliver_once(&sb, &client, &worker, &mut pages).await;

    // No credential in clear anywhere: D1, the worker's log, the pages, /_ar/health.
    assert_no_credential("D1", &d1_dump(&worker));
    assert_no_credential("the worker's log", &worker.process.output().join("\n"));
    for (i, p) in pages.iter().enumerate() {
        assert_no_credential(&format!("page {i}"), p);
    }
    assert_no_credential("/_ar/health", &health(&worker).await.to_string());

    // Disconnect deletes the credential: the row is gone, Google is off.
    common::browser::click(&client, "#google-disconnect").await;
    let outcome = text_of(&client, "#outcome").await;
    assert!(outcome.contains("Google disconnected"), "{outcome}");
    let left = worker.d1("SELECT provider FROM connections");
    assert_eq!(left, [json!({"provider": "meta"})], "{left:?}");
    states_become(&client, &worker, ("not connected", "connected")).await;
}
