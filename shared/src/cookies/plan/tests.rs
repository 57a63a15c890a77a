//! Behaviour of [`plan_click_cookies`]: one test per rule.

use super::*;

const NOW: u64 = 1_716_819_200_123;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const FBCLID: &str = "IwZXh0bgNhZW0CMTAAAR-uK_5w";

fn scope() -> CookieScope {
    CookieScope::domain("example.co.uk").unwrap()
}

fn existing(header: &str) -> ExistingClickCookies {
    ExistingClickCookies::from_jar(&CookieJar::parse(header))
}

fn landing(url: &str) -> LandingClickIds {
    LandingClickIds::from_urls(url, None)
}

fn plan(header: &str, url: &str, now_ms: u64) -> CookiePlan {
    plan_click_cookies(
        &existing(header),
        &landing(url),
        now_ms,
        [7; 8],
        &scope(),
        true,
    )
}

fn cookie<'a>(plan: &'a CookiePlan, name: &str) -> Option<&'a SetCookie> {
    plan.set_cookies.iter().find(|c| c.name() == name)
}

fn value<'a>(plan: &'a CookiePlan, name: &str) -> Option<&'a str> {
    cookie(plan, name).map(SetCookie::value)
}

#[test]
fn no_cookies_are_set_or_read_when_ad_storage_is_denied() {
    let plan = plan_click_cookies(
        &existing("_fbc=fb.1.1.abc; _fbp=fb.1.1.123; _gcl_aw=GCL.1716819200.old"),
        &landing(&format!("/?fbclid={FBCLID}&gclid=fromUrl")),
        NOW,
        [7; 8],
        &scope(),
        false,
    );
    assert!(plan.set_cookies.is_empty());
    assert_eq!(plan.context.fbc, None);
    assert_eq!(plan.context.fbp, None);
    // The URL's own gclid (url_passthrough) stays; the cookie's does not.
    assert_eq!(plan.context.gclid().map(Gclid::as_str), Some("fromUrl"));
}

#[test]
fn fbp_is_minted_when_missing_with_the_scope_subdomain_index() {
    let plan = plan("", "/", NOW);
    let fbp = value(&plan, FBP_COOKIE).unwrap();
    assert!(fbp.starts_with("fb.2.1716819200123."), "{fbp}");
    assert_eq!(plan.context.fbp.as_ref().map(Fbp::as_str), Some(fbp));
    assert_eq!(value(&plan, FBC_COOKIE), None);
}

#[test]
fn existing_fbp_is_kept_and_refreshed() {
    let plan = plan("_fbp=fb.1.1596403881668.1116446470", "/", NOW);
    let fbp = cookie(&plan, FBP_COOKIE).unwrap();
    assert_eq!(fbp.value(), "fb.1.1596403881668.1116446470");
    assert_eq!(fbp.max_age_secs(), COOKIE_MAX_AGE_SECS);
}

#[test]
fn invalid_fbp_is_replaced_by_a_minted_one() {
    let plan = plan("_fbp=fb.1.garbage", "/", NOW);
    assert!(
        value(&plan, FBP_COOKIE)
            .unwrap()
            .starts_with("fb.2.1716819200123.")
    );
}

#[test]
fn fbc_is_built_from_a_landing_fbclid_verbatim_in_milliseconds() {
    let plan = plan("", &format!("/?fbclid={FBCLID}"), NOW);
    let expected = format!("fb.2.{NOW}.{FBCLID}");
    assert_eq!(value(&plan, FBC_COOKIE), Some(expected.as_str()));
    assert_eq!(
        plan.context.fbc.as_ref().map(Fbc::as_str),
        Some(expected.as_str())
    );
}

#[test]
fn fbc_is_not_replaced_for_the_same_fbclid() {
    let old = format!("fb.1.1700000000000.{FBCLID}.AQQCAQIB");
    let plan = plan(&format!("_fbc={old}"), &format!("/?fbclid={FBCLID}"), NOW);
    assert_eq!(value(&plan, FBC_COOKIE), Some(old.as_str()));
    assert_eq!(
        plan.context.fbc.as_ref().map(Fbc::created_at_ms),
        Some(1_700_000_000_000)
    );
}

