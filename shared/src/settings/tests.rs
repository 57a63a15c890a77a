//! Tests for reading the worker's settings.

use super::*;
use std::collections::HashMap;

fn read(pairs: &[(&str, &str)]) -> Result<Settings, Vec<SettingProblem>> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(&|name| map.get(name).cloned())
}

#[test]
fn nothing_configured_means_every_platform_is_off_with_safe_defaults() {
    let s = read(&[]).unwrap();
    assert!(
        s.meta.is_none() && s.google_ads.is_none() && s.ga4.is_none() && s.data_manager.is_none()
    );
    assert_eq!(s.merge_window_ms, DEFAULT_MERGE_WINDOW_MS);
    assert_eq!(s.retention_days, DEFAULT_RETENTION_DAYS);
    assert!(s.hold_unverified);
    assert_eq!(s.default_country, "US");
}

#[test]
fn a_half_configured_platform_is_reported_by_name() {
    let problems = read(&[("META_PIXEL_ID", "123")]).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].name, "META_ACCESS_TOKEN");
    assert!(problems[0].problem.contains("missing"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let problems = read(&[
        ("ORIGIN_URL", "shop.example"),
        ("MERGE_WINDOW_MS", "two seconds"),
        ("CONSENT_REGIONS", "EEA,XX1"),
        ("DEFAULT_COUNTRY", "Germany"),
        ("EVENT_MAPPING", "{"),
    ])
    .unwrap_err();
    let names: Vec<_> = problems.iter().map(|p| p.name).collect();
    for n in [
        "ORIGIN_URL",
        "MERGE_WINDOW_MS",
        "CONSENT_REGIONS",
        "DEFAULT_COUNTRY",
        "EVENT_MAPPING",
    ] {
        assert!(names.contains(&n), "{n} missing from {problems:?}");
    }
}

#[test]
fn platforms_are_configured_from_vars_and_secrets() {
    let s = read(&[
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "tok"),
        ("META_BASE_URL", "http://127.0.0.1:8789/"),
        ("GA4_MEASUREMENT_ID", "G-ABC"),
        ("GA4_API_SECRET", "s"),
        ("GOOGLE_ADS_CUSTOMER_ID", "123-456-7890"),
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "cs"),
        ("GOOGLE_REFRESH_TOKEN", "r"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks, cart.added=1002:upload_clicks",
        ),
        ("GEO_OVERRIDE", "us-ca"),
    ])
    .unwrap();
    let meta = s.meta.unwrap();
    assert_eq!(meta.base_url, "http://127.0.0.1:8789");
    assert_eq!(meta.api_version, "v25.0");
    assert_eq!(s.conversion_actions.0.len(), 2);
    assert_eq!(s.geo_override, Some(("US".into(), Some("US-CA".into()))));
    assert!(s.google_oauth.is_some());
}

// google.md Addendum C, data-manager.md §1.2: the Ads account named for the old click uploads is the
// Data Manager operating account of its UPLOAD_CLICKS actions; an explicit Data Manager account wins.
#[test]
fn an_ads_customer_id_alone_configures_data_manager_for_upload_clicks_actions() {
    let base = [
        ("GOOGLE_ADS_CUSTOMER_ID", "123-456-7890"),
        ("GOOGLE_ADS_LOGIN_CUSTOMER_ID", "999-888-7777"),
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "cs"),
        ("GOOGLE_REFRESH_TOKEN", "r"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks",
        ),
    ];
    let dm = read(&base).unwrap().data_manager.unwrap();
    assert_eq!(dm.operating_account_id, "123-456-7890");
    assert_eq!(dm.login_account_id.as_deref(), Some("999-888-7777"));
    let mut explicit = base.to_vec();
    explicit.push(("DATA_MANAGER_OPERATING_ACCOUNT_ID", "5550001111"));
    let dm = read(&explicit).unwrap().data_manager.unwrap();
    assert_eq!(dm.operating_account_id, "5550001111");
}

#[test]
fn google_ads_without_oauth_or_actions_is_a_configuration_error() {
    let problems = read(&[("GOOGLE_ADS_CUSTOMER_ID", "1234567890")]).unwrap_err();
    let names: Vec<_> = problems.iter().map(|p| p.name).collect();
    assert!(names.contains(&"GOOGLE_CLIENT_ID") && names.contains(&"GOOGLE_CONVERSION_ACTIONS"));
}

#[test]
fn secrets_do_not_appear_in_debug_output() {
    let s = read(&[
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "very-secret"),
        ("GOOGLE_REFRESH_TOKEN", "refresh-secret"),
        ("AR_SERVER_SECRET", "server-secret-1"),
        ("ADMIN_TOKEN", "admin-secret-1"),
    ])
    .unwrap();
    let debug = format!("{s:?}");
    for secret in [
        "very-secret",
        "refresh-secret",
        "server-secret-1",
        "admin-secret-1",
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
}
