//! Google's fake consent screen: `GET /o/oauth2/v2/auth?client_id&redirect_uri&response_type=code
//! &scope&access_type&prompt&state&code_challenge&code_challenge_method` (the web-server flow,
//! developers.google.com/identity/protocols/oauth2/web-server, step 2; oauth.md §1.1) shows
//! "Sandbox Google account", one checkbox per requested scope (Google's granular consent lets a
//! user untick one) and two plain forms: **Allow** (`id=allow`) and **Cancel** (`id=cancel`). They post back to the
//! same path, which checks the request again and answers (step 4; oauth.md §1.2):
//! - Allow → `302 redirect_uri?code=…&scope=…&state=…` (state echoed exactly);
//! - Cancel, or every scope unticked → `302 redirect_uri?error=access_denied&state=…`.
//!
//! An invalid request gets Google's error page and never a redirect (sources in
//! oauth.md §1.3): `Error 400: invalid_request` (a missing parameter, a bad
//! `code_challenge_method`), `Error 401: invalid_client` ("The OAuth client was not found."),
//! `Error 400: redirect_uri_mismatch`, `Error 400: unsupported_response_type`, `Error 400:
//! invalid_scope`.

use axum::http::StatusCode;

use super::google_grants::{AuthCode, Challenge, ChallengeMethod};
use super::login_page::{
    error_page, hidden_fields, page, redirect, registered_redirect, request_params, with_params,
};
use super::{Outcome, PlatformRequest};
use crate::config::GOOGLE_CALLBACK_PATH;
use crate::html::escape;
use crate::state::{AppState, lock};

const ENDPOINT: &str = "auth";
const TITLE: &str = "Sign in with Google";
const ACCOUNT: &str = "Sandbox Google account (sandbox.merchant@example.com)";

/// The scopes the sandbox knows, with the consent text it shows.
const SCOPES: [(&str, &str); 10] = [
    (
        "https://www.googleapis.com/auth/adwords",
        "See, edit, create and delete your Google Ads accounts and data.",
    ),
    (
        "https://www.googleapis.com/auth/datamanager",
        "See, edit, create and delete your data in Google's Data Manager.",
    ),
    (
        "https://www.googleapis.com/auth/analytics",
        "See and download your Google Analytics data.",
    ),
    (
        "https://www.googleapis.com/auth/analytics.readonly",
        "See and download your Google Analytics data.",
    ),
    (
        "https://www.googleapis.com/auth/analytics.edit",
        "Edit Google Analytics management entities.",
    ),
    (
        "https://www.googleapis.com/auth/userinfo.email",
        "See your primary Google Account email address.",
    ),
    (
        "https://www.googleapis.com/auth/userinfo.profile",
        "See your personal info, including any personal info you've made publicly available.",
    ),
    ("openid", "Associate you with your personal info on Google."),
    ("email", "See your primary Google Account email address."),
    (
        "profile",
        "See your personal info, including any personal info you've made publicly available.",
    ),
];

/// A checked authorization request.
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    challenge: Option<Challenge>,
    offline: bool,
    prompt_consent: bool,
}

type Params = [(String, String)];

fn get<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn refused(status: StatusCode, error: &str, message: &str, params: &Params) -> Box<Outcome> {
    let heading = format!("Error {}: {error}", status.as_u16());
    let details: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| {
            ["redirect_uri", "response_type", "scope", "client_id"].contains(&k.as_str())
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("flowName", "GeneralOAuthFlow")])
        .collect();
    Box::new(error_page(
        ENDPOINT,
        status,
        "Access blocked: Authorization Error",
        &heading,
        message,
        &details,
    ))
}

fn invalid(message: &str, params: &Params) -> Box<Outcome> {
    refused(StatusCode::BAD_REQUEST, "invalid_request", message, params)
}

/// Checks the request the way Google does, in Google's order: client, redirect URI, then the
/// rest (only a request that passed the first two could ever be redirected back).
fn check(state: &AppState, params: &Params) -> Result<AuthRequest, Box<Outcome>> {
    let config = &state.config;
    let Some(client_id) = get(params, "client_id") else {
        return Err(invalid("Missing required parameter: client_id", params));
    };
    if client_id != config.google_client_id {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
            params,
        ));
    }
    let Some(redirect_uri) = get(params, "redirect_uri") else {
        return Err(invalid("Missing required parameter: redirect_uri", params));
    };
    if !registered_redirect(
        &config.google_redirect_uris,
        redirect_uri,
        GOOGLE_CALLBACK_PATH,
    ) {
        let message = "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. If you're the app developer, register the redirect URI in the Google Cloud Console.";
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            message,
            params,
        ));
    }
    match get(params, "response_type") {
        None => {
            return Err(invalid(
                "Required parameter is missing: response_type",
                params,
            ));
        }
        Some("code") => {}
        Some(other) => {
            let message = format!(
                "Invalid response_type: {other} (the sandbox serves the authorization-code flow)"
            );
            return Err(refused(
                StatusCode::BAD_REQUEST,
                "unsupported_response_type",
                &message,
                params,
            ));
        }
    }
    let Some(scope) = get(params, "scope") else {
        return Err(invalid("Missing required parameter: scope", params));
    };
    let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    let unknown: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !SCOPES.iter().any(|(known, _)| known == s))
        .collect();
    if !unknown.is_empty() {
        let message = format!(
            "Some requested scopes were invalid. {{invalid=[{}]}}",
            unknown.join(", ")
        );
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &message,
            params,
        ));
    }
    let challenge = check_challenge(params)?;
    let access_type = get(params, "access_type").unwrap_or("online");
    if access_type != "online" && access_type != "offline" {
        return Err(invalid(
            &format!("Invalid parameter value for access_type: {access_type}"),
            params,
        ));
    }
    let prompt = get(params, "prompt").unwrap_or_default();
    if let Some(bad) = prompt
        .split_whitespace()
        .find(|p| !["none", "consent", "select_account"].contains(p))
    {
        return Err(invalid(
            &format!("Invalid parameter value for prompt: {bad}"),
            params,
        ));
    }
    Ok(AuthRequest {
        client_id: client_id.into(),
        redirect_uri: redirect_uri.into(),
        scopes,
        state: params
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone()),
        challenge,
        offline: access_type == "offline",
        prompt_consent: prompt.split_whitespace().any(|p| p == "consent"),
    })
}

