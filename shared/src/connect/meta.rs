//! Connecting Meta: Facebook Login (for Business, with a `config_id`) in the manual flow, or a
//! pasted system-user token; then the datasets (pixels) the token reaches, and a harmless read of
//! the chosen one before anything is saved.
//!
//! Sources: Meta's "Manually Build a Login Flow" (`/dialog/oauth?client_id&redirect_uri&state`,
//! `/oauth/access_token?client_id&redirect_uri&client_secret&code` →
//! `{access_token, token_type, expires_in}`, `debug_token` with an app token `{app-id}|{secret}`),
//! "Long-Lived Access Tokens" (`grant_type=fb_exchange_token`; a long-lived user token "lasts
//! about 60 days"), "Facebook Login for Business" (`config_id` instead of `scope`), Conversions
//! API "Get started" (a system-user token is recommended, meta-capi.md §1; it does not expire).

use serde_json::Value;

use super::{ConnectError, short};
use crate::platform::request::{Body, HttpRequest, Method};

/// Where the login dialog is.
pub const META_DIALOG_URL: &str = "https://www.facebook.com";
/// Permissions asked for when no Login for Business configuration is set: sending events to a
/// dataset needs `ads_management`; business-owned datasets `business_management`.
pub const SCOPES: &str = "ads_management,business_management";

const PROVIDER: &str = "Meta";

/// The merchant's Meta app and where Meta's endpoints are.
#[derive(Clone, PartialEq, Eq)]
pub struct MetaApp {
    /// `https://www.facebook.com` ([`META_DIALOG_URL`]).
    pub dialog_url: String,
    /// `https://graph.facebook.com`.
    pub graph_url: String,
    /// e.g. `v25.0`.
    pub api_version: String,
    /// App id.
    pub app_id: String,
    /// App secret.
    pub app_secret: String,
    /// Facebook Login for Business configuration id.
    pub config_id: Option<String>,
}

impl core::fmt::Debug for MetaApp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MetaApp")
            .field("graph_url", &self.graph_url)
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// Where the Graph API is (a pasted token needs no app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// `https://graph.facebook.com`.
    pub base_url: String,
    /// e.g. `v25.0`.
    pub api_version: String,
}

fn get(url: String) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url,
        headers: Vec::new(),
        body: Body::Form(String::new()),
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Where the browser goes to log in.
pub fn login_url(app: &MetaApp, redirect_uri: &str, state: &str) -> String {
    let mut pairs = vec![
        ("client_id", app.app_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("response_type", "code"),
    ];
    match &app.config_id {
        Some(c) => pairs.push(("config_id", c)),
        None => pairs.push(("scope", SCOPES)),
    }
    format!(
        "{}/{}/dialog/oauth?{}",
        app.dialog_url,
        app.api_version,
        query(&pairs)
    )
}

/// The code exchange (`GET /oauth/access_token`).
pub fn code_exchange_request(app: &MetaApp, code: &str, redirect_uri: &str) -> HttpRequest {
    let q = query(&[
        ("client_id", &app.app_id),
        ("redirect_uri", redirect_uri),
        ("client_secret", &app.app_secret),
        ("code", code),
    ]);
    get(format!(
        "{}/{}/oauth/access_token?{q}",
        app.graph_url, app.api_version
    ))
}

/// The exchange of a short-lived user token for a long-lived one.
pub fn long_lived_request(app: &MetaApp, token: &str) -> HttpRequest {
    let q = query(&[
        ("grant_type", "fb_exchange_token"),
        ("client_id", &app.app_id),
        ("client_secret", &app.app_secret),
        ("fb_exchange_token", token),
    ]);
    get(format!(
        "{}/{}/oauth/access_token?{q}",
        app.graph_url, app.api_version
    ))
}

/// A Meta access token and, for user tokens, when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct MetaToken {
    /// The token.
    pub token: String,
    /// Unix ms; `None`: does not expire (system user) or not said.
    pub expires_at_ms: Option<u64>,
}

impl core::fmt::Debug for MetaToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MetaToken")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// Graph's error as `code/subcode: message`.
pub fn graph_error(json: &Value, status: u16) -> String {
    let e = &json["error"];
    let message = short(e["message"].as_str().unwrap_or_default(), 160);
    match (e["code"].as_i64(), e["error_subcode"].as_i64()) {
        (Some(c), Some(s)) => format!("{c}/{s}: {message}"),
        (Some(c), None) => format!("{c}: {message}"),
        _ => format!("HTTP {status}"),
    }
}

fn answer(status: u16, body: &str, what: &'static str) -> Result<Value, ConnectError> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if status == 429 || status >= 500 {
        return Err(ConnectError::Unavailable {
            provider: PROVIDER,
            what,
        });
    }
    if !(200..300).contains(&status) || json.get("error").is_some() {
        return Err(ConnectError::Refused {
            provider: PROVIDER,
            what,
            reason: graph_error(&json, status),
        });
    }
    if json.is_object() {
        Ok(json)
    } else {
        Err(ConnectError::Unavailable {
            provider: PROVIDER,
            what,
        })
    }
}

