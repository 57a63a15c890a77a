//! Tests for `cmp.rs`: its rules by name, and property tests for what it parses.

use super::*;
use Signal::{Denied, Granted};

const ONETRUST: &str = "isGpcEnabled=0&datestamp=Mon+Jan+15+2024+10%3A00%3A00+GMT%2B0100+(CET)\
    &version=202310.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=0b1c2d3e\
    &interactionCount=1&landingPath=NotLandingPage\
    &groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1%2CC0004%3A0&AwaitingReconsent=false";

const COOKIEBOT: &str = "%7Bstamp%3A%27u4Wb%2BQn3wKz0Hh6vR0c9ZK%3D%3D%27%2Cnecessary%3Atrue\
    %2Cpreferences%3Atrue%2Cstatistics%3Atrue%2Cmarketing%3Afalse%2Cmethod%3A%27explicit%27\
    %2Cver%3A1%2Cutc%3A1700000000000%2Cregion%3A%27de%27%7D";

fn state(analytics: Option<Signal>, ad: Option<Signal>) -> PartialConsent {
    PartialConsent {
        ad_storage: ad,
        analytics_storage: analytics,
        ad_user_data: ad,
        ad_personalization: ad,
    }
}

#[test]
fn onetrust_performance_maps_to_analytics_and_targeting_to_the_ad_signals() {
    let c = consent_from_onetrust(ONETRUST, &OneTrustGroups::default());
    assert_eq!(c, Some(state(Some(Denied), Some(Denied))));
    let granted = ONETRUST
        .replace("C0002%3A0", "C0002%3A1")
        .replace("C0004%3A0", "C0004%3A1");
    assert_eq!(
        consent_from_onetrust(&granted, &OneTrustGroups::default()),
        Some(state(Some(Granted), Some(Granted)))
    );
}

#[test]
fn onetrust_group_not_listed_leaves_its_signals_unstated() {
    let c = consent_from_onetrust("groups=C0001%3A1%2CC0004%3A1", &OneTrustGroups::default());
    assert_eq!(c, Some(state(None, Some(Granted))));
    assert_eq!(
        consent_from_onetrust("groups=C0001%3A1%2CC0003%3A1", &OneTrustGroups::default()),
        None
    );
}

#[test]
fn onetrust_groups_can_be_remapped_by_the_merchant() {
    let groups = OneTrustGroups {
        analytics: "C0003".into(),
        advertising: "C0005".into(),
    };
    let c = consent_from_onetrust("groups=C0002%3A0%2CC0003%3A1%2CC0005%3A0", &groups);
    assert_eq!(c, Some(state(Some(Granted), Some(Denied))));
}

#[test]
fn onetrust_tolerates_double_encoding_and_rejects_garbage() {
    let double = "groups=C0002%253A1%252CC0004%253A0";
    assert_eq!(
        consent_from_onetrust(double, &OneTrustGroups::default()),
        Some(state(Some(Granted), Some(Denied)))
    );
    let whole = "isGpcEnabled%3D0%26groups%3DC0002%253A1%252CC0004%253A1";
    assert_eq!(
        consent_from_onetrust(whole, &OneTrustGroups::default()),
        Some(state(Some(Granted), Some(Granted)))
    );
    for v in [
        "",
        "groups=",
        "groups=C0002",
        "groups=C0002:yes",
        "%%%",
        "\u{0}",
    ] {
        assert_eq!(
            consent_from_onetrust(v, &OneTrustGroups::default()),
            None,
            "{v:?}"
        );
    }
}

#[test]
fn cookiebot_statistics_maps_to_analytics_and_marketing_to_the_ad_signals() {
    assert_eq!(
        consent_from_cookiebot(COOKIEBOT),
        Some(state(Some(Granted), Some(Denied)))
    );
    let plain = "{stamp:'x',necessary:true,preferences:false,statistics:false,marketing:true,method:'implied',ver:1}";
    assert_eq!(
        consent_from_cookiebot(plain),
        Some(state(Some(Denied), Some(Granted)))
    );
    let json_like = r#"{"statistics":true,"marketing":true}"#;
    assert_eq!(
        consent_from_cookiebot(json_like),
        Some(state(Some(Granted), Some(Granted)))
    );
}

#[test]
fn cookiebot_minus_one_means_no_consent_required_so_everything_is_granted() {
    assert_eq!(
        consent_from_cookiebot("-1"),
        Some(state(Some(Granted), Some(Granted)))
    );
}

#[test]
fn cookiebot_garbage_states_nothing() {
    for v in [
        "",
        "0",
        "{}",
        "{necessary:true}",
        "stamp:'x',marketing:true",
        "%7B",
        "{marketing:maybe}",
    ] {
        assert_eq!(consent_from_cookiebot(v), None, "{v:?}");
    }
}

#[test]
fn percent_decoding_keeps_invalid_escapes() {
    assert_eq!(percent_decode("a%3Ab%2"), "a:b%2");
    assert_eq!(percent_decode("%zz%41+"), "%zzA+");
    assert_eq!(percent_decode("%C3%A9%FF"), "\u{e9}\u{fffd}");
}

#[cfg(not(target_arch = "wasm32"))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".*") {
            let _ = consent_from_onetrust(&s, &OneTrustGroups::default());
            let _ = consent_from_cookiebot(&s);
            let _ = percent_decode(&s);
        }

        #[test]
        fn cookiebot_flags_round_trip(stats in any::<bool>(), marketing in any::<bool>()) {
            let v = format!("%7Bstamp%3A%27x%27%2Cnecessary%3Atrue%2Cstatistics%3A{stats}%2Cmarketing%3A{marketing}%7D");
            let c = consent_from_cookiebot(&v).unwrap();
            prop_assert_eq!(c.analytics_storage, Some(Signal::from_bool(stats)));
            prop_assert_eq!(c.ad_storage, Some(Signal::from_bool(marketing)));
        }
    }
}
