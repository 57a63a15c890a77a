//! Tests for `visit.rs`: each rule of the module docs by name.

use super::*;
use crate::consent::Signal;
use crate::cookies::{FBC_COOKIE, FBP_COOKIE};

const NOW: u64 = 1_764_000_000_000;
const RANDOM: VisitRandom = VisitRandom {
    fbp: [7; 8],
    session: [0xab; 16],
};

fn config<'a>(regions: &'a RegionPolicy, groups: &'a OneTrustGroups) -> VisitConfig<'a> {
    VisitConfig {
        cookie_domain: None,
        geo_override: None,
        regions,
        ga4_measurement_id: None,
        onetrust_groups: groups,
        session_key: None,
    }
}

fn visit_with(req: &VisitRequest<'_>, geo: Option<(&str, Option<&str>)>) -> Visit {
    let regions = RegionPolicy::default();
    let groups = OneTrustGroups::default();
    let config = VisitConfig {
        geo_override: geo,
        ..config(&regions, &groups)
    };
    read_visit(req, &config, PartialConsent::NONE, NOW, RANDOM)
}

fn us_landing(cookies: Option<&str>) -> Visit {
    let req = VisitRequest {
        host: "shop.example.co.uk",
        landing_url: "https://shop.example.co.uk/p/1?fbclid=IwAR_click-1",
        cookie_header: cookies,
        user_agent: Some("Mozilla/5.0 test"),
        cf_connecting_ip: Some("203.0.113.9"),
        ..VisitRequest::default()
    };
    visit_with(&req, Some(("US", None)))
}

fn names(visit: &Visit) -> Vec<&str> {
    visit.ad_cookies.iter().map(SetCookie::name).collect()
}

#[test]
fn a_granted_landing_with_fbclid_sets_fbc_fbp_and_the_session_cookie() {
    let v = us_landing(None);
    assert_eq!(names(&v), vec![FBC_COOKIE, FBP_COOKIE]);
    let fbc = v.context.clicks.fbc.as_ref().unwrap();
    assert_eq!(fbc.fbclid(), "IwAR_click-1");
    assert!(v.new_session);
    assert_eq!(v.session_id, "ab".repeat(16));
    let headers = v.set_cookie_headers();
    assert_eq!(headers.len(), 3);
    for h in &headers {
        // The tags read `_fbc`/`_fbp`; no script needs our session id (trust: not borrowable).
        let tail = if h.starts_with("_ar_sid=") {
            "; Domain=example.co.uk; Path=/; Secure; SameSite=Lax; HttpOnly"
        } else {
            "; Domain=example.co.uk; Path=/; Secure; SameSite=Lax"
        };
        assert!(h.ends_with(tail), "{h}");
        assert!(h.contains("Max-Age=7776000"), "{h}");
    }
    assert!(headers[2].starts_with("_ar_sid=abab"));
    assert_eq!(v.context.client_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(v.context.user_agent.as_deref(), Some("Mozilla/5.0 test"));
    assert_eq!(v.consent, ConsentState::ALL_GRANTED);
}

#[test]
fn an_existing_session_cookie_is_kept_and_refreshed() {
    let sid = "0123456789abcdef0123456789abcdef";
    let v = us_landing(Some(&format!("_ar_sid={sid}")));
    assert!(!v.new_session);
    assert_eq!(v.session_id, sid);
    assert!(
        v.set_cookie_headers()
            .iter()
            .any(|h| h.starts_with(&format!("_ar_sid={sid};")))
    );
}

#[test]
fn a_malformed_session_cookie_is_replaced() {
    for bad in ["short", "x;y", &"a".repeat(129), "has space in it 1234"] {
        assert!(!is_session_id(bad), "{bad:?}");
    }
    let v = us_landing(Some("_ar_sid=short"));
    assert!(v.new_session);
    assert_eq!(v.session_id, "ab".repeat(16));
}

#[test]
fn a_denied_consent_cookie_sets_no_ad_cookie_but_still_the_session_cookie() {
    let v = us_landing(Some(
        "_ar_consent=1.dddd; _fbp=fb.1.1763990000000.123456789",
    ));
    assert!(v.ad_cookies.is_empty());
    assert_eq!(v.context.clicks.fbc, None);
    assert_eq!(v.context.clicks.fbp, None, "ad cookies are not even read");
    let headers = v.set_cookie_headers();
    assert_eq!(headers.len(), 1);
    assert!(headers[0].starts_with("_ar_sid="));
    assert_eq!(v.consent.ad_storage, Signal::Denied);
}

#[test]
fn an_eea_visitor_without_consent_gets_no_ad_cookie() {
    let req = VisitRequest {
        host: "shop.example.de",
        landing_url: "https://shop.example.de/?fbclid=IwAR_x",
        ..VisitRequest::default()
    };
    let v = visit_with(&req, Some(("DE", None)));
    assert!(v.ad_cookies.is_empty());
    assert_eq!(v.consent, ConsentState::ALL_DENIED);
    assert_eq!(v.context.country.as_deref(), Some("DE"));
}

#[test]
fn an_eea_visitor_who_granted_consent_gets_the_ad_cookies() {
    let req = VisitRequest {
        host: "shop.example.de",
        landing_url: "https://shop.example.de/?fbclid=IwAR_x",
        cookie_header: Some("_ar_consent=1.gggg"),
        ..VisitRequest::default()
    };
    let v = visit_with(&req, Some(("DE", None)));
    assert_eq!(names(&v), vec![FBC_COOKIE, FBP_COOKIE]);
}

#[test]
fn cmp_cookies_merge_most_restrictively_with_ours() {
    let groups = OneTrustGroups::default();
    // Our cookie grants everything; a TCF string without Google's vendor 755 denies the ad signals.
    let jar = CookieJar::parse(
        "_ar_consent=1.gggg; euconsent-v2=COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA",
    );
    let c = consent_from_cookies(&jar, &groups);
    assert_eq!(c.ad_storage, Some(Signal::Denied));
    assert_eq!(c.analytics_storage, Some(Signal::Granted));
    // Cookiebot: statistics yes, marketing no.
    let jar = CookieJar::parse(
        "CookieConsent={stamp:'x',necessary:true,statistics:true,marketing:false,ver:1}",
    );
    let c = consent_from_cookies(&jar, &groups);
    assert_eq!(c.ad_storage, Some(Signal::Denied));
    assert_eq!(c.analytics_storage, Some(Signal::Granted));
    assert!(consent_from_cookies(&CookieJar::parse("a=1"), &groups).is_empty());
}

#[test]
fn explicit_consent_beats_the_cookies() {
    let regions = RegionPolicy::default();
    let groups = OneTrustGroups::default();
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/?fbclid=IwAR_x",
        cookie_header: Some("_ar_consent=1.dddd"),
        ..VisitRequest::default()
    };
    let explicit = PartialConsent::from(ConsentState::ALL_GRANTED);
    let v = read_visit(&req, &config(&regions, &groups), explicit, NOW, RANDOM);
    assert_eq!(v.consent, ConsentState::ALL_GRANTED);
    assert_eq!(names(&v), vec![FBC_COOKIE, FBP_COOKIE]);
}

