//! The Graph API reads the "Connect Meta" picker makes, answered in Graph shapes
//! (developers.facebook.com/docs/graph-api):
//!
//! - `GET /{version}/me?fields=id,name` — the user (or system user) behind the token;
//! - `GET /{version}/me/adaccounts?fields=id,name,adspixels{id,name}` — `{"data":[…],"paging":…}`
//!   with field expansion (`adspixels{id,name}` is itself `{"data":[…]}`);
//! - `GET /{version}/{dataset_id}?fields=id,name` — a dataset the token may use; otherwise code
//!   100 subcode 33 "Unsupported get request. Object with ID '…' does not exist, cannot be loaded
//!   due to missing permissions, or does not support this operation…";
//! - `GET /{version}/debug_token?input_token=…&access_token=…` — `{"data":{app_id, type
//!   ("USER" | "SYSTEM_USER"), application, expires_at (0 = never), is_valid, scopes, user_id, …}}`
//!   (access-tokens/debugging); an invalid input token comes back `is_valid: false` with its
//!   `error`.
//!
//! Sources: oauth.md §7. The token comes as the `access_token` parameter or `Authorization:
//! Bearer`. An unknown field answers "(#100) Tried accessing nonexisting field (…) on node type
//! (…)".

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::meta::GraphError;
use super::meta_grants::{TokenCheck, TokenInfo, TokenKind};
use super::meta_tokens::{check_token, lookup, may_use_dataset, no_such_object, token_error};
use super::{Outcome, PlatformRequest};
use crate::config_accounts::MetaAdAccount;
use crate::record::Verdict;
use crate::state::AppState;

/// The app's name as `debug_token` reports it.
pub const APP_NAME: &str = "Active Reach Conversions (sandbox)";
/// The Facebook user behind the login dialog.
pub const USER_ID: &str = "100012345678901";
/// The system user behind `meta_system_user_token` and `meta_access_token`.
pub const SYSTEM_USER_ID: &str = "61550123456789";

/// A Graph node type: its readable fields and the ones answered without `fields`.
#[derive(Debug, Clone, Copy)]
struct Node {
    name: &'static str,
    fields: &'static [&'static str],
    defaults: &'static [&'static str],
}

const USER: Node = Node {
    name: "User",
    fields: &["id", "name"],
    defaults: &["id", "name"],
};
const AD_ACCOUNT: Node = Node {
    name: "AdAccount",
    fields: &[
        "id",
        "account_id",
        "name",
        "currency",
        "account_status",
        "adspixels",
    ],
    defaults: &["account_id", "id"],
};
const ADS_PIXEL: Node = Node {
    name: "AdsPixel",
    fields: &["id", "name", "owner_ad_account"],
    defaults: &["id", "name"],
};

/// One requested field, with its expansion (`adspixels{id,name}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field's name.
    pub name: String,
    /// Its expansion.
    pub sub: Vec<Field>,
}

/// Parses `id,name,adspixels{id,name}`; modifiers such as `.limit(5)` are dropped.
pub(crate) fn parse_fields(text: &str) -> Vec<Field> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0_usize, 0_usize);
    let mut push = |part: &str| {
        let part = part.trim();
        if part.is_empty() {
            return;
        }
        let (head, sub) = match part.find('{') {
            Some(i) => (
                &part[..i],
                parse_fields(part[i + 1..].trim_end_matches('}')),
            ),
            None => (part, Vec::new()),
        };
        let name = head.split(['.', '(']).next().unwrap_or_default().trim();
        out.push(Field {
            name: name.into(),
            sub,
        });
    };
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&text[start..]);
    out
}

fn paging() -> Value {
    json!({ "cursors": { "before": "MAZDZD", "after": "MAZDZD" } })
}

/// The requested fields of `full` (a node of type `node`).
fn select(full: &Value, node: Node, fields: &[Field]) -> Result<Value, GraphError> {
    let defaults: Vec<Field> = node
        .defaults
        .iter()
        .map(|f| Field {
            name: (*f).into(),
            sub: Vec::new(),
        })
        .collect();
    let wanted = if fields.is_empty() {
        &defaults[..]
    } else {
        fields
    };
    let mut out = Map::new();
    for f in wanted {
        if !node.fields.contains(&f.name.as_str()) {
            return Err(GraphError::new(
                100,
                &format!(
                    "(#100) Tried accessing nonexisting field ({}) on node type ({})",
                    f.name, node.name
                ),
            ));
        }
        let Some(value) = full.get(&f.name) else {
            continue;
        };
        let value = if f.name == "adspixels" {
            let data = value["data"].as_array().cloned().unwrap_or_default();
            let picked = data
                .iter()
                .map(|p| select(p, ADS_PIXEL, &f.sub))
                .collect::<Result<Vec<_>, _>>()?;
            json!({ "data": picked, "paging": paging() })
        } else {
            value.clone()
        };
        out.insert(f.name.clone(), value);
    }
    Ok(Value::Object(out))
}

fn account_json(account: &MetaAdAccount) -> Value {
    let number = account.id.trim_start_matches("act_");
    let owner = json!({ "account_id": number, "id": account.id });
    let pixels: Vec<Value> = account
        .datasets
        .iter()
        .map(|d| json!({ "id": d.id, "name": d.name, "owner_ad_account": owner }))
        .collect();
    json!({
        "id": account.id, "account_id": number, "name": account.name, "currency": "EUR",
        "account_status": 1, "adspixels": { "data": pixels },
    })
}

