//! Tests for `policy.rs`: its rules by name, and property tests for what it parses.

use super::*;
use Signal::{Denied, Granted};

const ELSEWHERE: PolicyContext = PolicyContext {
    opt_in_region: false,
    sale_opt_out: None,
};
const OPT_IN: PolicyContext = PolicyContext {
    opt_in_region: true,
    sale_opt_out: None,
};

fn with(f: impl FnOnce(&mut ConsentState)) -> ConsentState {
    let mut s = ConsentState::ALL_GRANTED;
    f(&mut s);
    s
}

fn meta_send(p: &Permissions) -> MetaSend {
    match p.meta {
        MetaPermission::Send(m) => m,
        MetaPermission::Skip { reason } => panic!("Meta skipped: {reason:?}"),
    }
}

fn ga4_send(p: &Permissions) -> Ga4Send {
    match p.ga4 {
        Ga4Permission::Send(g) => g,
        Ga4Permission::Skip { reason } => panic!("GA4 skipped: {reason:?}"),
    }
}

#[test]
fn all_granted_sends_full_identifiers_everywhere() {
    for ctx in [ELSEWHERE, OPT_IN] {
        let p = permissions(ConsentState::ALL_GRANTED, ctx);
        assert!(p.edge_may_set_ad_cookies);
        assert_eq!(
            meta_send(&p),
            MetaSend {
                click_ids: true,
                hashed_pii: true,
                ldu: None
            }
        );
        assert_eq!(
            p.google_ads,
            GoogleAdsPermission {
                click_id_cookies: true,
                hashed_pii: true,
                ad_user_data: Granted,
                ad_personalization: Granted,
                restricted_data_processing: false,
            }
        );
        assert_eq!(
            ga4_send(&p),
            Ga4Send {
                hashed_pii: true,
                ad_user_data: Granted,
                ad_personalization: Granted
            }
        );
        assert!(p.ga4.may_read_ga_cookie());
    }
}

#[test]
fn denied_ad_storage_drops_fbc_fbp_and_click_id_cookies_and_states_google_ad_consent_denied() {
    let p = permissions(with(|s| s.ad_storage = Denied), OPT_IN);
    assert!(!p.edge_may_set_ad_cookies, "no ad cookies set");
    let m = meta_send(&p);
    assert!(!m.click_ids, "no fbc/fbp");
    assert!(m.hashed_pii, "ad_user_data still granted");
    assert!(!p.google_ads.click_id_cookies);
    assert_eq!(p.google_ads.ad_user_data, Denied);
    assert_eq!(p.google_ads.ad_personalization, Denied);
    assert!(
        !p.google_ads.hashed_pii,
        "no user data under a stated DENIED"
    );
    assert_eq!(ga4_send(&p).ad_user_data, Denied);
}

#[test]
fn denied_ad_user_data_in_opt_in_region_sends_nothing_to_meta() {
    let p = permissions(with(|s| s.ad_user_data = Denied), OPT_IN);
    assert_eq!(
        p.meta,
        MetaPermission::Skip {
            reason: SkipReason::AdUserDataDeniedInOptInRegion
        }
    );
}

#[test]
fn denied_ad_user_data_in_opt_in_region_sends_google_without_hashed_pii_and_ad_user_data_denied() {
    let p = permissions(with(|s| s.ad_user_data = Denied), OPT_IN);
    assert!(!p.google_ads.hashed_pii);
    assert_eq!(p.google_ads.ad_user_data, Denied);
    assert_eq!(p.google_ads.ad_personalization, Granted);
    assert!(p.google_ads.click_id_cookies, "ad_storage still granted");
    let g = ga4_send(&p);
    assert!(!g.hashed_pii);
    assert_eq!(g.ad_user_data, Denied);
}

#[test]
fn denied_ad_user_data_elsewhere_sends_meta_without_hashed_pii() {
    let p = permissions(with(|s| s.ad_user_data = Denied), ELSEWHERE);
    assert_eq!(
        meta_send(&p),
        MetaSend {
            click_ids: true,
            hashed_pii: false,
            ldu: None
        }
    );
    assert!(!p.google_ads.hashed_pii);
    assert_eq!(p.google_ads.ad_user_data, Denied);
}