/// Reads `{access_token, token_type, expires_in}` received at `now_ms`.
///
/// # Errors
/// Meta's refusal (100/36009 for a used code, 100/36008 for another redirect URI, …).
pub fn parse_token(status: u16, body: &str, now_ms: u64) -> Result<MetaToken, ConnectError> {
    let what = "the login code";
    let json = answer(status, body, what)?;
    let token = json["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or(ConnectError::Unavailable {
            provider: PROVIDER,
            what,
        })?;
    let expires_at_ms = json["expires_in"]
        .as_u64()
        .filter(|s| *s > 0)
        .map(|s| now_ms.saturating_add(s.saturating_mul(1000)));
    Ok(MetaToken {
        token: token.to_owned(),
        expires_at_ms,
    })
}

/// `GET /debug_token` with the app token.
pub fn debug_request(app: &MetaApp, input_token: &str) -> HttpRequest {
    let app_token = format!("{}|{}", app.app_id, app.app_secret);
    let q = query(&[("input_token", input_token), ("access_token", &app_token)]);
    get(format!(
        "{}/{}/debug_token?{q}",
        app.graph_url, app.api_version
    ))
}

/// What `debug_token` says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `USER`, `SYSTEM_USER`, `PAGE`, `APP`.
    pub kind: String,
    /// Unix ms; `None` for `expires_at: 0` (never).
    pub expires_at_ms: Option<u64>,
    /// Granted permissions.
    pub scopes: Vec<String>,
}

/// Reads `{"data":{type, is_valid, expires_at, scopes}}`.
///
/// # Errors
/// Meta's refusal, or `is_valid: false`.
pub fn parse_debug(status: u16, body: &str) -> Result<TokenInfo, ConnectError> {
    let what = "the access token";
    let json = answer(status, body, what)?;
    let d = &json["data"];
    if d["is_valid"].as_bool() != Some(true) {
        let reason = d["error"]["message"]
            .as_str()
            .map_or_else(|| "the token is not valid".into(), |m| short(m, 160));
        return Err(ConnectError::Refused {
            provider: PROVIDER,
            what,
            reason,
        });
    }
    Ok(TokenInfo {
        kind: d["type"].as_str().unwrap_or("USER").to_owned(),
        expires_at_ms: d["expires_at"]
            .as_u64()
            .filter(|s| *s > 0)
            .map(|s| s.saturating_mul(1000)),
        scopes: d["scopes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    })
}

fn with_token(graph: &Graph, path: &str, fields: &str, token: &str) -> HttpRequest {
    let q = query(&[("fields", fields), ("access_token", token)]);
    get(format!(
        "{}/{}/{path}?{q}",
        graph.base_url, graph.api_version
    ))
}

/// `GET /me?fields=id,name`: who the token acts as.
pub fn me_request(graph: &Graph, token: &str) -> HttpRequest {
    with_token(graph, "me", "id,name", token)
}

/// The name in `/me`.
///
/// # Errors
/// Meta's refusal (190 for an invalid token).
pub fn parse_me(status: u16, body: &str) -> Result<String, ConnectError> {
    let json = answer(status, body, "the access token")?;
    Ok(json["name"]
        .as_str()
        .or(json["id"].as_str())
        .map(|n| short(n, 80))
        .unwrap_or_default())
}

/// `GET /me/adaccounts?fields=id,name,adspixels{id,name}`: the datasets the token reaches.
pub fn datasets_request(graph: &Graph, token: &str) -> HttpRequest {
    with_token(graph, "me/adaccounts", "id,name,adspixels{id,name}", token)
}

/// One dataset (pixel) the merchant can pick.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dataset {
    /// Numeric id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The ad account it was found under.
    pub ad_account: String,
}

/// Each dataset once, by name.
///
/// # Errors
/// Meta's refusal.
pub fn parse_datasets(status: u16, body: &str) -> Result<Vec<Dataset>, ConnectError> {
    let json = answer(status, body, "listing the datasets")?;
    let mut out: Vec<Dataset> = Vec::new();
    for account in json["data"].as_array().into_iter().flatten() {
        let ad_account = short(
            account["name"]
                .as_str()
                .or(account["id"].as_str())
                .unwrap_or_default(),
            80,
        );
        for p in account["adspixels"]["data"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(id) = p["id"].as_str().filter(|id| is_dataset_id(id)) else {
                continue;
            };
            if out.iter().any(|d| d.id == id) {
                continue;
            }
            let name = p["name"]
                .as_str()
                .map_or_else(|| id.to_owned(), |n| short(n, 80));
            out.push(Dataset {
                id: id.to_owned(),
                name,
                ad_account: ad_account.clone(),
            });
        }
    }
    out.sort_unstable_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// `GET /{dataset}?fields=id,name`: the harmless call that proves the token reaches it.
pub fn dataset_check_request(graph: &Graph, token: &str, dataset_id: &str) -> HttpRequest {
    with_token(graph, dataset_id, "id,name", token)
}

/// The dataset's name when the token reaches it.
///
/// # Errors
/// Meta's refusal (100/33: missing or not permitted).
pub fn parse_dataset_check(status: u16, body: &str) -> Result<String, ConnectError> {
    let json = answer(status, body, "reading the dataset")?;
    Ok(json["name"]
        .as_str()
        .or(json["id"].as_str())
        .map(|n| short(n, 80))
        .unwrap_or_default())
}

/// A dataset id: digits.
pub fn is_dataset_id(id: &str) -> bool {
    (5..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
