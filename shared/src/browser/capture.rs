//! Click IDs when the worker is not in front of the page (a page cached at another layer, or a
//! shop served elsewhere with a collect host on its subdomain, DESIGN §4 "Deployment"): the pixel
//! plans the identifier cookies with the edge's own rules (`cookies::plan_click_cookies`: fbclid,
//! gclid, gbraid, wbraid from the URL; `_fbc` replaced only for a new fbclid, `_fbp` kept or
//! minted; nothing without `ad_storage`) and writes with `document.cookie` only what the page
//! does not already have.
//!
//! Writing only differences matters: behind the worker, the edge has already set the same values
//! with `Set-Cookie`, and a script-set copy would replace that 90-day cookie with one Safari caps
//! at 7 days (DESIGN §4 "Edge-set cookies").

use crate::click_ids::{Fbp, LandingClickIds};
use crate::cookies::{
    CookieJar, CookieScope, ExistingClickCookies, FBP_COOKIE, GCL_AG_COOKIE, GCL_AW_COOKIE,
    GCL_GB_COOKIE, GOOGLE_CLICK_COOKIE, SetCookie, plan_click_cookies,
};

/// Whether [`cookies_to_write`] may write anything on this page: false only where it surely
/// writes nothing (a test over generated pages holds it to that). The pixel's main module asks
/// this on every page and fetches the capture module (`ar-pixel-capture`, which runs
/// `cookies_to_write`) only where it is true: with `ad_storage` granted, a page without a valid
/// `_fbp` (a first page of a visit the edge did not see), a landing with a click-ID parameter,
/// or a visit with a Google click cookie (ours or Google's, whose newest click is ours to keep).
/// Behind the worker the edge has set `_fbp` already, so most pages need nothing.
pub fn may_write(
    jar: &CookieJar<'_>,
    url: &str,
    referrer: Option<&str>,
    ad_storage_granted: bool,
) -> bool {
    let valid_fbp = jar
        .get(FBP_COOKIE)
        .is_some_and(|v| v.parse::<Fbp>().is_ok());
    let google = [
        GOOGLE_CLICK_COOKIE,
        GCL_AW_COOKIE,
        GCL_AG_COOKIE,
        GCL_GB_COOKIE,
    ]
    .into_iter()
    .any(|name| jar.get(name).is_some());
    ad_storage_granted && (!valid_fbp || google || LandingClickIds::named_in(url, referrer))
}

