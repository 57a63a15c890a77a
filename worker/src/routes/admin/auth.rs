//! Who may use the admin pages (DESIGN §6).
//!
//! - The API (`/_ar/health`, `/_ar/admin/test`, `/_ar/admin/replay`) takes
//!   `Authorization: Bearer <ADMIN_TOKEN>`.
//! - A browser signs in once: the token posted to `/_ar/admin/login` (or, for old bookmarks,
//!   `?token=` on `/_ar/admin`, answered with a redirect to the clean URL) buys a short-lived
//!   session cookie, `HttpOnly; Secure; SameSite=Strict; Path=/_ar/`, made with a key derived from
//!   the token (`ar_shared::tokens`), so the token itself never stays in the address bar, the
//!   history or a log line, and changing the token ends every session.
//! - `ADMIN_TOKEN` must be at least [`MIN_TOKEN_LEN`] characters; the admin is off (503) until
//!   it is. Set it with `wrangler secret put`: the runtime cannot tell a secret from a `[vars]`
//!   entry, so `scripts/check-config.sh` refuses secrets in `wrangler.toml`.
//! - Failed attempts are counted per client address over any minute (not per calendar minute,
//!   which would allow twice as many across a minute's edge): after [`FAILURES_PER_MINUTE`] the
//!   client gets 429, whatever it sends, until the oldest of those failures is a minute old.

use std::cell::RefCell;

use ar_shared::rate_limit::{FailureLimiter, RateDecision, client_key};
use ar_shared::signature::{DerivedKey, KeyPurpose, derive_key};
use ar_shared::tokens::{is_admin_session, mint_admin_session};
use ar_shared::visit::client_ip_from;
use worker::{Env, Request, Response, Url};

use crate::error::Error;
use crate::runtime;
use crate::visit::RequestFacts;

/// Shortest admin token accepted.
pub(super) const MIN_TOKEN_LEN: usize = 24;
/// Failed sign-ins one client may make per minute.
const FAILURES_PER_MINUTE: u32 = 10;
/// The session cookie.
const SESSION_COOKIE: &str = "_ar_admin";
/// How long a session lasts.
const SESSION_SECS: u64 = 60 * 60;

thread_local! {
    static FAILURES: RefCell<FailureLimiter> = const {
        RefCell::new(FailureLimiter::new(FAILURES_PER_MINUTE))
    };
}

/// The admin token, when it is set and long enough.
///
/// # Errors
/// [`Error::AdminDisabled`] otherwise.
pub(super) fn admin_token(env: &Env) -> Result<String, Error> {
    let token = env
        .secret("ADMIN_TOKEN")
        .ok()
        .map(|s| s.to_string())
        .or_else(|| env.var("ADMIN_TOKEN").ok().map(|v| v.to_string()))
        .unwrap_or_default();
    if token.trim().len() < MIN_TOKEN_LEN {
        return Err(Error::AdminDisabled);
    }
    Ok(token)
}

fn session_key(token: &str) -> DerivedKey {
    derive_key(token.as_bytes(), KeyPurpose::AdminSession)
}

/// Equal bytes, compared without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn client(req: &Request) -> String {
    let facts = RequestFacts::of(req).ok();
    let ip = facts.and_then(|f| {
        client_ip_from(
            f.cf_connecting_ip.as_deref(),
            f.x_forwarded_for.as_deref(),
            f.x_real_ip.as_deref(),
        )
    });
    client_key(ip.as_deref().unwrap_or("unknown"))
}

/// How a request presents itself.
pub(super) enum Credential {
    /// A valid bearer token or session cookie.
    Valid,
    /// A valid `?token=` on the page URL: answer with a session and a clean URL.
    ValidInUrl,
    /// Nothing valid.
    Missing,
}

/// Checks the request's bearer token, session cookie or `?token=`; counts failures.
///
/// # Errors
/// [`Error::AdminDisabled`], [`Error::RateLimited`] for a client over its failures,
/// [`Error::AdminUnauthorized`] for a wrong token.
pub(super) fn check(req: &Request, url: &Url, token: &str) -> Result<Credential, Error> {
    let client = client(req);
    let now = runtime::now_ms();
    if let RateDecision::Limited { retry_after_secs } =
        FAILURES.with(|l| l.borrow().peek(&client, now))
    {
        return Err(Error::RateLimited { retry_after_secs });
    }
    let headers = req.headers();
    let bearer = headers
        .get("authorization")?
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
    let session = session_cookie(req);
    let in_url = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    let key = session_key(token);
    if bearer
        .as_deref()
        .is_some_and(|b| same(b.as_bytes(), token.as_bytes()))
        || session.is_some_and(|s| is_admin_session(&key, &s, now / 1000))
    {
        return Ok(Credential::Valid);
    }
    if in_url
        .as_deref()
        .is_some_and(|t| same(t.as_bytes(), token.as_bytes()))
    {
        return Ok(Credential::ValidInUrl);
    }
    if bearer.is_some() || in_url.is_some() {
        FAILURES.with(|l| l.borrow_mut().record(&client, now));
        return Err(Error::AdminUnauthorized);
    }
    Ok(Credential::Missing)
}

/// The console session cookie's value, if the request carries one (checked by [`check`]).
pub(super) fn session_cookie(req: &Request) -> Option<String> {
    let cookie = req
        .headers()
        .get("cookie")
        .ok()
        .flatten()
        .unwrap_or_default();
    cookie
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Counts a failed sign-in form post.
pub(super) fn failed(req: &Request) {
    let client = client(req);
    FAILURES.with(|l| l.borrow_mut().record(&client, runtime::now_ms()));
}

/// Whether `presented` (a posted token) is the admin token.
pub(super) fn is_token(presented: &str, token: &str) -> bool {
    same(presented.trim().as_bytes(), token.as_bytes())
}

/// A 303 to `/_ar/admin` that signs the browser in.
///
/// # Errors
/// Runtime failures building the response.
pub(super) fn sign_in(token: &str) -> Result<Response, Error> {
    let expires = runtime::now_ms() / 1000 + SESSION_SECS;
    let session = mint_admin_session(&session_key(token), expires);
    let response = Response::empty()?.with_status(303);
    let headers = response.headers();
    headers.set("location", "/_ar/admin")?;
    headers.set(
        "set-cookie",
        &format!(
            "{SESSION_COOKIE}={session}; Max-Age={SESSION_SECS}; Path=/_ar/; HttpOnly; Secure; SameSite=Strict"
        ),
    )?;
    Ok(response)
}

/// Every admin answer: not cached, not framed, no referrer, no script or outside resource.
///
/// # Errors
/// Runtime failures setting headers.
pub(super) fn secure(response: Response) -> Result<Response, Error> {
    let h = response.headers();
    h.set("cache-control", "no-store")?;
    h.set("referrer-policy", "no-referrer")?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("x-frame-options", "DENY")?;
    h.set(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    )?;
    Ok(response)
}
