//! Runs in real headless Chromium (`wasm-bindgen-test-runner` + ChromeDriver): the pixel's wasm
//! build must compute exactly the IDs the native build computes, fire the tags with them, and
//! replay the snippet's queue in order.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod modules;

wasm_bindgen_test_configure!(run_in_browser);

/// Same value as `ar_shared::event_id` pins natively (and the end-to-end test checks in a page).
const PURCHASE_1001: &str = "ar1_47c5cc731af4b5c9fbd830ab4db17cf4";

/// A configuration as the worker serves it: Meta and GA4 driven, purchases with a conversion tag.
const CONFIG: &str = "ar=1&version=test&country=US\n\
meta=123&src=http%3A%2F%2F127.0.0.1%3A9%2Ffbevents.js&load=0\n\
ga4=G-1&src=http%3A%2F%2F127.0.0.1%3A9%2Fgtag.js&load=0\n\
leads=1\n\
event=transaction.purchase&meta=Purchase&ga4=purchase&key=order_id&send_to=AW-9%2Flabel\n\
event=cart.added&meta=AddToCart&ga4=add_to_cart&key=cart_line\n\
event=quiz.completed&meta=QuizCompleted&ga4=quiz_completed&key=none\n";

fn eval(js: &str) -> JsValue {
    js_sys::eval(js).expect("test script runs")
}

/// Recording stand-ins for the page's own tags, and loader hooks that record what is sent.
fn page_with_tags() -> JsValue {
    modules::install();
    eval(
        "window.calls = []; window.sent = [];
         window.fbq = function () { calls.push(['fbq'].concat([].slice.call(arguments))); };
         window.fbq.callMethod = function () {};
         window.gtag = function () { calls.push(['gtag'].concat([].slice.call(arguments))); };
         window.google_tag_manager = {};
         document.cookie = '_ar_consent=; Max-Age=0; Path=/';
         document.cookie = '_ar_oo=; Max-Age=0; Path=/';
         ({ send: function (b, c) { sent.push([b, c]); }, load: function () {}, stub: function () {},
            hash: function (u, c) { return window.arHash && window.arHash(u, c); },
            capture: function (a) { window.arCapture && window.arCapture(a); },
            banner: function () { calls.push(['banner'].concat([].slice.call(arguments))); } })",
    )
}

/// Boots as for a visitor outside the opt-in regions (everything granted by default), then
/// forgets the boot's own tag calls.
fn boot_granted() {
    ar_pixel::boot(
        CONFIG,
        Some("consent=1.gggg&banner=0".into()),
        &page_with_tags(),
    )
    .unwrap();
    eval("calls.length = 0");
}

