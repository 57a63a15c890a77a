//! "Connect Google" against the fake authorization server, over HTTP: the consent page, the
//! authorization-code exchange with PKCE, refreshes with the issued refresh token, revocation,
//! and the account picker's calls (`customers:listAccessibleCustomers`, `customer_client`
//! through the manager). Rules and sources: docs/platforms/oauth.md.

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ar_sandbox::Sandbox;
use common::connect::*;
use common::*;
use serde_json::{Value, json};

const ADWORDS: &str = "https://www.googleapis.com/auth/adwords";
const DATAMANAGER: &str = "https://www.googleapis.com/auth/datamanager";
const STATE: &str = "st8 /?&=+é";

/// Parameters replacing (or, empty, removing) the defaults of [`consent_url`].
type Extra<'a> = &'a [(&'a str, &'a str)];

fn consent_url(sb: &Sandbox, extra: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce("google");
    let callback = google_callback();
    let scope = format!("{ADWORDS} {DATAMANAGER}");
    let mut params = vec![
        ("client_id", "sandbox-client-id"),
        ("redirect_uri", callback.as_str()),
        ("response_type", "code"),
        ("scope", scope.as_str()),
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("state", STATE),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(p, _)| p != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    with_query(&format!("{}/o/oauth2/v2/auth", sb.platform_url), &params)
}

/// Opens the consent page and presses `button` (`allow-form` / `cancel-form`); returns the
/// redirect's location.
async fn consent(sb: &Sandbox, extra: &[(&str, &str)], button: &str) -> String {
    let (status, _, html) = get_page(&consent_url(sb, extra)).await;
    assert_eq!(status, 200, "{html}");
    let (action, fields) = form(&html, button);
    let (status, location) = submit(&sb.platform_url, &action, &fields).await;
    assert_eq!(status, 302, "{location}");
    location
}

async fn token(sb: &Sandbox, form: &[(&str, &str)]) -> (u16, Value) {
    let res = http()
        .post(format!("{}/token", sb.platform_url))
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn exchange(sb: &Sandbox, code: &str, verifier: &str, redirect: &str) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", "sandbox-client-id"),
        ("client_secret", "sandbox-client-secret"),
        ("redirect_uri", redirect),
    ];
    if !verifier.is_empty() {
        form.push(("code_verifier", verifier));
    }
    token(sb, &form).await
}