#[test]
fn sec_gpc_marks_a_sale_opt_out() {
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/",
        sec_gpc: Some("1"),
        ..VisitRequest::default()
    };
    assert!(
        visit_with(&req, Some(("US", Some("US-CA"))))
            .context
            .sale_opt_out
    );
    let no = VisitRequest {
        sec_gpc: None,
        ..req
    };
    assert!(!visit_with(&no, None).context.sale_opt_out);
}

#[test]
fn the_geo_override_wins_over_cloudflare_and_regions_are_full_iso_codes() {
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/",
        cf_country: Some("us"),
        cf_region_code: Some("ca"),
        ..VisitRequest::default()
    };
    let from_cf = visit_with(&req, None);
    assert_eq!(from_cf.context.country.as_deref(), Some("US"));
    assert_eq!(from_cf.context.region.as_deref(), Some("US-CA"));
    let overridden = visit_with(&req, Some(("DE", Some("DE-BE"))));
    assert_eq!(overridden.context.country.as_deref(), Some("DE"));
    assert_eq!(overridden.context.region.as_deref(), Some("DE-BE"));
}

#[test]
fn an_unknown_location_defaults_to_denied() {
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/?fbclid=IwAR_x",
        ..VisitRequest::default()
    };
    let v = visit_with(&req, None);
    assert_eq!(v.consent, ConsentState::ALL_DENIED);
    assert!(v.ad_cookies.is_empty());
}

#[test]
fn the_ip_comes_from_cf_connecting_ip_then_forwarded_for_then_real_ip() {
    let base = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/",
        cf_connecting_ip: Some("2001:db8::1"),
        x_forwarded_for: Some("198.51.100.1, 10.0.0.1"),
        x_real_ip: Some("192.0.2.1"),
        ..VisitRequest::default()
    };
    let ip = |r: &VisitRequest<'_>| visit_with(r, None).context.client_ip;
    assert_eq!(ip(&base).as_deref(), Some("2001:db8::1"));
    let xff = VisitRequest {
        cf_connecting_ip: None,
        ..base
    };
    assert_eq!(ip(&xff).as_deref(), Some("198.51.100.1"));
    let real = VisitRequest {
        x_forwarded_for: Some("not-an-ip"),
        ..xff
    };
    assert_eq!(ip(&real).as_deref(), Some("192.0.2.1"));
    let none = VisitRequest {
        x_real_ip: None,
        ..real
    };
    assert_eq!(ip(&none), None);
}