fn calls() -> Vec<String> {
    let calls = eval("calls.map(function (c) { return JSON.stringify(c); })");
    Array::from(&calls)
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

fn track(event: &str, props: &str) -> Result<JsValue, JsValue> {
    let args = Array::of2(&JsValue::from_str(event), &eval(&format!("({props})")));
    ar_pixel::command("track", &args)
}

#[wasm_bindgen_test]
fn business_key_id_in_the_browser_matches_the_native_id() {
    let id = ar_pixel::event_id("transaction.purchase", Some("1001".into())).ok();
    assert_eq!(id.as_deref(), Some(PURCHASE_1001));
}

#[wasm_bindgen_test]
fn ids_without_a_business_key_come_from_browser_randomness() {
    let a = ar_pixel::event_id("product.viewed", None).ok();
    let b = ar_pixel::event_id("product.viewed", None).ok();
    assert!(a.is_some() && b.is_some());
    assert_ne!(a, b, "two random IDs must differ");
}

#[wasm_bindgen_test]
fn invalid_event_names_are_refused() {
    assert!(ar_pixel::event_id("Not An Event", None).is_err());
}

#[wasm_bindgen_test]
fn the_tags_fire_with_the_id_the_server_copy_gets() {
    // meta-capi.md §4: fbq's eventID = the server event_id; google.md §8: gtag's transaction_id =
    // Data Manager's transactionId (the order id for purchases).
    boot_granted();
    let id = track(
        "transaction.purchase",
        "{order_id: '1001', value: 59.9, currency: 'EUR', items: [{id: 'sku-1', price: 59.9, quantity: 1}]}",
    )
    .unwrap();
    assert_eq!(id.as_string().as_deref(), Some(PURCHASE_1001));
    let calls = calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls[0].starts_with(r#"["fbq","track","Purchase",{"value":59.9,"currency":"EUR""#),
        "{}",
        calls[0]
    );
    assert!(calls[0].ends_with(&format!(r#"{{"eventID":"{PURCHASE_1001}"}}]"#)));
    assert!(calls[1].starts_with(r#"["gtag","event","purchase",{"transaction_id":"1001""#));
    assert!(
        calls[2].starts_with(
            r#"["gtag","event","conversion",{"send_to":"AW-9/label","transaction_id":"1001""#
        ),
        "{}",
        calls[2]
    );
    let sent = eval("JSON.stringify(sent[0])").as_string().unwrap();
    assert!(
        sent.contains(&format!(r#""event_id":"{PURCHASE_1001}""#)),
        "{sent}"
    );
    assert!(sent.contains(r#"{"meta":true,"google":true}"#), "{sent}");
}

#[wasm_bindgen_test]
fn custom_events_are_tracked_custom_with_their_mapped_names() {
    // meta-capi.md §11.1: names outside Meta's standard events go through trackCustom.
    boot_granted();
    track("quiz.completed", "{}").unwrap();
    let calls = calls();
    assert!(
        calls[0].starts_with(r#"["fbq","trackCustom","QuizCompleted""#),
        "{calls:?}"
    );
    assert!(calls[1].starts_with(r#"["gtag","event","quiz_completed""#));
    assert_eq!(calls.len(), 2, "no conversion tag for this event");
}

#[wasm_bindgen_test]
fn a_refused_event_names_its_field_and_fires_nothing() {
    boot_granted();
    let err = track("transaction.purchase", "{value: 1, currency: 'EUR'}").unwrap_err();
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert_eq!(message, "order_id: required for transaction.purchase");
    let err = track("quiz.unknown", "{}").unwrap_err();
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(
        message.starts_with("event: quiz.unknown is not a standard event"),
        "{message}"
    );
    // What the worker's validation refuses (ar_shared::event_rules), refused here first: a value
    // without a currency, a currency that is not ISO 4217, an amount out of range, another event's ID on a keyed event, a field it
    // does not take, an item without its id (a GA4-style `item_id`), a key or text over 512
    // bytes, more than 200 items, an item's price out of range.
    for (props, refusal) in [
        (
            "{cart_id: 'c1', items: [{id: 'a'}], page: {url: location.href, title: 'Shoes'}}",
            "page.title: is not a page field (url, referrer)",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], page: {referrer: 'android-app://com.x'}}",
            "page.referrer: must be an absolute http(s) URL",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], page: {url: 5}}",
            "page.url: must be a string",
        ),
        (
            "{cart_id: 'c'.repeat(513), items: [{id: 'a'}]}",
            "cart_id: longer than 512 bytes",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], value: 1, currency: 'E'.repeat(513)}",
            "currency: longer than 512 bytes",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], order_token: 'f'.repeat(513)}",
            "order_token: longer than 512 bytes",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], refund_id: 'r'.repeat(513)}",
            "refund_id: longer than 512 bytes",
        ),
        (
            "{cart_id: 'c1', items: Array.from({length: 201}, (_, i) => ({id: 'p' + i}))}",
            "items: at most 200 items",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}, {id: 'b', price: -1}]}",
            "items[1].price: must be a finite number from 0 to 1e12",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a', category: 'n'.repeat(513)}]}",
            "items[0].category: longer than 512 bytes",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], coupon: 'X'}",
            "coupon: is not an event field (README \"Server events\" lists them)",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}, {item_id: 'b'}]}",
            "items[1].id: required: every item needs its product id",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], client: {ip: '203.0.113.9'}}",
            "client: is read by the edge from the request itself; a browser may not state it",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], value: 5}",
            "currency: required when value is set",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], value: 5, currency: 'EURO'}",
            "currency: is not an ISO 4217 currency code (EUR, USD, …)",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], value: -5, currency: 'EUR'}",
            "value: must be a finite number from 0 to 1e12",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], event_id: 'someone-elses'}",
            "event_id: does not belong to this cart.added and its cart_id and items[0].id; leave event_id out and it is derived",
        ),
    ] {
        let err = track("cart.added", props).unwrap_err();
        let message = js_sys::Error::from(err).message().as_string().unwrap();
        assert_eq!(message, refusal, "{props}");
    }
    assert!(calls().is_empty());
    // A key whose value JSON leaves out is not a field sent: `{…, coupon: order.coupon}` without
    // a coupon goes.
    track(
        "cart.added",
        "{cart_id: 'c1', items: [{id: 'a'}], coupon: undefined, session_id: null, page: {url: location.href, referrer: null, title: undefined, note: Symbol('n')}}",
    )
    .unwrap();
    // A `URL` object serializes to the string the worker takes.
    track(
        "cart.added",
        "{cart_id: 'c2', items: [{id: 'a'}], page: {url: new URL(location.href)}}",
    )
    .unwrap();
}

