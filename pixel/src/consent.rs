//! Consent on the page, as `ar_shared::browser::consent` decides it: the region default applied
//! after the snippet's strict default, `ar('consent', …)` writing `_ar_consent` and updating the
//! tags, a TCF CMP followed, and the first-party cookies written on the highest domain that takes
//! them.

use ar_shared::browser::consent::{
    CONSENT_COOKIE_MAX_AGE_SECS, Choice, SALE_OPT_OUT_COOKIE, Stated, TcfSignals,
    WAIT_FOR_UPDATE_MS, gtag_params, meta_command, meta_may_run, stated_for_collect,
};
use ar_shared::consent::{CONSENT_COOKIE_NAME, ConsentState, PartialConsent};
use ar_shared::cookies::{CookieJar, CookieScope, SetCookie, candidate_cookie_domains};
use wasm_bindgen::JsValue;

use crate::js::{call_global, get, object, set_str};
use crate::{PixelError, State};

/// `document.cookie`.
pub(crate) fn document_cookie() -> String {
    let document = get(&js_sys::global(), "document");
    get(&document, "cookie").as_string().unwrap_or_default()
}

/// The value of cookie `name` on the page.
pub(crate) fn cookie(name: &str) -> Option<String> {
    let all = document_cookie();
    CookieJar::parse(&all).get(name).map(str::to_owned)
}

/// The scope the browser accepts cookies in: the highest candidate domain a test cookie sticks
/// on (the registrable domain, `cookies::scope`), or host-only on an IP address or `localhost`.
pub(crate) fn cookie_scope() -> CookieScope {
    let location = get(&js_sys::global(), "location");
    let host = get(&location, "hostname").as_string().unwrap_or_default();
    let document = get(&js_sys::global(), "document");
    for domain in candidate_cookie_domains(&host) {
        let probe = ["_ar_probe=1; Max-Age=10; Domain=", domain, "; Path=/"].concat();
        if crate::js::set_str(&document, "cookie", &probe).is_ok() && cookie("_ar_probe").is_some()
        {
            let _ = crate::js::set_str(
                &document,
                "cookie",
                &["_ar_probe=; Max-Age=0; Domain=", domain, "; Path=/"].concat(),
            );
            if let Ok(scope) = CookieScope::domain(domain) {
                return scope;
            }
        }
    }
    CookieScope::host_only(&host)
}

/// Writes `name=value` on the highest domain the browser accepts (the registrable domain, found
/// by trying from the top-level domain down, as the platforms' tags do: `cookies::scope`), or
/// host-only on an IP address or `localhost`.
pub(crate) fn write_cookie(name: &str, value: &str, max_age_secs: u32) -> Result<(), PixelError> {
    let location = get(&js_sys::global(), "location");
    let host = get(&location, "hostname").as_string().unwrap_or_default();
    let document = get(&js_sys::global(), "document");
    let scopes = candidate_cookie_domains(&host)
        .into_iter()
        .filter_map(|d| CookieScope::domain(d).ok())
        .chain([CookieScope::host_only(&host)]);
    for scope in scopes {
        let Ok(c) = SetCookie::new(name, value, &scope, max_age_secs) else {
            continue;
        };
        crate::js::set_str(&document, "cookie", &c.to_header_value())?;
        if cookie(name).as_deref() == Some(value) {
            return Ok(());
        }
    }
    Err(PixelError::Browser(
        ["the browser refused the ", name, " cookie"].concat(),
    ))
}

/// Tells both tags `state` (`gtag('consent', 'update')`, `fbq('consent', …)`).
pub(crate) fn update_tags(state: ConsentState) -> Result<(), PixelError> {
    let params = gtag_consent(state)?;
    call_global("gtag", &["consent".into(), "update".into(), params]);
    call_global("fbq", &["consent".into(), meta_command(state).into()]);
    Ok(())
}

/// What the inline snippet would have told the tags (`browser::snippet`), for a page without
/// it: `gtag('consent', 'default', {…, wait_for_update})`, Meta's revoke unless it may run, the
/// opt-out commands. Called before our own tag commands; the page's own may have run before.
pub(crate) fn default_tags(state: ConsentState) -> Result<(), PixelError> {
    let params = gtag_consent(state)?;
    crate::js::set(&params, "wait_for_update", &WAIT_FOR_UPDATE_MS.into())?;
    call_global("gtag", &["consent".into(), "default".into(), params]);
    if !meta_may_run(state) {
        call_global("fbq", &["consent".into(), "revoke".into()]);
    }
    if stated_opt_out() {
        opt_out_tags();
    }
    Ok(())
}

/// `{ad_storage: 'granted' | 'denied', …}` for gtag.
fn gtag_consent(state: ConsentState) -> Result<JsValue, PixelError> {
    let params = object();
    for (signal, value) in gtag_params(state) {
        set_str(&params, signal, value)?;
    }
    Ok(params)
}

/// The opt-out commands: Limited Data Use for Meta, restricted data processing for Google.
pub(crate) fn opt_out_tags() {
    let ldu = js_sys::Array::of1(&"LDU".into());
    call_global(
        "fbq",
        &[
            "dataProcessingOptions".into(),
            ldu.into(),
            0.into(),
            0.into(),
        ],
    );
    call_global(
        "gtag",
        &[
            "set".into(),
            "restricted_data_processing".into(),
            true.into(),
        ],
    );
}

