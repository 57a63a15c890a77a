//! Consent end to end, in headless Chromium through the real worker (workerd via `wrangler
//! dev`): a visitor in an opt-in region without a consent cookie. The snippet's consent default
//! precedes every gtag command, Meta's pixel is revoked before its init and never tracks, the
//! server copies follow the policy table (DESIGN §4: no Meta copy, Google's with ad user data
//! denied); the built-in banner's "accept" writes `_ar_consent` and from then on both tags and
//! Meta's server copy run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::time::Duration;

use ar_sandbox::ReportMode;
use ar_sandbox::harness::{ChromeDriver, Worker, free_port};
use common::browser::{
    browser, click, server_events, shop_sandbox, shop_worker, shown_event_id, tag_calls, until,
};
use serde_json::Value;

/// The calls one page made to `tag`, in the order the page made them.
fn page_calls(tags: &[Value], page: &str, tag: &str) -> Vec<Value> {
    let mut calls: Vec<Value> = tags
        .iter()
        .filter(|c| c["tag"] == tag && c["page"].as_str().is_some_and(|p| p.contains(page)))
        .cloned()
        .collect();
    calls.sort_by_key(|c| c["seq"].as_u64());
    calls
}

/// The demo shop behind the worker for a visitor in an opt-in region (DE) with the built-in
/// banner on, and a headless Chromium session (the driver must outlive it).
async fn banner_shop() -> (
    ar_sandbox::Sandbox,
    Worker,
    ChromeDriver,
    fantoccini::Client,
) {
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let worker = shop_worker(&sb, port, &common::browser::BANNER_VISITOR);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    (sb, worker, driver, client)
}

