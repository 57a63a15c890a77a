//! "Connect Google" and "Connect Meta" (README "Connect accounts"): the routes under
//! `/_ar/admin/connect/`, and what they share. Every rule — the state and its binding to this
//! console session, PKCE, what the platforms' answers mean, what is sealed under which associated
//! data — is `ar_shared::connect`'s; this file does the IO.
//!
//! - `POST …/{google|meta}` starts a sign-in: a random `state` (and Google's PKCE verifier,
//!   sealed) stored under the state's hash with a tag of the session cookie; the answer sends the
//!   browser on to the platform (a page that navigates, since the console's CSP keeps forms on
//!   this origin).
//! - `GET …/{p}/callback` comes back cross-site, where the `SameSite=Strict` session cookie is
//!   not sent: it is answered before the console's sign-in check (`admin::route`) with a page
//!   that navigates, same-site, to `…/{p}/finish` with the same query, where the cookie is sent
//!   and checked.
//! - `GET …/{p}/finish` checks the flow, takes it for its one exchange, exchanges the code,
//!   lists the accounts, keeps the grant sealed, and shows the picker; `POST …/{p}/pick` stores
//!   the connection and forgets the flow. `POST …/meta/token` takes a pasted system-user token
//!   instead of a login. `POST …/{p}/disconnect` deletes the connection.
//!
//! Failures never store anything and say what happened on the console (`connect_page`).

use ar_shared::connect::credential::{self, Sealed, SealingKey, flow_aad};
use ar_shared::connect::flow::{self, Callback, Flow, Stage};
use ar_shared::connect::{ConnectError, Provider};
use ar_shared::platform::request::HttpRequest;
use ar_shared::settings::Settings;
use worker::{D1Database, Env, Method, Request, Response, Url};

use super::{auth, connect_google, connect_meta, connect_page};
use crate::delivery::send::fetch;
use crate::error::{Error, RouteResult};
use crate::store::connections;
use crate::{bindings, crypto, runtime, settings};

/// Why a connect route failed: the sign-in itself (shown on the console page, nothing stored),
/// or the worker (D1, the runtime: the usual error answer).
pub(super) enum Fail {
    /// The sign-in failed.
    Connect(ConnectError),
    /// The worker failed.
    Worker(Error),
}

impl From<ConnectError> for Fail {
    fn from(e: ConnectError) -> Self {
        Self::Connect(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Self::Worker(e)
    }
}

impl From<worker::Error> for Fail {
    fn from(e: worker::Error) -> Self {
        Self::Worker(Error::Store(e))
    }
}

/// A connect route's result.
pub(super) type Connected = Result<Response, Fail>;

/// What every connect route works with.
pub(super) struct Ctx {
    pub env: Env,
    pub settings: Settings,
    pub db: D1Database,
    pub key: SealingKey,
    pub session_tag: String,
    /// `https://shop.example` — the redirect URIs are on the host the console is served from.
    pub origin: String,
    pub now_ms: u64,
}

impl Ctx {
    /// The redirect URI registered with `provider`.
    pub fn redirect_uri(&self, provider: Provider) -> String {
        format!("{}{}", self.origin, provider.callback_path())
    }

    /// Sends `req` and returns status and body; `None` when the platform did not answer.
    pub async fn call(&self, req: &HttpRequest) -> Option<(u16, String)> {
        fetch(req).await.ok()
    }

    /// Seals `plaintext` with `aad`.
    pub async fn seal(&self, aad: &[u8], plaintext: &str) -> Result<String, Fail> {
        Ok(crypto::seal(&self.key, aad, plaintext).await?.to_text())
    }