#[wasm_bindgen_test]
fn a_field_given_a_kind_of_value_the_worker_does_not_take_is_refused_before_any_tag_fires() {
    // event_rules::FIELD_KINDS and signal_problem: the fields the pixel passes through as the
    // page gave them; the worker's parse would refuse the server copy after the tags fired.
    boot_granted();
    for (props, refusal) in [
        (
            "{cart_id: 'c1', items: [{id: 'a'}], order_token: 5}",
            "order_token: must be a string",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], value: 'abc', currency: 'EUR'}",
            "value: must be a number",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], sale_opt_out: 'yes'}",
            "sale_opt_out: must be true or false",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], user: 'jane@example.com'}",
            "user: must be an object",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], consent: 'denied'}",
            "consent: must be an object",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], consent: {ad_storage: 'GRANTED'}}",
            "consent.ad_storage: must be \"granted\" or \"denied\"",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a', price: 'abc'}]}",
            "items[0].price: must be a number",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}, {id: 'b', name: {en: 'Tee'}}]}",
            "items[1].name: must be a string",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a', quantity: 0}]}",
            "items[0].quantity: must be at least 1",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a', quantity: true}]}",
            "items[0].quantity: must be a number",
        ),
        (
            "{cart_id: 'c1', items: [{id: 'a'}], consent: {gdpr: 'granted'}}",
            "consent.gdpr: is not a consent signal (ad_storage, analytics_storage, ad_user_data, ad_personalization)",
        ),
    ] {
        let err = track("cart.added", props).unwrap_err();
        let message = js_sys::Error::from(err).message().as_string().unwrap();
        assert_eq!(message, refusal, "{props}");
    }
    let err = track(
        "transaction.purchase",
        "{order_id: '1', value: 1, currency: 'EUR', items: null}",
    )
    .unwrap_err();
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert_eq!(message, "items: must be a list");
    assert!(calls().is_empty());
    // A stated consent as the worker takes it goes; so does a key given as a number (written as a
    // string).
    track(
        "cart.added",
        "{cart_id: 'c3', items: [{id: 'a'}], consent: {ad_storage: 'denied', analytics_storage: null, ad_user_data: undefined}, sale_opt_out: false}",
    )
    .unwrap();
    track(
        "cart.added",
        "{cart_id: 4, items: [{id: 'a'}], value: '5', currency: 'EUR', refund_id: 7}",
    )
    .unwrap();
    let sent = eval("JSON.stringify([sent[1][0].cart_id, sent[1][0].value, sent[1][0].refund_id])");
    assert_eq!(sent.as_string().as_deref(), Some(r#"["4",5,"7"]"#));
    // An item's price given as a numeric string is read as a number; a null field is unstated.
    track(
        "cart.added",
        "{cart_id: 'c5', items: [{id: 5, price: '9.5', quantity: 2, name: null}]}",
    )
    .unwrap();
    let item = eval("JSON.stringify(sent[2][0].items)");
    assert_eq!(
        item.as_string().as_deref(),
        Some(r#"[{"id":"5","price":9.5,"quantity":2}]"#)
    );
}

#[wasm_bindgen_test]
fn queued_calls_replay_in_order_and_settle_their_promises() {
    boot_granted();
    let queue = eval(
        "window.settled = [];
         function entry(args, n) { return [args, function (v) { settled.push([n, 'ok', v]); },
           function (e) { settled.push([n, 'err', e.message]); }]; }
         (function () { return [
           entry(['track', 'transaction.purchase', {order_id: '1001', value: 1, currency: 'EUR'}], 1),
           entry(['track', 'cart.added', {cart_id: 'c1'}], 2),
           entry(['eventId', 'transaction.purchase', '1001'], 3) ]; })()",
    );
    ar_pixel::replay(&queue);
    let settled = eval("JSON.stringify(settled)").as_string().unwrap();
    assert_eq!(
        settled,
        format!(
            r#"[[1,"ok","{PURCHASE_1001}"],[2,"err","cart_id and items[0].id: required for cart.added"],[3,"ok","{PURCHASE_1001}"]]"#
        )
    );
}

#[wasm_bindgen_test]
fn a_stub_whose_library_never_loaded_did_not_fire() {
    // meta-capi.md §11.2: without fbevents.js the stub only queues.
    let hooks = eval(
        "window.fbq = function () { fbq.queue.push(arguments); }; fbq.queue = [['init', '1']]; fbq._ar = 1;
         delete window.gtag; delete window.google_tag_manager; window.loads = [];
         ({ send: function () {}, load: function (s) { loads.push(s); }, stub: function () {}, hash: function (u, c) { return window.arHash && window.arHash(u, c); },
            capture: function (a) { window.arCapture && window.arCapture(a); },
            banner: function () {} })",
    );
    ar_pixel::boot(CONFIG, None, &hooks).unwrap();
    let loads = eval("JSON.stringify(loads)").as_string().unwrap();
    assert_eq!(
        loads, r#"["http://127.0.0.1:9/fbevents.js"]"#,
        "the page's init gets its library"
    );
    let called = eval("({meta: true, google: false})");
    let fired = ar_pixel::fired(&called);
    let meta = Reflect::get(&fired, &"meta".into()).unwrap();
    assert_eq!(meta.as_bool(), Some(false));
}

/// Meta's published vectors (meta-capi.md §2.1): what the native build pins too.
const EM_JOHN: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
const PH_US: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
const FN_VALERY: &str = "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c";

#[wasm_bindgen_test]
fn the_browser_hashes_exactly_as_the_native_build_and_nothing_raw_leaves() {
    // DESIGN §4 "PII": normalized and hashed with ar-shared before anything leaves the page.
    boot_granted();
    let user = "{email: ' John_Smith@gmail.com', phone: '(650)555-1212', first_name: 'Valéry', \
                city: 'Mountain View', zip: '94043', country: 'US'}";
    let args = Array::of2(&JsValue::from_str("identify"), &eval(&format!("({user})")));
    ar_pixel::command("identify", &args.slice(1, 2)).unwrap();
    track("cart.added", "{cart_id: 'c1', items: [{id: 'sku-1'}]}").unwrap();
    let sent = eval("JSON.stringify(sent[0][0].user)").as_string().unwrap();
    assert!(
        sent.contains(&format!(r#""email":{{"meta":"{EM_JOHN}""#)),
        "{sent}"
    );
    assert!(
        sent.contains(&format!(r#""phone":{{"meta":"{PH_US}""#)),
        "{sent}"
    );
    assert!(
        sent.contains(&format!(r#""first_name":{{"meta":"{FN_VALERY}""#)),
        "{sent}"
    );
    assert!(
        sent.contains(r#""zip":{"meta":"#) && sent.contains(r#""google":"94043""#),
        "{sent}"
    );
    let calls = calls().join(" ");
    assert!(
        calls.contains(&format!(r#"["fbq","init","123",{{"em":"{EM_JOHN}""#)),
        "{calls}"
    );
    assert!(
        calls.contains(r#"["gtag","set","user_data",{"sha256_email_address":"#),
        "{calls}"
    );
    let everything = format!("{sent} {calls}").to_lowercase();
    for raw in ["john_smith", "valéry", "555-1212", "6505551212"] {
        assert!(
            !everything.contains(raw),
            "{raw} left the page: {everything}"
        );
    }
}

#[wasm_bindgen_test]
fn without_ad_user_data_the_tags_get_no_customer_data() {
    // DESIGN §4 table: hashed keys only with ad_user_data granted; the worker still gets them
    // and applies the policy to its copies.
    eval("document.cookie = '_ar_consent=1.ggdg; Path=/'");
    ar_pixel::boot(
        CONFIG,
        Some("consent=1.gggg&banner=0".into()),
        &page_with_tags_keeping_cookie(),
    )
    .unwrap();
    eval("calls.length = 0");
    track(
        "transaction.purchase",
        "{order_id: '7', value: 1, currency: 'EUR', user: {email: 'a@b.example'}}",
    )
    .unwrap();
    let calls = calls().join(" ");
    assert!(
        !calls.contains("user_data") && !calls.contains("\"init\""),
        "{calls}"
    );
    assert!(
        eval("JSON.stringify(sent[0][0].user)")
            .as_string()
            .unwrap()
            .contains("\"meta\"")
    );
    eval("document.cookie = '_ar_consent=; Max-Age=0; Path=/'");
}

/// Like [`page_with_tags`], without clearing the consent cookie.
fn page_with_tags_keeping_cookie() -> JsValue {
    modules::install();
    eval(
        "window.calls = []; window.sent = [];
         window.fbq = function () { calls.push(['fbq'].concat([].slice.call(arguments))); };
         window.fbq.callMethod = function () {};
         window.gtag = function () { calls.push(['gtag'].concat([].slice.call(arguments))); };
         window.google_tag_manager = {};
         ({ send: function (b, c) { sent.push([b, c]); }, load: function () {}, stub: function () {},
            hash: function (u, c) { return window.arHash && window.arHash(u, c); },
            capture: function (a) { window.arCapture && window.arCapture(a); },
            banner: function () {} })",
    )
}

#[wasm_bindgen_test]
fn a_newer_configuration_maps_the_events_after_it() {
    // An open page takes a mapping change (the loader revalidates /_ar/config), so it never
    // reports under a mapping the worker no longer has.
    boot_granted();
    let before = track("survey.answered", "{lead_id: 's-1'}");
    assert!(before.is_err(), "not mapped yet");
    assert!(
        ar_pixel::reconfigure("not a configuration").is_err(),
        "an unreadable one is refused"
    );
    let newer = format!(
        "{CONFIG}event=survey.answered&meta=SurveyAnswered&ga4=survey_answered&key=lead_id\n"
    );
    ar_pixel::reconfigure(&newer).unwrap();
    let id = track("survey.answered", "{lead_id: 's-1'}").unwrap();
    let expected =
        ar_shared::EventId::from_business_key(&"survey.answered".parse().unwrap(), "s-1");
    assert_eq!(id.as_string().as_deref(), Some(expected.as_str()));
    assert!(
        calls()
            .iter()
            .any(|c| c.starts_with(r#"["fbq","trackCustom","SurveyAnswered""#)),
        "{:?}",
        calls()
    );
    ar_pixel::reconfigure(CONFIG).unwrap();
}
