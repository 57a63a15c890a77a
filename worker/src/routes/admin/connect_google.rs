//! "Connect Google": the authorization URL with PKCE, the code exchange, the Ads accounts the
//! grant reaches (`ar_shared::connect::google` builds and reads every call).

use ar_shared::connect::google::{self, AdsAccount};
use ar_shared::connect::pkce::Pkce;
use ar_shared::connect::status::Connection;
use ar_shared::connect::{ConnectError, Provider};
use serde_json::{Value, json};

use super::connect::{Ctx, Fail};
use crate::runtime;

const P: Provider = Provider::Google;

fn app(ctx: &Ctx) -> Result<&google::GoogleApp, ConnectError> {
    ctx.settings.connect.google_app.as_ref().ok_or_else(|| {
        ConnectError::NotConfigured(
            "Connect Google needs the OAuth client: GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (wrangler secret put; README \"Connect accounts\")".into(),
        )
    })
}

/// Where to send the browser, and the PKCE verifier to keep.
pub(super) fn authorization(ctx: &Ctx, state: &str) -> Result<(String, String), Fail> {
    let app = app(ctx)?;
    let pkce = Pkce::from_random(&runtime::random_bytes()?);
    let url = google::authorization_url(app, &ctx.redirect_uri(P), state, &pkce.challenge);
    Ok((url, pkce.verifier))
}

fn unreachable(what: &'static str) -> ConnectError {
    ConnectError::Unavailable {
        provider: P.label(),
        what,
    }
}

/// Exchanges the code (with the verifier) and lists the accounts: the refresh token to keep
/// sealed, and the picker's choices.
pub(super) async fn exchange(
    ctx: &Ctx,
    code: &str,
    verifier: &str,
) -> Result<(String, Value), Fail> {
    let app = app(ctx)?;
    let req = google::code_exchange_request(app, code, verifier, &ctx.redirect_uri(P));
    let (status, body) = ctx
        .call(&req)
        .await
        .ok_or(unreachable("the authorization code"))?;
    let grant = google::parse_code_exchange(status, &body)?;
    let api = ctx.settings.connect.ads_api();
    let req = google::accessible_request(&api, &grant.access_token);
    let (status, body) = ctx
        .call(&req)
        .await
        .ok_or(unreachable("listing the accessible accounts"))?;
    let roots = google::parse_accessible(status, &body)?;
    let mut lists = Vec::new();
    for root in &roots {
        let req = google::clients_request(&api, &grant.access_token, root);
        let (status, body) = ctx
            .call(&req)
            .await
            .ok_or(unreachable("reading the account hierarchy"))?;
        lists.push(google::parse_clients(root, status, &body)?);
    }
    let accounts = google::merge_accounts(lists);
    if accounts.is_empty() {
        return Err(ConnectError::NotReachable(
            "this Google user reaches no Google Ads account: sign in with a user of the shop's Ads account (or its manager)".into(),
        )
        .into());
    }
    Ok((
        grant.refresh_token,
        json!({ "accounts": accounts, "scopes": grant.scopes }),
    ))
}

/// The connection for the account picked from `choices`.
pub(super) fn chosen(
    ctx: &Ctx,
    choices: &Value,
    account: &str,
) -> Result<Connection, ConnectError> {
    let accounts: Vec<AdsAccount> =
        serde_json::from_value(choices["accounts"].clone()).unwrap_or_default();
    let Some(a) = accounts.into_iter().find(|a| a.id == account) else {
        return Err(ConnectError::NotReachable(format!(
            "account {account:?} is not one this sign-in reaches: pick one from the list"
        )));
    };
    let scopes = choices["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    Ok(Connection {
        provider: Some(P),
        connected_as: a.login_id.as_ref().map_or_else(
            || a.name.clone(),
            |m| format!("{} through manager {m}", a.name),
        ),
        account_id: a.id,
        account_name: a.name,
        login_id: a.login_id,
        kind: "OAUTH".into(),
        scopes,
        connected_at_ms: ctx.now_ms,
        expires_at_ms: None,
    })
}

/// Revokes a refresh token at Google (best effort: the row is deleted whatever Google says).
pub(super) async fn revoke(ctx: &Ctx, refresh_token: &str) {
    if let Some(app) = &ctx.settings.connect.google_app {
        let _ = ctx
            .call(&google::revoke_request(&app.token_url, refresh_token))
            .await;
    }
}
