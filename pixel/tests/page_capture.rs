//! What the pixel captures from the page, in real headless Chromium: GA4 e-commerce dataLayer
//! pushes become the mapped events with their items, value and currency; a push without its
//! business key is not reported (it would be a second conversion beside the shop's keyed copy);
//! `capture` leaves the tags to the page's GTM; a `<form data-ar-lead>` reports its lead with
//! hashed contacts and hands its lead id to the shop's backend.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ar_shared::{EventId, EventName};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod modules;

wasm_bindgen_test_configure!(run_in_browser);

fn config(mode: &str) -> String {
    format!(
        "ar=1&version=test&country=US\n\
meta=123&src=x&load=0\nga4=G-1&src=x&load=0\n\
datalayer={mode}&checkout_id=ecommerce.checkout_id\nleads=1\n\
event=transaction.purchase&meta=Purchase&ga4=purchase&key=order_id\n\
event=checkout.started&meta=InitiateCheckout&ga4=begin_checkout&key=checkout_id\n\
event=product.viewed&meta=ViewContent&ga4=view_item&key=none\n\
event=lead.submitted&meta=Lead&ga4=generate_lead&key=lead_id\n"
    )
}

fn eval(js: &str) -> JsValue {
    js_sys::eval(js).expect("test script runs")
}

fn boot(mode: &str) {
    modules::install();
    let hooks = eval(
        "window.calls = []; window.sent = [];
         window.fbq = function () { calls.push(['fbq'].concat([].slice.call(arguments))); };
         fbq.callMethod = function () {};
         window.gtag = function () { calls.push(['gtag'].concat([].slice.call(arguments))); };
         window.google_tag_manager = {};
         document.cookie = '_ar_consent=1.gggg; Path=/';
         ({ send: function (b, c) { sent.push([b, c]); }, load: function () {}, stub: function () {},
            hash: function (u, c) { return window.arHash && window.arHash(u, c); },
            capture: function (a) { window.arCapture && window.arCapture(a); },
            banner: function () {} })",
    );
    ar_pixel::boot(
        &config(mode),
        Some("consent=1.gggg&banner=0".into()),
        &hooks,
    )
    .unwrap();
    eval("calls.length = 0; document.cookie = '_ar_consent=; Max-Age=0; Path=/'");
}

