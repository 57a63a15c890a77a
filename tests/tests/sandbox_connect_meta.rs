//! "Connect Meta" against the fake login, over HTTP: the manual login flow (dialog → code →
//! short-lived token → long-lived token), the picker's Graph reads (`me`, `me/adaccounts` with
//! `adspixels`, a dataset), `debug_token` for user and system-user tokens, the Conversions API
//! accepting issued tokens, and code 190 once a token expired or was revoked. Rules and sources:
//! docs/platforms/oauth.md.

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ar_sandbox::Sandbox;
use common::connect::*;
use common::*;
use serde_json::{Value, json};

const APP: &str = "100200300400500";
const SECRET: &str = "sandbox-meta-app-secret";
const STATE: &str = "meta state/?&=";

fn graph(sb: &Sandbox, path: &str) -> String {
    format!("{}/v25.0/{path}", sb.platform_url)
}

fn dialog_url(sb: &Sandbox, extra: &[(&str, &str)]) -> String {
    let callback = meta_callback();
    let mut params = vec![
        ("client_id", APP),
        ("redirect_uri", callback.as_str()),
        ("state", STATE),
        ("response_type", "code"),
        ("config_id", "700800900100200"),
    ];
    for (k, v) in extra {
        params.retain(|(p, _)| p != k);
        params.push((k, v));
    }
    with_query(&graph(sb, "dialog/oauth"), &params)
}

/// Opens the dialog and presses `button`; returns the redirect's location.
async fn dialog(sb: &Sandbox, button: &str) -> String {
    let (status, _, html) = get_page(&dialog_url(sb, &[])).await;
    assert_eq!(status, 200, "{html}");
    let (action, fields) = form(&html, button);
    let (status, location) = submit(&sb.platform_url, &action, &fields).await;
    assert_eq!(status, 302, "{location}");
    location
}

async fn exchange_code(sb: &Sandbox, code: &str, redirect: &str, secret: &str) -> (u16, Value) {
    let params = [
        ("client_id", APP),
        ("redirect_uri", redirect),
        ("client_secret", secret),
        ("code", code),
    ];
    get_json_with(&with_query(&graph(sb, "oauth/access_token"), &params), &[]).await
}

async fn long_lived(sb: &Sandbox, short: &str) -> (u16, Value) {
    let params = [
        ("grant_type", "fb_exchange_token"),
        ("client_id", APP),
        ("client_secret", SECRET),
        ("fb_exchange_token", short),
    ];
    get_json_with(&with_query(&graph(sb, "oauth/access_token"), &params), &[]).await
}

/// Dialog → code → short-lived token; returns the token.
async fn login(sb: &Sandbox) -> String {
    let code = query_param(&dialog(sb, "allow-form").await, "code").unwrap();
    let (status, body) = exchange_code(sb, &code, &meta_callback(), SECRET).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn capi(sb: &Sandbox, pixel: &str, token: &str) -> (u16, Value) {
    let url = format!(
        "{}?access_token={token}",
        graph(sb, &format!("{pixel}/events"))
    );
    post_json(&url, &json!({ "data": [meta_event("connect-1")] }), &[]).await
}

fn graph_code(body: &Value) -> (i64, Option<i64>) {
    (
        body["error"]["code"].as_i64().unwrap_or(-1),
        body["error"]["error_subcode"].as_i64(),
    )
}

// manual-flow: dialog → `?code=…&state=…` → short-lived token; get-long-lived: fb_exchange_token
// → about 60 days; the picker reads me and me/adaccounts{adspixels}; CAPI takes the token for
// the account's dataset and refuses others (100/33).
#[tokio::test]
async fn the_login_flow_issues_a_long_lived_token_that_lists_datasets_and_sends_events() {
    let sb = sandbox().await;
    let (_, _, html) = get_page(&dialog_url(&sb, &[])).await;
    for text in [
        "Sandbox Facebook",
        "Continue as Sandbox User",
        "id=\"allow\"",
        "id=\"cancel\"",
        "ads_management",
    ] {
        assert!(html.contains(text), "{text} missing in {html}");
    }
    let location = dialog(&sb, "allow-form").await;
    assert!(
        location.starts_with(&format!("{}?", meta_callback())) && location.ends_with("#_=_"),
        "{location}"
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some(STATE));
    let code = query_param(&location, "code").unwrap();
    let (status, short) = exchange_code(&sb, &code, &meta_callback(), SECRET).await;
    assert_eq!(status, 200, "{short}");
    assert_eq!(
        (short["token_type"].as_str(), short["expires_in"].as_i64()),
        (Some("bearer"), Some(3_600))
    );
    let (status, long) = long_lived(&sb, short["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{long}");
    assert_eq!(long["expires_in"], 5_184_000);
    let token = long["access_token"].as_str().unwrap();

    let me = with_query(
        &graph(&sb, "me"),
        &[("fields", "id,name"), ("access_token", token)],
    );
    let (status, body) = get_json_with(&me, &[]).await;
    assert_eq!(
        (status, &body["name"]),
        (200, &json!("Sandbox User")),
        "{body}"
    );
    let accounts = with_query(
        &graph(&sb, "me/adaccounts"),
        &[("fields", "id,name,adspixels{id,name}")],
    );
    let bearer = format!("Bearer {token}");
    let (status, body) = get_json_with(&accounts, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["id"], "act_1122334455");
    assert_eq!(
        body["data"][0]["adspixels"]["data"][0],
        json!({"id": "123456789", "name": "Sandbox Shop pixel"})
    );
    assert_eq!(body["data"][1]["adspixels"]["data"][0]["id"], "987654321");
    assert!(body["paging"]["cursors"].is_object());

    let dataset = with_query(
        &graph(&sb, "123456789"),
        &[("fields", "id,name"), ("access_token", token)],
    );
    assert_eq!(
        get_json_with(&dataset, &[]).await,
        (
            200,
            json!({"id": "123456789", "name": "Sandbox Shop pixel"})
        )
    );
    let foreign = with_query(
        &graph(&sb, "1234567890123"),
        &[("fields", "id,name"), ("access_token", token)],
    );
    let (status, body) = get_json_with(&foreign, &[]).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, (100, Some(33))),
        "{body}"
    );

    let (status, body) = capi(&sb, "123456789", token).await;
    assert_eq!(
        (status, &body["events_received"]),
        (200, &json!(1)),
        "{body}"
    );
    let (status, body) = capi(&sb, "1234567890123", token).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, (100, Some(33))),
        "{body}"
    );
    assert_eq!(
        capi(&sb, "1234567890123", "sandbox-meta-token").await.0,
        200,
        "the configured token is not held to the list"
    );
}

