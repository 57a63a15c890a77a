use super::*;
use crate::settings::SettingProblem;

fn read(pairs: &[(&str, &str)]) -> Result<Settings, Vec<SettingProblem>> {
    Settings::from_lookup(&|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

fn google_connection() -> (Connection, String) {
    let c = Connection {
        provider: Some(Provider::Google),
        account_id: "1234567890".into(),
        account_name: "Shop".into(),
        login_id: Some("9998887776".into()),
        connected_as: "Shop".into(),
        kind: "OAUTH".into(),
        scopes: vec![],
        connected_at_ms: 1,
        expires_at_ms: None,
    };
    (c, "1//connected-refresh".into())
}

fn meta_connection() -> (Connection, String) {
    let c = Connection {
        provider: Some(Provider::Meta),
        account_id: "111222333".into(),
        account_name: "Shop pixel".into(),
        login_id: None,
        connected_as: "System user".into(),
        kind: "SYSTEM_USER".into(),
        scopes: vec![],
        connected_at_ms: 1,
        expires_at_ms: None,
    };
    (c, "EAAconnected".into())
}

const CLIENT: [(&str, &str); 2] = [
    ("GOOGLE_CLIENT_ID", "cid"),
    ("GOOGLE_CLIENT_SECRET", "csecret"),
];

#[test]
fn a_connected_google_account_turns_data_manager_on_with_its_accounts() {
    let s = read(&CLIENT).unwrap();
    assert!(!Platform::DataManager.enabled(&s));
    let s = s.with_connections(Some(google_connection()), None, vec![]);
    assert!(Platform::DataManager.enabled(&s));
    let dm = s.data_manager.as_ref().unwrap();
    assert_eq!(dm.operating_account_id, "1234567890");
    assert_eq!(dm.login_account_id.as_deref(), Some("9998887776"));
    assert_eq!(s.google_ads.as_ref().unwrap().customer_id, "1234567890");
    assert_eq!(s.credential(Provider::Google), Some("1//connected-refresh"));
    assert_eq!(s.credential_source(Provider::Google), Some(Source::Console));
}

#[test]
fn secrets_set_by_hand_win_over_a_connection() {
    let mut pairs = CLIENT.to_vec();
    pairs.extend([
        ("GOOGLE_REFRESH_TOKEN", "1//by-hand"),
        ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "5550001111"),
        ("GOOGLE_CONVERSION_ACTIONS", "purchase=1:webpage"),
        ("META_PIXEL_ID", "999"),
        ("META_ACCESS_TOKEN", "EAAby-hand"),
    ]);
    let s = read(&pairs).unwrap().with_connections(
        Some(google_connection()),
        Some(meta_connection()),
        vec![],
    );
    assert_eq!(s.credential(Provider::Google), Some("1//by-hand"));
    assert_eq!(
        s.data_manager.as_ref().unwrap().operating_account_id,
        "5550001111"
    );
    assert_eq!(s.credential(Provider::Meta), Some("EAAby-hand"));
    assert_eq!(s.meta.as_ref().unwrap().pixel_id, "999");
    assert_eq!(s.credential_source(Provider::Meta), Some(Source::Secret));
}

#[test]
fn a_connected_dataset_turns_meta_on() {
    let s = read(&[])
        .unwrap()
        .with_connections(None, Some(meta_connection()), vec![]);
    let meta = s.meta.as_ref().unwrap();
    assert_eq!(meta.pixel_id, "111222333");
    assert_eq!(meta.base_url, "https://graph.facebook.com");
    assert_eq!(s.credential_source(Provider::Meta), Some(Source::Console));
}

#[test]
fn a_refused_credential_pauses_its_platform_only() {
    let (c, token) = meta_connection();
    let refusal = Refusal {
        provider: Provider::Meta,
        fingerprint: fingerprint(&token),
        reason: "meta 190/460: session invalidated".into(),
        since_ms: 1,
    };
    let s = read(&CLIENT).unwrap().with_connections(
        Some(google_connection()),
        Some((c.clone(), token)),
        vec![refusal.clone()],
    );
    let why = s.paused(Platform::Meta, 10).unwrap();
    assert!(why.contains("Meta") && why.contains("190/460"), "{why}");
    assert_eq!(s.paused(Platform::DataManager, 10), None);
    assert_eq!(s.paused(Platform::Ga4, 10), None);
    // Reconnected: another token, so the refusal no longer applies.
    let s = read(&[])
        .unwrap()
        .with_connections(None, Some((c, "EAAnew".into())), vec![refusal]);
    assert_eq!(s.paused(Platform::Meta, 10), None);
}

#[test]
fn connecting_needs_its_apps_and_a_refresh_token_needs_its_client() {
    let s = read(&[
        ("META_APP_ID", "1"),
        ("META_APP_SECRET", "s"),
        ("META_LOGIN_CONFIG_ID", "77"),
    ])
    .unwrap();
    let app = s.connect.meta_app.as_ref().unwrap();
    assert_eq!(app.config_id.as_deref(), Some("77"));
    assert!(s.connect.google_app.is_none());
    assert!(!format!("{s:?}").contains("\"s\""));
    let problems = read(&[("GOOGLE_REFRESH_TOKEN", "1//x")]).unwrap_err();
    assert_eq!(problems[0].name, "GOOGLE_CLIENT_ID");
}