#[test]
fn ga_ids_are_read_only_with_analytics_consent() {
    let cookies = "_ga=GA1.1.1664500529.1767032662; _ga_ABC123=GS2.1.s1764315072$o1$g1$t1764315996";
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/",
        cookie_header: Some(cookies),
        ..VisitRequest::default()
    };
    let granted = visit_with(&req, Some(("US", None)));
    assert_eq!(
        granted.context.ga_client_id.as_deref(),
        Some("1664500529.1767032662")
    );
    assert_eq!(granted.context.ga_session_id, Some(1_764_315_072));
    let denied = visit_with(&req, Some(("FR", None)));
    assert_eq!(denied.context.ga_client_id, None);
    assert_eq!(denied.context.ga_session_id, None);
}

#[test]
fn a_configured_measurement_id_picks_its_own_session_cookie() {
    let regions = RegionPolicy::default();
    let groups = OneTrustGroups::default();
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/",
        cookie_header: Some(
            "_ga_OTHER=GS1.1.1.1.0.1.0.0.0; _ga_MINE=GS1.1.1717533519.1.0.1717533523.56.0.0",
        ),
        ..VisitRequest::default()
    };
    let config = VisitConfig {
        geo_override: Some(("US", None)),
        ga4_measurement_id: Some("G-MINE"),
        ..config(&regions, &groups)
    };
    let v = read_visit(&req, &config, PartialConsent::NONE, NOW, RANDOM);
    assert_eq!(v.context.ga_session_id, Some(1_717_533_519));
}

#[test]
fn long_user_agents_are_cut_on_a_char_boundary() {
    let long = "é".repeat(MAX_USER_AGENT_LEN);
    let cut = user_agent(&long).unwrap();
    assert!(cut.len() <= MAX_USER_AGENT_LEN);
    assert!(cut.chars().all(|c| c == 'é'));
    assert_eq!(user_agent("  "), None);
}

#[test]
fn click_ids_come_from_the_referrer_too() {
    let req = VisitRequest {
        host: "example.com",
        landing_url: "https://example.com/landing",
        referrer: Some("https://l.facebook.com/l.php?fbclid=FromRef_1"),
        ..VisitRequest::default()
    };
    let v = visit_with(&req, Some(("US", None)));
    assert_eq!(
        v.context.clicks.fbc.as_ref().map(|f| f.fbclid().to_owned()),
        Some("FromRef_1".into())
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn reading_a_visit_never_panics(
            host in "\\PC{0,40}",
            url in "\\PC{0,80}",
            cookies in "\\PC{0,120}",
            ip in "\\PC{0,40}",
            ua in "\\PC{0,40}",
        ) {
            let req = VisitRequest {
                host: &host,
                landing_url: &url,
                cookie_header: Some(&cookies),
                x_forwarded_for: Some(&ip),
                user_agent: Some(&ua),
                ..VisitRequest::default()
            };
            let v = visit_with(&req, None);
            prop_assert!(is_session_id(&v.session_id));
        }
    }
}

#[test]
fn with_a_key_only_minted_session_ids_are_taken_and_the_cookie_is_http_only() {
    use crate::signature::{KeyPurpose, derive_key};
    let regions = RegionPolicy::default();
    let groups = OneTrustGroups::default();
    let key = derive_key(b"secret", KeyPurpose::Session);
    let config = VisitConfig {
        session_key: Some(&key),
        ..config(&regions, &groups)
    };
    let minted = crate::tokens::mint_session_id(&key, [1; 16]);
    let borrowed = "0123456789abcdef0123456789abcdef";
    for (cookie, kept) in [(minted.as_str(), true), (borrowed, false)] {
        let header = format!("_ar_sid={cookie}");
        let req = VisitRequest {
            host: "shop.example.com",
            cookie_header: Some(&header),
            ..VisitRequest::default()
        };
        let v = read_visit(&req, &config, PartialConsent::NONE, NOW, RANDOM);
        assert_eq!(v.session_id == cookie, kept, "{cookie}");
        assert_eq!(v.new_session, !kept);
        assert!(crate::tokens::is_minted_session_id(&key, &v.session_id));
        let set = v
            .session_cookie
            .map(|c| c.to_header_value())
            .unwrap_or_default();
        assert!(set.ends_with("; HttpOnly"), "{set}");
    }
}
