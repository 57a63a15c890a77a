//! Tests for `signals.rs`: its rules by name, and property tests for what it parses.

use super::*;
use Signal::{Denied, Granted};

#[test]
fn signal_displays_and_parses_consent_mode_names() {
    assert_eq!(Granted.to_string(), "granted");
    assert_eq!(Denied.to_string(), "denied");
    assert_eq!("granted".parse::<Signal>(), Ok(Granted));
    assert_eq!(" DENIED ".parse::<Signal>(), Ok(Denied));
    assert_eq!("yes".parse::<Signal>(), Err(UnknownSignal("yes".into())));
}

#[test]
fn merging_states_lets_denied_win_per_signal() {
    let a = ConsentState {
        ad_storage: Denied,
        ..ConsentState::ALL_GRANTED
    };
    let b = ConsentState {
        ad_personalization: Denied,
        ..ConsentState::ALL_GRANTED
    };
    let m = a.merge(b);
    assert_eq!(m.ad_storage, Denied);
    assert_eq!(m.ad_personalization, Denied);
    assert_eq!(m.analytics_storage, Granted);
    assert_eq!(m.ad_user_data, Granted);
    assert_eq!(
        ConsentState::ALL_GRANTED.merge(ConsentState::ALL_DENIED),
        ConsentState::ALL_DENIED
    );
}

#[test]
fn merging_partials_keeps_a_signal_only_one_side_states() {
    let a = PartialConsent {
        ad_storage: Some(Granted),
        ..PartialConsent::NONE
    };
    let b = PartialConsent {
        ad_storage: Some(Denied),
        analytics_storage: Some(Granted),
        ..PartialConsent::NONE
    };
    let m = a.merge(b);
    assert_eq!(m.ad_storage, Some(Denied));
    assert_eq!(m.analytics_storage, Some(Granted));
    assert_eq!(m.ad_user_data, None);
}

#[test]
fn explicit_field_beats_cookie_beats_region_default() {
    let explicit = PartialConsent {
        ad_storage: Some(Granted),
        ..PartialConsent::NONE
    };
    let cookie = PartialConsent {
        ad_storage: Some(Denied),
        ad_user_data: Some(Granted),
        ..PartialConsent::NONE
    };
    let state = resolve(explicit, cookie, ConsentState::ALL_DENIED);
    assert_eq!(
        state.ad_storage, Granted,
        "explicit field wins over the cookie"
    );
    assert_eq!(
        state.ad_user_data, Granted,
        "cookie wins over the region default"
    );
    assert_eq!(
        state.analytics_storage, Denied,
        "region default fills the rest"
    );
    assert_eq!(state.ad_personalization, Denied);
}

#[test]
fn nothing_stated_resolves_to_the_region_default() {
    let d = ConsentState {
        analytics_storage: Denied,
        ..ConsentState::ALL_GRANTED
    };
    assert_eq!(resolve(PartialConsent::NONE, PartialConsent::NONE, d), d);
    assert!(PartialConsent::default().is_empty());
}

#[test]
fn a_full_state_round_trips_through_partial() {
    let s = ConsentState {
        ad_user_data: Denied,
        ..ConsentState::ALL_GRANTED
    };
    assert_eq!(
        PartialConsent::from(s).complete_with(ConsentState::ALL_DENIED),
        s
    );
}

#[cfg(feature = "server")]
#[test]
fn signals_serialize_as_lowercase_names() {
    let json = serde_json::to_string(&ConsentState::ALL_GRANTED).unwrap();
    assert_eq!(
        json,
        r#"{"ad_storage":"granted","analytics_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"}"#
    );
    let p: PartialConsent = serde_json::from_str(r#"{"ad_storage":"denied"}"#).unwrap();
    assert_eq!(
        p,
        PartialConsent {
            ad_storage: Some(Denied),
            ..PartialConsent::NONE
        }
    );
}
