use super::*;

fn app() -> GoogleApp {
    GoogleApp {
        auth_url: GOOGLE_AUTH_URL.into(),
        token_url: "https://oauth2.googleapis.com/token".into(),
        client_id: "cid.apps.googleusercontent.com".into(),
        client_secret: "S3CRET".into(),
    }
}

fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').unwrap().1;
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> &'a str {
    q.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Google web-server flow: offline access for a refresh token, consent prompt so reconnecting
/// issues a new one, PKCE S256, state echoed; no secret in the URL.
#[test]
fn authorization_url_asks_for_offline_access_with_pkce_s256_and_the_state() {
    let url = authorization_url(
        &app(),
        "https://shop.example/_ar/admin/connect/google/callback",
        "st",
        "ch",
    );
    assert!(url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"));
    let q = query(&url);
    assert_eq!(param(&q, "response_type"), "code");
    assert_eq!(param(&q, "access_type"), "offline");
    assert_eq!(param(&q, "prompt"), "consent");
    assert_eq!(param(&q, "code_challenge"), "ch");
    assert_eq!(param(&q, "code_challenge_method"), "S256");
    assert_eq!(param(&q, "state"), "st");
    assert_eq!(
        param(&q, "redirect_uri"),
        "https://shop.example/_ar/admin/connect/google/callback"
    );
    assert!(param(&q, "scope").contains("https://www.googleapis.com/auth/datamanager"));
    assert!(param(&q, "scope").contains("https://www.googleapis.com/auth/adwords"));
    assert!(!url.contains("S3CRET"));
}

#[test]
fn code_exchange_carries_the_verifier_and_the_same_redirect_uri() {
    let req = code_exchange_request(&app(), "4/0Acode", "verifier-43", "https://shop.example/cb");
    assert_eq!(req.url, "https://oauth2.googleapis.com/token");
    let Body::Form(form) = &req.body else {
        panic!("form body")
    };
    let q: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(param(&q, "grant_type"), "authorization_code");
    assert_eq!(param(&q, "code"), "4/0Acode");
    assert_eq!(param(&q, "code_verifier"), "verifier-43");
    assert_eq!(param(&q, "redirect_uri"), "https://shop.example/cb");
    assert!(!format!("{req:?}").contains("S3CRET"));
}

#[test]
fn exchange_answer_gives_the_refresh_token_and_scopes() {
    let body = r#"{"access_token":"ya29.a","expires_in":3599,"refresh_token":"1//r","scope":"https://www.googleapis.com/auth/datamanager https://www.googleapis.com/auth/adwords","token_type":"Bearer"}"#;
    let g = parse_code_exchange(200, body).unwrap();
    assert_eq!(g.refresh_token, "1//r");
    assert_eq!(g.scopes.len(), 2);
    assert!(!format!("{g:?}").contains("1//r"));
}

#[test]
fn a_refused_code_names_googles_error_without_the_code() {
    let e = parse_code_exchange(
        400,
        r#"{"error":"invalid_grant","error_description":"Bad Request"}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Google refused the authorization code: invalid_grant: Bad Request"
    );
    assert!(matches!(
        parse_code_exchange(503, ""),
        Err(ConnectError::Unavailable { .. })
    ));
}

#[test]
fn a_grant_without_refresh_token_or_data_manager_scope_is_refused() {
    let no_refresh = r#"{"access_token":"a","expires_in":1,"scope":"https://www.googleapis.com/auth/datamanager"}"#;
    assert!(
        parse_code_exchange(200, no_refresh)
            .unwrap_err()
            .to_string()
            .contains("no refresh token")
    );
    let no_dm = r#"{"access_token":"a","refresh_token":"r","scope":"https://www.googleapis.com/auth/adwords"}"#;
    assert!(
        parse_code_exchange(200, no_dm)
            .unwrap_err()
            .to_string()
            .contains("Data Manager")
    );
}

#[test]
fn accessible_accounts_and_hierarchy_give_the_pickable_accounts_with_their_manager() {
    let ids = parse_accessible(
        200,
        r#"{"resourceNames":["customers/9998887776","customers/1112223334","bogus"]}"#,
    )
    .unwrap();
    assert_eq!(ids, ["1112223334", "9998887776"]);
    let manager = r#"{"results":[
        {"customerClient":{"clientCustomer":"customers/9998887776","id":"9998887776","descriptiveName":"Agency","manager":true,"level":"0"}},
        {"customerClient":{"clientCustomer":"customers/1234567890","id":"1234567890","descriptiveName":"Shop","manager":false,"level":"1"}},
        {"customerClient":{"clientCustomer":"customers/1112223334","id":"1112223334","descriptiveName":"Other","manager":false,"level":"1"}}]}"#;
    let direct = r#"{"results":[{"customerClient":{"clientCustomer":"customers/1112223334","id":"1112223334","descriptiveName":"Other","manager":false,"level":"0"}}]}"#;
    let all = merge_accounts([
        parse_clients("9998887776", 200, manager).unwrap(),
        parse_clients("1112223334", 200, direct).unwrap(),
    ]);
    assert_eq!(
        all,
        [
            AdsAccount {
                id: "1112223334".into(),
                name: "Other".into(),
                login_id: None
            },
            AdsAccount {
                id: "1234567890".into(),
                name: "Shop".into(),
                login_id: Some("9998887776".into())
            },
        ]
    );
}

#[test]
fn the_hierarchy_is_read_through_the_root_as_login_customer() {
    let api = AdsApi {
        base_url: "https://googleads.googleapis.com".into(),
        api_version: "v22".into(),
        developer_token: None,
    };
    let req = clients_request(&api, "ya29", "9998887776");
    assert_eq!(
        req.url,
        "https://googleads.googleapis.com/v22/customers/9998887776/googleAds:search"
    );
    assert_eq!(req.header("login-customer-id"), Some("9998887776"));
    assert_eq!(req.header("developer-token"), None);
    let e = parse_clients("1", 403, r#"{"error":{"code":403,"status":"PERMISSION_DENIED","message":"The caller does not have permission"}}"#).unwrap_err();
    assert!(e.to_string().contains("PERMISSION_DENIED"), "{e}");
}

#[test]
fn revocation_posts_the_token_to_googles_revoke_endpoint() {
    let req = revoke_request("https://oauth2.googleapis.com/token", "1//r");
    assert_eq!(req.url, "https://oauth2.googleapis.com/revoke");
}