    /// Opens a sealed text; `Undecryptable` when it does not open.
    pub async fn open(
        &self,
        provider: Provider,
        aad: &[u8],
        text: Option<&str>,
    ) -> Result<String, ConnectError> {
        let sealed = text
            .and_then(Sealed::parse)
            .ok_or(ConnectError::Undecryptable(provider.label()))?;
        crypto::open(&self.key, aad, &sealed)
            .await
            .ok_or(ConnectError::Undecryptable(provider.label()))
    }
}

/// Dispatches `/_ar/admin/connect/…` (`rest` is what follows it). The caller has checked the
/// console credential.
pub(super) async fn route(mut req: Request, env: &Env, url: &Url, rest: &str) -> RouteResult {
    let (name, action) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(provider) = Provider::parse(name) else {
        return Err(Error::NotFound("connect google or meta"));
    };
    let method = req.method();
    if (method.clone(), action) == (Method::Post, "retry") {
        return retry(&req, env, provider).await;
    }
    let ctx = match context(&req, env, url).await {
        Ok(ctx) => ctx,
        Err(e) => return connect_page::problem(provider, &e),
    };
    let answer = match (method, provider, action) {
        (Method::Post, _, "") => start(&ctx, provider).await,
        (Method::Get, _, "finish") => finish(&ctx, provider, url).await,
        (Method::Post, _, "pick") => {
            let form = form(&mut req).await?;
            pick(&ctx, provider, &form).await
        }
        (Method::Post, Provider::Meta, "token") => {
            let form = form(&mut req).await?;
            connect_meta::pasted(&ctx, field(&form, "token")).await
        }
        (Method::Post, _, "disconnect") => disconnect(&ctx, provider).await,
        _ => {
            return Err(Error::MethodNotAllowed(
                "see \"Connect accounts\" in README.md",
            ));
        }
    };
    match answer {
        Ok(response) => Ok(response),
        Err(Fail::Connect(e)) => connect_page::problem(provider, &e),
        Err(Fail::Worker(e)) => Err(e),
    }
}

async fn context(req: &Request, env: &Env, url: &Url) -> Result<Ctx, ConnectError> {
    let not_configured = |m: &str| ConnectError::NotConfigured(m.to_owned());
    let settings = settings::current(env).await.map_err(|p| {
        not_configured(&format!(
            "the settings have problems: {}",
            p.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let key = settings
        .connect
        .credentials_key
        .as_ref()
        .ok_or_else(|| not_configured("connecting needs CREDENTIALS_KEY: `openssl rand -base64 32 | wrangler secret put CREDENTIALS_KEY`"))
        .and_then(|k| credential::sealing_key(&k.0).map_err(ConnectError::NotConfigured))?;
    let session = auth::session_cookie(req).ok_or_else(|| {
        not_configured("connecting needs a console session: sign in at /_ar/admin in a browser")
    })?;
    let db = env
        .d1(bindings::DB)
        .map_err(|_| not_configured("the DB binding is missing"))?;
    Ok(Ctx {
        env: env.clone(),
        settings,
        db,
        key,
        session_tag: flow::session_tag(&session),
        origin: url.origin().ascii_serialization(),
        now_ms: runtime::now_ms(),
    })
}

async fn form(req: &mut Request) -> Result<Vec<(String, String)>, Error> {
    let body =
        super::super::common::body_capped(req, 16 * 1024, "connect forms are limited to 16 KiB")
            .await?;
    Ok(form_urlencoded::parse(&body).into_owned().collect())
}

/// The first value of form field `name`.
pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

async fn start(ctx: &Ctx, provider: Provider) -> Connected {
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
    connections::start_flow(&ctx.db, &state_hash, &flow, sealed.as_deref()).await?;
    Ok(connect_page::go_to(provider, &url)?)
}

/// The flow under `state_hash`, checked for `stage` in this session.
pub(super) async fn checked_flow(
    ctx: &Ctx,
    provider: Provider,
    state_hash: &str,
    stage: Stage,
) -> Result<connections::StoredFlow, Fail> {
    let stored = connections::flow(&ctx.db, state_hash).await?;
    flow::check(
        stored.as_ref().map(|s| &s.flow),
        provider,
        stage,
        &ctx.session_tag,
        ctx.now_ms,
    )?;
    Ok(stored.ok_or(ConnectError::UnknownState(provider.label()))?)
}

async fn finish(ctx: &Ctx, provider: Provider, url: &Url) -> Connected {
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
                let _ = connections::delete_flow(&ctx.db, &hash).await;
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
    if !connections::take_started(&ctx.db, &hash).await? {
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
            let _ = connections::delete_flow(&ctx.db, &hash).await;
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
    connections::grant(&ctx.db, hash, &sealed, &choices.to_string()).await?;
    Ok(connect_page::picker(provider, hash, choices)?)
}

async fn pick(ctx: &Ctx, provider: Provider, form: &[(String, String)]) -> Connected {
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
    let _ = connections::delete_flow(&ctx.db, hash).await;
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

/// `POST …/{p}/retry` ("Try again", also the admin API): forgets the refusal of the credential in
/// use, so delivery resumes with it — for a credential the platform accepts again (Meta's 190 after
/// the app's access was restored, a Google grant re-allowed). If it is still refused, the next
/// send pauses the platform again. A form gets the console's confirmation, the API JSON.
async fn retry(req: &Request, env: &Env, provider: Provider) -> RouteResult {
    let db = env.d1(bindings::DB)?;
    connections::clear_refusal(&db, provider)
        .await
        .map_err(Error::Store)?;
    settings::mappings_changed();
    let ids = connections::wake_waiting(&db, waiting_platforms(provider), runtime::now_ms(), 1_000)
        .await
        .map_err(Error::Store)?;
    let waiting = ids.len();
    crate::delivery::wake_now(env, ids).await;
    let text = format!(
        "{}: delivery resumed with the credential in use; {waiting} waiting event(s) sent again. If {} still refuses it, delivery pauses again.",
        provider.label(),
        provider.label()
    );
    if req.headers().get("authorization")?.is_some() {
        return Ok(Response::from_json(&serde_json::json!({
            "provider": provider.as_str(), "resumed": true, "waiting": waiting,
        }))?);
    }
    Ok(connect_page::done(provider, &text)?)
}

fn waiting_platforms(provider: Provider) -> &'static [&'static str] {
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

async fn disconnect(ctx: &Ctx, provider: Provider) -> Connected {
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
