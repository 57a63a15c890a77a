//! Meta's fake manual login flow
//! (developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
//!
//! - `GET /{version}/dialog/oauth?client_id&redirect_uri&state&response_type=code&config_id=…`
//!   (Facebook Login for Business) or `&scope=…` → "Sandbox Facebook — continue as Sandbox User"
//!   with Continue (`id=allow`) and Cancel (`id=cancel`) forms posting back to the same path.
//!   Continue → `302 redirect_uri?code=…&state=…#_=_`; Cancel → `redirect_uri?error=access_denied
//!   &error_code=200&error_description=Permissions+error&error_reason=user_denied&state=…#_=_`
//!   (Facebook appends `#_=_` to its login redirects; oauth.md §5.1, §5.2). An unknown app or an
//!   unregistered redirect URI gets an error page and no redirect.
//! - `GET /{version}/oauth/access_token?client_id&redirect_uri&client_secret&code` → a short-lived
//!   user token `{access_token, token_type:"bearer", expires_in}`;
//!   `grant_type=fb_exchange_token&fb_exchange_token=…` → a long-lived one (about 60 days);
//!   `grant_type=client_credentials` → the app token `{app_id}|{app_secret}`.
//!
//! Errors are Graph errors (oauth.md §6.1, §6.2): 101 "Error validating
//! application. Invalid application ID.", 1 "Error validating client secret.", 100 "Invalid
//! verification code format.", 100/36009 "This authorization code has been used.", 100/36008
//! "Error validating verification code. Please make sure your `redirect_uri` is identical to the
//! one you used in the OAuth dialog request".

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::login_page::{
    error_page, hidden_fields, page, redirect, registered_redirect, request_params, with_params,
};
use super::meta::GraphError;
use super::meta_grants::{
    CODE_TTL_MS, LONG_LIVED_S, MetaCode, SHORT_LIVED_S, TokenCheck, TokenKind,
};
use super::meta_tokens::{lookup, token_error};
use super::{Outcome, PlatformRequest};
use crate::config::META_CALLBACK_PATH;
use crate::html::escape;
use crate::record::Verdict;
use crate::state::{AppState, lock};

const DIALOG: &str = "dialog/oauth";
const TOKEN: &str = "oauth/access_token";
const USER: &str = "Sandbox User";

type Params = [(String, String)];

fn get<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn dialog_error(message: &str) -> Outcome {
    let mut o = error_page(
        DIALOG,
        StatusCode::BAD_REQUEST,
        "Facebook",
        "Error",
        message,
        &[],
    );
    o.error_codes = vec!["dialog".into()];
    o
}

/// A checked dialog request: redirect URI, state, permissions.
struct Dialog {
    redirect_uri: String,
    state: Option<String>,
    scopes: Vec<String>,
}

fn check_dialog(state: &AppState, params: &Params) -> Result<Dialog, Box<Outcome>> {
    let config = &state.config;
    if get(params, "client_id") != Some(config.meta_app_id.as_str()) {
        return Err(Box::new(dialog_error(
            "Invalid App ID: The provided app ID does not look like a valid app ID.",
        )));
    }
    let redirect_uri = get(params, "redirect_uri").unwrap_or_default();
    if !registered_redirect(&config.meta_redirect_uris, redirect_uri, META_CALLBACK_PATH) {
        return Err(Box::new(dialog_error(
            "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth Redirect URIs.",
        )));
    }
    if get(params, "response_type").is_some_and(|t| t != "code") {
        return Err(Box::new(dialog_error(
            "The sandbox's login dialog serves response_type=code only.",
        )));
    }
    let scopes = match get(params, "config_id") {
        Some(id) if id == config.meta_login_config_id => config.meta_login_config_scopes.clone(),
        Some(id) => {
            return Err(Box::new(dialog_error(&format!(
                "Login configuration {id} does not exist or does not belong to this app."
            ))));
        }
        None => {
            let mut scopes: Vec<String> = get(params, "scope")
                .unwrap_or_default()
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !scopes.iter().any(|s| s == "public_profile") {
                scopes.push("public_profile".into());
            }
            scopes
        }
    };
    Ok(Dialog {
        redirect_uri: redirect_uri.into(),
        state: params
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone()),
        scopes,
    })
}

/// Handles `GET` (the dialog) and `POST` (its Continue / Cancel forms).
pub fn handle_dialog(state: &AppState, req: &PlatformRequest) -> Outcome {
    let params = request_params(req);
    let dialog = match check_dialog(state, &params) {
        Ok(d) => d,
        Err(page) => return *page,
    };
    if req.method == axum::http::Method::GET {
        return dialog_page(&dialog, &params, &req.path);
    }
    let state_param = dialog.state.as_deref();
    if get(&params, "decision") != Some("allow") {
        let mut back = vec![
            ("error", "access_denied"),
            ("error_code", "200"),
            ("error_description", "Permissions error"),
            ("error_reason", "user_denied"),
        ];
        back.extend(state_param.map(|s| ("state", s)));
        return redirect(
            DIALOG,
            with_params(&dialog.redirect_uri, &back, Some("_=_")),
        );
    }
    let code = lock(&state.meta_oauth).issue_code(MetaCode {
        redirect_uri: dialog.redirect_uri.clone(),
        scopes: dialog.scopes.clone(),
        issued_at_ms: req.now_ms,
        redeemed: false,
    });
    let mut back = vec![("code", code.as_str())];
    back.extend(state_param.map(|s| ("state", s)));
    redirect(
        DIALOG,
        with_params(&dialog.redirect_uri, &back, Some("_=_")),
    )
}

