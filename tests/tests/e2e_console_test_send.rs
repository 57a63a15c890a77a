//! "Send test" end to end with `make dev`'s configuration (read from `scripts/dev.sh`), the real
//! worker (workerd via `wrangler dev`) and the fake platforms: the API and the console's button
//! (headless Chromium) reach every enabled platform's test mode — Meta with `test_event_code`,
//! Data Manager with `validateOnly` (nothing goes to the Ads API's click uploads), GA4's
//! validation endpoint —
//! with a non-conversion event, and show each answer, the event ID and what to check. The
//! console's screenshots at 1280 px and phone width are written to
//! `target/test-artifacts/console/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::Sandbox;
use ar_sandbox::dev_config::dev_vars;
use ar_sandbox::harness::{ChromeDriver, Worker, repo_root};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

/// Everything `make dev` sets, pointed at this test's sandbox.
fn start(sb: &Sandbox) -> (Worker, String) {
    let vars = dev_vars(&sb.platform_url, &sb.shop_url);
    let admin = vars
        .iter()
        .find(|(k, _)| k == "ADMIN_TOKEN")
        .map(|(_, v)| v.clone())
        .unwrap();
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    (Worker::start(&borrowed), admin)
}

async fn post_test(worker: &Worker, admin: &str, body: Option<&str>) -> (u16, Value) {
    let mut req = common::http()
        .post(format!("{}/_ar/admin/test", worker.base_url))
        .bearer_auth(admin);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// What each fake platform recorded for the test event.
async fn recorded(sb: &Sandbox, platform: &str) -> Vec<Value> {
    common::platform_requests(sb, platform, None).await
}

/// The test mode's requests after other traffic: only those carrying the test code.
async fn assert_test_modes_with_traffic(sb: &Sandbox, event_id: &str) {
    let meta: Vec<Value> = recorded(sb, "meta")
        .await
        .into_iter()
        .filter(|r| r["body"]["test_event_code"] == "TEST12345")
        .collect();
    assert_eq!(meta.len(), 1, "{meta:#?}");
    assert_eq!(meta[0]["body"]["data"][0]["event_id"], event_id);
    let dm: Vec<Value> = recorded(sb, "data_manager")
        .await
        .into_iter()
        .filter(|r| r["body"]["validateOnly"] == true)
        .collect();
    assert_eq!(dm.len(), 1, "{dm:#?}");
    assert_eq!(dm[0]["body"]["events"][0]["transactionId"], event_id);
}

/// Every platform's recorded request is the test mode's, for `event_id`, and nothing counted.
async fn assert_test_modes(sb: &Sandbox, event_id: &str) {
    let meta = recorded(sb, "meta").await;
    assert_eq!(meta.len(), 1, "{meta:#?}");
    let body = &meta[0]["body"];
    assert_eq!(body["test_event_code"], "TEST12345", "{body:#}");
    assert_eq!(body["data"][0]["event_name"], "ActiveReachTest");
    assert_eq!(body["data"][0]["event_id"], event_id);
    assert!(
        body["data"][0]
            .get("custom_data")
            .is_none_or(|c| c.get("value").is_none()),
        "no value: not a conversion: {body:#}"
    );
    let dm = recorded(sb, "data_manager").await;
    assert_eq!(dm.len(), 1, "{dm:#?}");
    assert_eq!(dm[0]["body"]["validateOnly"], true, "{:#}", dm[0]);
    assert_eq!(
        dm[0]["body"]["events"][0]["transactionId"], event_id,
        "{:#}",
        dm[0]
    );
    let ads = recorded(sb, "google_ads").await;
    assert!(
        !ads.iter()
            .any(|r| r["endpoint"] == "uploadClickConversions"),
        "no click upload: {ads:#?}"
    );
    let ga4 = recorded(sb, "ga4").await;
    assert_eq!(ga4.len(), 1, "{ga4:#?}");
    assert_ne!(
        ga4[0]["endpoint"], "collect",
        "the validation endpoint: {:#}",
        ga4[0]
    );
    assert_eq!(ga4[0]["body"]["events"][0]["name"], "active_reach_test");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_reaches_every_enabled_platforms_test_mode_with_make_devs_configuration() {
    let sb = common::sandbox().await;
    let (worker, admin) = start(&sb);
    let log = || worker.process.output().join("\n");

    for (body, field) in [
        (
            r#"{"meta_test_event_code":"TEST 1"}"#,
            "meta_test_event_code",
        ),
        (r#"{"test_code":"TEST1"}"#, "body"),
        ("[1", "body"),
    ] {
        let (status, answer) = post_test(&worker, &admin, Some(body)).await;
        assert_eq!(
            (status, answer["field"].clone()),
            (400, json!(field)),
            "{body}: {answer}"
        );
    }
    assert!(
        recorded(&sb, "meta").await.is_empty(),
        "nothing sent for bad input"
    );

    let (status, answer) = post_test(&worker, &admin, None).await;
    assert_eq!(status, 200, "{answer}\n{}", log());
    let id = answer["event_id"].as_str().unwrap().to_owned();
    assert_eq!(answer["event"], "active_reach.test");
    assert!(
        answer["note"]
            .as_str()
            .unwrap()
            .contains("not a conversion")
    );
    let platforms = answer["platforms"].as_object().unwrap();
    assert_eq!(
        platforms.keys().collect::<Vec<_>>(),
        ["data_manager", "ga4", "meta"],
        "every platform make dev enables"
    );
    for (name, p) in platforms {
        assert_eq!(p["sent"], true, "{name}: {p:#}");
        assert!(
            !p["check"].as_str().unwrap_or_default().is_empty(),
            "{name}"
        );
        assert!(!p["answer"].is_null(), "{name}: the platform's own answer");
    }
    assert_eq!(platforms["meta"]["ok"], true, "{:#}", platforms["meta"]);
    assert_eq!(platforms["meta"]["answer"]["events_received"], 1);
    assert!(platforms["meta"]["check"].as_str().unwrap().contains(&id));
    assert_eq!(
        platforms["data_manager"]["ok"], true,
        "{:#}",
        platforms["data_manager"]
    );
    assert!(
        platforms["data_manager"]["action"]
            .as_str()
            .unwrap()
            .starts_with("2001 (WEBPAGE")
    );
    assert_eq!(platforms["ga4"]["ok"], true, "{:#}", platforms["ga4"]);
    assert_eq!(platforms["ga4"]["answer"]["validationMessages"], json!([]));
    assert_test_modes(&sb, &id).await;
}

/// Signs the browser in through the console's form.
async fn sign_in(client: &Client, worker: &Worker, admin: &str) {
    common::console_connect::sign_in_with(client, &worker.base_url, admin, "#send-test").await;
}

/// Writes a PNG of the current page at `width` × `height` to the test artifacts.
async fn screenshot(client: &Client, width: u32, height: u32, name: &str) {
    client.set_window_size(width, height).await.unwrap();
    // The layout after a resize: read in the page, one script (no element handles to go stale).
    let fits: bool = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false);
    assert!(
        fits,
        "{name}: the page is wider than the window ({width} px)"
    );
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}");
    let dir = repo_root().join("target/test-artifacts/console");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_button_sends_the_test_and_shows_each_platforms_answer() {
    let sb = common::sandbox().await;
    let (worker, admin) = start(&sb);
    // Some traffic, so the console's figures and charts have something to show.
    let secret = dev_vars(&sb.platform_url, &sb.shop_url)
        .into_iter()
        .find(|(k, _)| k == "AR_SERVER_SECRET")
        .map(|(_, v)| v)
        .unwrap();
    for order in ["c-1", "c-2"] {
        let body = json!({"events": [{"event": "transaction.purchase", "order_id": order,
            "value": 12, "currency": "EUR", "user": {"email": "console@example.com"},
            "page": {"url": "https://shop.example.com/thanks"},
            "client": {"ip": "203.0.113.5", "user_agent": "Mozilla/5.0 (console)"}}]});
        let (status, answer) = common::post_signed_events(&worker.base_url, &secret, &body).await;
        assert_eq!(status, 200, "{answer}");
    }
    let driver = ChromeDriver::start();
    let client = common::browser::browser(&driver).await;
    sign_in(&client, &worker, &admin).await;
    // The page as it is, read in one script: the chart is inline SVG, nothing is loaded from
    // elsewhere (no script, stylesheet link or image), the figures count the two purchases.
    let page = client
        .execute(
            "return {svg: document.querySelectorAll('svg#coverage-chart').length,\
                     outside: document.querySelectorAll('script, link, img, iframe').length,\
                     seen: document.querySelector('#health-24h tbody tr td').innerText};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(page["svg"], 1, "{page:#}");
    assert_eq!(page["outside"], 0, "{page:#}");
    assert_eq!(page["seen"], "2", "{page:#}");
    screenshot(&client, 1280, 900, "console-desktop").await;
    screenshot(&client, 390, 844, "console-phone").await;
    client.set_window_size(1280, 900).await.unwrap();

    common::browser::click(&client, "#send-test").await;
    client
        .wait()
        .at_most(Duration::from_mins(1))
        .for_element(Locator::Css("#test-event-id"))
        .await
        .expect("the answer page");
    // Everything read in one script: no element handle can go stale between reads.
    let shown = client
        .execute(
            "const rows = {};\
             for (const r of document.querySelectorAll('tr[id^=test-]')) {\
               rows[r.id.slice(5)] = {ok: r.dataset.ok, text: r.innerText};\
             }\
             return {id: document.getElementById('test-event-id').innerText,\
                     outcome: document.getElementById('outcome').innerText, rows};",
            vec![],
        )
        .await
        .unwrap();
    let id = shown["id"].as_str().unwrap();
    assert!(
        shown["outcome"]
            .as_str()
            .unwrap()
            .contains("3 enabled platform"),
        "{shown:#}"
    );
    for platform in ["meta", "data_manager", "ga4"] {
        let row = &shown["rows"][platform];
        assert_eq!(row["ok"], "true", "{platform}: {row:#}");
        assert!(
            row["text"]
                .as_str()
                .unwrap()
                .contains("accepted by the test mode"),
            "{platform}: {row:#}"
        );
    }
    let meta = shown["rows"]["meta"]["text"].as_str().unwrap();
    assert!(
        meta.contains("events_received") && meta.contains(id),
        "{meta}"
    );
    assert!(
        shown["rows"].get("google_ads").is_none(),
        "no click-upload row: {shown:#}"
    );
    screenshot(&client, 1280, 900, "test-answer-desktop").await;
    screenshot(&client, 390, 844, "test-answer-phone").await;
    let id = id.to_owned();
    client
        .goto(&format!("{}/_ar/admin/failures", worker.base_url))
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#replay-selected"))
        .await
        .expect("the failures page");
    screenshot(&client, 1280, 900, "failures-desktop").await;
    screenshot(&client, 390, 844, "failures-phone").await;
    assert_test_modes_with_traffic(&sb, &id).await;
}
