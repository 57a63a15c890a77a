//! Finding the click IDs of an ad click in the landing page's URL (and, for `fbclid`, the Referer).
//!
//! The query string is percent-decoded exactly once (`form_urlencoded`, as browsers'
//! `URLSearchParams` and Meta's client-side Parameter Builder do: `reference/meta-capi.md` §3.3),
//! and the decoded value is kept verbatim: no second decoding, no re-casing, no trimming
//! (§3.4). A value that is not a valid click ID is ignored, and a later occurrence of the same
//! parameter may supply a valid one.

use super::google_click::GoogleClickIds;
use super::id::{Fbclid, Gbraid, Gclid, Wbraid};

/// The query parameters that carry click IDs.
pub const CLICK_ID_PARAMS: [&str; 4] = [Fbclid::PARAM, Gclid::PARAM, Gbraid::PARAM, Wbraid::PARAM];

/// The click IDs a page view arrived with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LandingClickIds {
    /// Meta's click ID: from the landing URL, else from the Referer URL.
    pub fbclid: Option<Fbclid>,
    /// Google's click IDs from the landing URL (at most one braid).
    pub google: Option<GoogleClickIds>,
}

/// The query part of `url` (after the first `?`, before any `#`); a URL without `?` has none.
/// Accepts absolute URLs, paths and bare query strings starting with `?`.
fn query_of(url: &str) -> &str {
    let Some((_, after)) = url.split_once('?') else {
        return "";
    };
    after.split_once('#').map_or(after, |(query, _)| query)
}

/// The first value of `name` in `query` that parses as `T`.
fn first_valid<T: core::str::FromStr>(query: &str, name: &str) -> Option<T> {
    form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == name)
        .find_map(|(_, value)| value.parse().ok())
}

impl LandingClickIds {
    /// The click IDs in the page URL `landing_url` and, for `fbclid` only, the `referrer` URL.
    ///
    /// Meta's Parameter Builder takes the fbclid from the query and otherwise from the Referer
    /// (`reference/meta-capi.md` §3.3 step 3), which recovers clicks whose landing redirect
    /// dropped the parameter.
    pub fn from_urls(landing_url: &str, referrer: Option<&str>) -> Self {
        let query = query_of(landing_url);
        let fbclid = first_valid::<Fbclid>(query, Fbclid::PARAM)
            .or_else(|| first_valid(query_of(referrer?), Fbclid::PARAM));
        let google = GoogleClickIds::from_params(
            first_valid::<Gclid>(query, Gclid::PARAM),
            first_valid::<Gbraid>(query, Gbraid::PARAM),
            first_valid::<Wbraid>(query, Wbraid::PARAM),
        );
        Self { fbclid, google }
    }

    /// Whether `landing_url` or `referrer` has a click-ID parameter at all, valid or not (the
    /// names decoded as [`Self::from_urls`] decodes them): a page where this is false carries no
    /// click ID, and `from_urls` finds none there.
    pub fn named_in(landing_url: &str, referrer: Option<&str>) -> bool {
        [Some(landing_url), referrer]
            .into_iter()
            .flatten()
            .any(|url| {
                form_urlencoded::parse(query_of(url).as_bytes())
                    .any(|(key, _)| CLICK_ID_PARAMS.contains(&&*key))
            })
    }

    /// Whether the page view carries no click ID at all.
    pub const fn is_empty(&self) -> bool {
        self.fbclid.is_none() && self.google.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fbclid(ids: &LandingClickIds) -> Option<&str> {
        ids.fbclid.as_ref().map(Fbclid::as_str)
    }

    #[test]
    fn click_ids_are_found_in_a_full_landing_url() {
        let ids = LandingClickIds::from_urls(
            "https://shop.example.co.uk/p/1?utm_source=fb&fbclid=IwZXh0bgNhZW0CMTAAAR-uK_5w&gclid=Cj0K_w-B#top",
            None,
        );
        assert_eq!(fbclid(&ids), Some("IwZXh0bgNhZW0CMTAAAR-uK_5w"));
        let google = ids.google.unwrap();
        assert_eq!(google.gclid().map(Gclid::as_str), Some("Cj0K_w-B"));
        assert_eq!(google.braid(), None);
    }

    #[test]
    fn fbclid_is_kept_verbatim() {
        let ids = LandingClickIds::from_urls("/?fbclid=IwAR_MiXeD-Case_aem_AbC", None);
        assert_eq!(fbclid(&ids), Some("IwAR_MiXeD-Case_aem_AbC"));
    }

    #[test]
    fn query_values_are_percent_decoded_exactly_once() {
        let ids = LandingClickIds::from_urls("/?fbclid=IwAR%2Dx%253D&gclid=a%5Fb", None);
        assert_eq!(fbclid(&ids), Some("IwAR-x%3D"));
        assert_eq!(ids.google.unwrap().gclid().map(Gclid::as_str), Some("a_b"));
    }

    #[test]
    fn fbclid_falls_back_to_the_referrer() {
        let referrer = Some("https://l.facebook.com/l.php?u=x&fbclid=FromReferrer_1");
        let ids = LandingClickIds::from_urls("https://example.com/", referrer);
        assert_eq!(fbclid(&ids), Some("FromReferrer_1"));
        let own = LandingClickIds::from_urls("https://example.com/?fbclid=Own", referrer);
        assert_eq!(fbclid(&own), Some("Own"));
    }

    #[test]
    fn google_ids_are_not_taken_from_the_referrer() {
        let ids =
            LandingClickIds::from_urls("https://example.com/", Some("https://x.test/?gclid=abc"));
        assert!(ids.is_empty());
    }

    #[test]
    fn invalid_values_are_ignored_and_a_later_valid_one_wins() {
        let ids = LandingClickIds::from_urls("/?fbclid=a+b&fbclid=&fbclid=ok&gclid=%00", None);
        assert_eq!(fbclid(&ids), Some("ok"));
        assert_eq!(ids.google, None);
    }

    #[test]
    fn gbraid_and_wbraid_from_one_url_are_never_kept_together() {
        let ids = LandingClickIds::from_urls("/?gbraid=0AAAAAgb&wbraid=ClkKwb", None);
        let google = ids.google.unwrap();
        assert_eq!(google.wbraid().map(Wbraid::as_str), Some("ClkKwb"));
        assert_eq!(google.gbraid(), None);
        let only_g = LandingClickIds::from_urls("/?gbraid=0AAAAAgb", None)
            .google
            .unwrap();
        assert_eq!(only_g.gbraid().map(Gbraid::as_str), Some("0AAAAAgb"));
    }

    #[test]
    fn urls_without_a_query_carry_nothing() {
        for url in [
            "",
            "https://example.com/",
            "https://example.com/#fbclid=x",
            "fbclid=x",
        ] {
            assert!(LandingClickIds::from_urls(url, None).is_empty(), "{url:?}");
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(url in "\\PC*", referrer in proptest::option::of("\\PC*")) {
            let _ = LandingClickIds::from_urls(&url, referrer.as_deref());
        }

        #[test]
        fn encoded_ids_decode_to_the_original(id in "[A-Za-z0-9_=%-]{1,100}") {
            let encoded: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
            let ids = LandingClickIds::from_urls(&format!("/?fbclid={encoded}"), None);
            prop_assert_eq!(ids.fbclid.map(String::from), Some(id));
        }
    }
}
