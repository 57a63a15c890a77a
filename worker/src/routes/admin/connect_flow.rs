//! The steps of a sign-in (README "Connect accounts"; `connect` has the routes): start, the
//! callback's exchange, the picker, the pick, disconnecting. Every rule is `ar_shared::connect`'s.

use ar_shared::connect::credential::{self, flow_aad};
use ar_shared::connect::flow::{self, Callback, Flow, Stage};
use ar_shared::connect::{ConnectError, Provider};
use worker::Url;

use super::connect::{Connected, Ctx, Fail, field};
use super::{connect_google, connect_meta, connect_page};
use crate::store::{connect_flows, connections};
use crate::{runtime, settings};

pub(super) async fn start(ctx: &Ctx, provider: Provider) -> Connected {
    let state = flow::new_state(&runtime::random_bytes()?);
    let state_hash = flow::state_hash(&state);
    let (url, sealed) = match provider {
        Provider::Google => {
            let (url, verifier) = connect_google::authorization(ctx, &state)?;
            let sealed = ctx
                .seal(&flow_aad(provider, &state_hash), &verifier)
                .await?;
            (url, Some(sealed))
        }
        Provider::Meta => (connect_meta::login_url(ctx, &state)?, None),
    };
    let flow = Flow {
        provider,
        session_tag: ctx.session_tag.clone(),
        stage: Stage::Started,
        started_at_ms: ctx.now_ms,
    };
    connect_flows::start_flow(&ctx.db, &state_hash, &flow, sealed.as_deref()).await?;
    Ok(connect_page::go_to(provider, &url)?)
}

/// The flow under `state_hash`, checked for `stage` in this session.
pub(super) async fn checked_flow(
    ctx: &Ctx,
    provider: Provider,
    state_hash: &str,
    stage: Stage,
) -> Result<connect_flows::StoredFlow, Fail> {
    let stored = connect_flows::flow(&ctx.db, state_hash).await?;
    flow::check(
        stored.as_ref().map(|s| &s.flow),
        provider,
        stage,
        &ctx.session_tag,
        ctx.now_ms,
    )?;
    Ok(stored.ok_or(ConnectError::UnknownState(provider.label()))?)
}

pub(super) async fn finish(ctx: &Ctx, provider: Provider, url: &Url) -> Connected {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let callback = Callback::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (code, state) = match callback {
        Callback::Code { code, state } => (code, state),
        Callback::Denied { error, state } => {
            // The merchant cancelled: forget the flow (if it is this session's).
            let hash = flow::state_hash(&state);
            if checked_flow(ctx, provider, &hash, Stage::Started)
                .await
                .is_ok()
            {
                let _ = connect_flows::delete_flow(&ctx.db, &hash).await;
            }
            return Err(ConnectError::Denied {
                provider: provider.label(),
                error,
            }
            .into());
        }
        Callback::Malformed => return Err(ConnectError::MalformedCallback(provider.label()).into()),
    };
    let hash = flow::state_hash(&state);
    let stored = checked_flow(ctx, provider, &hash, Stage::Started).await?;
    // One exchange per flow: a replayed or racing callback loses here.
    if !connect_flows::take_started(&ctx.db, &hash).await? {
        return Err(ConnectError::UnknownState(provider.label()).into());
    }
    let granted = match provider {
        Provider::Google => {
            let verifier = ctx
                .open(
                    provider,
                    &flow_aad(provider, &hash),
                    stored.sealed.as_deref(),
                )
                .await;
            match verifier {
                Ok(v) => connect_google::exchange(ctx, &code, &v).await,
                Err(_) => Err(ConnectError::MissingVerifier(provider.label()).into()),
            }
        }
        Provider::Meta => connect_meta::exchange(ctx, &code).await,
    };
    match granted {
        Ok((secret, choices)) => keep_grant(ctx, provider, &hash, &secret, &choices).await,
        Err(e) => {
            let _ = connect_flows::delete_flow(&ctx.db, &hash).await;
            Err(e)
        }
    }
}

/// Keeps a grant (sealed) and its choices under the flow, and shows the picker.
pub(super) async fn keep_grant(
    ctx: &Ctx,
    provider: Provider,
    hash: &str,
    secret: &str,
    choices: &serde_json::Value,
) -> Connected {
    let sealed = ctx.seal(&flow_aad(provider, hash), secret).await?;
    connect_flows::grant(&ctx.db, hash, &sealed, &choices.to_string()).await?;
    Ok(connect_page::picker(provider, hash, choices)?)
}

pub(super) async fn pick(ctx: &Ctx, provider: Provider, form: &[(String, String)]) -> Connected {
    let hash = field(form, "flow");
    let stored = checked_flow(ctx, provider, hash, Stage::Granted).await?;
    let choices: serde_json::Value = stored
        .choices
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let secret = ctx
        .open(
            provider,
            &flow_aad(provider, hash),
            stored.sealed.as_deref(),
        )
        .await?;
    let connection = match provider {
        Provider::Google => connect_google::chosen(ctx, &choices, field(form, "account"))?,
        Provider::Meta => {
            connect_meta::chosen(ctx, &choices, field(form, "account"), &secret).await?
        }
    };
    let sealed = ctx
        .seal(
            &credential::connection_aad(provider, &connection.account_id),
            &secret,
        )
        .await?;
    connections::save(&ctx.db, &connection, &sealed).await?;
    let _ = connect_flows::delete_flow(&ctx.db, hash).await;
    settings::mappings_changed();
    resume(ctx, provider).await;
    Ok(connect_page::done(
        provider,
        &format!(
            "{} connected: {} ({}).",
            provider.label(),
            connection.account_name,
            connection.account_id
        ),
    )?)
}

pub(super) fn waiting_platforms(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Google => &["data_manager"],
        Provider::Meta => &["meta"],
    }
}

/// After (re)connecting: rows that waited for the platform are due now, and go out with the
/// next send (the cron flush within five minutes, or the next event's real-time send).
async fn resume(ctx: &Ctx, provider: Provider) {
    let platforms = waiting_platforms(provider);
    if let Ok(ids) = connections::wake_waiting(&ctx.db, platforms, ctx.now_ms, 1_000).await {
        crate::delivery::wake_now(&ctx.env, ids).await;
    }
}

pub(super) async fn disconnect(ctx: &Ctx, provider: Provider) -> Connected {
    let stored = connections::list(&ctx.db).await?;
    if let Some(s) = stored
        .iter()
        .find(|s| s.connection.provider == Some(provider))
        && provider == Provider::Google
    {
        // Best effort: also revoke the grant at Google, so a copy of the row is worth nothing.
        let aad = credential::connection_aad(provider, &s.connection.account_id);
        if let Ok(refresh) = ctx.open(provider, &aad, Some(&s.sealed)).await {
            connect_google::revoke(ctx, &refresh).await;
        }
    }
    connections::delete(&ctx.db, provider).await?;
    settings::mappings_changed();
    Ok(connect_page::done(
        provider,
        &format!(
            "{} disconnected: its credential was deleted.",
            provider.label()
        ),
    )?)
}