/// The token of a Graph request: `access_token` or `Authorization: Bearer` / `OAuth`.
pub(crate) fn request_token(req: &PlatformRequest) -> Option<String> {
    req.query_param("access_token")
        .map(str::to_owned)
        .or_else(|| {
            let auth = req.header("authorization")?;
            auth.strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("OAuth "))
                .map(|t| t.trim().to_owned())
        })
}

/// Handles `me`, `me/adaccounts` and `/{dataset_id}` reads.
pub fn handle_read(state: &AppState, req: &PlatformRequest, endpoint: &str) -> Outcome {
    match read(state, req, endpoint) {
        Ok(body) => Outcome::new(endpoint, StatusCode::OK, Some(body), Verdict::Accepted),
        Err(e) => e.outcome_at(endpoint),
    }
}

fn read(state: &AppState, req: &PlatformRequest, endpoint: &str) -> Result<Value, GraphError> {
    let info = check_token(state, request_token(req).as_deref(), req.now_ms)?;
    let fields = parse_fields(req.query_param("fields").unwrap_or_default());
    let accounts = &state.config.meta_ad_accounts;
    match endpoint {
        "me" => {
            let (id, name) = match info.kind {
                TokenKind::User => (USER_ID, "Sandbox User"),
                TokenKind::SystemUser => (SYSTEM_USER_ID, "Sandbox Conversions (system user)"),
            };
            select(&json!({ "id": id, "name": name }), USER, &fields)
        }
        "me/adaccounts" => {
            let data = accounts
                .iter()
                .map(|a| select(&account_json(a), AD_ACCOUNT, &fields))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "data": data, "paging": paging() }))
        }
        _ => read_dataset(state, req, &info, &fields),
    }
}

fn read_dataset(
    state: &AppState,
    req: &PlatformRequest,
    info: &TokenInfo,
    fields: &[Field],
) -> Result<Value, GraphError> {
    let id = req.segments.get(1).map(String::as_str).unwrap_or_default();
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GraphError::new(
            803,
            &format!("(#803) Some of the aliases you requested do not exist: {id}"),
        ));
    }
    if !may_use_dataset(state, info, id) {
        return Err(no_such_object(id, "get"));
    }
    let known = state.config.meta_ad_accounts.iter().find_map(|a| {
        let full = account_json(a);
        full["adspixels"]["data"]
            .as_array()?
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
    });
    // The configured CAPI token may use any dataset; one the sandbox does not list gets a name.
    let full =
        known.unwrap_or_else(|| json!({ "id": id, "name": format!("Sandbox dataset {id}") }));
    select(&full, ADS_PIXEL, fields)
}

/// Handles `GET /{version}/debug_token?input_token=…&access_token=…`.
pub fn handle_debug_token(state: &AppState, req: &PlatformRequest) -> Outcome {
    const ENDPOINT: &str = "debug_token";
    let Some(input) = req.query_param("input_token").filter(|t| !t.is_empty()) else {
        return GraphError::new(100, "(#100) The parameter input_token is required")
            .outcome_at(ENDPOINT);
    };
    let config = &state.config;
    // An app token (`{app_id}|{app_secret}`) or any valid token of the same app may ask.
    let caller = request_token(req);
    let app_token = format!("{}|{}", config.meta_app_id, config.meta_app_secret);
    if caller.as_deref() != Some(app_token.as_str())
        && let Err(e) = check_token(state, caller.as_deref(), req.now_ms)
    {
        return e.outcome_at(ENDPOINT);
    }
    let check = lookup(state, input, req.now_ms);
    let data = debug_data(&check, &config.meta_app_id, req.now_ms);
    Outcome::new(
        ENDPOINT,
        StatusCode::OK,
        Some(json!({ "data": data })),
        Verdict::Accepted,
    )
}

fn debug_data(check: &TokenCheck, app_id: &str, now_ms: i64) -> Value {
    let info = match check {
        TokenCheck::Valid(i) | TokenCheck::Expired(i) | TokenCheck::Revoked(i, _) => i,
        TokenCheck::Unknown => {
            return json!({ "error": { "code": 190, "message": "Invalid OAuth access token." }, "is_valid": false, "scopes": [] });
        }
    };
    let seconds = |ms: Option<i64>| ms.map_or(0, |ms| ms / 1_000);
    let (kind, user) = match info.kind {
        TokenKind::User => ("USER", USER_ID),
        TokenKind::SystemUser => ("SYSTEM_USER", SYSTEM_USER_ID),
    };
    // Data access lasts 90 days from the login for user tokens.
    let data_access = info.issued_at_ms.map(|i| i + 90 * 86_400_000);
    let mut data = json!({
        "app_id": app_id, "type": kind, "application": APP_NAME,
        "data_access_expires_at": seconds(data_access), "expires_at": seconds(info.expires_at_ms),
        "is_valid": matches!(check, TokenCheck::Valid(_)), "scopes": info.scopes, "user_id": user,
    });
    if let Some(issued) = info.issued_at_ms {
        data["issued_at"] = json!(issued / 1_000);
    }
    if let Some(e) = token_error(check, app_id, now_ms) {
        let mut error = json!({ "code": e.code, "message": e.message });
        if let Some(s) = e.subcode {
            error["subcode"] = json!(s);
        }
        data["error"] = error;
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_expansion_is_parsed_with_modifiers_dropped() {
        let f = parse_fields("id,name,adspixels.limit(5){id,name}");
        assert_eq!(f.len(), 3);
        assert_eq!(f[2].name, "adspixels");
        assert_eq!(
            f[2].sub.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["id", "name"]
        );
    }

    #[test]
    fn unknown_fields_are_refused_per_node_type() {
        let e = select(&json!({}), USER, &parse_fields("id,email"))
            .err()
            .map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("(#100) Tried accessing nonexisting field (email) on node type (User)")
        );
    }
}