#[test]
fn fbc_is_replaced_for_a_different_fbclid() {
    let plan = plan(
        "_fbc=fb.1.1700000000000.OldClick_1",
        "/?fbclid=NewClick-2",
        NOW,
    );
    let expected = format!("fb.2.{NOW}.NewClick-2");
    assert_eq!(value(&plan, FBC_COOKIE), Some(expected.as_str()));
}

#[test]
fn fbc_comparison_is_case_sensitive() {
    let plan = plan("_fbc=fb.1.1700000000000.abc", "/?fbclid=ABC", NOW);
    assert_eq!(plan.context.fbc.as_ref().map(Fbc::fbclid), Some("ABC"));
}

#[test]
fn fbc_from_the_referrer_is_used_when_the_url_has_none() {
    let landing = LandingClickIds::from_urls("/", Some("https://example.co.uk/?fbclid=Ref_1"));
    let plan = plan_click_cookies(
        &ExistingClickCookies::default(),
        &landing,
        NOW,
        [0; 8],
        &scope(),
        true,
    );
    assert_eq!(plan.context.fbc.as_ref().map(Fbc::fbclid), Some("Ref_1"));
}

#[test]
fn five_segment_cookies_are_refreshed_verbatim() {
    let fbc = "fb.1.1716819200123.IwZXh0bgNhZW0CMTAAAR-uK_5w.AQQCAQIB";
    let fbp = "fb.1.1716819200123.1116446470.Bg";
    let plan = plan(&format!("_fbc={fbc}; _fbp={fbp}"), "/", NOW);
    assert_eq!(value(&plan, FBC_COOKIE), Some(fbc));
    assert_eq!(value(&plan, FBP_COOKIE), Some(fbp));
    assert_eq!(
        cookie(&plan, FBC_COOKIE).map(SetCookie::max_age_secs),
        Some(COOKIE_MAX_AGE_SECS)
    );
}

#[test]
fn cookies_are_scoped_to_the_registrable_domain() {
    let plan = plan("", "/?gclid=abc", NOW);
    assert!(
        plan.set_cookies
            .iter()
            .all(|c| c.domain() == Some("example.co.uk"))
    );
    assert!(plan.set_cookies.iter().all(|c| !c.http_only()));
}

#[test]
fn a_new_gclid_sets_our_click_cookie_with_the_click_time() {
    let plan = plan("", "/?gclid=Cj0K_w-B", NOW);
    assert_eq!(
        value(&plan, GOOGLE_CLICK_COOKIE),
        Some("ar1.1716819200123.gclid.Cj0K_w-B")
    );
    assert_eq!(plan.context.google_click_time_ms(), Some(NOW));
    assert_eq!(
        cookie(&plan, GOOGLE_CLICK_COOKIE).map(SetCookie::max_age_secs),
        Some(COOKIE_MAX_AGE_SECS)
    );
}

#[test]
fn a_newer_click_replaces_the_older_one() {
    let old = format!("_ar_gclk=ar1.{}.gclid.old.gbraid.oldBraid", NOW - DAY_MS);
    let plan = plan(&old, "/?wbraid=newWeb", NOW);
    assert_eq!(
        value(&plan, GOOGLE_CLICK_COOKIE),
        Some("ar1.1716819200123.wbraid.newWeb")
    );
    assert_eq!(plan.context.gclid(), None);
    assert_eq!(plan.context.gbraid(), None);
}

#[test]
fn gbraid_and_wbraid_are_never_together() {
    let plan = plan("", "/?gbraid=0AAAAAgb&wbraid=ClkKwb&gclid=gc", NOW);
    assert_eq!(
        value(&plan, GOOGLE_CLICK_COOKIE),
        Some("ar1.1716819200123.gclid.gc.wbraid.ClkKwb")
    );
    assert!(plan.context.gbraid().is_none() || plan.context.wbraid().is_none());
}

#[test]
fn the_same_google_click_keeps_its_first_click_time() {
    let first = NOW - 3 * DAY_MS;
    let plan = plan(
        &format!("_ar_gclk=ar1.{first}.gclid.same"),
        "/?gclid=same",
        NOW,
    );
    assert_eq!(plan.context.google_click_time_ms(), Some(first));
    let seen_by_gtag = plan_click_cookies(
        &existing("_gcl_aw=GCL.1716000000.same"),
        &landing("/?gclid=same"),
        NOW,
        [0; 8],
        &scope(),
        true,
    );
    assert_eq!(
        seen_by_gtag.context.google_click_time_ms(),
        Some(1_716_000_000_000)
    );
}