/// Whether the visitor opted out of the sale/sharing of their data: on this page, by our cookie,
/// or by Global Privacy Control.
pub(crate) fn opted_out(state: &State) -> bool {
    state.opted_out.get() || stated_opt_out()
}

/// An opt-out by our cookie or by Global Privacy Control.
fn stated_opt_out() -> bool {
    let navigator = get(&js_sys::global(), "navigator");
    cookie(SALE_OPT_OUT_COOKIE).as_deref() == Some("1")
        || get(&navigator, "globalPrivacyControl").as_bool() == Some(true)
}

/// The consent signals an event's collect body states itself
/// (`browser::consent::stated_for_collect`: those chosen on this page that the cookie does not
/// carry), as `{signal: 'granted' | 'denied'}`; `None` when the cookie says it all.
/// `stated` is the event's own `consent` (checked by `props::check_kinds`), merged in.
pub(crate) fn for_collect(state: &State, stated: &JsValue) -> Result<Option<JsValue>, PixelError> {
    let chosen = state.chosen.borrow();
    let signal = |k: &str| get(stated, k).as_string().and_then(|s| s.parse().ok());
    let stated = PartialConsent {
        ad_storage: signal("ad_storage"),
        analytics_storage: signal("analytics_storage"),
        ad_user_data: signal("ad_user_data"),
        ad_personalization: signal("ad_personalization"),
    };
    let Some(pairs) = stated_for_collect(
        cookie(CONSENT_COOKIE_NAME).as_deref(),
        chosen.as_deref(),
        stated,
    ) else {
        return Ok(None);
    };
    let o = object();
    for (signal, value) in pairs {
        if let Some(v) = value {
            set_str(&o, signal, v)?;
        }
    }
    Ok(Some(o))
}

fn stated(v: &JsValue) -> Option<Stated<'static>> {
    if let Some(b) = v.as_bool() {
        return Some(Stated::Bool(b));
    }
    let text = v.as_string()?;
    // The two values a signal takes; anything else is refused naming the field.
    Some(Stated::Text(match text.to_ascii_lowercase().as_str() {
        "granted" => "granted",
        "denied" => "denied",
        _ => "other",
    }))
}

/// `ar('consent', {ad_storage, …, sale_opt_out})`: writes the cookie, updates the tags, and
/// resolves to the cookie's value.
pub(crate) fn choose(state: &State, choice: &JsValue) -> Result<JsValue, PixelError> {
    let sale_opt_out = get(choice, "sale_opt_out").as_bool() == Some(true);
    let c = Choice::read(|k| stated(&get(choice, k)), sale_opt_out)?;
    apply(state, c)
}

/// What a TCF CMP reports (`__tcfapi` listener data): the same as a choice of its signals.
pub(crate) fn follow_tcf(state: &State, data: &JsValue) -> Result<JsValue, PixelError> {
    let has = |obj: &str, n: &str| get(&get(&get(data, obj), "consents"), n).is_truthy();
    let signals = TcfSignals {
        gdpr_applies: get(data, "gdprApplies").is_truthy(),
        google_vendor: has("vendor", "755"),
        purposes: [
            has("purpose", "1"),
            has("purpose", "3"),
            has("purpose", "4"),
            has("purpose", "7"),
        ],
    };
    apply(
        state,
        Choice {
            consent: signals.consent(),
            sale_opt_out: false,
        },
    )
}

/// Follows a choice: the tags, this page's events and their server copies take it even where the
/// browser refuses the cookies (the command then rejects saying so: the next page will not know
/// the choice).
fn apply(state: &State, c: Choice) -> Result<JsValue, PixelError> {
    let before = state.chosen.borrow().clone();
    let value = c.cookie_after(before.or_else(|| cookie(CONSENT_COOKIE_NAME)).as_deref());
    let mut written = write_cookie(CONSENT_COOKIE_NAME, &value, CONSENT_COOKIE_MAX_AGE_SECS);
    // Kept only while the browser refuses the cookie: a written cookie speaks for itself, and a
    // newer one (another tab's choice) must win over this page's.
    state
        .chosen
        .replace(written.is_err().then(|| value.clone()));
    if c.sale_opt_out {
        state.opted_out.set(true);
        written = written.and(write_cookie(
            SALE_OPT_OUT_COOKIE,
            "1",
            CONSENT_COOKIE_MAX_AGE_SECS,
        ));
        opt_out_tags();
    }
    let now = state.page_consent();
    update_tags(now)?;
    state.consent.set(now);
    // Consent to ad storage may have just arrived: the click IDs can be kept now.
    crate::capture(&state.capture, now);
    written.map_err(|e| match e {
        PixelError::Browser(why) => {
            PixelError::Browser(why + " (the choice holds on this page only)")
        }
        other => other,
    })?;
    Ok(JsValue::from_str(&value))
}

/// Whether Meta's pixel may fire now.
pub(crate) fn meta_allowed(state: &State) -> bool {
    meta_may_run(state.consent.get())
}
