//! What the pixel does on a shopper's page, end to end: headless Chromium through a recording
//! proxy in front of the real worker (workerd via `wrangler dev`).
//! - Raw customer data never leaves the browser (DESIGN §4 "PII"): the payment page passes the
//!   customer's email, phone and name to `ar('track')`; a scan of every `/_ar/*` request the page
//!   made and of every call the stand-in tags received finds none of them raw, while the hashes
//!   went out and Meta's server copy carries the browser's hash.
//! - Calls queued before `pixel.js` arrives (the proxy holds it) resolve in order.
//! - The hashing module is fetched only by pages that pass customer data (or have a lead form),
//!   and a call waiting for it holds back the calls made after it; a page the edge served
//!   without a click ID never fetches the capture module; a call still waiting for it when the
//!   shopper leaves runs at `pagehide` without it.
//! - An event the network lost is retried, then sent from the next page of the visit.
//! - An event still unconfirmed when the shopper leaves the shop goes out by `sendBeacon` at
//!   `pagehide`, and the worker keeps one copy.
//! - A page that stays open takes a mapping change made in the console when it is shown again.
//! - An event the browser cannot serialize is dropped with a warning, not thrown into the page.
//! - A landing URL too long for the worker is reported without its query, not refused.
//! - A device clock minutes or hours off still has its events stored, at the edge's time.
//! - A pixel that cannot start (its configuration answers 503) rejects the calls made before and
//!   after, and leaves no rejection unhandled on the page.
//! - Under the Content-Security-Policy the README gives, the pixel runs with nothing refused;
//!   without its `'wasm-unsafe-eval'` the page still works and the console says why.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::harness::{ChromeDriver, Worker, free_port};
use ar_sandbox::recording_proxy::RecordingProxy;
use ar_sandbox::{ReportMode, Sandbox};
use ar_shared::pii::{PiiField, RawUserData, hash_user_data};
use common::browser::{
    browser, click, server_events, shop_sandbox, shop_worker, shown_event_id, tag_calls, until,
};
use fantoccini::Client;

/// The demo checkout's default identity, as typed.
const RAW: [&str; 5] = [
    "shopper@example.com",
    "+49 170 1234567",
    "1701234567",
    "erika",
    "mustermann",
];