async fn refresh(sb: &Sandbox, refresh_token: &str) -> (u16, Value) {
    token(
        sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "sandbox-client-id"),
            ("client_secret", "sandbox-client-secret"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Runs the whole consent + exchange; returns the token answer.
async fn connect(sb: &Sandbox) -> Value {
    let location = consent(sb, &[], "allow-form").await;
    let code = query_param(&location, "code").unwrap();
    let (status, body) = exchange(sb, &code, &pkce("google").0, &google_callback()).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn accessible(sb: &Sandbox, access: &str) -> (u16, Value) {
    let auth = format!("Bearer {access}");
    let url = format!("{}/v22/customers:listAccessibleCustomers", sb.platform_url);
    get_json_with(
        &url,
        &[
            ("authorization", &auth),
            ("developer-token", "sandbox-developer-token"),
        ],
    )
    .await
}

async fn search(
    sb: &Sandbox,
    access: &str,
    customer: &str,
    login: Option<&str>,
    query: &str,
) -> (u16, Value) {
    let auth = format!("Bearer {access}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("developer-token", "sandbox-developer-token"),
    ];
    headers.extend(login.map(|l| ("login-customer-id", l)));
    let url = format!(
        "{}/v22/customers/{customer}/googleAds:search",
        sb.platform_url
    );
    post_json(&url, &json!({ "query": query }), &headers).await
}

const HIERARCHY: &str = "SELECT customer_client.client_customer, customer_client.id, customer_client.descriptive_name, \
     customer_client.manager, customer_client.level FROM customer_client WHERE customer_client.level <= 1";

// web-server guide steps 2–5: consent → code (state echoed exactly) → tokens → refresh; the
// picker then lists the directly accessible accounts and walks the manager's clients
// (ListAccessibleCustomers; customer_client; login-customer-id, reference/google.md §1.1).
#[tokio::test]
async fn the_code_flow_with_pkce_connects_and_lists_accounts_through_the_manager() {
    let sb = sandbox().await;
    let (_, _, html) = get_page(&consent_url(&sb, &[])).await;
    for text in [
        "Sandbox Google account",
        "id=\"allow\"",
        "id=\"cancel\"",
        ADWORDS,
        DATAMANAGER,
    ] {
        assert!(html.contains(text), "{text} missing in {html}");
    }
    assert!(!html.contains("<script"), "plain HTML forms only");
    let location = consent(&sb, &[], "allow-form").await;
    assert!(
        location.starts_with(&format!("{}?", google_callback())),
        "{location}"
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some(STATE));
    assert_eq!(
        query_param(&location, "scope").unwrap(),
        format!("{ADWORDS} {DATAMANAGER}")
    );
    let code = query_param(&location, "code").unwrap();
    let (status, body) = exchange(&sb, &code, &pkce("google").0, &google_callback()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_i64()),
        (Some("Bearer"), Some(3599))
    );
    assert!(body["access_token"].as_str().unwrap().starts_with("ya29."));
    let issued = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, refreshed) = refresh(&sb, &issued).await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(
        refreshed.get("refresh_token").is_none(),
        "a refresh answers no new refresh token"
    );
    let access = refreshed["access_token"].as_str().unwrap();

    let (status, list) = accessible(&sb, access).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list["resourceNames"],
        json!(["customers/9998887776", "customers/5556667778"])
    );
    let (status, rows) = search(&sb, access, "9998887776", Some("9998887776"), HIERARCHY).await;
    assert_eq!(status, 200, "{rows}");
    let clients: Vec<(String, String)> = rows["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["customerClient"]["id"].as_str().unwrap().into(),
                r["customerClient"]["level"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        clients.contains(&("9998887776".into(), "0".into())),
        "{rows}"
    );
    assert!(
        clients.contains(&("1234567890".into(), "1".into())),
        "{rows}"
    );
    assert!(
        !clients.iter().any(|(id, _)| id == "4445556667"),
        "level 2 is filtered out: {rows}"
    );
    let shop = rows["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["customerClient"]["id"] == "1234567890")
        .unwrap();
    assert_eq!(shop["customerClient"]["descriptiveName"], "Sandbox Shop");
    assert_eq!(
        shop["customerClient"]["clientCustomer"],
        "customers/1234567890"
    );
    assert_eq!(
        shop["customerClient"]["resourceName"],
        "customers/9998887776/customerClients/1234567890"
    );
    assert_eq!(shop["customerClient"]["manager"], false);

    // The client account through its manager works; without the header it is refused.
    let actions = "SELECT conversion_action.id FROM conversion_action";
    let (status, body) = search(&sb, access, "1234567890", Some("9998887776"), actions).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = search(&sb, access, "1234567890", None, actions).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(ads_error_codes(&body["error"]), ["USER_PERMISSION_DENIED"]);
    let (status, body) = search(&sb, access, "1234567890", Some("5556667778"), actions).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        ads_error_codes(&body["error"]),
        ["INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION"]
    );
}

// RFC 6749 §4.1.2 / Google: a code is used once ("invalid_grant", "Bad Request") and lives 10
// minutes; a code the server never issued is "Malformed auth code.".
#[tokio::test]
async fn a_code_is_one_time_expires_after_ten_minutes_and_must_be_genuine() {
    let sb = sandbox().await;
    let verifier = pkce("google").0;
    let code = query_param(&consent(&sb, &[], "allow-form").await, "code").unwrap();
    assert_eq!(
        exchange(&sb, &code, &verifier, &google_callback()).await.0,
        200
    );
    let (status, body) = exchange(&sb, &code, &verifier, &google_callback()).await;
    assert_eq!(
        (status, &body),
        (
            400,
            &json!({"error": "invalid_grant", "error_description": "Bad Request"})
        )
    );

    let late = query_param(&consent(&sb, &[], "allow-form").await, "code").unwrap();
    sb.state.clock.advance_ms(10 * 60_000 + 1_000);
    let (status, body) = exchange(&sb, &late, &verifier, &google_callback()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Bad Request"))
    );

    let (status, body) = exchange(&sb, "4/0made-up", &verifier, &google_callback()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Malformed auth code."))
    );
}

// RFC 7636 §4.6 with Google's wording: "Missing code verifier." / "Invalid code verifier."; a
// refused verifier does not spend the code.
#[tokio::test]
async fn a_pkce_code_needs_its_verifier() {
    let sb = sandbox().await;
    let code = query_param(&consent(&sb, &[], "allow-form").await, "code").unwrap();
    let (status, body) = exchange(&sb, &code, "", &google_callback()).await;
    assert_eq!(
        (
            status,
            body["error"].as_str(),
            body["error_description"].as_str()
        ),
        (400, Some("invalid_grant"), Some("Missing code verifier."))
    );
    let (status, body) = exchange(&sb, &code, &pkce("other").0, &google_callback()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid code verifier."))
    );
    assert_eq!(
        exchange(&sb, &code, &pkce("google").0, &google_callback())
            .await
            .0,
        200
    );
}

// Google: the exchange repeats the authorization request's redirect_uri
// ("redirect_uri_mismatch", "Bad Request").
#[tokio::test]
async fn the_exchange_must_repeat_the_redirect_uri() {
    let sb = sandbox().await;
    let code = query_param(&consent(&sb, &[], "allow-form").await, "code").unwrap();
    let other = "http://127.0.0.1:9999/_ar/admin/connect/google/callback";
    let (status, body) = exchange(&sb, &code, &pkce("google").0, other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("redirect_uri_mismatch"))
    );
}

