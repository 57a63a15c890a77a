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

use ar_shared::connect::credential::{self, Sealed, SealingKey};
use ar_shared::connect::flow;
use ar_shared::connect::{ConnectError, Provider};
use ar_shared::platform::request::HttpRequest;
use ar_shared::settings::Settings;
use worker::{D1Database, Env, Method, Request, Response, Url};

use super::{auth, connect_flow, connect_meta, connect_page};
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
        (Method::Post, _, "") => connect_flow::start(&ctx, provider).await,
        (Method::Get, _, "finish") => connect_flow::finish(&ctx, provider, url).await,
        (Method::Post, _, "pick") => {
            let form = form(&mut req).await?;
            connect_flow::pick(&ctx, provider, &form).await
        }
        (Method::Post, Provider::Meta, "token") => {
            let form = form(&mut req).await?;
            connect_meta::pasted(&ctx, field(&form, "token")).await
        }
        (Method::Post, _, "disconnect") => connect_flow::disconnect(&ctx, provider).await,
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
    let ids = connections::wake_waiting(
        &db,
        connect_flow::waiting_platforms(provider),
        runtime::now_ms(),
        1_000,
    )
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
