//! Consent in real headless Chromium: the inline snippet computes exactly the shared rule, puts the
//! consent default before every gtag command and the revoke before Meta's init, and
//! `ar('consent', …)` writes `_ar_consent` and updates both tags.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ar_shared::browser::consent::{meta_may_run, snippet_default};
use ar_shared::browser::snippet::SNIPPET_INLINE;
use js_sys::Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod modules;

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &str = "ar=1&version=test&country=US\n\
meta=123&src=http%3A%2F%2F127.0.0.1%3A9%2Ffbevents.js&load=0\n\
ga4=G-1&src=http%3A%2F%2F127.0.0.1%3A9%2Fgtag.js&load=0\n\
banner=1&text=Cookies%3F&accept=Yes&reject=No\n\
event=cart.added&meta=AddToCart&ga4=add_to_cart&key=cart_line\n";

fn eval(js: &str) -> JsValue {
    js_sys::eval(js).expect("test script runs")
}

fn text(js: &str) -> String {
    eval(js).as_string().unwrap_or_default()
}

/// A fresh page: no tags, no consent cookie (or `cookie`), then the snippet.
fn page_with_snippet(cookie: Option<&str>, before: &str) {
    eval(
        // `delete document.cookie`: a test that blocked cookies and failed (a wasm panic runs no
        // `Drop`) must not fail the ones after it.
        "delete document.cookie; delete window.fbq; delete window._fbq; delete window.gtag; delete window.ar;
         delete window.google_tag_manager; window.dataLayer = [];
         document.cookie = '_ar_consent=; Max-Age=0; Path=/'; document.cookie = '_ar_oo=; Max-Age=0; Path=/';",
    );
    if let Some(c) = cookie {
        eval(&format!("document.cookie = '_ar_consent={c}; Path=/'"));
    }
    eval(before);
    eval(SNIPPET_INLINE);
}

/// Recording tags on top of the snippet's stubs (the libraries "loaded").
fn recording_hooks() -> JsValue {
    modules::install();
    eval(
        "window.calls = []; window.sent = [];
         fbq.callMethod = function () { calls.push(['fbq'].concat([].slice.call(arguments))); };
         window.gtag = function () { calls.push(['gtag'].concat([].slice.call(arguments))); };
         window.google_tag_manager = {};
         ({ send: function (b, c) { sent.push([b, c]); }, load: function () {}, stub: function () {},
            hash: function (u, c) { return window.arHash && window.arHash(u, c); },
            capture: function (a) { window.arCapture && window.arCapture(a); },
            banner: function () { calls.push(['banner'].concat([].slice.call(arguments))); } })",
    )
}

#[wasm_bindgen_test]
fn the_snippets_consent_default_is_the_shared_rule_for_every_cookie() {
    // google.md §5, §11.3; meta-capi.md §11.3: the default before any tag, revoke before init.
    for cookie in [
        None,
        Some("1.gggg"),
        Some("1.dddd"),
        Some("1.gdg-"),
        Some("1.GgDd"),
        Some("2.gggg"),
        Some("1.ggggg"),
        Some("x"),
    ] {
        page_with_snippet(cookie, "");
        let expected = snippet_default(cookie);
        let first = text("JSON.stringify([].slice.call(dataLayer[0]))");
        let want = format!(
            r#"["consent","default",{{"ad_storage":"{}","analytics_storage":"{}","ad_user_data":"{}","ad_personalization":"{}","wait_for_update":500}}]"#,
            expected.ad_storage,
            expected.analytics_storage,
            expected.ad_user_data,
            expected.ad_personalization
        );
        assert_eq!(first, want, "{cookie:?}");
        let revoked = text("fbq.queue.length ? JSON.stringify([].slice.call(fbq.queue[0])) : ''");
        let want = if meta_may_run(expected) {
            ""
        } else {
            r#"["consent","revoke"]"#
        };
        assert_eq!(revoked, want, "{cookie:?}");
    }
}