// Google's authorization errors are pages, never redirects: "Error 401: invalid_client", "Error
// 400: redirect_uri_mismatch", "Error 400: invalid_request" (missing response_type or scope, a bad
// code_challenge_method).
#[tokio::test]
async fn invalid_authorization_requests_get_an_error_page_and_no_redirect() {
    let sb = sandbox().await;
    let cases: [(Extra, u16, &str); 5] = [
        (
            &[("client_id", "stranger")],
            401,
            "Error 401: invalid_client",
        ),
        (
            &[(
                "redirect_uri",
                "https://evil.example/_ar/admin/connect/google/callback",
            )],
            400,
            "Error 400: redirect_uri_mismatch",
        ),
        (&[("response_type", "")], 400, "Error 400: invalid_request"),
        (
            &[("code_challenge_method", "S512")],
            400,
            "Error 400: invalid_request",
        ),
        (&[("scope", "")], 400, "Error 400: invalid_request"),
    ];
    for (extra, status, heading) in cases {
        let (got, location, html) = get_page(&consent_url(&sb, extra)).await;
        assert_eq!((got, location.as_str()), (status, ""), "{extra:?}");
        assert!(
            html.contains(heading),
            "{heading} missing for {extra:?}: {html}"
        );
        assert!(!html.contains("id=\"allow\""));
    }
}

// OAuth 2 §4.1.2.1: a refusal comes back as error=access_denied with the state.
#[tokio::test]
async fn cancel_redirects_with_access_denied_and_the_state() {
    let sb = sandbox().await;
    let location = consent(&sb, &[], "cancel-form").await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some(STATE));
    assert_eq!(query_param(&location, "code"), None);
}

// A registered list replaces the loopback rule (exact match).
#[tokio::test]
async fn registered_redirect_uris_replace_the_loopback_rule() {
    let sb = sandbox_with(|c| {
        c.google_redirect_uris =
            vec!["https://shop.example/_ar/admin/connect/google/callback".into()];
    })
    .await;
    assert_eq!(get_page(&consent_url(&sb, &[])).await.0, 400);
    let ok = consent_url(
        &sb,
        &[(
            "redirect_uri",
            "https://shop.example/_ar/admin/connect/google/callback",
        )],
    );
    assert_eq!(get_page(&ok).await.0, 200);
}