// "This authorization code has been used." (100/36009); "Invalid verification code format."
// (100) for a code never issued.
#[tokio::test]
async fn a_meta_code_is_one_time() {
    let sb = sandbox().await;
    let code = query_param(&dialog(&sb, "allow-form").await, "code").unwrap();
    assert_eq!(
        exchange_code(&sb, &code, &meta_callback(), SECRET).await.0,
        200
    );
    let (status, body) = exchange_code(&sb, &code, &meta_callback(), SECRET).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, (100, Some(36_009))),
        "{body}"
    );
    assert_eq!(
        body["error"]["message"],
        "This authorization code has been used."
    );
    let (_, body) = exchange_code(&sb, "AQnever", &meta_callback(), SECRET).await;
    assert_eq!(
        body["error"]["message"],
        "Invalid verification code format."
    );
}

// 100/36008: the exchange must repeat the dialog's redirect_uri; a wrong secret is code 1
// "Error validating client secret."; neither spends the code.
#[tokio::test]
async fn the_exchange_needs_the_dialogs_redirect_uri_and_the_app_secret() {
    let sb = sandbox().await;
    let code = query_param(&dialog(&sb, "allow-form").await, "code").unwrap();
    let other = "http://127.0.0.1:9/_ar/admin/connect/meta/callback";
    let (status, body) = exchange_code(&sb, &code, other, SECRET).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, (100, Some(36_008))),
        "{body}"
    );
    let (_, body) = exchange_code(&sb, &code, &meta_callback(), "wrong").await;
    assert_eq!(
        (graph_code(&body), body["error"]["message"].as_str()),
        ((1, None), Some("Error validating client secret."))
    );
    assert_eq!(
        exchange_code(&sb, &code, &meta_callback(), SECRET).await.0,
        200
    );
}

// An unknown app ("Invalid App ID") or an unregistered redirect URI ("URL Blocked") is an error
// page, never a redirect.
#[tokio::test]
async fn the_dialog_refuses_unknown_apps_and_unregistered_redirects_without_redirecting() {
    let sb = sandbox().await;
    for (extra, text) in [
        (("client_id", "999"), "Invalid App ID"),
        (
            (
                "redirect_uri",
                "https://evil.example/_ar/admin/connect/meta/callback",
            ),
            "URL Blocked",
        ),
    ] {
        let (status, location, html) = get_page(&dialog_url(&sb, &[extra])).await;
        assert_eq!((status, location.as_str()), (400, ""), "{extra:?}");
        assert!(
            html.contains(text) && !html.contains("id=\"allow\""),
            "{html}"
        );
    }
}

// manual-flow "Canceled login": error=access_denied, error_code=200, error_description=
// Permissions error, error_reason=user_denied, with the state.
#[tokio::test]
async fn cancel_redirects_with_user_denied() {
    let sb = sandbox().await;
    let location = dialog(&sb, "cancel-form").await;
    assert!(location.contains("error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied"), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some(STATE));
}

