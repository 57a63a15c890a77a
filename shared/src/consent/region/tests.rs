//! Tests for `region.rs`: its rules by name, and property tests for what it parses.

use super::*;

fn p(s: &str) -> RegionPolicy {
    s.parse().unwrap()
}

#[test]
fn default_set_is_eea_plus_gb_and_ch() {
    let d = RegionPolicy::default();
    for c in [
        "DE", "FR", "GR", "IE", "IS", "LI", "NO", "GB", "CH", "RE", "AX",
    ] {
        assert!(d.is_opt_in_region(Some(c), None), "{c}");
    }
    for c in ["US", "CA", "BR", "JP", "AU", "XK"] {
        assert!(!d.is_opt_in_region(Some(c), None), "{c}");
    }
    assert_eq!(p("DEFAULT"), d);
    assert_eq!(p("EEA,GB,CH"), d);
    assert_eq!(EU.len(), 27 + 7);
}

#[test]
fn unknown_or_missing_country_is_treated_as_opt_in() {
    let none = p("NONE");
    for c in [
        None,
        Some(""),
        Some("XX"),
        Some("T1"),
        Some("ZZ"),
        Some("Germany"),
    ] {
        assert!(none.is_opt_in_region(c, None), "{c:?}");
    }
    assert_eq!(
        none.default_state(Some("T1"), None),
        ConsentState::ALL_DENIED
    );
}

#[test]
fn default_state_denies_everything_in_opt_in_regions_and_grants_elsewhere() {
    let d = RegionPolicy::default();
    assert_eq!(d.default_state(Some("de"), None), ConsentState::ALL_DENIED);
    assert_eq!(
        d.default_state(Some("US"), Some("TX")),
        ConsentState::ALL_GRANTED
    );
}

#[test]
fn config_can_add_and_remove_countries_and_regions() {
    let c = p(" eea , GB,CH,-NO, us-ca ,,");
    assert!(!c.is_opt_in_region(Some("NO"), None));
    assert!(c.is_opt_in_region(Some("US"), Some("CA")));
    assert!(c.is_opt_in_region(Some("us"), Some("US-CA")));
    assert!(!c.is_opt_in_region(Some("US"), Some("NY")));
    assert!(!c.is_opt_in_region(Some("US"), None));
    let c = p("DEFAULT,-ES-CN");
    assert!(!c.is_opt_in_region(Some("ES"), Some("CN")));
    assert!(c.is_opt_in_region(Some("ES"), Some("MD")));
    assert!(!p("DEFAULT,-EEA").is_opt_in_region(Some("FR"), None));
    assert!(p("DEFAULT,-EEA").is_opt_in_region(Some("GB"), None));
    assert_eq!(p("DEFAULT,NONE,US-CA").to_string(), "US-CA");
}

#[test]
fn invalid_tokens_are_rejected_by_name() {
    assert_eq!("".parse::<RegionPolicy>(), Err(RegionConfigError::Empty));
    assert_eq!(
        "EEA,UK".parse::<RegionPolicy>(),
        Err(RegionConfigError::UnknownCountry("UK".into()))
    );
    assert_eq!(
        "EEA,-ZZ".parse::<RegionPolicy>(),
        Err(RegionConfigError::UnknownCountry("-ZZ".into()))
    );
    assert_eq!(
        "US-CALI".parse::<RegionPolicy>(),
        Err(RegionConfigError::BadRegion("US-CALI".into()))
    );
    assert_eq!(
        "QQ-CA".parse::<RegionPolicy>(),
        Err(RegionConfigError::BadRegion("QQ-CA".into()))
    );
    assert_eq!(
        "-NONE".parse::<RegionPolicy>(),
        Err(RegionConfigError::SignedNone("-NONE".into()))
    );
    let msg = "EEA,UK".parse::<RegionPolicy>().unwrap_err().to_string();
    assert!(msg.contains("\"UK\"") && msg.contains("GB"), "{msg}");
}

#[test]
fn display_is_a_canonical_config_that_parses_back() {
    let d = RegionPolicy::default();
    assert_eq!(d.to_string(), "EEA,CH,GB");
    assert_eq!(p("NONE").to_string(), "NONE");
    let c = p("DEFAULT,-NO,US-CA,-ES-CN");
    assert_eq!(p(&c.to_string()), c);
}

#[cfg(not(target_arch = "wasm32"))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_and_lookup_never_panic(cfg in ".*", country in ".{0,4}", region in ".{0,8}") {
            if let Ok(p) = cfg.parse::<RegionPolicy>() {
                let _ = p.is_opt_in_region(Some(&country), Some(&region));
                prop_assert_eq!(p.to_string().parse::<RegionPolicy>(), Ok(p));
            }
            let _ = RegionPolicy::default().is_opt_in_region(Some(&country), Some(&region));
        }

        #[test]
        fn valid_token_lists_round_trip(tokens in proptest::collection::vec(
            "(-|\\+)?(DEFAULT|EEA|EU|DE|NO|GB|US|US-CA|ES-CN|FR-75)", 1..8)) {
            let p: RegionPolicy = tokens.join(",").parse().unwrap();
            prop_assert_eq!(p.to_string().parse::<RegionPolicy>(), Ok(p));
        }
    }
}