#[tokio::test(flavor = "multi_thread")]
async fn without_consent_the_default_comes_first_meta_stays_silent_and_the_banner_grants_it() {
    let (sb, worker, _driver, client) = banner_shop().await;
    let p = sb.platform_url.clone();
    let base = worker.base_url.clone();
    client
        .goto(&format!("{base}/products/sku-1?gclid=Cj0-consent"))
        .await
        .unwrap();
    let viewed = shown_event_id(&client, "#add-to-cart").await;
    // The stand-ins have recorded the page's view_item before anyone chose.
    let before = until(&worker, Duration::from_secs(30), || async {
        let tags = tag_calls(&p).await;
        let gtag = page_calls(&tags, "/products/", "gtag");
        gtag.iter()
            .any(|c| c["args"][1] == "view_item")
            .then_some(tags)
    })
    .await
    .expect("the view_item gtag call was recorded");
    click(&client, "#ar-banner button[data-ar-consent='accept']").await;
    // The choice is written before the next page asks for it.
    let cookie = written_choice(&client, &worker).await;
    assert_eq!(cookie.as_deref(), Some("1.gggg"));
    click(&client, "#add-to-cart").await;
    let added = shown_event_id(&client, "#checkout").await;
    client.goto(&format!("{base}/")).await.unwrap();
    client.close().await.unwrap();

    // Page 1, denied: the consent default is gtag's first command (google.md §5, §11.3).
    let gtag = page_calls(&before, "/products/", "gtag");
    assert_eq!(gtag[0]["args"][0], "consent", "{gtag:?}");
    assert_eq!(gtag[0]["args"][1], "default");
    assert_eq!(gtag[0]["args"][2]["ad_user_data"], "denied");
    assert_eq!(gtag[0]["args"][2]["wait_for_update"], 500);
    // Meta: revoked before init, and no tracking before consent (meta-capi.md §11.3).
    let fbq = page_calls(&before, "/products/", "fbq");
    let pos = |cmd: &str| fbq.iter().position(|c| c["args"][0] == cmd);
    assert!(pos("consent") < pos("init"), "revoke before init: {fbq:?}");
    assert_eq!(fbq[0]["args"][1], "revoke");
    assert!(
        !fbq.iter().any(|c| c["args"][0] == "track"),
        "no fbq tracking before consent: {fbq:?}"
    );

    // Every page's first gtag command is the consent default, and after the choice Meta tracks.
    let server = until(&worker, Duration::from_mins(1), || async {
        let tags = tag_calls(&p).await;
        let cart_fbq = page_calls(&tags, "/cart", "fbq");
        let tracked = cart_fbq
            .iter()
            .any(|c| c["args"][0] == "track" && c["args"][3]["eventID"] == added.as_str());
        let meta = server_events(&p, "meta", "data").await;
        let dm = server_events(&p, "data_manager", "events").await;
        let arrived = meta.iter().any(|e| e["event_id"] == added.as_str())
            && dm.iter().any(|e| e["transactionId"] == viewed.as_str());
        (tracked && arrived).then_some((tags, meta, dm))
    })
    .await;
    let (tags, meta, dm) = server.unwrap_or_else(|| {
        panic!(
            "the granted page's fbq track and the server copies; worker output:\n{}",
            worker.process.output().join("\n")
        )
    });
    for page in ["/products/", "/cart"] {
        let gtag = page_calls(&tags, page, "gtag");
        assert_eq!(
            (&gtag[0]["args"][0], &gtag[0]["args"][1]),
            (&Value::from("consent"), &Value::from("default")),
            "{page}: {gtag:?}"
        );
    }
    let cart_gtag = page_calls(&tags, "/cart", "gtag");
    assert_eq!(
        cart_gtag[0]["args"][2]["ad_user_data"], "granted",
        "from the cookie"
    );

    // The server copies follow the policy table (DESIGN §4): denied in an opt-in region, Meta gets
    // nothing; Google gets the event with ad user data denied.
    assert!(!meta.iter().any(|e| e["event_id"] == viewed.as_str()));
    let rows = worker.d1(&format!(
        "SELECT status FROM outbox WHERE event_id = '{viewed}' AND platform = 'meta'"
    ));
    assert_eq!(rows[0]["status"], "skipped");
    let viewed_dm: Vec<&Value> = dm
        .iter()
        .filter(|e| e["transactionId"] == viewed.as_str())
        .collect();
    assert_eq!(viewed_dm.len(), 1);
    assert_eq!(viewed_dm[0]["consent"]["adUserData"], "CONSENT_DENIED");
    let added_dm: Vec<&Value> = dm
        .iter()
        .filter(|e| e["transactionId"] == added.as_str())
        .collect();
    assert!(
        added_dm
            .iter()
            .all(|e| e["consent"]["adUserData"] == "CONSENT_GRANTED"),
        "{added_dm:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_with_the_module_but_not_the_snippet_still_gets_the_consent_default_first() {
    // google.md §5, §11.3; meta-capi.md §11.3: the pixel issues the snippet's default itself
    // (a console warning tells the merchant), before the tags it brings up.
    let (sb, worker, _driver, client) = banner_shop().await;
    let p = sb.platform_url.clone();
    client
        .goto(&format!("{}/_shop/module-only", worker.base_url))
        .await
        .unwrap();
    let (gtag, fbq) = until(&worker, Duration::from_secs(30), || async {
        let tags = tag_calls(&p).await;
        let gtag = page_calls(&tags, "/_shop/module-only", "gtag");
        let fbq = page_calls(&tags, "/_shop/module-only", "fbq");
        let up = gtag.iter().any(|c| c["args"][0] == "config")
            && fbq.iter().any(|c| c["args"][0] == "init");
        up.then_some((gtag, fbq))
    })
    .await
    .expect("the tags the pixel brought up recorded their calls");
    client.close().await.unwrap();
    assert_eq!(
        (&gtag[0]["args"][0], &gtag[0]["args"][1]),
        (&Value::from("consent"), &Value::from("default")),
        "{gtag:?}"
    );
    assert_eq!(gtag[0]["args"][2]["ad_user_data"], "denied", "{gtag:?}");
    assert_eq!(gtag[0]["args"][2]["wait_for_update"], 500, "{gtag:?}");
    let pos = |cmd: &str| fbq.iter().position(|c| c["args"][0] == cmd);
    assert!(pos("consent") < pos("init"), "revoke before init: {fbq:?}");
    assert_eq!(fbq[0]["args"][1], "revoke", "{fbq:?}");
}

/// Whether the built-in banner is on the page now.
async fn banner_shown(client: &fantoccini::Client) -> bool {
    client
        .find_all(fantoccini::Locator::Css("#ar-banner"))
        .await
        .map_or(true, |found| !found.is_empty())
}

/// The `_ar_consent` cookie once the page has written it (at most 10 s).
async fn written_choice(client: &fantoccini::Client, worker: &Worker) -> Option<String> {
    until(worker, Duration::from_secs(10), || async {
        client
            .get_named_cookie("_ar_consent")
            .await
            .ok()
            .map(|c| c.value().to_owned())
    })
    .await
}

/// The focused element's `data-ar-consent` (which banner button has the keyboard), once the
/// banner is on the page.
async fn focused_choice(client: &fantoccini::Client) -> Option<String> {
    let el = client.active_element().await.ok()?;
    el.attr("data-ar-consent").await.ok().flatten()
}

/// Waits until the banner button `want` has the keyboard focus.
async fn focus_on(client: &fantoccini::Client, worker: &Worker, want: &str) {
    until(worker, Duration::from_secs(20), || async {
        (focused_choice(client).await.as_deref() == Some(want)).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("the banner's {want} button never had the focus"));
}

/// Presses and releases `key` as a keyboard would (WebDriver actions: the page's focus moves on
/// Tab, which element send-keys does not do).
async fn press(client: &fantoccini::Client, key: fantoccini::key::Key) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let key = char::from(key);
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
}

/// Issue 11 item 3: the built-in banner is keyboard-accessible. It opens with "accept" focused,
/// Tab reaches "reject", Enter chooses it (`_ar_consent` = all denied, the banner gone, and no
/// banner on the next page); Escape closes it without writing a choice.
#[tokio::test(flavor = "multi_thread")]
async fn the_banner_is_used_from_the_keyboard() {
    use fantoccini::key::Key;
    let (_sb, worker, _driver, client) = banner_shop().await;
    let base = worker.base_url.clone();
    client
        .goto(&format!("{base}/products/sku-1"))
        .await
        .unwrap();
    focus_on(&client, &worker, "accept").await;
    press(&client, Key::Tab).await;
    focus_on(&client, &worker, "reject").await;
    press(&client, Key::Enter).await;
    let cookie = written_choice(&client, &worker).await;
    assert_eq!(
        cookie.as_deref(),
        Some("1.dddd"),
        "Enter on reject denies all"
    );
    assert!(
        !banner_shown(&client).await,
        "the banner is gone after the choice"
    );
    // The next page has the choice: the pixel settles without asking again.
    client
        .goto(&format!("{base}/products/sku-2"))
        .await
        .unwrap();
    shown_event_id(&client, "#add-to-cart").await;
    assert!(
        !banner_shown(&client).await,
        "a visitor who chose is not asked again"
    );
    // Without a choice, Escape closes the banner and writes nothing.
    client.delete_cookie("_ar_consent").await.unwrap();
    client
        .goto(&format!("{base}/products/sku-1"))
        .await
        .unwrap();
    focus_on(&client, &worker, "accept").await;
    press(&client, Key::Escape).await;
    until(&worker, Duration::from_secs(10), || async {
        (!banner_shown(&client).await).then_some(())
    })
    .await
    .expect("Escape closes the banner");
    assert!(
        client.get_named_cookie("_ar_consent").await.is_err(),
        "Escape writes no choice"
    );
    client.close().await.unwrap();
}