/// RFC 7636 §4.3: `S256` or `plain` (the default); the challenge is 43–128 unreserved characters.
fn check_challenge(params: &Params) -> Result<Option<Challenge>, Box<Outcome>> {
    let method = match get(params, "code_challenge_method") {
        None | Some("plain") => ChallengeMethod::Plain,
        Some("S256") => ChallengeMethod::S256,
        Some(other) => {
            return Err(invalid(
                &format!("Invalid parameter value for code_challenge_method: {other}"),
                params,
            ));
        }
    };
    let Some(value) = get(params, "code_challenge") else {
        if get(params, "code_challenge_method").is_some() {
            return Err(invalid(
                "Missing required parameter: code_challenge",
                params,
            ));
        }
        return Ok(None);
    };
    let well_formed = (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return Err(invalid(
            "Invalid parameter value for code_challenge.",
            params,
        ));
    }
    Ok(Some(Challenge {
        value: value.into(),
        method,
    }))
}

/// Handles `GET` (the page) and `POST` (the page's Allow / Cancel forms).
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    let params = request_params(req);
    let request = match check(state, &params) {
        Ok(r) => r,
        Err(page) => return *page,
    };
    if req.method == axum::http::Method::GET {
        return consent_page(&request, &params);
    }
    let decision = get(&params, "decision").unwrap_or_default();
    let ticked: Vec<&str> = params
        .iter()
        .filter(|(k, v)| k == "granted_scope" && request.scopes.contains(v))
        .map(|(_, v)| v.as_str())
        .collect();
    let state_param = request.state.as_deref();
    if decision != "allow" || ticked.is_empty() {
        let mut back = vec![("error", "access_denied")];
        back.extend(state_param.map(|s| ("state", s)));
        return redirect(ENDPOINT, with_params(&request.redirect_uri, &back, None));
    }
    let scope = ticked.join(" ");
    let mut grants = lock(&state.google_oauth);
    // "Refresh tokens are returned only on the first authorization" unless the user is asked to
    // consent again.
    let refresh =
        request.offline && (request.prompt_consent || !grants.has_live_refresh(&request.client_id));
    let code = grants.issue_code(AuthCode {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scope: scope.clone(),
        challenge: request.challenge.clone(),
        refresh,
        issued_at_ms: req.now_ms,
        redeemed: false,
    });
    drop(grants);
    let mut back = vec![("code", code.as_str()), ("scope", scope.as_str())];
    back.extend(state_param.map(|s| ("state", s)));
    redirect(ENDPOINT, with_params(&request.redirect_uri, &back, None))
}

fn consent_page(request: &AuthRequest, params: &Params) -> Outcome {
    let carried: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "decision" && k != "granted_scope")
        .cloned()
        .collect();
    let hidden = hidden_fields(&carried);
    let boxes: String = request
        .scopes
        .iter()
        .map(|s| {
            let text = SCOPES.iter().find(|(k, _)| k == s).map_or("", |(_, t)| *t);
            format!(
                "<li><label><input type=\"checkbox\" name=\"granted_scope\" value=\"{}\" checked> {} <code>{}</code></label></li>",
                escape(s),
                escape(text),
                escape(s)
            )
        })
        .collect::<Vec<_>>()
        .concat();
    let body = format!(
        "<h1>{TITLE}</h1>\n<p id=\"account\">{}</p>\n<p><strong>{}</strong> wants access to your Google Account</p>\n\
         <form method=\"post\" action=\"/o/oauth2/v2/auth\" id=\"allow-form\">\n{hidden}\n<ul id=\"scopes\">{boxes}</ul>\n\
         <button type=\"submit\" id=\"allow\" name=\"decision\" value=\"allow\">Allow</button>\n</form>\n\
         <form method=\"post\" action=\"/o/oauth2/v2/auth\" id=\"cancel-form\">\n{hidden}\n\
         <button type=\"submit\" id=\"cancel\" name=\"decision\" value=\"cancel\">Cancel</button>\n</form>",
        escape(ACCOUNT),
        escape(&request.client_id),
    );
    page(ENDPOINT, StatusCode::OK, TITLE, &body)
}