/// The cookies to write on a page at `url` (referrer `referrer`) whose cookies are `jar`.
pub fn cookies_to_write(
    jar: &CookieJar<'_>,
    url: &str,
    referrer: Option<&str>,
    now_ms: u64,
    fbp_random: [u8; 8],
    scope: &CookieScope,
    ad_storage_granted: bool,
) -> Vec<SetCookie> {
    let existing = ExistingClickCookies::from_jar(jar);
    let landing = LandingClickIds::from_urls(url, referrer);
    let plan = plan_click_cookies(
        &existing,
        &landing,
        now_ms,
        fbp_random,
        scope,
        ad_storage_granted,
    );
    plan.set_cookies
        .into_iter()
        .filter(|c| jar.get(c.name()) != Some(c.value()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000_000;

    fn scope() -> CookieScope {
        CookieScope::domain("shop.example").unwrap()
    }

    #[test]
    fn a_landing_without_the_worker_gets_fbc_fbp_and_the_google_click() {
        // meta-capi.md §3.1: fbc = fb.<index>.<ms>.<fbclid>, fbclid verbatim; google.md §6.
        let jar = CookieJar::parse("");
        let url = "https://shop.example/p?fbclid=IwAR-Abc_1&gclid=Cj0-x";
        let set = cookies_to_write(&jar, url, None, NOW, [7; 8], &scope(), true);
        let names: Vec<&str> = set.iter().map(SetCookie::name).collect();
        assert_eq!(names, ["_fbc", "_fbp", "_ar_gclk"]);
        assert_eq!(set[0].value(), format!("fb.1.{NOW}.IwAR-Abc_1"));
        assert_eq!(set[0].domain(), Some("shop.example"));
    }

    #[test]
    fn cookies_the_edge_already_set_are_not_written_again() {
        let fbp = "fb.1.1764000000000.1234567890";
        let header = format!("_fbp={fbp}");
        let jar = CookieJar::parse(&header);
        let set = cookies_to_write(
            &jar,
            "https://shop.example/",
            None,
            NOW,
            [7; 8],
            &scope(),
            true,
        );
        assert!(set.is_empty(), "{set:?}");
    }

    #[test]
    fn a_page_the_edge_saw_needs_no_capture() {
        // Behind the worker: `_fbp` set, no click parameter, no Google click.
        let jar = CookieJar::parse("_fbp=fb.1.1764000000000.1234567890; _ga=GA1.1.1.1");
        assert!(!may_write(
            &jar,
            "https://shop.example/p?utm_source=x",
            None,
            true
        ));
        assert!(may_write(
            &jar,
            "https://shop.example/p?fbclid=IwAR-1",
            None,
            true
        ));
        assert!(
            may_write(&jar, "https://shop.example/p?fb%63lid=IwAR-1", None, true),
            "decoded names"
        );
        assert!(may_write(
            &jar,
            "/",
            Some("https://l.facebook.com/?fbclid=IwAR-1"),
            true
        ));
        assert!(
            may_write(&CookieJar::parse("_fbp=x"), "/", None, true),
            "an invalid _fbp is replaced"
        );
        assert!(may_write(&CookieJar::parse(""), "/", None, true));
        assert!(!may_write(
            &CookieJar::parse(""),
            "/?fbclid=IwAR-1",
            None,
            false
        ));
    }

    #[test]
    fn without_ad_storage_nothing_is_written() {
        // DESIGN §4 table: ad_storage denied → no ad cookies read or set.
        let jar = CookieJar::parse("");
        let url = "https://shop.example/p?fbclid=IwAR-Abc_1";
        assert!(cookies_to_write(&jar, url, None, NOW, [7; 8], &scope(), false).is_empty());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// Cookie values: valid forms, near misses and junk.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("fb.1.1764000000000.1234567890".to_owned()),
            Just("fb.2.1764000000000.IwAR-Abc_1".to_owned()),
            Just("fb.1.1764000000000".to_owned()),
            Just("GCL.1764000000.Cj0-x".to_owned()),
            Just("GCL.1600000000.old".to_owned()),
            Just("2.1.kgb$i1764000000".to_owned()),
            Just(format!("ar1.{}.gclid.ours", 1_764_000_000_000u64)),
            Just(format!("ar1.{}.gbraid.b1", 1_763_999_000_000u64)),
            "[ -~&&[^;]]{0,12}",
        ]
    }

    fn jar_text() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("_fbp"),
            Just("_fbc"),
            Just("_ar_gclk"),
            Just("_gcl_aw"),
            Just("_gcl_ag"),
            Just("_gcl_gb"),
            Just("_ga"),
        ];
        prop::collection::vec((name, value()), 0..5).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn url() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("fbclid"),
            Just("fb%63lid"),
            Just("gclid"),
            Just("gbraid"),
            Just("wbraid"),
            Just("utm_source"),
            Just("FBCLID"),
        ];
        let val = prop_oneof![
            Just("IwAR-Abc_1"),
            Just("Cj0-x"),
            Just(""),
            Just("a%20b"),
            Just("x;y")
        ];
        (prop::collection::vec((key, val), 0..3), any::<bool>()).prop_map(|(params, fragment)| {
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let hash = if fragment { "#fbclid=IwAR-frag" } else { "" };
            format!("https://shop.example/p?{}{hash}", query.join("&"))
        })
    }

    proptest! {
        #[test]
        fn where_the_capture_would_write_the_main_module_fetches_it(
            jar in jar_text(),
            url in url(),
            referrer in prop::option::of(url()),
            granted in any::<bool>(),
        ) {
            let parsed = CookieJar::parse(&jar);
            let scope = CookieScope::domain("shop.example").unwrap();
            let writes = cookies_to_write(
                &parsed, &url, referrer.as_deref(), 1_764_000_000_000, [7; 8], &scope, granted,
            );
            prop_assert!(
                writes.is_empty() || may_write(&parsed, &url, referrer.as_deref(), granted),
                "{writes:?} on {url} with {jar}"
            );
        }
    }
}
