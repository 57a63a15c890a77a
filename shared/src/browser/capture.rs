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

use crate::click_ids::LandingClickIds;
use crate::cookies::{CookieJar, CookieScope, ExistingClickCookies, SetCookie, plan_click_cookies};

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
    fn without_ad_storage_nothing_is_written() {
        // DESIGN §4 table: ad_storage denied → no ad cookies read or set.
        let jar = CookieJar::parse("");
        let url = "https://shop.example/p?fbclid=IwAR-Abc_1";
        assert!(cookies_to_write(&jar, url, None, NOW, [7; 8], &scope(), false).is_empty());
    }
}
