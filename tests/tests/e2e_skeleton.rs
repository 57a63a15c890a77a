//! The walking skeleton, end to end: a page served by the real worker (workerd via
//! `wrangler dev`) loads the wasm pixel in headless Chromium; the pixel computes the event ID with
//! `ar-shared` and posts it to `/_ar/collect`; the worker validates it and logs what it accepted.

use std::time::Duration;

use ar_sandbox::harness::{ChromeDriver, Worker};
use ar_shared::{EventId, EventName};
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

#[tokio::test(flavor = "multi_thread")]
async fn page_pixel_and_worker_agree_on_the_purchase_event_id() {
    let worker = Worker::start(&[]);
    let driver = ChromeDriver::start();
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(ChromeDriver::capabilities())
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver");

    client
        .goto(&format!("{}/", worker.base_url))
        .await
        .expect("open the page");
    let el = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#event-id[data-state]"))
        .await
        .expect("the pixel reports the event");
    let state = el
        .attr("data-state")
        .await
        .expect("state")
        .unwrap_or_default();
    let shown = el.text().await.expect("text");

    assert_eq!(state, "sent", "pixel error: {shown}");
    // The same ID computed natively: wasm32 and native agree.
    let expected = EventId::from_business_key(&EventName::Purchase, "demo-1001");
    assert_eq!(shown, expected.as_str());
    // The promise resolves once the beacon is queued, not once it has left: the browser stays
    // open until the worker has logged the event (closing it first could drop the beacon).
    let line = worker
        .process
        .wait_for_line(&format!("event_id={expected}"), Duration::from_secs(30));
    client.close().await.expect("close browser");
    assert!(line.contains("event=transaction.purchase"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_rejects_bad_input_with_a_json_error_naming_the_problem() {
    let worker = Worker::start(&[]);
    let http = reqwest::Client::new();
    let url = format!("{}/_ar/collect", worker.base_url);
    let cases: [(&str, u16, &str); 4] = [
        ("not json", 400, "body:"),
        (
            r#"{"event":"transaction.purchase","value":1,"currency":"EUR"}"#,
            400,
            "order_id: required",
        ),
        (r#"{"event":"Bad Name","event_id":"ar1_00"}"#, 400, "event:"),
        (
            r#"{"event":"product.viewed","items":[{"id":"a","extra":1}]}"#,
            400,
            "items[0]",
        ),
    ];
    for (body, status, needle) in cases {
        let res = http.post(&url).body(body).send().await.expect("post");
        assert_eq!(res.status().as_u16(), status, "{body}");
        let json: serde_json::Value = res.json().await.expect("json error body");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{body} -> {json}");
    }
    let big = "x".repeat(20 * 1024);
    let res = http.post(&url).body(big).send().await.expect("post");
    assert_eq!(res.status().as_u16(), 413);
    let res = http.get(&url).send().await.expect("get");
    assert_eq!(res.status().as_u16(), 405);
}
