//! Tests for consent in the browser.

use super::*;
use Signal::{Denied, Granted};

#[test]
fn without_a_cookie_the_snippet_default_denies_everything() {
    // google.md §5: a default before any tag; opt-in until the region default is known.
    assert_eq!(snippet_default(None), ConsentState::ALL_DENIED);
    assert_eq!(snippet_default(Some("2.gggg")), ConsentState::ALL_DENIED);
    let partial = snippet_default(Some("1.g-g-"));
    assert_eq!(
        (partial.ad_storage, partial.analytics_storage),
        (Granted, Denied)
    );
}

#[test]
fn the_region_default_fills_what_the_cookie_leaves_unstated() {
    let opt_out = RegionAnswer {
        default: ConsentState::ALL_GRANTED,
        banner: false,
    };
    assert_eq!(
        page_consent(None, Some(&opt_out)),
        ConsentState::ALL_GRANTED
    );
    let c = page_consent(Some("1.d---"), Some(&opt_out));
    assert_eq!((c.ad_storage, c.ad_user_data), (Denied, Granted));
    assert_eq!(page_consent(None, None), ConsentState::ALL_DENIED);
}

#[test]
fn metas_pixel_runs_only_with_ad_storage_and_ad_user_data() {
    // meta-capi.md §11.3: revoke before init unless consent is there.
    assert!(meta_may_run(ConsentState::ALL_GRANTED));
    let mut s = ConsentState::ALL_GRANTED;
    s.ad_user_data = Denied;
    assert!(!meta_may_run(s));
    assert_eq!(meta_command(s), "revoke");
    s = ConsentState::ALL_GRANTED;
    s.analytics_storage = Denied;
    s.ad_personalization = Denied;
    assert_eq!(meta_command(s), "grant");
}

#[test]
fn a_choice_keeps_the_cookies_signals_it_does_not_state() {
    let choice = Choice::read(
        |k| (k == "ad_storage").then_some(Stated::Text("GRANTED")),
        false,
    )
    .unwrap();
    assert_eq!(choice.cookie_after(Some("1.dddd")), "1.gddd");
    assert_eq!(choice.cookie_after(None), "1.g---");
    let all = Choice::read(|_| Some(Stated::Bool(false)), true).unwrap();
    assert_eq!(all.cookie_after(Some("1.gggg")), "1.dddd");
    assert!(all.sale_opt_out);
}

#[test]
fn a_choice_that_is_neither_granted_nor_denied_names_its_signal() {
    let err = Choice::read(
        |k| (k == "ad_user_data").then_some(Stated::Text("yes")),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ad_user_data: must be \"granted\", \"denied\", true or false"
    );
}

#[test]
fn the_banner_asks_only_where_it_is_on_and_nothing_is_decided() {
    let ask = RegionAnswer {
        default: ConsentState::ALL_DENIED,
        banner: true,
    };
    assert!(banner_asks(Some(&ask), None, false));
    assert!(!banner_asks(Some(&ask), Some("1.gggg"), false));
    assert!(
        !banner_asks(Some(&ask), None, true),
        "a TCF CMP is followed"
    );
    assert!(!banner_asks(None, None, false));
}

#[test]
fn tcf_signals_map_like_the_worker_maps_tc_strings() {
    // google.md Addendum A.
    let all = TcfSignals {
        gdpr_applies: true,
        google_vendor: true,
        purposes: [true; 4],
    };
    assert_eq!(all.consent().ad_user_data, Some(Granted));
    assert_eq!(all.consent().analytics_storage, None);
    let no_google = TcfSignals {
        google_vendor: false,
        ..all
    };
    assert_eq!(no_google.consent().ad_storage, Some(Denied));
    let no_gdpr = TcfSignals {
        gdpr_applies: false,
        ..all
    };
    assert!(no_gdpr.consent().is_empty());
}

#[test]
fn gtag_gets_every_signal_by_its_consent_mode_name() {
    let params = gtag_params(ConsentState::ALL_DENIED);
    assert_eq!(params[2], ("ad_user_data", "denied"));
}

#[test]
fn a_body_states_consent_only_while_the_cookie_does_not_carry_the_pages_choice() {
    // DESIGN §4 source order: an event's own `consent` beats every cookie.
    assert_eq!(stated_for_collect(None, None, PartialConsent::NONE), None);
    assert_eq!(
        stated_for_collect(Some("1.gggg"), None, PartialConsent::NONE),
        None
    );
    assert_eq!(
        stated_for_collect(Some("1.dd-d"), Some("1.dd-d"), PartialConsent::NONE),
        None
    );
    assert_eq!(
        stated_for_collect(None, Some("1.dd-g"), PartialConsent::NONE),
        Some([
            ("ad_storage", Some("denied")),
            ("analytics_storage", Some("denied")),
            ("ad_user_data", None),
            ("ad_personalization", Some("granted")),
        ])
    );
    // An older cookie the browser kept while refusing the new one: the choice is stated.
    let stated = stated_for_collect(Some("1.gggg"), Some("1.dddd"), PartialConsent::NONE).unwrap();
    assert!(stated.iter().all(|(_, v)| *v == Some("denied")));
}

#[test]
fn an_events_own_consent_denial_holds_beside_the_pages_choice() {
    // DESIGN §4: copies of one event merge to the most restrictive state; the page's `consent`
    // in `track` and the choice made on the page are two statements about one event.
    let own = PartialConsent {
        ad_user_data: Some(Signal::Denied),
        ..PartialConsent::NONE
    };
    assert_eq!(
        stated_for_collect(None, Some("1.gggg"), own),
        Some([
            ("ad_storage", Some("granted")),
            ("analytics_storage", Some("granted")),
            ("ad_user_data", Some("denied")),
            ("ad_personalization", Some("granted")),
        ])
    );
    let own = PartialConsent {
        ad_personalization: Some(Signal::Granted),
        ..PartialConsent::NONE
    };
    assert_eq!(
        stated_for_collect(None, Some("1.ddd-"), own).map(|s| s[3]),
        Some(("ad_personalization", Some("granted")))
    );
}
