use super::*;

fn app(config_id: Option<&str>) -> MetaApp {
    MetaApp {
        dialog_url: META_DIALOG_URL.into(),
        graph_url: "https://graph.facebook.com".into(),
        api_version: "v25.0".into(),
        app_id: "1234".into(),
        app_secret: "APPSECRET".into(),
        config_id: config_id.map(str::to_owned),
    }
}

/// Facebook Login for Business: `config_id` instead of `scope`; the state is echoed back.
#[test]
fn login_url_uses_the_business_configuration_when_set() {
    let url = login_url(&app(Some("777")), "https://shop.example/cb", "st");
    assert!(
        url.starts_with("https://www.facebook.com/v25.0/dialog/oauth?"),
        "{url}"
    );
    assert!(
        url.contains("config_id=777") && !url.contains("scope="),
        "{url}"
    );
    assert!(url.contains("state=st"));
    assert!(
        login_url(&app(None), "https://shop.example/cb", "st")
            .contains("scope=ads_management%2Cbusiness_management")
    );
    assert!(!url.contains("APPSECRET"));
}

#[test]
fn token_answers_give_the_expiry_and_refusals_the_graph_error() {
    let t = parse_token(
        200,
        r#"{"access_token":"EAAB","token_type":"bearer","expires_in":5183944}"#,
        1_000,
    )
    .unwrap();
    assert_eq!(t.expires_at_ms, Some(1_000 + 5_183_944_000));
    assert!(!format!("{t:?}").contains("EAAB"));
    let used = r#"{"error":{"message":"This authorization code has been used.","type":"OAuthException","code":100,"error_subcode":36009,"fbtrace_id":"x"}}"#;
    assert_eq!(
        parse_token(400, used, 0).unwrap_err().to_string(),
        "Meta refused the login code: 100/36009: This authorization code has been used."
    );
}

#[test]
fn debug_token_tells_a_system_user_token_that_never_expires() {
    let body = r#"{"data":{"app_id":"1234","type":"SYSTEM_USER","application":"Shop","is_valid":true,"expires_at":0,"scopes":["ads_management"],"user_id":"9"}}"#;
    let info = parse_debug(200, body).unwrap();
    assert_eq!(info.kind, "SYSTEM_USER");
    assert_eq!(info.expires_at_ms, None);
    let user = r#"{"data":{"type":"USER","is_valid":true,"expires_at":1800000000,"scopes":[]}}"#;
    assert_eq!(
        parse_debug(200, user).unwrap().expires_at_ms,
        Some(1_800_000_000_000)
    );
    let invalid =
        r#"{"data":{"is_valid":false,"error":{"code":190,"message":"Session has expired"}}}"#;
    assert!(
        parse_debug(200, invalid)
            .unwrap_err()
            .to_string()
            .contains("Session has expired")
    );
    let req = debug_request(&app(None), "EAAB");
    assert!(req.url.contains("access_token=1234%7CAPPSECRET"));
}

#[test]
fn datasets_are_listed_once_across_ad_accounts() {
    let body = r#"{"data":[
        {"id":"act_1","name":"Shop ads","adspixels":{"data":[{"id":"111222333","name":"Shop pixel"}]}},
        {"id":"act_2","name":"Brand","adspixels":{"data":[{"id":"111222333","name":"Shop pixel"},{"id":"444555666","name":"Another"},{"id":"x"}]}},
        {"id":"act_3","name":"Empty"}]}"#;
    let d = parse_datasets(200, body).unwrap();
    assert_eq!(
        d.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["444555666", "111222333"]
    );
    assert_eq!(d[1].ad_account, "Shop ads");
}

#[test]
fn a_dataset_the_token_cannot_read_is_refused_with_metas_reason() {
    let body = r#"{"error":{"message":"Unsupported get request. Object with ID '1' does not exist","type":"GraphMethodException","code":100,"error_subcode":33}}"#;
    let e = parse_dataset_check(400, body).unwrap_err();
    assert!(e.to_string().contains("100/33"), "{e}");
    let graph = Graph {
        base_url: "https://graph.facebook.com".into(),
        api_version: "v25.0".into(),
    };
    assert!(
        dataset_check_request(&graph, "EAAB", "111222333")
            .url
            .starts_with(
                "https://graph.facebook.com/v25.0/111222333?fields=id%2Cname&access_token="
            )
    );
}