// "Token has been expired or revoked." once the merchant removes access: issued and configured
// refresh tokens alike; access tokens answer 401 like invalid ones. Reset restores the
// configured one.
#[tokio::test]
async fn revoking_google_refuses_refreshes_and_bearer_calls() {
    let sb = sandbox().await;
    let tokens = connect(&sb).await;
    let access = tokens["access_token"].as_str().unwrap();
    let url = format!("{}/_sandbox/oauth/revoke", sb.platform_url);
    let (status, body) = post_json(&url, &json!({"platform": "google"}), &[]).await;
    assert_eq!(status, 200, "{body}");
    let revoked = json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."});
    assert_eq!(
        refresh(&sb, tokens["refresh_token"].as_str().unwrap()).await,
        (400, revoked.clone())
    );
    assert_eq!(refresh(&sb, "sandbox-refresh-token").await, (400, revoked));
    let (status, body) = accessible(&sb, access).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(ads_error_codes(&body["error"]), ["OAUTH_TOKEN_INVALID"]);
    let summary = get_json(&format!("{}/_sandbox/oauth", sb.platform_url)).await;
    assert_eq!(summary["google"]["codes_redeemed"], 1);
    assert_eq!(summary["google"]["configured_refresh_token_revoked"], true);
    assert!(
        !summary.to_string().contains("ya29."),
        "no token values: {summary}"
    );
    post_json(
        &format!("{}/_sandbox/reset", sb.platform_url),
        &json!({}),
        &[],
    )
    .await;
    assert_eq!(refresh(&sb, "sandbox-refresh-token").await.0, 200);
}

// Google's revocation endpoint: revoking a refresh token revokes its access tokens; a second
// revocation is "invalid_token" "Token expired or revoked".
#[tokio::test]
async fn the_revoke_endpoint_revokes_a_refresh_token_and_its_access_tokens() {
    let sb = sandbox().await;
    let tokens = connect(&sb).await;
    let url = format!(
        "{}/revoke?token={}",
        sb.platform_url,
        tokens["refresh_token"].as_str().unwrap()
    );
    let res = http()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        accessible(&sb, tokens["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    let res = http().post(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_token");
    assert_eq!(
        refresh(&sb, "sandbox-refresh-token").await.0,
        200,
        "others are untouched"
    );
}

// web-server guide: a refresh token needs access_type=offline, and comes again only with
// prompt=consent.
#[tokio::test]
async fn a_refresh_token_needs_offline_access_and_comes_once_without_prompt_consent() {
    let sb = sandbox().await;
    let verifier = pkce("google").0;
    let online = query_param(
        &consent(&sb, &[("access_type", "")], "allow-form").await,
        "code",
    )
    .unwrap();
    let (_, body) = exchange(&sb, &online, &verifier, &google_callback()).await;
    assert!(
        body.get("refresh_token").is_none() && body["access_token"].is_string(),
        "{body}"
    );
    connect(&sb).await;
    let again = query_param(&consent(&sb, &[("prompt", "")], "allow-form").await, "code").unwrap();
    let (_, body) = exchange(&sb, &again, &verifier, &google_callback()).await;
    assert!(body.get("refresh_token").is_none(), "{body}");
}

// Granular consent: an unticked scope is not granted, and Google Ads then answers 403
// ACCESS_TOKEN_SCOPE_INSUFFICIENT.
#[tokio::test]
async fn an_unticked_scope_is_not_granted() {
    let sb = sandbox().await;
    let (_, _, html) = get_page(&consent_url(&sb, &[])).await;
    let (action, mut fields) = form(&html, "allow-form");
    fields.retain(|(k, v)| !(k == "granted_scope" && v == ADWORDS));
    let (_, location) = submit(&sb.platform_url, &action, &fields).await;
    assert_eq!(
        query_param(&location, "scope").as_deref(),
        Some(DATAMANAGER)
    );
    let code = query_param(&location, "code").unwrap();
    let (_, body) = exchange(&sb, &code, &pkce("google").0, &google_callback()).await;
    let (status, body) = accessible(&sb, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );
}

// The request log never holds a credential: codes, verifiers, secrets and tokens are redacted.
#[tokio::test]
async fn the_request_log_holds_no_google_credentials() {
    let sb = sandbox().await;
    let location = consent(&sb, &[], "allow-form").await;
    let code = query_param(&location, "code").unwrap();
    let (_, tokens) = exchange(&sb, &code, &pkce("google").0, &google_callback()).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (_, refreshed) = refresh(&sb, refresh_token).await;
    accessible(&sb, refreshed["access_token"].as_str().unwrap()).await;
    let log = get_json(&format!("{}/_sandbox/requests", sb.platform_url))
        .await
        .to_string();
    for secret in [
        code.as_str(),
        &pkce("google").0,
        "sandbox-client-secret",
        refresh_token,
        tokens["access_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
    assert!(
        log.contains("\"endpoint\":\"auth\""),
        "the consent page is recorded"
    );
}
