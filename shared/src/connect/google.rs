//! Connecting Google: the OAuth 2.0 authorization-code flow for web-server apps with PKCE, and
//! listing the Google Ads accounts the grant reaches, so the merchant picks the operating
//! account (and the manager it is reached through) instead of typing ids.
//!
//! Sources: Google's "Using OAuth 2.0 for Web Server Applications" (authorization endpoint
//! `https://accounts.google.com/o/oauth2/v2/auth`, `access_type=offline` for a refresh token,
//! `prompt=consent` so one is issued again on reconnection, `code_challenge` /
//! `code_challenge_method=S256`, the exchange at the token endpoint with `grant_type=
//! authorization_code`, `code`, `redirect_uri`, `code_verifier`); Google Ads API
//! `CustomerService.ListAccessibleCustomers` and the `customer_client` resource (docs
//! "Account hierarchy"); scopes `…/auth/datamanager` (data-manager.md §1.1) and `…/auth/adwords`
//! (google.md §1.1).

use serde_json::Value;

use super::{ConnectError, short};
use crate::platform::request::{Body, HttpRequest, Method};

/// Google's authorization endpoint.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's revocation endpoint ("Revoking a token": `POST …/revoke?token=`).
pub const GOOGLE_REVOKE_PATH: &str = "/revoke";
/// Data Manager (sending conversions) and Google Ads (listing accounts, provisioning actions).
pub const SCOPES: &str =
    "https://www.googleapis.com/auth/datamanager https://www.googleapis.com/auth/adwords";
/// Accessible accounts whose hierarchy is read (each is one request).
pub const MAX_ROOTS: usize = 10;

const PROVIDER: &str = "Google";

/// The merchant's OAuth client and where Google's endpoints are.
#[derive(Clone, PartialEq, Eq)]
pub struct GoogleApp {
    /// Authorization endpoint ([`GOOGLE_AUTH_URL`]).
    pub auth_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
}

impl core::fmt::Debug for GoogleApp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GoogleApp")
            .field("auth_url", &self.auth_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Where the browser goes to grant access.
pub fn authorization_url(
    app: &GoogleApp,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPES)
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("include_granted_scopes", "true")
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{}?{query}", app.auth_url)
}

/// The code exchange: a form `POST` to the token endpoint.
pub fn code_exchange_request(
    app: &GoogleApp,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> HttpRequest {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("code_verifier", verifier)
        .append_pair("client_id", &app.client_id)
        .append_pair("client_secret", &app.client_secret)
        .append_pair("redirect_uri", redirect_uri)
        .finish();
    HttpRequest::post(app.token_url.clone(), Vec::new(), Body::Form(form))
}

/// What the exchange granted.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    /// The long-lived refresh token (what is stored, sealed).
    pub refresh_token: String,
    /// A first access token, for listing the accounts.
    pub access_token: String,
    /// The scopes granted (the merchant may untick one).
    pub scopes: Vec<String>,
}

impl core::fmt::Debug for Grant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Grant")
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn oauth_error(json: &Value) -> String {
    let error = json["error"].as_str().unwrap_or("unknown_error");
    match json["error_description"].as_str() {
        Some(d) => format!("{error}: {}", short(d, 160)),
        None => error.to_owned(),
    }
}

/// Reads the token endpoint's answer to the exchange (`{access_token, expires_in,
/// refresh_token, scope, token_type}`).
///
/// # Errors
/// [`ConnectError::Refused`] with Google's error (`invalid_grant` for a used, expired or
/// mismatched code or verifier); [`ConnectError::Unavailable`] for 5xx/429 or nonsense; a grant
/// without a refresh token or without the Data Manager scope is refused with what to do.
pub fn parse_code_exchange(status: u16, body: &str) -> Result<Grant, ConnectError> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let what = "the authorization code";
    if status == 429 || status >= 500 {
        return Err(ConnectError::Unavailable {
            provider: PROVIDER,
            what,
        });
    }
    if !(200..300).contains(&status) {
        return Err(ConnectError::Refused {
            provider: PROVIDER,
            what,
            reason: oauth_error(&json),
        });
    }
    let text = |k: &str| {
        json[k]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let access_token = text("access_token").ok_or(ConnectError::Unavailable {
        provider: PROVIDER,
        what,
    })?;
    let Some(refresh_token) = text("refresh_token") else {
        return Err(ConnectError::Refused {
            provider: PROVIDER,
            what,
            reason: "no refresh token was issued (offline access): connect again and allow access"
                .into(),
        });
    };
    let scopes: Vec<String> = text("scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s.ends_with("/auth/datamanager")) {
        return Err(ConnectError::Refused {
            provider: PROVIDER,
            what,
            reason:
                "the Data Manager permission was not granted: connect again and leave it ticked"
                    .into(),
        });
    }
    Ok(Grant {
        refresh_token,
        access_token,
        scopes,
    })
}

/// Google's revocation of a refresh token (disconnect).
pub fn revoke_request(token_url: &str, refresh_token: &str) -> HttpRequest {
    let base = token_url.strip_suffix("/token").unwrap_or(token_url);
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", refresh_token)
        .finish();
    HttpRequest::post(
        format!("{base}{GOOGLE_REVOKE_PATH}"),
        Vec::new(),
        Body::Form(form),
    )
}