#[wasm_bindgen_test]
fn the_consent_default_goes_before_a_google_snippet_that_came_first() {
    page_with_snippet(
        None,
        "window.gtag = function () { dataLayer.push(arguments); }; gtag('js', new Date()); gtag('config', 'G-1');
         window.fbq = function () { fbq.queue.push(arguments); }; fbq.queue = []; fbq('init', '123');",
    );
    assert_eq!(
        text("dataLayer[0][0] + ':' + dataLayer[0][1]"),
        "consent:default"
    );
    assert_eq!(text("dataLayer[1][0]"), "js");
    assert_eq!(
        text("fbq.queue[0][0] + ':' + fbq.queue[0][1]"),
        "consent:revoke"
    );
    assert_eq!(text("fbq.queue[1][0]"), "init");
}

#[wasm_bindgen_test]
fn without_the_snippet_the_module_issues_the_consent_default_before_its_own_tags() {
    // google.md §5, §11.3; meta-capi.md §11.3: a page with the module script only. The tags the
    // pixel brings up itself still get the default first and Meta's revoke before its init.
    page_with_snippet(None, "");
    eval(
        "delete window.fbq; delete window._fbq; delete window.gtag; delete window.ar; window.dataLayer = [];
         document.cookie = '_ar_oo=1; Path=/';",
    );
    modules::install();
    let hooks = eval(
        "window.calls = []; window.warned = []; window.keptWarn = console.warn;
         console.warn = function (m) { warned.push(String(m)); };
         ({ snippet: false, send: function () {}, load: function () {},
            stub: function (kind) { window[kind] = function () { calls.push([kind].concat([].slice.call(arguments))); }; },
            hash: function () {}, capture: function () {}, banner: function () {} })",
    );
    let config = CONFIG.replace("&load=0", "&load=1");
    ar_pixel::boot(&config, Some("consent=1.gggg&banner=0".into()), &hooks).unwrap();
    let calls = text("JSON.stringify(calls)");
    let at = |needle: &str| {
        calls
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {calls}"))
    };
    assert!(
        at(
            r#"["gtag","consent","default",{"ad_storage":"denied","analytics_storage":"denied","ad_user_data":"denied","ad_personalization":"denied","wait_for_update":500}]"#
        ) < at(r#"["gtag","js""#),
        "{calls}"
    );
    assert!(
        at(r#"["fbq","consent","revoke"]"#) < at(r#"["fbq","init","123"]"#),
        "{calls}"
    );
    assert!(
        at(r#"["fbq","dataProcessingOptions",["LDU"],0,0]"#) < at(r#"["fbq","init""#),
        "{calls}"
    );
    // The region default then updates both, still before the tags initialize.
    assert!(
        at(r#"["gtag","consent","update""#) < at(r#"["gtag","config""#),
        "{calls}"
    );
    assert!(
        text("warned.join()").contains("the inline snippet is missing"),
        "a console warning for the merchant"
    );
    eval("document.cookie = '_ar_oo=; Max-Age=0; Path=/'; console.warn = keptWarn;");
}

#[wasm_bindgen_test]
fn an_opt_out_gives_meta_limited_data_use_and_google_restricted_processing() {
    // meta-capi.md §6, §11.3; google.md §11.3.
    page_with_snippet(Some("1.gggg"), "document.cookie = '_ar_oo=1; Path=/';");
    assert_eq!(
        text("JSON.stringify([].slice.call(dataLayer[1]))"),
        r#"["set","restricted_data_processing",true]"#
    );
    assert_eq!(
        text("JSON.stringify([].slice.call(fbq.queue[0]))"),
        r#"["dataProcessingOptions",["LDU"],0,0]"#
    );
}

fn command(name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let list: Array = args.iter().collect();
    ar_pixel::command(name, &list)
}

#[wasm_bindgen_test]
fn without_consent_meta_is_not_called_and_ar_consent_grants_it() {
    page_with_snippet(None, "");
    let hooks = recording_hooks();
    // An opt-in region: the banner asks.
    ar_pixel::boot(CONFIG, Some("consent=1.dddd&banner=1".into()), &hooks).unwrap();
    assert_eq!(
        text("JSON.stringify(calls)"),
        r#"[["banner","Cookies?","Yes","No"]]"#
    );
    eval("calls.length = 0");
    let cart = eval("({cart_id: 'c1', items: [{id: 'sku-1'}]})");
    command("track", &["cart.added".into(), cart.clone()]).unwrap();
    let calls = text("JSON.stringify(calls)");
    assert!(
        !calls.contains("fbq"),
        "no fbq call without consent: {calls}"
    );
    assert!(
        calls.contains(r#"["gtag","event","add_to_cart""#),
        "{calls}"
    );
    assert_eq!(
        text("JSON.stringify(sent[0][1])"),
        r#"{"meta":false,"google":true}"#
    );

    eval("calls.length = 0");
    let all = eval(
        "({ad_storage: 'granted', analytics_storage: true, ad_user_data: 'granted', ad_personalization: 'granted'})",
    );
    let value = command("consent", &[all]).unwrap();
    assert_eq!(value.as_string().as_deref(), Some("1.gggg"));
    assert!(text("document.cookie").contains("_ar_consent=1.gggg"));
    let calls = text("JSON.stringify(calls)");
    assert!(
        calls.contains(r#"["gtag","consent","update",{"ad_storage":"granted""#),
        "{calls}"
    );
    assert!(calls.contains(r#"["fbq","consent","grant"]"#), "{calls}");
    command("track", &["cart.added".into(), cart]).unwrap();
    assert!(text("JSON.stringify(calls)").contains(r#"["fbq","track","AddToCart""#));
}

/// `ar('track', 'cart.added', …)` of one line, which must be accepted.
fn track_a_cart_line() {
    command(
        "track",
        &[
            "cart.added".into(),
            eval("({cart_id: 'c1', items: [{id: 'a'}]})"),
        ],
    )
    .unwrap();
}

#[wasm_bindgen_test]
fn a_bad_consent_value_is_refused_naming_the_signal() {
    page_with_snippet(None, "");
    ar_pixel::boot(CONFIG, None, &recording_hooks()).unwrap();
    let err = command("consent", &[eval("({ad_user_data: 'yes'})")]).unwrap_err();
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert_eq!(
        message,
        "ad_user_data: must be \"granted\", \"denied\", true or false"
    );
}

#[wasm_bindgen_test]
fn a_stated_opt_out_reaches_the_tags_and_every_event() {
    page_with_snippet(Some("1.gggg"), "");
    ar_pixel::boot(
        CONFIG,
        Some("consent=1.gggg&banner=0".into()),
        &recording_hooks(),
    )
    .unwrap();
    command("consent", &[eval("({sale_opt_out: true})")]).unwrap();
    let calls = text("JSON.stringify(calls)");
    assert!(
        calls.contains(r#"["fbq","dataProcessingOptions",["LDU"],0,0]"#),
        "{calls}"
    );
    assert!(
        calls.contains(r#"["gtag","set","restricted_data_processing",true]"#),
        "{calls}"
    );
    track_a_cart_line();
    assert_eq!(text("String(sent[0][0].sale_opt_out)"), "true");
}

#[wasm_bindgen_test]
fn without_the_worker_the_pixel_keeps_click_ids_only_with_ad_storage() {
    // browser::capture: the edge's cookie rules, written by the page when the edge did not
    // (meta-capi.md §3.1: fbclid verbatim in _fbc; DESIGN §4 table: nothing without ad_storage).
    let clear = "['_fbc', '_fbp', '_ar_gclk'].forEach(function (n) { document.cookie = n + '=; Max-Age=0; Path=/'; });";
    eval(&format!(
        "{clear} history.replaceState(null, '', '?fbclid=IwAR-Cap_1&gclid=Cj0-cap');"
    ));
    page_with_snippet(None, "");
    ar_pixel::boot(
        CONFIG,
        Some("consent=1.dddd&banner=0".into()),
        &recording_hooks(),
    )
    .unwrap();
    assert!(
        !text("document.cookie").contains("_fbc"),
        "denied: no ad cookie"
    );
    command(
        "consent",
        &[eval("({ad_storage: 'granted', ad_user_data: 'granted'})")],
    )
    .unwrap();
    let cookies = text("document.cookie");
    assert!(cookies.contains("_fbc=fb.0."), "{cookies}");
    assert!(cookies.contains(".IwAR-Cap_1"), "{cookies}");
    assert!(cookies.contains("_fbp=fb.0."), "{cookies}");
    assert!(cookies.contains("_ar_gclk="), "{cookies}");
    eval(&format!(
        "{clear} history.replaceState(null, '', location.pathname);"
    ));
}

#[wasm_bindgen_test]
fn a_tcf_cmp_is_followed_instead_of_the_banner() {
    // google.md §11.5, Addendum A: purposes 1, 3, 4, 7 and Google's vendor consent.
    page_with_snippet(None, "window.__tcfapi = function () {};");
    let hooks = recording_hooks();
    ar_pixel::boot(CONFIG, Some("consent=1.dddd&banner=1".into()), &hooks).unwrap();
    assert!(
        !text("JSON.stringify(calls)").contains("banner"),
        "no banner beside a CMP"
    );
    let data = eval(
        "({eventStatus: 'useractioncomplete', gdprApplies: true,
           purpose: {consents: {1: true, 3: true, 4: true, 7: true}}, vendor: {consents: {755: true}}})",
    );
    let value = ar_pixel::tcf(&data).unwrap();
    assert_eq!(
        value.as_string().as_deref(),
        Some("1.g-gg"),
        "TCF says nothing of analytics"
    );
    assert!(text("JSON.stringify(calls)").contains(r#"["fbq","consent","grant"]"#));
    eval("delete window.__tcfapi");
}

#[wasm_bindgen_test]
fn a_page_the_edge_already_served_does_not_fetch_the_capture_module() {
    // browser::capture::may_write: behind the worker `_fbp` is set and a page without a click ID
    // has nothing to write, so the capture hook (which fetches the module) is not called.
    let clear = "['_fbc', '_fbp', '_ar_gclk', '_gcl_aw'].forEach(function (n) { document.cookie = n + '=; Max-Age=0; Path=/'; });";
    eval(&format!(
        "{clear} document.cookie = '_fbp=fb.0.1764000000000.1234567890; Path=/';
         history.replaceState(null, '', '?utm_source=news');"
    ));
    page_with_snippet(Some("1.gggg"), "");
    let hooks = recording_hooks();
    eval(
        "window.captures = 0; window.arCaptureKept = window.arCapture; window.arCapture = function () { captures++; };",
    );
    ar_pixel::boot(CONFIG, Some("consent=1.gggg&banner=0".into()), &hooks).unwrap();
    let without = text("String(captures)");
    eval("history.replaceState(null, '', '?gclid=Cj0-edge');");
    ar_pixel::boot(CONFIG, Some("consent=1.gggg&banner=0".into()), &hooks).unwrap();
    let with_click = text("String(captures)");
    eval(&format!(
        "{clear} window.arCapture = window.arCaptureKept; history.replaceState(null, '', location.pathname);"
    ));
    assert_eq!(without, "0", "nothing to write: no capture module");
    assert_eq!(with_click, "1", "a landing with a click ID fetches it");
}

/// Makes the page's `document.cookie` refuse every write (cookies blocked) until dropped.
struct CookiesBlocked;

impl CookiesBlocked {
    fn start() -> Self {
        eval(
            "Object.defineProperty(document, 'cookie', {configurable: true, get: () => '', set: () => {}})",
        );
        Self
    }
}

impl Drop for CookiesBlocked {
    fn drop(&mut self) {
        eval("delete document.cookie");
    }
}

#[wasm_bindgen_test]
fn with_cookies_blocked_a_choice_still_holds_for_the_tags_and_the_server_copies() {
    // A visitor in a region that grants by default says no on a browser that refuses cookies:
    // the tags are told, Meta's pixel stops, and each event's body states the choice (the worker
    // takes a body's consent before any cookie, DESIGN §4), so the server copy follows it too.
    page_with_snippet(None, "");
    let hooks = recording_hooks();
    let _blocked = CookiesBlocked::start();
    ar_pixel::boot(CONFIG, Some("consent=1.gggg&banner=0".into()), &hooks).unwrap();
    eval("calls.length = 0");
    let none = eval(
        "({ad_storage: 'denied', analytics_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied'})",
    );
    let err = command("consent", &[none]).unwrap_err();
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert_eq!(
        message,
        "browser error: the browser refused the _ar_consent cookie (the choice holds on this page only)"
    );
    let calls = text("JSON.stringify(calls)");
    assert!(
        calls.contains(
            r#"["gtag","consent","update",{"ad_storage":"denied","analytics_storage":"denied""#
        ),
        "{calls}"
    );
    assert!(calls.contains(r#"["fbq","consent","revoke"]"#), "{calls}");
    eval("calls.length = 0");
    track_a_cart_line();
    let calls = text("JSON.stringify(calls)");
    assert!(!calls.contains(r#""fbq","track""#), "{calls}");
    assert_eq!(
        text("JSON.stringify(sent[0][0].consent)"),
        r#"{"ad_storage":"denied","analytics_storage":"denied","ad_user_data":"denied","ad_personalization":"denied"}"#
    );
}

#[wasm_bindgen_test]
fn with_cookies_blocked_an_events_own_denial_holds_beside_the_pages_grant() {
    // DESIGN §4: two statements about one event merge to the most restrictive; the page's
    // choice (stated in the body because the cookie was refused) does not undo the event's own.
    page_with_snippet(None, "");
    let hooks = recording_hooks();
    let _blocked = CookiesBlocked::start();
    ar_pixel::boot(CONFIG, Some("consent=1.dddd&banner=0".into()), &hooks).unwrap();
    let all = eval(
        "({ad_storage: 'granted', analytics_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted'})",
    );
    let _ = command("consent", &[all]).unwrap_err();
    command(
        "track",
        &[
            "cart.added".into(),
            eval("({cart_id: 'c1', items: [{id: 'a'}], consent: {ad_personalization: 'denied'}})"),
        ],
    )
    .unwrap();
    assert_eq!(
        text("JSON.stringify(sent[0][0].consent)"),
        r#"{"ad_storage":"granted","analytics_storage":"granted","ad_user_data":"granted","ad_personalization":"denied"}"#
    );
}

#[wasm_bindgen_test]
fn with_cookies_kept_a_body_states_no_consent_of_its_own() {
    page_with_snippet(None, "");
    ar_pixel::boot(
        CONFIG,
        Some("consent=1.gggg&banner=0".into()),
        &recording_hooks(),
    )
    .unwrap();
    command("consent", &[eval("({ad_storage: 'denied'})")]).unwrap();
    track_a_cart_line();
    assert_eq!(text("String(sent[0][0].consent)"), "undefined");
}

#[wasm_bindgen_test]
fn a_newer_cookie_from_another_tab_wins_over_this_pages_earlier_choice() {
    // This page granted (the cookie was written); another tab then revoked: this page's events
    // follow the cookie, and state no consent of their own that would override it.
    page_with_snippet(None, "");
    ar_pixel::boot(
        CONFIG,
        Some("consent=1.dddd&banner=0".into()),
        &recording_hooks(),
    )
    .unwrap();
    let all = eval(
        "({ad_storage: 'granted', analytics_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted'})",
    );
    command("consent", &[all]).unwrap();
    eval("document.cookie = '_ar_consent=1.dddd; Path=/'; calls.length = 0");
    // A partial choice builds on the newer cookie, not on this page's earlier one.
    let value = command("consent", &[eval("({ad_personalization: 'granted'})")]).unwrap();
    assert_eq!(value.as_string().as_deref(), Some("1.dddg"));
    eval("calls.length = 0");
    track_a_cart_line();
    assert!(!text("JSON.stringify(calls)").contains(r#""fbq","track""#));
    assert_eq!(text("String(sent[0][0].consent)"), "undefined");
}