#[test]
fn a_newer_click_in_googles_cookies_is_copied_into_ours() {
    let header = format!(
        "_ar_gclk=ar1.{}.gclid.ours; _gcl_aw=GCL.{}.fromGtag; _gcl_ag=2.1.kgb$i{}",
        NOW - 10 * DAY_MS,
        (NOW - DAY_MS) / 1000,
        (NOW - DAY_MS) / 1000,
    );
    let plan = plan(&header, "/", NOW);
    assert_eq!(plan.context.gclid().map(Gclid::as_str), Some("fromGtag"));
    assert_eq!(plan.context.gbraid().map(Gbraid::as_str), Some("gb"));
    let ours = value(&plan, GOOGLE_CLICK_COOKIE).unwrap();
    assert!(ours.ends_with(".gclid.fromGtag.gbraid.gb"), "{ours}");
}

#[test]
fn an_older_click_in_googles_cookies_does_not_replace_ours() {
    let header = format!(
        "_ar_gclk=ar1.{}.gclid.ours; _gcl_aw=GCL.1600000000.old",
        NOW - DAY_MS
    );
    let plan = plan(&header, "/", NOW);
    assert_eq!(plan.context.gclid().map(Gclid::as_str), Some("ours"));
}

#[test]
fn google_clicks_older_than_90_days_are_dropped() {
    let header = format!("_ar_gclk=ar1.{}.gclid.stale", NOW - 91 * DAY_MS);
    let plan = plan(&header, "/", NOW);
    assert_eq!(plan.context.google, None);
    assert_eq!(cookie(&plan, GOOGLE_CLICK_COOKIE), None);
}

#[test]
fn our_click_cookie_expires_with_the_click_window() {
    let header = format!("_ar_gclk=ar1.{}.gclid.aging", NOW - 80 * DAY_MS);
    let plan = plan(&header, "/", NOW);
    assert_eq!(
        cookie(&plan, GOOGLE_CLICK_COOKIE).map(SetCookie::max_age_secs),
        Some(10 * 24 * 60 * 60)
    );
}

#[test]
fn host_only_scope_sets_no_domain_and_index_zero_for_ip_hosts() {
    let plan = plan_click_cookies(
        &ExistingClickCookies::default(),
        &landing("/?fbclid=x"),
        NOW,
        [0; 8],
        &CookieScope::host_only("[::1]"),
        true,
    );
    assert!(plan.set_cookies.iter().all(|c| c.domain().is_none()));
    assert_eq!(
        plan.context.fbc.as_ref().map(Fbc::as_str),
        Some("fb.0.1716819200123.x")
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod proptests {
    use super::*;
    use core::fmt::Write as _;
    use proptest::prelude::*;

    fn header_from(plan: &CookiePlan) -> String {
        plan.set_cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    proptest! {
        #[test]
        fn planning_never_panics(header in "\\PC*", url in "\\PC*", now in any::<u64>(), granted in any::<bool>()) {
            let _ = plan_click_cookies(&existing(&header), &landing(&url), now, [1; 8], &scope(), granted);
        }

        #[test]
        fn planning_again_with_the_cookies_it_set_changes_nothing(
            fbclid in proptest::option::of("[A-Za-z0-9_-]{1,40}"),
            gclid in proptest::option::of("[A-Za-z0-9_-]{1,40}"),
            braid in proptest::option::of(("(g|w)braid", "[A-Za-z0-9_-]{1,40}")),
            now in 0u64..10_000_000_000_000,
            later in 0u64..DAY_MS,
        ) {
            let mut url = String::from("/?x=1");
            if let Some(f) = &fbclid { let _ = write!(url, "&fbclid={f}"); }
            if let Some(g) = &gclid { let _ = write!(url, "&gclid={g}"); }
            if let Some((kind, b)) = &braid { let _ = write!(url, "&{kind}={b}"); }
            let first = plan("", &url, now);
            // The next page view carries the cookies and the same landing URL (a reload).
            let second = plan(&header_from(&first), &url, now + later);
            prop_assert_eq!(&second.context, &first.context);
            let values = |p: &CookiePlan| p.set_cookies.iter().map(|c| (c.name().to_owned(), c.value().to_owned())).collect::<Vec<_>>();
            prop_assert_eq!(values(&second), values(&first));
        }
    }
}
