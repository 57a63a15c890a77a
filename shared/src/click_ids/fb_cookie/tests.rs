//! Behaviour of `_fbc` / `_fbp` parsing and building, with real values.

use super::*;

const FBCLID: &str = "IwZXh0bgNhZW0CMTAAAR-uK_5w";

fn fbclid(s: &str) -> Fbclid {
    s.parse().unwrap()
}

#[test]
fn fbc_is_built_with_millisecond_time_and_verbatim_fbclid() {
    let fbc = Fbc::new(
        SubdomainIndex::of_domain("example.com"),
        1_716_819_200_123,
        &fbclid(FBCLID),
    );
    assert_eq!(
        fbc.as_str(),
        "fb.1.1716819200123.IwZXh0bgNhZW0CMTAAAR-uK_5w"
    );
    assert_eq!(fbc.fbclid(), FBCLID);
    assert_eq!(fbc.as_str().parse::<Fbc>(), Ok(fbc));
}

#[test]
fn five_segment_fbc_with_an_appendix_is_accepted_and_kept_verbatim() {
    let raw = "fb.2.1716819200123.IwZXh0bgNhZW0CMTAAAR-uK_5w.AQQCAQIB";
    let fbc: Fbc = raw.parse().unwrap();
    assert_eq!(fbc.to_string(), raw);
    assert_eq!(
        fbc.fbclid(),
        FBCLID,
        "the fbclid is segment 4, not the appendix"
    );
    assert_eq!(
        fbc.appendix().map(|a| a.as_str().to_owned()),
        Some("AQQCAQIB".into())
    );
    assert_eq!(fbc.subdomain_index().get(), 2);
    assert!(fbc.is_for(&fbclid(FBCLID)));
    let legacy: Fbc = "fb.1.1716819200123.abc.Bg".parse().unwrap();
    assert_eq!(
        legacy.appendix().map(|a| a.as_str().to_owned()),
        Some("Bg".into())
    );
}

#[test]
fn fbc_comparison_is_case_sensitive() {
    let fbc: Fbc = "fb.1.1716819200123.AbC".parse().unwrap();
    assert!(!fbc.is_for(&fbclid("abc")));
}

#[test]
fn malformed_fb_cookies_are_rejected_with_the_reason() {
    assert_eq!("fb.1.123".parse::<Fbc>(), Err(FbCookieError::SegmentCount));
    assert_eq!(
        "fb.1.1.a.AQQCAQIB.x".parse::<Fbc>(),
        Err(FbCookieError::SegmentCount)
    );
    assert_eq!("FB.1.1.a".parse::<Fbc>(), Err(FbCookieError::Version));
    assert_eq!(
        "fb.x.1.a".parse::<Fbc>(),
        Err(FbCookieError::SubdomainIndex)
    );
    assert_eq!(
        "fb.256.1.a".parse::<Fbc>(),
        Err(FbCookieError::SubdomainIndex)
    );
    assert_eq!("fb.1.-5.a".parse::<Fbc>(), Err(FbCookieError::CreationTime));
    assert_eq!(
        "fb.1.1716819200123.".parse::<Fbc>(),
        Err(FbCookieError::Fbclid(ClickIdError::Empty("fbclid")))
    );
    assert_eq!("fb.1.1.a.XYZ".parse::<Fbc>(), Err(FbCookieError::Appendix));
    assert_eq!("fb.1.1.a.ZZ".parse::<Fbc>(), Err(FbCookieError::Appendix));
    assert_eq!("fb.1.1.abc".parse::<Fbp>(), Err(FbCookieError::Random));
    assert_eq!("fb.1.1.".parse::<Fbp>(), Err(FbCookieError::Random));
    assert_eq!(
        "fb.1.1.123456789012345678901".parse::<Fbp>(),
        Err(FbCookieError::Random)
    );
}

#[test]
fn fbp_from_the_pixel_and_the_parameter_builder_is_accepted() {
    for raw in [
        "fb.1.1596403881668.1116446470",
        "fb.1.1730980207699.201376450717234808",
        "fb.2.1716819200123.1116446470.AQQCAQIB",
        "fb.0.1716819200.01",
    ] {
        let fbp: Fbp = raw.parse().unwrap();
        assert_eq!(fbp.to_string(), raw);
    }
}

#[test]
fn minted_fbp_uses_the_supplied_time_and_bytes() {
    let fbp = Fbp::mint(
        SubdomainIndex::of_domain("example.co.uk"),
        1_716_819_200_123,
        [0; 8],
    );
    assert_eq!(fbp.as_str(), "fb.2.1716819200123.100000000000000000");
    let other = Fbp::mint(SubdomainIndex::new(1), 1_716_819_200_123, [0xff; 8]);
    assert_eq!(other.random().len(), 18);
    assert_eq!(other.as_str().parse::<Fbp>(), Ok(other.clone()));
}

#[test]
fn subdomain_index_counts_the_cookie_domain_levels() {
    assert_eq!(SubdomainIndex::of_domain("com").get(), 0);
    assert_eq!(SubdomainIndex::of_domain("example.com").get(), 1);
    assert_eq!(SubdomainIndex::of_domain(".example.com").get(), 1);
    assert_eq!(SubdomainIndex::of_domain("www.example.com").get(), 2);
    assert_eq!(SubdomainIndex::of_domain("example.co.uk").get(), 2);
}

#[cfg(not(target_arch = "wasm32"))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = s.parse::<Fbc>();
            let _ = s.parse::<Fbp>();
        }

        #[test]
        fn near_miss_values_never_panic(s in "fb\\.[0-9a]{0,4}\\.[0-9]{0,17}\\.[A-Za-z0-9_.-]{0,12}") {
            let _ = s.parse::<Fbc>();
            let _ = s.parse::<Fbp>();
        }

        #[test]
        fn fbc_format_then_parse_round_trips(
            index in 0u8..=255,
            ms in any::<u64>(),
            id in "[A-Za-z0-9_-]{1,100}",
            appendix in proptest::option::of("[A-Za-z0-9_-]{8}"),
        ) {
            let fbc = Fbc::new(SubdomainIndex::new(index), ms, &id.parse().unwrap());
            let parsed: Fbc = fbc.to_string().parse().unwrap();
            prop_assert_eq!(&parsed, &fbc);
            prop_assert_eq!(parsed.fbclid(), id.as_str());
            if let Some(a) = appendix {
                let raw = format!("{fbc}.{a}");
                let with: Fbc = raw.parse().unwrap();
                prop_assert_eq!(with.to_string(), raw.clone());
                prop_assert_eq!(with.fbclid(), id.as_str());
                // Idempotent: parsing what was displayed gives the same value.
                prop_assert_eq!(with.to_string().parse::<Fbc>().unwrap(), with);
            }
        }

        #[test]
        fn minted_fbp_always_parses(index in 0u8..=255, ms in any::<u64>(), random in any::<[u8; 8]>()) {
            let fbp = Fbp::mint(SubdomainIndex::new(index), ms, random);
            prop_assert_eq!(fbp.to_string().parse::<Fbp>().unwrap(), fbp);
        }
    }
}