#[test]
fn denied_ad_personalization_still_sends_meta_and_states_denied_to_google() {
    for ctx in [ELSEWHERE, OPT_IN] {
        let p = permissions(with(|s| s.ad_personalization = Denied), ctx);
        assert_eq!(
            meta_send(&p),
            MetaSend {
                click_ids: true,
                hashed_pii: true,
                ldu: None
            }
        );
        assert_eq!(p.google_ads.ad_personalization, Denied);
        assert_eq!(p.google_ads.ad_user_data, Granted);
        assert!(p.google_ads.hashed_pii);
        assert_eq!(ga4_send(&p).ad_personalization, Denied);
    }
}

#[test]
fn denied_analytics_storage_skips_ga4_and_the_ga_cookie_only() {
    let p = permissions(with(|s| s.analytics_storage = Denied), OPT_IN);
    assert_eq!(
        p.ga4,
        Ga4Permission::Skip {
            reason: SkipReason::AnalyticsStorageDenied
        }
    );
    assert!(!p.ga4.may_read_ga_cookie());
    assert_eq!(
        meta_send(&p),
        MetaSend {
            click_ids: true,
            hashed_pii: true,
            ldu: None
        }
    );
    assert!(p.google_ads.hashed_pii);
}

#[test]
fn us_gpc_opt_out_sends_meta_ldu_and_google_restricted_data_processing() {
    let ctx = PolicyContext::for_visitor(&RegionPolicy::default(), Some("US"), Some("CA"), true);
    assert_eq!(
        ctx,
        PolicyContext {
            opt_in_region: false,
            sale_opt_out: Some(Ldu::CALIFORNIA)
        }
    );
    let p = permissions(ConsentState::ALL_GRANTED, ctx);
    assert_eq!(
        meta_send(&p),
        MetaSend {
            click_ids: true,
            hashed_pii: true,
            ldu: Some(Ldu::CALIFORNIA)
        }
    );
    assert!(p.google_ads.restricted_data_processing);
    assert_eq!(p.google_ads.ad_personalization, Denied);
    assert_eq!(p.google_ads.ad_user_data, Granted);
}

#[test]
fn eu_visitor_with_gpc_gets_no_ldu() {
    let ctx = PolicyContext::for_visitor(&RegionPolicy::default(), Some("DE"), None, true);
    assert_eq!(
        ctx,
        PolicyContext {
            opt_in_region: true,
            sale_opt_out: None
        }
    );
}

#[test]
fn denials_only_ever_remove_permissions() {
    let signals = [Granted, Denied];
    for a in signals {
        for b in signals {
            for c in signals {
                for d in signals {
                    let state = ConsentState {
                        ad_storage: a,
                        analytics_storage: b,
                        ad_user_data: c,
                        ad_personalization: d,
                    };
                    for opt_in_region in [false, true] {
                        for sale_opt_out in [None, Some(Ldu::GEOLOCATE)] {
                            let p = permissions(
                                state,
                                PolicyContext {
                                    opt_in_region,
                                    sale_opt_out,
                                },
                            );
                            assert_eq!(p.edge_may_set_ad_cookies, a.is_granted());
                            if let MetaPermission::Send(m) = p.meta {
                                assert!(!m.click_ids || a.is_granted());
                                assert!(!m.hashed_pii || c.is_granted());
                                assert_eq!(m.ldu, sale_opt_out);
                            } else {
                                assert!(opt_in_region && !c.is_granted());
                            }
                            let g = p.google_ads;
                            assert!(!g.hashed_pii || g.ad_user_data.is_granted());
                            assert!(
                                !g.ad_user_data.is_granted() || (a.is_granted() && c.is_granted())
                            );
                            assert!(!g.ad_personalization.is_granted() || d.is_granted());
                            assert_eq!(p.ga4.may_read_ga_cookie(), b.is_granted());
                        }
                    }
                }
            }
        }
    }
}

#[cfg(feature = "server")]
#[test]
fn permissions_serialize_with_snake_case_names() {
    let p = permissions(with(|s| s.ad_user_data = Denied), OPT_IN);
    let json = serde_json::to_value(p).unwrap();
    assert_eq!(
        json["meta"],
        serde_json::json!({"skip": {"reason": "ad_user_data_denied_in_opt_in_region"}})
    );
    assert_eq!(json["google_ads"]["ad_user_data"], "denied");
    let back: Permissions = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}