/// Where the Google Ads API is, for listing accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsApi {
    /// `https://googleads.googleapis.com`.
    pub base_url: String,
    /// e.g. `v22`.
    pub api_version: String,
    /// Sent only when configured (google.md §1.1).
    pub developer_token: Option<String>,
}

fn ads_headers(api: &AdsApi, access_token: &str) -> Vec<(String, String)> {
    let mut h = vec![("authorization".to_owned(), format!("Bearer {access_token}"))];
    if let Some(t) = &api.developer_token {
        h.push(("developer-token".to_owned(), t.clone()));
    }
    h
}

/// `GET /{v}/customers:listAccessibleCustomers`: the accounts the user can reach directly.
pub fn accessible_request(api: &AdsApi, access_token: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: format!(
            "{}/{}/customers:listAccessibleCustomers",
            api.base_url, api.api_version
        ),
        headers: ads_headers(api, access_token),
        body: Body::Form(String::new()),
    }
}

/// The account ids in `{"resourceNames":["customers/123", …]}` (at most [`MAX_ROOTS`]).
///
/// # Errors
/// Google's refusal or an unreadable answer.
pub fn parse_accessible(status: u16, body: &str) -> Result<Vec<String>, ConnectError> {
    let json = ads_answer(status, body, "listing the accessible accounts")?;
    let mut ids: Vec<String> = json["resourceNames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str()?.strip_prefix("customers/"))
        .filter(|id| is_customer_id(id))
        .map(str::to_owned)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(MAX_ROOTS);
    Ok(ids)
}

/// The hierarchy query: the account itself (level 0) and every account under it, at any depth
/// (`customer_client` "returns all … clients in the hierarchy"; `login-customer-id` may be any
/// manager above the operating account, so the root reaches them all).
pub const CLIENTS_QUERY: &str = "SELECT customer_client.client_customer, customer_client.id, customer_client.descriptive_name, customer_client.manager, customer_client.level FROM customer_client";

/// `googleAds:search` on `root` (with `login-customer-id: root`) for [`CLIENTS_QUERY`].
pub fn clients_request(api: &AdsApi, access_token: &str, root: &str) -> HttpRequest {
    let mut headers = ads_headers(api, access_token);
    headers.push(("login-customer-id".to_owned(), root.to_owned()));
    HttpRequest::post(
        format!(
            "{}/{}/customers/{root}/googleAds:search",
            api.base_url, api.api_version
        ),
        headers,
        Body::Json(serde_json::json!({ "query": CLIENTS_QUERY })),
    )
}

/// One account the merchant can pick.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdsAccount {
    /// 10 digits.
    pub id: String,
    /// `descriptiveName`.
    pub name: String,
    /// The manager it is reached through (`login-customer-id`, Data Manager `loginAccount`), or
    /// `None` when the user reaches it directly.
    pub login_id: Option<String>,
}

/// The non-manager accounts in one hierarchy answer for `root`.
///
/// # Errors
/// Google's refusal or an unreadable answer.
pub fn parse_clients(root: &str, status: u16, body: &str) -> Result<Vec<AdsAccount>, ConnectError> {
    let json = ads_answer(status, body, "reading the account hierarchy")?;
    let accounts = json["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let c = &r["customerClient"];
            let id = match &c["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => c["clientCustomer"]
                    .as_str()?
                    .strip_prefix("customers/")?
                    .to_owned(),
            };
            if !is_customer_id(&id) || c["manager"].as_bool().unwrap_or(false) {
                return None;
            }
            let name = c["descriptiveName"]
                .as_str()
                .map_or_else(|| id.clone(), |n| short(n, 80));
            let login_id = (id != root).then(|| root.to_owned());
            Some(AdsAccount { id, name, login_id })
        })
        .collect();
    Ok(accounts)
}

/// Every account from every hierarchy, each once (direct access preferred), by name.
pub fn merge_accounts(lists: impl IntoIterator<Item = Vec<AdsAccount>>) -> Vec<AdsAccount> {
    let mut all: Vec<AdsAccount> = lists.into_iter().flatten().collect();
    all.sort_unstable_by(|a, b| {
        a.id.cmp(&b.id)
            .then(a.login_id.is_some().cmp(&b.login_id.is_some()))
    });
    all.dedup_by(|b, a| a.id == b.id);
    all.sort_unstable_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    all
}

/// A Google Ads customer id: 10 digits.
pub fn is_customer_id(id: &str) -> bool {
    id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit())
}

fn ads_answer(status: u16, body: &str, what: &'static str) -> Result<Value, ConnectError> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if status == 429 || status >= 500 {
        return Err(ConnectError::Unavailable {
            provider: PROVIDER,
            what,
        });
    }
    if !(200..300).contains(&status) {
        let e = &json["error"];
        let reason = match (e["status"].as_str(), e["message"].as_str()) {
            (Some(s), Some(m)) => format!("{s}: {}", short(m, 160)),
            _ => format!("HTTP {status}"),
        };
        return Err(ConnectError::Refused {
            provider: PROVIDER,
            what,
            reason,
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

#[cfg(test)]
mod tests;