#[tokio::test(flavor = "multi_thread")]
async fn no_request_the_page_makes_carries_a_raw_email_phone_or_name() {
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let p = sb.platform_url.clone();
    let worker = shop_worker(&sb, port, &[("HOLD_UNVERIFIED", "false")]);
    let proxy = RecordingProxy::start(&worker.base_url).await.unwrap();
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client
        .goto(&format!("{}/products/sku-1?fbclid=IwAR-pii", proxy.url))
        .await
        .unwrap();
    shown_event_id(&client, "#add-to-cart").await;
    click(&client, "#add-to-cart").await;
    click(&client, "#checkout").await;
    click(&client, "#to-payment").await;
    let paid = shown_event_id(&client, "#place-order").await;
    client.goto(&format!("{}/", proxy.url)).await.unwrap();

    // The payment event's server copy carries the browser's hash of the email (meta-capi.md §2).
    let (email, _) = hash_user_data(
        &RawUserData::default().with(PiiField::Email, "Shopper@Example.com"),
        "US",
    );
    let em = email.meta.em.unwrap();
    let meta = until(&worker, Duration::from_secs(30), || async {
        let meta = server_events(&p, "meta", "data").await;
        meta.into_iter().find(|e| e["event_id"] == paid.as_str())
    })
    .await
    .expect("Meta's copy of the payment event");
    client.close().await.unwrap();
    assert_eq!(meta["user_data"]["em"], em.as_str());

    let sent: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.starts_with("/_ar/"))
        .map(|s| format!("{} {}", s.target, s.body).to_lowercase())
        .collect();
    let hashed = sent.iter().any(|s| {
        s.starts_with("/_ar/collect")
            && s.contains(&format!("\"email\":{{\"meta\":\"{}\"", em.as_str()))
    });
    assert!(
        hashed,
        "the payment event carried the hashed email: {sent:?}"
    );
    let tags: Vec<String> = tag_calls(&p)
        .await
        .iter()
        .map(|c| c.to_string().to_lowercase())
        .collect();
    assert!(!tags.is_empty());
    for raw in RAW {
        for (what, texts) in [("/_ar/* request", &sent), ("tag call", &tags)] {
            let leak = texts.iter().find(|t| t.contains(raw));
            assert!(leak.is_none(), "raw {raw:?} in a {what}: {leak:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_queued_before_the_pixel_loads_resolve_in_order() {
    // The snippet queues; the pixel replays the queue in order once it has loaded, and a refused
    // call rejects with a message naming the field instead of throwing into the page (a call
    // without a command name too, and it holds none of the others back).
    let held = signup_with_the_pixel_held(|_| {}).await;
    let (worker, proxy, client) = (&held.worker, &held.proxy, &held.client);
    let queued = client
        .execute(
            "window.results = [];
             function note(n) { return [function (v) { results.push([n, 'ok', v]); },
                                        function (e) { results.push([n, 'err', e.message]); }]; }
             ar(undefined).then(...note(0));
             ar('track', 'transaction.purchase', {order_id: 'q-1', value: 5, currency: 'EUR'}).then(...note(1));
             ar('track', 'cart.added', {cart_id: 'c-1'}).then(...note(2));
             ar('eventId', 'transaction.purchase', 'q-1').then(...note(3));
             return window.ar.q.length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queued, 4, "the calls wait in the snippet's queue");
    proxy.release();
    let settled = settled_results(worker, client, 4)
        .await
        .expect("the queued calls settled");
    client.clone().close().await.unwrap();
    let id = ar_shared::EventId::from_business_key(&ar_shared::EventName::Purchase, "q-1");
    assert_eq!(
        settled,
        format!(
            r#"[[0,"err","ar: unknown command \"\" (use track, identify or consent)"],[1,"ok","{id}"],[2,"err","cart_id and items[0].id: required for cart.added"],[3,"ok","{id}"]]"#
        )
    );
}

/// The sign-up page in Chromium, parsed while the proxy holds `pixel.js` (the proxy set up by
/// `before` first).
struct HeldPixel {
    worker: Worker,
    proxy: RecordingProxy,
    client: Client,
    _sandbox: Sandbox,
    _driver: ChromeDriver,
}

async fn signup_with_the_pixel_held(before: impl FnOnce(&RecordingProxy)) -> HeldPixel {
    let port = free_port();
    let sandbox = shop_sandbox(port, ReportMode::None).await;
    let worker = shop_worker(&sandbox, port, &[]);
    let proxy = RecordingProxy::start(&worker.base_url).await.unwrap();
    proxy.hold("/_ar/pixel.js");
    before(&proxy);
    let driver = ChromeDriver::start();
    // The held module script holds DOMContentLoaded and load too: navigation must not wait.
    let mut caps = ChromeDriver::capabilities();
    caps.insert("pageLoadStrategy".into(), "none".into());
    let client =
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap();
    client.goto(&format!("{}/signup", proxy.url)).await.unwrap();
    // The page is parsed (its last element exists) while pixel.js is still held.
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css("#ar-event-id"))
        .await
        .unwrap();
    HeldPixel {
        worker,
        proxy,
        client,
        _sandbox: sandbox,
        _driver: driver,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pixel_that_cannot_start_rejects_its_calls_and_throws_nothing_into_the_page() {
    // /_ar/config answers 503: the queued call and a later one reject with the reason, and no
    // promise of the pixel's own is left rejected without a handler.
    let held = signup_with_the_pixel_held(|p| p.fail("/_ar/config")).await;
    let (worker, proxy, client) = (&held.worker, &held.proxy, &held.client);
    client
        .execute(
            "window.results = []; window.arErrors = [];
             addEventListener('error', (e) => arErrors.push(String(e.message)));
             addEventListener('unhandledrejection', (e) => arErrors.push(String(e.reason)));
             ar('track', 'product.viewed', {items: [{id: 'sku-1'}]})
               .then((v) => results.push([0, 'ok', v]), (e) => results.push([0, 'err', e.message]));",
            vec![],
        )
        .await
        .unwrap();
    proxy.release();
    let settled = settled_results(worker, client, 1).await;
    // A call made after the failure settles too.
    client
        .execute(
            "ar('track', 'product.viewed', {items: [{id: 'sku-2'}]})
               .then((v) => results.push([1, 'ok', v]), (e) => results.push([1, 'err', e.message]));",
            vec![],
        )
        .await
        .unwrap();
    let both = settled_results(worker, client, 2).await;
    // Unhandled rejections are reported after the microtasks of their turn: wait for the page
    // to have run a later task before reading them.
    let errors = client
        .execute_async(
            "const done = arguments[0]; setTimeout(() => done(JSON.stringify(arErrors)), 0);",
            vec![],
        )
        .await
        .unwrap();
    held.client.clone().close().await.unwrap();
    let settled = settled.expect("the queued call settled");
    assert!(
        settled.contains(r#"[0,"err","ar: config answered HTTP 503"]"#),
        "{settled}"
    );
    let both = both.expect("the later call settled");
    assert!(both.contains(r#"[1,"err","#), "{both}");
    assert_eq!(
        errors.as_str(),
        Some("[]"),
        "nothing reached the page unhandled"
    );
}

/// The page's `results` (the `note` callbacks' `[n, 'ok' | 'err', value]`) as JSON once `n` calls
/// have settled (at most 30 s).
async fn settled_results(worker: &Worker, client: &Client, n: usize) -> Option<String> {
    until(worker, Duration::from_secs(30), || async {
        let r = client
            .execute(
                &format!("return results.length === {n} ? JSON.stringify(results) : null;"),
                vec![],
            )
            .await
            .ok()?;
        r.as_str().map(str::to_owned)
    })
    .await
}

/// The demo shop behind a recording proxy, in Chromium, on a product page whose view the pixel
/// reported: the proxy was set up by `before` (a path failing or held) before the first page.
struct ProxiedShop {
    worker: Worker,
    proxy: RecordingProxy,
    client: Client,
    /// The product view's event ID.
    id: String,
    _sandbox: Sandbox,
    _driver: ChromeDriver,
}

async fn product_page_behind_a_proxy(before: impl FnOnce(&RecordingProxy)) -> ProxiedShop {
    product_page_behind_a_proxy_with(&[], before).await
}

/// [`product_page_behind_a_proxy`] with the worker's extra settings `vars`.
async fn product_page_behind_a_proxy_with(
    vars: &[(&str, &str)],
    before: impl FnOnce(&RecordingProxy),
) -> ProxiedShop {
    product_page_at(vars, "/products/sku-1", before).await
}

/// [`product_page_behind_a_proxy_with`] at `path` (a product page's, with any query).
async fn product_page_at(
    vars: &[(&str, &str)],
    path: &str,
    before: impl FnOnce(&RecordingProxy),
) -> ProxiedShop {
    let port = free_port();
    let sandbox = shop_sandbox(port, ReportMode::None).await;
    let worker = shop_worker(&sandbox, port, vars);
    let proxy = RecordingProxy::start(&worker.base_url).await.unwrap();
    before(&proxy);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client.goto(&format!("{}{path}", proxy.url)).await.unwrap();
    let id = shown_event_id(&client, "#add-to-cart").await;
    ProxiedShop {
        worker,
        proxy,
        client,
        id,
        _sandbox: sandbox,
        _driver: driver,
    }
}

/// How many copies of `id` the worker stored, once it stored one (at most 30 s).
async fn stored_copies(worker: &Worker, id: &str) -> Option<usize> {
    until(worker, Duration::from_secs(30), || async {
        let rows = worker.d1(&format!(
            "SELECT event_id FROM events WHERE event_id = '{id}'"
        ));
        (!rows.is_empty()).then_some(rows.len())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_the_network_lost_is_retried_then_sent_from_the_next_page() {
    // browser::delivery: bounded retry while the page lives, the sessionStorage outbox after.
    let shop = product_page_behind_a_proxy(|p| p.fail("/_ar/collect")).await;
    let (proxy, id) = (&shop.proxy, shop.id.as_str());
    let posts = || {
        proxy
            .seen()
            .iter()
            .filter(|s| s.target.starts_with("/_ar/collect") && s.body.contains(id))
            .count()
    };
    let retried = until(&shop.worker, Duration::from_secs(30), || async {
        (posts() >= 2).then_some(())
    })
    .await;
    assert!(retried.is_some(), "the failed send was retried");
    let client = &shop.client;
    client.goto(&format!("{}/signup", proxy.url)).await.unwrap();
    proxy.heal();
    client.goto(&format!("{}/lead", proxy.url)).await.unwrap();
    let stored = stored_copies(&shop.worker, id).await;
    shop.client.clone().close().await.unwrap();
    assert!(stored.is_some(), "the next page sent the lost event");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_unconfirmed_when_the_shopper_leaves_goes_out_by_beacon() {
    // browser::delivery: at `pagehide` every event of the outbox not yet confirmed is handed to
    // `navigator.sendBeacon`, which the browser sends after the page is gone. The proxy holds
    // every answer from /_ar/collect, so the event is still unconfirmed when the shopper leaves
    // for a page without the pixel (`about:blank`): only the pixel's own fetch (if it started)
    // and the beacon can carry it.
    let shop = product_page_behind_a_proxy(|p| p.hold("/_ar/collect")).await;
    let (proxy, id) = (&shop.proxy, shop.id.as_str());
    shop.client.goto("about:blank").await.unwrap();
    proxy.release();
    let beacon = until(&shop.worker, Duration::from_secs(30), || async {
        proxy.seen().into_iter().find(|s| {
            s.target.starts_with("/_ar/collect")
                && s.body.contains(id)
                && s.fetch_mode.as_deref() == Some("no-cors")
        })
    })
    .await;
    let stored = stored_copies(&shop.worker, id).await;
    shop.client.clone().close().await.unwrap();
    let beacon = beacon.expect("a beacon carried the unconfirmed event after the page was gone");
    let sent: serde_json::Value = serde_json::from_str(&beacon.body).unwrap_or_default();
    assert_eq!(
        (sent["event"].as_str(), sent["event_id"].as_str()),
        (Some("product.viewed"), Some(id)),
        "the beacon carries the event as collect takes it: {}",
        beacon.body
    );
    assert_eq!(stored, Some(1), "the worker keeps one copy of {id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_the_browser_cannot_serialize_is_dropped_without_an_error_on_the_page() {
    // An event with a cycle in an object passed through (`consent`; JSON.stringify throws) is
    // dropped with a warning, never thrown into the page (it was an uncaught TypeError, and it
    // took the rest of its batch with it), and the purchase tracked right after it still goes out.
    let shop = product_page_behind_a_proxy(|_| {}).await;
    let client = &shop.client;
    let id = client
        .execute(
            "window.arErrors = [];
             addEventListener('error', (e) => arErrors.push(String(e.message)));
             addEventListener('unhandledrejection', (e) => arErrors.push(String(e.reason)));
             const consent = {}; consent.self = consent;
             ar('track', 'product.viewed', {items: [{id: 'sku-2'}], consent});
             return ar('track', 'transaction.purchase', {order_id: 'cyc-1', value: 5, currency: 'EUR'});",
            vec![],
        )
        .await
        .unwrap();
    let id = id
        .as_str()
        .expect("the purchase resolved to its ID")
        .to_owned();
    let stored = stored_copies(&shop.worker, &id).await;
    let errors = client
        .execute("return JSON.stringify(arErrors);", vec![])
        .await
        .unwrap();
    shop.client.clone().close().await.unwrap();
    assert_eq!(stored, Some(1), "the purchase tracked after it was sent");
    assert_eq!(
        errors.as_str(),
        Some("[]"),
        "nothing reached the page uncaught"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_landing_url_too_long_for_the_worker_is_reported_without_its_query() {
    // event_rules::reportable_url: the worker refuses a page.url over 2048 bytes, and the whole
    // event with it; the pixel reports the page's URL without the query that made it too long.
    let long = "x".repeat(3000);
    let shop = product_page_at(&[], &format!("/products/sku-1?utm_content={long}"), |_| {}).await;
    let stored = stored_copies(&shop.worker, &shop.id).await;
    let sent: Vec<String> = shop
        .proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.starts_with("/_ar/collect") && s.body.contains(&shop.id))
        .map(|s| s.body)
        .collect();
    shop.client.clone().close().await.unwrap();
    assert_eq!(stored, Some(1), "the product view was stored");
    let body: serde_json::Value = serde_json::from_str(&sent[0]).unwrap();
    let url = body["page"]["url"].as_str().unwrap_or_default();
    assert!(url.ends_with("/products/sku-1"), "{url}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_clock_set_wrong_still_has_its_events_stored_at_the_edges_time() {
    // trust::on_edge_clock: each send states the device's clock (`?sent=`), and the worker dates
    // the event by its age at send. Before, a clock 10 minutes fast had every pixel event refused
    // ("more than 5 minutes in the future") and one 50 minutes slow had it stored 50 minutes early.
    let shop = product_page_behind_a_proxy(|_| {}).await;
    let client = &shop.client;
    let mut ids = Vec::new();
    for (offset_ms, sku) in [(600_000_i64, "sku-2"), (-3_000_000, "sku-3")] {
        let id = client
            .execute_async(
                "var done = arguments[arguments.length - 1], by = arguments[0],
                     real = window.arRealNow = window.arRealNow || Date.now.bind(Date);
                 Date.now = function () { return real() + by; };
                 ar('track', 'product.viewed', {items: [{id: arguments[1]}]})
                   .then(done, function (e) { done('refused: ' + e.message); });",
                vec![serde_json::json!(offset_ms), serde_json::json!(sku)],
            )
            .await
            .unwrap();
        let id = id.as_str().unwrap_or_default().to_owned();
        assert!(id.starts_with("ar1_"), "{offset_ms} ms: {id}");
        assert_eq!(
            stored_copies(&shop.worker, &id).await,
            Some(1),
            "{offset_ms} ms: stored"
        );
        ids.push((offset_ms, id));
    }
    shop.client.clone().close().await.unwrap();
    for (offset_ms, id) in ids {
        let rows = shop.worker.d1(&format!(
            "SELECT json_extract(record, '$.occurred_at_ms') - created_at AS off FROM events \
             WHERE event_id = '{id}'"
        ));
        let off = rows[0]["off"].as_i64().unwrap();
        assert!(
            (-60_000..=0).contains(&off),
            "a device {offset_ms} ms off: stored {off} ms from its arrival"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_time_from_the_pixel_to_the_first_event_sent_is_reported() {
    // The pixel's time budget, reported rather than asserted: the time from pixel.js arriving to
    // the first event sent, and the main-thread time the pixel's own work took until then (the
    // `ar:first-send` mark and its detail).
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let worker = shop_worker(&sb, port, &[]);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client
        .goto(&format!("{}/products/sku-1", worker.base_url))
        .await
        .unwrap();
    shown_event_id(&client, "#add-to-cart").await;
    let timing = until(&worker, Duration::from_secs(30), || async {
        let v = client
            .execute(
                "var sent = performance.getEntriesByName('ar:first-send')[0];
                 var js = performance.getEntriesByType('resource').filter(function (e) {
                   return e.name.indexOf('/_ar/pixel.js') >= 0; })[0];
                 if (!sent || !js) return null;
                 return [js.responseEnd, sent.startTime, sent.detail.busy_ms,
                         sent.detail.longest_ms];",
                vec![],
            )
            .await
            .ok()?;
        v.as_array().cloned()
    })
    .await
    .expect("the first event was sent");
    client.close().await.unwrap();
    let f = |i: usize| timing[i].as_f64().unwrap();
    let (arrived, sent, busy, longest) = (f(0), f(1), f(2), f(3));
    eprintln!(
        "pixel timing: pixel.js arrived at {arrived:.0} ms, first event sent at {sent:.0} ms \
         ({:.0} ms later, waiting for the page's tags to settle); the pixel's own main-thread \
         work until then {busy:.1} ms, its longest slice {longest:.1} ms (a long task is 50 ms)",
        sent - arrived
    );
    assert!(sent >= arrived, "the event leaves after the pixel arrives");
    assert!(
        (0.0..=sent).contains(&busy) && (0.0..=busy).contains(&longest),
        "the pixel's busy time is part of the time to the first event: {timing:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hashing_module_is_fetched_only_for_customer_data_and_holds_later_calls_in_order() {
    // The hashing module (`ar-pixel-hash`) is the pixel's second module: a product page without
    // customer data never fetches it; a `track` with `user{}` fetches it first, and a call made
    // after that one settles after it (one command chain), although it needs no module.
    let shop = product_page_behind_a_proxy(|_| {}).await;
    let (proxy, client) = (&shop.proxy, &shop.client);
    let hasher_fetched = || {
        proxy
            .seen()
            .iter()
            .any(|s| s.target.starts_with("/_ar/pixel-hash"))
    };
    assert!(
        !hasher_fetched(),
        "a page without customer data fetched the hashing module"
    );
    // Behind the worker the edge set the click-ID cookies: nothing for the capture module.
    let capture = proxy
        .seen()
        .into_iter()
        .find(|s| s.target.starts_with("/_ar/pixel-capture"));
    assert!(
        capture.is_none(),
        "a page the edge served fetched the capture module: {capture:?}"
    );
    client
        .execute(
            "window.results = [];
             function note(n) { return [function (v) { results.push([n, 'ok', v]); },
                                        function (e) { results.push([n, 'err', e.message]); }]; }
             ar('track', 'transaction.purchase', {order_id: 'h-1', value: 5, currency: 'EUR',
                user: {email: 'Order@Example.com'}}).then(...note(1));
             ar('eventId', 'transaction.purchase', 'h-2').then(...note(2));",
            vec![],
        )
        .await
        .unwrap();
    let settled = settled_results(&shop.worker, client, 2)
        .await
        .expect("both calls settled");
    let purchase = ar_shared::EventId::from_business_key(&ar_shared::EventName::Purchase, "h-1");
    let next = ar_shared::EventId::from_business_key(&ar_shared::EventName::Purchase, "h-2");
    assert_eq!(
        settled,
        format!(r#"[[1,"ok","{purchase}"],[2,"ok","{next}"]]"#),
        "calls settle in the order they were made"
    );
    assert!(
        hasher_fetched(),
        "the purchase with customer data fetched the hashing module"
    );
    let (email, _) = hash_user_data(
        &RawUserData::default().with(PiiField::Email, "Order@Example.com"),
        "US",
    );
    let em = email.meta.em.unwrap();
    let body = until(&shop.worker, Duration::from_secs(30), || async {
        proxy
            .seen()
            .into_iter()
            .find(|s| s.target.starts_with("/_ar/collect") && s.body.contains(purchase.as_str()))
    })
    .await
    .expect("the purchase was sent")
    .body;
    shop.client.clone().close().await.unwrap();
    assert!(
        body.contains(&format!(r#""email":{{"meta":"{}""#, em.as_str())),
        "hashed in the browser: {body}"
    );
    assert!(!body.to_lowercase().contains("order@example.com"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_with_a_lead_form_fetches_the_hashing_module_before_any_submit() {
    // A lead form's submit handler cannot wait for the module, so a page that has one fetches it
    // as soon as the pixel is up.
    let shop = product_page_behind_a_proxy(|_| {}).await;
    shop.client
        .goto(&format!("{}/lead", shop.proxy.url))
        .await
        .unwrap();
    assert!(
        hashing_module_fetched_in_time(shop).await,
        "the lead page fetched the hashing module ahead"
    );
}

/// Whether the page fetched the hashing module so far.
fn hashing_module_fetched(proxy: &RecordingProxy) -> bool {
    proxy
        .seen()
        .into_iter()
        .any(|s| s.target.starts_with("/_ar/pixel-hash.wasm"))
}

/// Whether the page fetches the hashing module within 30 s; closes the browser.
async fn hashing_module_fetched_in_time(shop: ProxiedShop) -> bool {
    let fetched = until(&shop.worker, Duration::from_secs(30), || async {
        hashing_module_fetched(&shop.proxy).then_some(())
    })
    .await;
    shop.client.clone().close().await.unwrap();
    fetched.is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lead_form_added_later_fetches_the_hashing_module_when_a_field_is_focused() {
    // The product page has no lead form, so no module; focusing a field of one added since
    // fetches it ahead of the submit.
    let shop = product_page_behind_a_proxy(|_| {}).await;
    assert!(
        !hashing_module_fetched(&shop.proxy),
        "no lead form, no hashing module"
    );
    shop.client
        .execute(
            "var f = document.createElement('form'); f.setAttribute('data-ar-lead', '');
             f.innerHTML = '<input type=\"email\" name=\"email\">';
             document.body.appendChild(f); f.querySelector('input').focus();",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        hashing_module_fetched_in_time(shop).await,
        "focusing the field fetched the hashing module"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submitted_lead_form_hands_its_lead_id_to_the_shop_backend() {
    // browser::lead_form: the pixel mints the lead id, puts it into the form's `ar_lead_id`
    // before the form posts, and reports `lead.submitted` with it; the demo shop's backend adopts
    // it (its own ids are `lead-<n>`), so both copies are one lead.
    let shop = product_page_behind_a_proxy(|_| {}).await;
    let (proxy, client) = (&shop.proxy, &shop.client);
    client.goto(&format!("{}/lead", proxy.url)).await.unwrap();
    click(client, "#send-lead").await;
    let shown = shown_event_id(client, "#lead-id").await;
    let lead = client
        .execute(
            "return document.querySelector('#lead-id').textContent;",
            vec![],
        )
        .await
        .unwrap();
    let lead = lead.as_str().unwrap_or_default().to_owned();
    assert!(
        lead.starts_with("lead_"),
        "the backend adopted the pixel's id: {lead}"
    );
    let id = ar_shared::EventId::from_business_key(&ar_shared::EventName::LeadSubmitted, &lead);
    assert_eq!(shown, id.as_str());
    let reported = until(&shop.worker, Duration::from_secs(30), || async {
        proxy.seen().into_iter().find(|s| {
            s.target.starts_with("/_ar/collect")
                && s.body.contains(r#""event":"lead.submitted""#)
                && s.body.contains(&format!(r#""lead_id":"{lead}""#))
        })
    })
    .await;
    // A lead form whose ar_lead_id is there but empty gets it filled, not a second one, and
    // controls named "matches" and "elements" (which hide the form's own) do not break the
    // listener; a form without the field gets a hidden one even with a control "appendChild".
    let filled = client
        .execute(
            "var f = document.createElement('form'); f.setAttribute('data-ar-lead', '');
             f.innerHTML = '<input name=\"matches\"><input name=\"elements\">' +
               '<input type=\"hidden\" name=\"ar_lead_id\" value=\"\">' +
               '<input type=\"email\" name=\"email\" value=\"x@example.com\">';
             var g = document.createElement('form'); g.setAttribute('data-ar-lead', '');
             g.innerHTML = '<input name=\"appendChild\">';
             [f, g].forEach(function (form) {
               form.addEventListener('submit', function (e) { e.preventDefault(); });
               document.body.appendChild(form); form.requestSubmit();
             });
             return [f, g].map(function (form) {
               var ids = form.querySelectorAll('input[name=ar_lead_id]');
               return ids.length + ' ' + (ids.length ? ids[0].value.slice(0, 5) : '');
             }).join(', ');",
            vec![],
        )
        .await
        .unwrap();
    shop.client.clone().close().await.unwrap();
    assert!(
        reported.is_some(),
        "the pixel reported the lead with that id"
    );
    assert_eq!(filled, "1 lead_, 1 lead_");
}

/// A product page left open while the console maps the custom `survey.answered`: returned once
/// the worker serves the new mapping (the page still holds the old one).
async fn open_page_then_survey_mapped() -> ProxiedShop {
    const ADMIN: &str = "admin-e2e-page-0123456789abcdef";
    let shop = product_page_behind_a_proxy_with(&[("ADMIN_TOKEN", ADMIN)], |_| {}).await;
    let worker = &shop.worker;
    let (status, outcome) = common::console_save_survey_mapping(&worker.base_url, ADMIN).await;
    assert_eq!(status, 200, "{outcome}");
    let served = until(worker, Duration::from_secs(30), || async {
        common::pixel_config(&worker.base_url)
            .await
            .event(&survey())
            .map(|_| ())
    })
    .await;
    assert!(served.is_some(), "the worker serves the new mapping");
    shop
}

fn survey() -> ar_shared::EventName {
    "survey.answered".parse().unwrap()
}

/// Moves the page's clock (`performance.now`, which the loader ages its configuration by) `ms`
/// on, or back when negative.
async fn move_page_clock(client: &Client, ms: i64) {
    client
        .execute(
            "var now = performance.now.bind(performance), by = arguments[0];
             performance.now = function () { return now() + by; };",
            vec![serde_json::json!(ms)],
        )
        .await
        .unwrap();
}

/// Tracks `survey.answered` on the open page until it is reported (each try before the page took
/// the new mapping is refused before anything fires), and checks it went out with the ID the
/// worker derives under the new mapping.
async fn assert_reported_under_the_new_mapping(shop: &ProxiedShop) {
    let client = &shop.client;
    let reported = until(&shop.worker, Duration::from_secs(30), || async {
        let r = client
            .execute_async(
                "var done = arguments[arguments.length - 1];
                 ar('track', 'survey.answered', {lead_id: 's-9'}).then(done, function () { done(null); });",
                vec![],
            )
            .await
            .ok()?;
        r.as_str().map(str::to_owned)
    })
    .await;
    shop.client.clone().close().await.unwrap();
    let id = ar_shared::EventId::from_business_key(&survey(), "s-9");
    assert_eq!(
        reported.as_deref(),
        Some(id.as_str()),
        "the open page reported under the new mapping"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_page_takes_a_mapping_change_when_it_is_shown_again() {
    // The pixel revalidates /_ar/config while the page stays open (when it is shown again, and
    // after a command once its copy is 30 s old): an event mapped after the page loaded is
    // reported under the new mapping, as the worker maps it, without a reload.
    let shop = open_page_then_survey_mapped().await;
    // The page's clock moved back: its copy of the configuration stays young, so only the page
    // being shown again can bring the new mapping (not the 30-s rule).
    move_page_clock(&shop.client, -600_000).await;
    let shown = shop
        .client
        .execute(
            "document.dispatchEvent(new Event('visibilitychange')); return document.visibilityState;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, "visible");
    // The revalidation runs beside the page's commands: wait for its effect.
    assert_reported_under_the_new_mapping(&shop).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_page_takes_a_mapping_change_after_a_command_once_its_copy_is_30_s_old() {
    // The page is never hidden and shown here: the page's clock moves 31 s on, so its copy of
    // the configuration is 30 s old, and the command after that (here, a refused track of the
    // event the page does not know yet) starts a revalidation.
    let shop = open_page_then_survey_mapped().await;
    move_page_clock(&shop.client, 31_000).await;
    assert_reported_under_the_new_mapping(&shop).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_waiting_for_the_hashing_module_when_the_shopper_leaves_still_goes_out() {
    // A `track` with `user{}` waits for the hashing module (the proxy holds it). A shopper who
    // leaves before it arrives must not lose the event: at `pagehide` the waiting command runs
    // without the module, so the event goes without its customer data (never raw).
    let shop = product_page_behind_a_proxy(|p| p.hold("/_ar/pixel-hash.js")).await;
    let (proxy, client) = (&shop.proxy, &shop.client);
    client
        .execute(
            "ar('track', 'transaction.purchase', {order_id: 'leave-1', value: 5, currency: 'EUR',
                user: {email: 'Leaving@Example.com'}});",
            vec![],
        )
        .await
        .unwrap();
    client.goto("about:blank").await.unwrap();
    let id = ar_shared::EventId::from_business_key(&ar_shared::EventName::Purchase, "leave-1");
    let stored = stored_copies(&shop.worker, id.as_str()).await;
    proxy.release();
    let sent: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.starts_with("/_ar/collect") && s.body.contains(id.as_str()))
        .map(|s| s.body)
        .collect();
    shop.client.clone().close().await.unwrap();
    assert!(stored.is_some(), "the purchase was lost with the page");
    assert!(
        sent.iter()
            .all(|b| !b.to_lowercase().contains("leaving@example.com") && !b.contains("\"user\"")),
        "{sent:?}"
    );
}

// README "Content-Security-Policy": the inline part allowed by the nonce the page's other inline
// scripts carry, instead of by its hash; and a strict `style-src` (no 'unsafe-inline'), under
// which the built-in banner still shows styled: it sets its styles through the CSSOM
// (`element.style`), which a policy does not govern, never a `style` attribute.
#[tokio::test(flavor = "multi_thread")]
async fn under_a_nonce_policy_with_strict_styles_the_pixel_runs_and_the_banner_shows_styled() {
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let p = sb.platform_url.clone();
    let worker = shop_worker(&sb, port, &common::browser::BANNER_VISITOR);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    let policy = format!(
        "script-src 'self' {p} 'nonce-arCspTest1' 'wasm-unsafe-eval'; connect-src 'self' {p}; style-src 'self'"
    );
    let documented = ar_shared::browser::snippet::content_security_policy();
    let hash = documented
        .split(' ')
        .find(|t| t.starts_with("'sha256-"))
        .expect("the documented policy names the snippet's hash");
    assert!(!policy.contains(hash), "allowed by nonce alone");
    let query: String = form_urlencoded::byte_serialize(policy.as_bytes()).collect();
    client
        .goto(&format!(
            "{}/_shop/csp?policy={query}&nonce=arCspTest1",
            worker.base_url
        ))
        .await
        .unwrap();
    let banner = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css("#ar-banner"))
        .await
        .expect("the banner shows under the policy");
    let position = banner.css_value("position").await.unwrap();
    let page = page_under_policy(&worker, &client)
        .await
        .expect("the page's call settled");
    client.close().await.unwrap();
    assert_eq!(position, "fixed", "the banner's own styles apply");
    assert_snippet_ran(&page);
    assert!(
        page["result"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ok:"),
        "the call resolved: {page:#}"
    );
    assert_eq!(page["refused"], serde_json::json!([]), "{page:#}");
    assert_eq!(page["errors"], serde_json::json!([]), "{page:#}");
}

/// The inline part ran under the policy (`window.ar` was there for the page's script) and its
/// consent default is first in `dataLayer`.
fn assert_snippet_ran(page: &serde_json::Value) {
    assert_eq!(page["snippet"], true, "the inline part ran: {page:#}");
    assert!(
        page["consent"]
            .as_str()
            .unwrap_or_default()
            .starts_with(r#"["consent","default""#),
        "the snippet's default is first in dataLayer: {page:#}"
    );
}

/// `window.arPage` on the `/_shop/csp` page (what its own script recorded) once its call
/// settled, read after a later task so that unhandled rejections are in (at most 30 s).
async fn page_under_policy(worker: &Worker, client: &Client) -> Option<serde_json::Value> {
    until(worker, Duration::from_secs(30), || async {
        let v = client
            .execute_async(
                "const done = arguments[0];
                 setTimeout(() => done(window.arPage && arPage.result !== null ? JSON.stringify(arPage) : null), 0);",
                vec![],
            )
            .await
            .ok()?;
        serde_json::from_str(v.as_str()?).ok()
    })
    .await
}

/// Opens `/_shop/csp` under `policy`.
async fn open_under_policy(worker: &Worker, client: &Client, policy: &str) {
    let policy: String = form_urlencoded::byte_serialize(policy.as_bytes()).collect();
    client
        .goto(&format!("{}/_shop/csp?policy={policy}", worker.base_url))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn under_the_documented_policy_the_pixel_runs_and_without_wasm_the_page_still_works() {
    // README "Content-Security-Policy": the product's policy, with the stand-in tags' host added
    // as a merchant adds Meta's and Google's.
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let p = sb.platform_url.clone();
    let worker = shop_worker(&sb, port, &[]);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    let policy = ar_shared::browser::snippet::content_security_policy()
        .replace("'self'", &format!("'self' {p}"));
    open_under_policy(&worker, &client, &policy).await;
    let page = page_under_policy(&worker, &client)
        .await
        .expect("the page's call settled");
    let result = page["result"].as_str().unwrap_or_default();
    let id = result
        .strip_prefix("ok:")
        .unwrap_or_else(|| panic!("the call resolved: {page:#}"))
        .to_owned();
    assert_snippet_ran(&page);
    // The event is stored and the tags fired with its ID, all under the policy.
    let stored = until(&worker, Duration::from_secs(30), || async {
        let rows = worker.d1(&format!(
            "SELECT 1 AS n FROM events WHERE event_id = '{id}'"
        ));
        let fired = serde_json::to_string(&tag_calls(&p).await)
            .unwrap()
            .contains(id.as_str());
        (!rows.is_empty() && fired).then_some(())
    })
    .await;
    let page = page_under_policy(&worker, &client).await.unwrap();
    assert!(stored.is_some(), "stored and fired: {id}; page {page:#}");
    assert_eq!(page["refused"], serde_json::json!([]), "{page:#}");
    assert_eq!(page["errors"], serde_json::json!([]), "{page:#}");

    // The same policy without 'wasm-unsafe-eval': the browser refuses to compile the pixel.
    let strict = policy.replace(" 'wasm-unsafe-eval'", "");
    assert_ne!(strict, policy);
    open_under_policy(&worker, &client, &strict).await;
    let page = page_under_policy(&worker, &client)
        .await
        .expect("the page's call settled");
    client.close().await.unwrap();
    assert!(
        page["result"]
            .as_str()
            .unwrap_or_default()
            .starts_with("err:"),
        "the call rejected: {page:#}"
    );
    assert!(
        page["warned"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ar: the pixel could not start:"),
        "{page:#}"
    );
    assert_eq!(page["snippet"], true, "{page:#}");
    assert_eq!(
        page["errors"],
        serde_json::json!([]),
        "nothing thrown into the page: {page:#}"
    );
    assert!(
        page["refused"].to_string().contains("script-src"),
        "the refusal is the policy's: {page:#}"
    );
}
