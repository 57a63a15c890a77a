//! The second deployment mode, end to end with two local host names: the shop is served on
//! `shop.localhost` without the worker in front of it, and reports to a collect host on its
//! subdomain, `t.shop.localhost`, routed to the worker (workerd via `wrangler dev`; Chromium sends
//! every `*.localhost` name to the loopback interface). The worker answers CORS for the allowed
//! origin and sets its cookies on the registrable domain, so the shop's pages share them
//! (DESIGN §4 "Deployment").

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::harness::{ChromeDriver, free_port};
use ar_sandbox::{ReportMode, Sandbox, SandboxConfig};
use common::browser::{browser, server_events, shop_worker, shown_event_id, until};

#[tokio::test(flavor = "multi_thread")]
async fn a_shop_served_elsewhere_reports_through_a_collect_host_on_its_subdomain() {
    let worker_port = free_port();
    let mut config = SandboxConfig::default();
    config.shop.worker_url = format!("http://127.0.0.1:{worker_port}");
    config.shop.report = ReportMode::None;
    config.shop.pixel_src = Some(format!(
        "http://t.shop.localhost:{worker_port}/_ar/pixel.js"
    ));
    let sb = Sandbox::start_local(config).await.unwrap();
    let p = sb.platform_url.clone();
    let shop_port = sb.shop_url.rsplit(':').next().unwrap().to_owned();
    let shop_origin = format!("http://shop.localhost:{shop_port}");
    let worker = shop_worker(&sb, worker_port, &[("ALLOWED_ORIGINS", &shop_origin)]);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client
        .goto(&format!("{shop_origin}/products/sku-1?fbclid=IwAR-sub_1"))
        .await
        .unwrap();
    let id = shown_event_id(&client, "#add-to-cart").await;
    // The page's own cookie writing (browser::capture): the edge never saw this landing, so the
    // capture module comes from the collect host and writes `_fbc` from the page's fbclid.
    let captured = until(&worker, Duration::from_secs(30), || async {
        let v = client
            .execute(
                "var fetched = performance.getEntriesByType('resource').some(function (e) {
                   return e.name.indexOf('/_ar/pixel-capture.wasm') >= 0; });
                 return fetched && /(^|; )_fbc=fb\\.1\\.\\d+\\.IwAR-sub_1(;|$)/.test(document.cookie);",
                vec![],
            )
            .await
            .ok()?;
        v.as_bool().filter(|b| *b)
    })
    .await;
    assert!(
        captured.is_some(),
        "the capture module wrote _fbc on the shop's page"
    );
    // The hashing module comes from the collect host too (a cross-origin module and its wasm).
    let identified = client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             ar('identify', {email: 'Sub@Example.com'}).then(
               function () { done(sessionStorage.getItem('ar:user')); },
               function (e) { done('refused: ' + e.message); });",
            vec![],
        )
        .await
        .unwrap();
    let identified = identified.as_str().unwrap_or_default().to_owned();
    let event = until(&worker, Duration::from_mins(1), || async {
        let meta = server_events(&p, "meta", "data").await;
        meta.into_iter().find(|e| e["event_id"] == id.as_str())
    })
    .await;
    let cookies = client.get_all_cookies().await.unwrap();
    client.close().await.unwrap();
    let event = event.unwrap_or_else(|| {
        panic!(
            "the collect host got the event; worker output:\n{}",
            worker.process.output().join("\n")
        )
    });
    assert!(
        identified.contains(r#""email":{"meta":""#) && !identified.contains("example.com"),
        "the hashing module loaded from the collect host: {identified}"
    );
    // meta-capi.md §3.1: the fbclid verbatim, from the shop's own page URL.
    let fbc = event["user_data"]["fbc"].as_str().unwrap_or_default();
    assert!(fbc.ends_with(".IwAR-sub_1"), "{event}");
    // The worker's own session cookie reached the shop's pages: set on the registrable domain.
    let sid = cookies.iter().find(|c| c.name() == "_ar_sid");
    let domain = sid.and_then(|c| c.domain()).unwrap_or_default();
    assert_eq!(
        domain.trim_start_matches('.'),
        "shop.localhost",
        "{cookies:?}"
    );
}