#[wasm_bindgen_test]
fn a_ga4_purchase_push_is_the_purchase_with_its_order_id_items_and_value() {
    // google.md §4, §11.1: GA4's transaction_id is the order id; items map field by field.
    boot("fire");
    let push = eval(
        "({event: 'purchase', ecommerce: {transaction_id: 'T-77', value: 25.5, currency: 'EUR',
           items: [{item_id: 'sku-9', item_name: 'Mug', price: 12.75, quantity: 2, item_category: 'Kitchen'}]}})",
    );
    let id = ar_pixel::data_layer_push(&push).unwrap();
    let expected = EventId::from_business_key(&EventName::Purchase, "T-77");
    assert_eq!(id.as_string().as_deref(), Some(expected.as_str()));
    let body = eval("JSON.stringify(sent[0][0])").as_string().unwrap();
    assert!(body.contains(r#""order_id":"T-77""#), "{body}");
    assert!(
        body.contains(r#""items":[{"id":"sku-9","name":"Mug","price":12.75,"quantity":2,"category":"Kitchen"}]"#),
        "{body}"
    );
    assert!(body.contains(r#""value":25.5"#) && body.contains(r#""currency":"EUR""#));
    let calls = eval("JSON.stringify(calls)").as_string().unwrap();
    assert!(
        calls.contains(r#"["fbq","track","Purchase""#),
        "fire mode fires: {calls}"
    );
}

#[wasm_bindgen_test]
fn a_push_item_without_its_id_is_left_out_and_the_purchase_still_reported() {
    // The worker refuses an item without an id, and the whole event with it
    // (event_rules::ITEM_WITHOUT_ID): the translation leaves that item out.
    boot("fire");
    let push = eval(
        "({event: 'purchase', ecommerce: {transaction_id: 'T-78', value: 5, currency: 'EUR',
           items: [{item_name: 'No id'}, {item_id: 'sku-3'}]}})",
    );
    let id = ar_pixel::data_layer_push(&push).unwrap();
    let expected = EventId::from_business_key(&EventName::Purchase, "T-78");
    assert_eq!(id.as_string().as_deref(), Some(expected.as_str()));
    let body = eval("JSON.stringify(sent[0][0].items)")
        .as_string()
        .unwrap();
    assert_eq!(body, r#"[{"id":"sku-3"}]"#);
}

#[wasm_bindgen_test]
fn a_push_item_field_of_the_wrong_kind_is_left_out_and_the_purchase_still_reported() {
    // `ar('track')` refuses such an item field (event_rules::ITEM_KINDS); a push comes from the
    // page's own GTM setup, so the translation leaves the field out and warns, naming it.
    boot("fire");
    eval(
        "window.arWarned = []; window.arWarn = console.warn;
         console.warn = function (m) { arWarned.push(String(m)); };",
    );
    let push = eval(
        "({event: 'purchase', ecommerce: {transaction_id: 'T-79', value: 5, currency: 'EUR',
           items: [{item_id: 'sku-4', item_name: {}, price: 'abc', quantity: 2}]}})",
    );
    let id = ar_pixel::data_layer_push(&push);
    eval("console.warn = arWarn;");
    let expected = EventId::from_business_key(&EventName::Purchase, "T-79");
    assert_eq!(id.unwrap().as_string().as_deref(), Some(expected.as_str()));
    let body = eval("JSON.stringify(sent[0][0].items)")
        .as_string()
        .unwrap();
    assert_eq!(body, r#"[{"id":"sku-4","quantity":2}]"#);
    let warned = eval("arWarned.join('|')").as_string().unwrap();
    assert_eq!(
        warned,
        "ar: dataLayer purchase: items[0].name left out: must be a string|\
         ar: dataLayer purchase: items[0].price left out: must be a number"
    );
}

#[wasm_bindgen_test]
fn a_push_without_its_business_key_is_not_reported() {
    // meta-capi.md §4, google.md §8: a random ID beside the shop's keyed copy would count twice.
    boot("capture");
    let keyless = eval("({event: 'begin_checkout', ecommerce: {value: 3, currency: 'EUR'}})");
    assert!(ar_pixel::data_layer_push(&keyless).unwrap().is_undefined());
    let keyed = eval(
        "({event: 'begin_checkout', ecommerce: {checkout_id: 'chk-5', value: 3, currency: 'EUR'}})",
    );
    let id = ar_pixel::data_layer_push(&keyed).unwrap();
    let expected = EventId::from_business_key(&EventName::CheckoutStarted, "chk-5");
    assert_eq!(id.as_string().as_deref(), Some(expected.as_str()));
    assert_eq!(
        eval("sent.length").as_f64(),
        Some(1.0),
        "only the keyed push"
    );
    assert_eq!(
        eval("calls.length").as_f64(),
        Some(0.0),
        "capture leaves the tags to GTM"
    );
    let view = eval("({event: 'view_item', ecommerce: {items: [{item_id: 'sku-1'}]}})");
    assert!(
        ar_pixel::data_layer_push(&view).unwrap().is_string(),
        "views need no key"
    );
    let other = eval("({event: 'page_view'})");
    assert!(ar_pixel::data_layer_push(&other).unwrap().is_undefined());
}

/// A lead form's inputs as the loader reads them: `[name, type, data-ar-field, value]`.
fn submitted(inputs: &str) -> JsValue {
    ar_pixel::form_submitted(&eval(inputs)).unwrap()
}

#[wasm_bindgen_test]
fn a_lead_form_reports_its_lead_with_hashed_contacts_and_hands_the_id_to_the_backend() {
    boot("off");
    let answer = js_sys::Array::from(&submitted(
        "[['email', 'email', null, 'Lead@Example.com'], ['phone', 'tel', null, '+49 30 123456'],
          ['message', 'text', null, 'call me'], ['surname', 'text', 'last_name', 'Muster']]",
    ));
    let lead = answer
        .get(1)
        .as_string()
        .expect("a minted lead id for the hidden field");
    assert!(lead.starts_with("lead_"), "{lead}");
    let expected = EventId::from_business_key(&EventName::LeadSubmitted, &lead);
    assert_eq!(
        answer.get(0).as_string().as_deref(),
        Some(expected.as_str())
    );
    let body = eval("JSON.stringify(sent[0][0])").as_string().unwrap();
    assert!(body.contains(&format!(r#""lead_id":"{lead}""#)), "{body}");
    for raw in ["lead@example.com", "123456", "muster", "call me"] {
        assert!(
            !body.to_lowercase().contains(raw),
            "{raw} left the page: {body}"
        );
    }
    assert!(body.contains(r#""last_name":{"meta":"#));
    // A form whose ar_lead_id the shop filled keeps it: nothing to add.
    let kept = js_sys::Array::from(&submitted(
        "[['ar_lead_id', 'hidden', null, 'lead_shop_7']]",
    ));
    assert!(kept.get(1).is_undefined());
    let body = eval("JSON.stringify(sent[1][0])").as_string().unwrap();
    assert!(body.contains(r#""lead_id":"lead_shop_7""#), "{body}");
}

#[wasm_bindgen_test]
fn a_lead_whose_event_failed_still_answers_the_minted_id_for_the_backend() {
    // The tags may have fired with the minted id before the event failed: the form must still
    // carry it, so the shop's backend reports the same lead instead of a second one.
    boot("off");
    eval("window.sent = { push: function () { throw new Error('send refused'); } }");
    let answer = js_sys::Array::from(&submitted("[['email', 'email', null, 'a@example.com']]"));
    eval("window.sent = []");
    let failed: js_sys::Error = answer.get(0).dyn_into().expect("the event's error");
    assert!(
        String::from(failed.message()).contains("send refused"),
        "{:?}",
        failed.message()
    );
    let lead = answer
        .get(1)
        .as_string()
        .expect("the minted id all the same");
    assert!(lead.starts_with("lead_"), "{lead}");
    let fired = eval("JSON.stringify(calls)").as_string().unwrap();
    let id = EventId::from_business_key(&EventName::LeadSubmitted, &lead);
    assert!(
        fired.contains(id.as_str()),
        "the tags fired with it: {fired}"
    );
}

#[wasm_bindgen_test]
fn the_loader_finds_lead_forms_by_the_shared_names() {
    boot("off");
    let names = js_sys::Array::from(&ar_pixel::lead_forms());
    let names: Vec<String> = names.iter().filter_map(|n| n.as_string()).collect();
    assert_eq!(names, ["form[data-ar-lead]", "data-ar-field", "ar_lead_id"]);
    let off = config("off").replace("leads=1\n", "");
    ar_pixel::reconfigure(&off).unwrap();
    assert!(ar_pixel::lead_forms().is_undefined(), "lead forms off");
    assert!(submitted("[['email', 'email', null, 'a@example.com']]").is_undefined());
    ar_pixel::reconfigure(&config("off")).unwrap();
}

#[wasm_bindgen_test]
fn a_lead_form_submitted_before_the_hashing_module_loaded_goes_without_its_contacts() {
    // DESIGN §4 "PII": never unhashed. The submit handler cannot wait for the module, so the
    // lead goes with its id only (the shop's backend reports the same lead with its contacts).
    boot("off");
    eval("window.keptHash = window.arHash; delete window.arHash");
    let answer = submitted("[['email', 'email', null, 'early@example.com']]");
    let body = eval("JSON.stringify(sent[0][0])").as_string().unwrap();
    eval("window.arHash = window.keptHash");
    assert!(
        js_sys::Array::from(&answer).get(0).is_string(),
        "the lead is still reported"
    );
    assert!(!body.contains("early@example.com"), "{body}");
    assert!(!body.contains(r#""user""#), "{body}");
}

#[wasm_bindgen_test]
fn only_commands_with_customer_data_wait_for_the_hashing_module() {
    let args = |props: &str| js_sys::Array::of2(&"purchase".into(), &eval(&format!("({props})")));
    assert!(ar_pixel::needs_hasher(
        "identify",
        &js_sys::Array::of1(&eval("({email: 'a@b.example'})"))
    ));
    assert!(ar_pixel::needs_hasher(
        "track",
        &args("{user: {email: 'a@b.example'}}")
    ));
    assert!(!ar_pixel::needs_hasher("track", &args("{order_id: '1'}")));
    assert!(!ar_pixel::needs_hasher("consent", &js_sys::Array::new()));
}