// access-tokens/debugging: type USER with an expiry, SYSTEM_USER with expires_at 0 (never);
// an unknown token is is_valid false.
#[tokio::test]
async fn debug_token_tells_user_tokens_from_system_user_tokens() {
    let sb = sandbox().await;
    let user = login(&sb).await;
    let debug = |input: &str| {
        with_query(
            &graph(&sb, "debug_token"),
            &[
                ("input_token", input),
                ("access_token", "100200300400500|sandbox-meta-app-secret"),
            ],
        )
    };
    let (status, body) = get_json_with(&debug(&user), &[]).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(
        (
            data["type"].as_str(),
            data["app_id"].as_str(),
            data["is_valid"].as_bool()
        ),
        (Some("USER"), Some(APP), Some(true))
    );
    assert!(data["expires_at"].as_i64().unwrap() > now_s());
    assert!(
        data["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("ads_management"))
    );
    let (_, body) = get_json_with(&debug("sandbox-system-user-token"), &[]).await;
    assert_eq!(
        (
            body["data"]["type"].as_str(),
            body["data"]["expires_at"].as_i64()
        ),
        (Some("SYSTEM_USER"), Some(0))
    );
    let (_, body) = get_json_with(&debug("EAAnever"), &[]).await;
    assert_eq!(body["data"]["is_valid"], false);
    let system_me = with_query(
        &graph(&sb, "me/adaccounts"),
        &[("access_token", "sandbox-system-user-token")],
    );
    assert_eq!(
        get_json_with(&system_me, &[]).await.1["data"][0]["id"],
        "act_1122334455"
    );
}

// 190/463 "Error validating access token: Session has expired on …" once a short-lived token's
// hour is over, in CAPI and Graph reads alike; an expired token cannot be extended.
#[tokio::test]
async fn an_expired_user_token_answers_190_463() {
    let sb = sandbox().await;
    let short = login(&sb).await;
    sb.state.clock.advance_ms(2 * 3_600_000);
    let (status, body) = capi(&sb, "123456789", &short).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, (190, Some(463))),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Error validating access token: Session has expired on ")
    );
    assert_eq!(
        graph_code(&long_lived(&sb, &short).await.1),
        (190, Some(463))
    );
}

// "The merchant removed access": every Meta token answers 190/458 "…has not authorized
// application …" (460 for a password change); debug_token shows it invalid.
#[tokio::test]
async fn revoking_meta_answers_190_458_everywhere() {
    let sb = sandbox().await;
    let (_, long) = long_lived(&sb, &login(&sb).await).await;
    let token = long["access_token"].as_str().unwrap();
    let url = format!("{}/_sandbox/oauth/revoke", sb.platform_url);
    assert_eq!(
        post_json(&url, &json!({"platform": "meta"}), &[]).await.0,
        200
    );
    let (status, body) = capi(&sb, "123456789", token).await;
    assert_eq!(
        (status, graph_code(&body)),
        (400, (190, Some(458))),
        "{body}"
    );
    assert_eq!(
        body["error"]["message"],
        format!("Error validating access token: The user has not authorized application {APP}.")
    );
    assert_eq!(
        graph_code(&capi(&sb, "123", "sandbox-meta-token").await.1),
        (190, Some(458))
    );
    let me = with_query(
        &graph(&sb, "me"),
        &[("access_token", "sandbox-system-user-token")],
    );
    assert_eq!(
        graph_code(&get_json_with(&me, &[]).await.1),
        (190, Some(458))
    );
    let debug = with_query(
        &graph(&sb, "debug_token"),
        &[
            ("input_token", token),
            ("access_token", "100200300400500|sandbox-meta-app-secret"),
        ],
    );
    let (_, body) = get_json_with(&debug, &[]).await;
    assert_eq!(
        (
            body["data"]["is_valid"].as_bool(),
            body["data"]["error"]["subcode"].as_i64()
        ),
        (Some(false), Some(458))
    );
    let summary = get_json(&format!("{}/_sandbox/oauth", sb.platform_url)).await;
    assert_eq!(summary["meta"]["configured_tokens_revoked"], true);

    let sb = sandbox().await;
    post_json(
        &format!("{}/_sandbox/oauth/revoke", sb.platform_url),
        &json!({"platform": "meta", "reason": "password_changed"}),
        &[],
    )
    .await;
    assert_eq!(
        graph_code(&capi(&sb, "123", "sandbox-meta-token").await.1),
        (190, Some(460))
    );
}

// The request log never holds a Meta credential.
#[tokio::test]
async fn the_request_log_holds_no_meta_credentials() {
    let sb = sandbox().await;
    let code = query_param(&dialog(&sb, "allow-form").await, "code").unwrap();
    let (_, short) = exchange_code(&sb, &code, &meta_callback(), SECRET).await;
    let short = short["access_token"].as_str().unwrap().to_owned();
    let (_, long) = long_lived(&sb, &short).await;
    let long = long["access_token"].as_str().unwrap().to_owned();
    capi(&sb, "123456789", &long).await;
    let debug = with_query(
        &graph(&sb, "debug_token"),
        &[("input_token", &long), ("access_token", &short)],
    );
    get_json_with(&debug, &[]).await;
    let recorded = get_json(&format!("{}/_sandbox/requests", sb.platform_url))
        .await
        .to_string();
    for secret in [code.as_str(), SECRET, short.as_str(), long.as_str()] {
        assert!(!recorded.contains(secret), "{secret} is in the log");
    }
}