fn dialog_page(dialog: &Dialog, params: &Params, path: &str) -> Outcome {
    let carried: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "decision")
        .cloned()
        .collect();
    let hidden = hidden_fields(&carried);
    let action = escape(path);
    let items = dialog
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect::<Vec<_>>()
        .concat();
    let body = format!(
        "<h1>Sandbox Facebook</h1>\n<p id=\"account\">Continue as {USER}</p>\n\
         <p>The app will receive: </p><ul id=\"scopes\">{items}</ul>\n\
         <form method=\"post\" action=\"{action}\" id=\"allow-form\">\n{hidden}\n\
         <button type=\"submit\" id=\"allow\" name=\"decision\" value=\"allow\">Continue as {USER}</button>\n</form>\n\
         <form method=\"post\" action=\"{action}\" id=\"cancel-form\">\n{hidden}\n\
         <button type=\"submit\" id=\"cancel\" name=\"decision\" value=\"cancel\">Cancel</button>\n</form>"
    );
    page(DIALOG, StatusCode::OK, "Sandbox Facebook", &body)
}

fn refuse(code: i64, subcode: Option<i64>, message: &str) -> Outcome {
    let mut e = GraphError::new(code, message);
    e.subcode = subcode;
    e.outcome_at(TOKEN)
}

fn token_answer(token: &str, expires_in: Option<i64>) -> Outcome {
    let mut body = json!({ "access_token": token, "token_type": "bearer" });
    if let Some(s) = expires_in {
        body["expires_in"] = Value::from(s);
    }
    Outcome::new(TOKEN, StatusCode::OK, Some(body), Verdict::Accepted)
}

/// Handles `GET`/`POST /{version}/oauth/access_token` (query and form parameters alike).
pub fn handle_access_token(state: &AppState, req: &PlatformRequest) -> Outcome {
    let mut params = req.query.clone();
    if req.method == axum::http::Method::POST {
        params.extend(form_urlencoded::parse(&req.body).into_owned());
    }
    let config = &state.config;
    let grant_type = get(&params, "grant_type").unwrap_or("authorization_code");
    if ![
        "authorization_code",
        "fb_exchange_token",
        "client_credentials",
    ]
    .contains(&grant_type)
    {
        return refuse(
            100,
            None,
            &format!(
                "Invalid grant_type: '{grant_type}'. Supported types: authorization_code, client_credentials, fb_exchange_token"
            ),
        );
    }
    if get(&params, "client_id") != Some(config.meta_app_id.as_str()) {
        return refuse(
            101,
            None,
            "Error validating application. Invalid application ID.",
        );
    }
    if get(&params, "client_secret") != Some(config.meta_app_secret.as_str()) {
        return refuse(1, None, "Error validating client secret.");
    }
    match grant_type {
        "client_credentials" => token_answer(
            &format!("{}|{}", config.meta_app_id, config.meta_app_secret),
            None,
        ),
        "fb_exchange_token" => exchange_long_lived(state, req, &params),
        _ => exchange_code(state, req, &params),
    }
}

fn exchange_code(state: &AppState, req: &PlatformRequest, params: &Params) -> Outcome {
    let Some(value) = get(params, "code") else {
        return refuse(100, None, "(#100) The parameter code is required");
    };
    let mut grants = lock(&state.meta_oauth);
    let Some(code) = grants.code_mut(value) else {
        return refuse(100, None, "Invalid verification code format.");
    };
    if code.redeemed {
        return refuse(100, Some(36_009), "This authorization code has been used.");
    }
    if req.now_ms - code.issued_at_ms > CODE_TTL_MS {
        return refuse(100, None, "This authorization code has expired.");
    }
    // The exchange must repeat the dialog's redirect_uri exactly (omitting it fails too).
    if get(params, "redirect_uri") != Some(code.redirect_uri.as_str()) {
        return refuse(
            100,
            Some(36_008),
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        );
    }
    code.redeemed = true;
    let scopes = code.scopes.clone();
    grants.note_redeemed();
    let token = grants.issue_user_token(scopes, req.now_ms, SHORT_LIVED_S);
    drop(grants);
    token_answer(&token, Some(SHORT_LIVED_S))
}

fn exchange_long_lived(state: &AppState, req: &PlatformRequest, params: &Params) -> Outcome {
    let Some(short) = get(params, "fb_exchange_token") else {
        return refuse(
            100,
            None,
            "(#100) The parameter fb_exchange_token is required",
        );
    };
    let info = match lookup(state, short, req.now_ms) {
        TokenCheck::Valid(info) if info.kind == TokenKind::User => info,
        TokenCheck::Valid(_) => {
            return refuse(
                100,
                None,
                "(#100) fb_exchange_token must be a user access token (system-user tokens do not expire)",
            );
        }
        // "You can not use an expired token to request a long-lived token."
        other => {
            let e = token_error(&other, &state.config.meta_app_id, req.now_ms);
            return e.map_or_else(
                || refuse(190, None, "Invalid OAuth access token"),
                |e| e.outcome_at(TOKEN),
            );
        }
    };
    let token = lock(&state.meta_oauth).issue_user_token(info.scopes, req.now_ms, LONG_LIVED_S);
    token_answer(&token, Some(LONG_LIVED_S))
}
