//! "Connect Meta": Facebook Login (code exchange, then a long-lived token), or a pasted
//! system-user token; the datasets the token reaches, and a harmless read of the one picked
//! (`ar_shared::connect::meta` builds and reads every call).

use ar_shared::connect::flow::{self, Flow, Stage};
use ar_shared::connect::meta::{self, Dataset, TokenInfo};
use ar_shared::connect::status::Connection;
use ar_shared::connect::{ConnectError, Provider};
use serde_json::{Value, json};

use super::connect::{Connected, Ctx, Fail};
use super::connect_flow::keep_grant;
use crate::runtime;
use crate::store::connect_flows;

const P: Provider = Provider::Meta;

fn unreachable(what: &'static str) -> ConnectError {
    ConnectError::Unavailable {
        provider: P.label(),
        what,
    }
}

fn app(ctx: &Ctx) -> Result<&meta::MetaApp, ConnectError> {
    ctx.settings.connect.meta_app.as_ref().ok_or_else(|| {
        ConnectError::NotConfigured(
            "Facebook Login needs the Meta app: META_APP_ID and META_APP_SECRET (README \"Connect accounts\"), or paste a system-user token below".into(),
        )
    })
}

/// Where to send the browser to log in.
pub(super) fn login_url(ctx: &Ctx, state: &str) -> Result<String, Fail> {
    Ok(meta::login_url(app(ctx)?, &ctx.redirect_uri(P), state))
}

async fn get(
    ctx: &Ctx,
    req: &ar_shared::platform::request::HttpRequest,
    what: &'static str,
) -> Result<(u16, String), ConnectError> {
    ctx.call(req).await.ok_or(unreachable(what))
}

/// The token's type and expiry: `debug_token` with the app token when the app is set; else (a
/// pasted token, no app) unknown, treated as not expiring.
async fn info(ctx: &Ctx, token: &str) -> Result<Option<TokenInfo>, ConnectError> {
    let Some(app) = &ctx.settings.connect.meta_app else {
        return Ok(None);
    };
    let (status, body) = get(ctx, &meta::debug_request(app, token), "the access token").await?;
    meta::parse_debug(status, &body).map(Some)
}

/// Who the token acts as, and the datasets it reaches: the picker's choices.
async fn choices(
    ctx: &Ctx,
    token: &str,
    expires_at_ms: Option<u64>,
) -> Result<Value, ConnectError> {
    let graph = ctx.settings.connect.graph();
    let (status, body) = get(ctx, &meta::me_request(&graph, token), "the access token").await?;
    let name = meta::parse_me(status, &body)?;
    let info = info(ctx, token).await?;
    let (status, body) = get(
        ctx,
        &meta::datasets_request(&graph, token),
        "listing the datasets",
    )
    .await?;
    let datasets = meta::parse_datasets(status, &body)?;
    if datasets.is_empty() {
        return Err(ConnectError::NotReachable(
            "this token reaches no dataset (pixel): give the user or system user access to the shop's dataset in Business Settings".into(),
        ));
    }
    let kind = info
        .as_ref()
        .map_or_else(|| "USER".to_owned(), |i| i.kind.clone());
    // debug_token is authoritative (a system user's `expires_at: 0` is never).
    let expires = info.as_ref().map_or(expires_at_ms, |i| i.expires_at_ms);
    let scopes = info.map(|i| i.scopes).unwrap_or_default();
    Ok(
        json!({ "datasets": datasets, "name": name, "kind": kind, "expires_at_ms": expires, "scopes": scopes }),
    )
}

/// Exchanges the login code, then for a long-lived token.
pub(super) async fn exchange(ctx: &Ctx, code: &str) -> Result<(String, Value), Fail> {
    let app = app(ctx)?;
    let req = meta::code_exchange_request(app, code, &ctx.redirect_uri(P));
    let (status, body) = get(ctx, &req, "the login code").await?;
    let short = meta::parse_token(status, &body, ctx.now_ms)?;
    // "Long-Lived Access Tokens": a short-lived user token lasts about an hour.
    let (status, body) = get(
        ctx,
        &meta::long_lived_request(app, &short.token),
        "the long-lived token",
    )
    .await?;
    let long = meta::parse_token(status, &body, ctx.now_ms)?;
    let choices = choices(ctx, &long.token, long.expires_at_ms).await?;
    Ok((long.token, choices))
}

/// `POST …/meta/token`: a pasted (system-user) token, checked with harmless calls, then the
/// picker, as after a login.
pub(super) async fn pasted(ctx: &Ctx, token: &str) -> Connected {
    if token.len() < 20 || token.len() > 1024 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConnectError::NotReachable("that does not look like a Meta access token: paste the whole token from Business Settings → System users".into()).into());
    }
    let choices = choices(ctx, token, None).await?;
    let state = flow::new_state(&runtime::random_bytes()?);
    let hash = flow::state_hash(&state);
    let started = Flow {
        provider: P,
        session_tag: ctx.session_tag.clone(),
        stage: Stage::Started,
        started_at_ms: ctx.now_ms,
    };
    connect_flows::start_flow(&ctx.db, &hash, &started, None).await?;
    keep_grant(ctx, P, &hash, token, &choices).await
}

/// The connection for the dataset picked, after reading it once with the token.
pub(super) async fn chosen(
    ctx: &Ctx,
    choices: &Value,
    dataset: &str,
    token: &str,
) -> Result<Connection, Fail> {
    let datasets: Vec<Dataset> =
        serde_json::from_value(choices["datasets"].clone()).unwrap_or_default();
    let Some(d) = datasets.into_iter().find(|d| d.id == dataset) else {
        return Err(ConnectError::NotReachable(format!(
            "dataset {dataset:?} is not one this token reaches: pick one from the list"
        ))
        .into());
    };
    let graph = ctx.settings.connect.graph();
    let (status, body) = get(
        ctx,
        &meta::dataset_check_request(&graph, token, &d.id),
        "reading the dataset",
    )
    .await?;
    let name = meta::parse_dataset_check(status, &body)?;
    let text = |k: &str| choices[k].as_str().unwrap_or_default().to_owned();
    Ok(Connection {
        provider: Some(P),
        account_id: d.id,
        account_name: if name.is_empty() { d.name } else { name },
        login_id: None,
        connected_as: text("name"),
        kind: text("kind"),
        scopes: choices["scopes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        connected_at_ms: ctx.now_ms,
        expires_at_ms: choices["expires_at_ms"].as_u64(),
    })
}
