//! Helpers every route shares: settings, bodies, session context.

use ar_shared::record::SessionContext;
use ar_shared::settings::Settings;
use worker::{Context, Env, Request, console_error};

use crate::error::Error;
use crate::store::sessions;
use crate::{bindings, runtime};

/// The settings with the console's event mappings (`crate::settings::current`), or
/// [`Error::NotConfigured`]: tracking is off, and `/_ar/health` names what to fix (never a
/// silent drop, never an answer that echoes configuration).
pub(crate) async fn settings(env: &Env) -> Result<Settings, Error> {
    crate::settings::current(env)
        .await
        .map_err(|problems| Error::NotConfigured(problems.iter().map(|p| p.name).collect()))
}

/// The settings from the vars and secrets alone, for answers that need no event mapping (CORS,
/// the visitor's region).
pub(crate) fn deploy_settings(env: &Env) -> Result<Settings, Error> {
    crate::settings::load(env)
        .map_err(|problems| Error::NotConfigured(problems.iter().map(|p| p.name).collect()))
}

/// The `Content-Length` the client declared, if it is a number.
pub(crate) fn declared_length(req: &Request) -> Option<usize> {
    req.headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok())
}

/// The request body, or [`Error::TooLarge`] once it passes `max` bytes (declared or actual). Reads
/// the stream chunk by chunk and stops there, so a body sent without a `Content-Length` (chunked)
/// or with a false one cannot make the worker buffer more than `max` plus one chunk.
pub(crate) async fn body_capped(
    req: &mut Request,
    max: usize,
    limit: &'static str,
) -> Result<Vec<u8>, Error> {
    use futures_util::StreamExt;
    if declared_length(req).is_some_and(|n| n > max) {
        return Err(Error::TooLarge(limit));
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream()?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > max {
            return Err(Error::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The stored context of `session_id`. A D1 failure is logged and costs only the stored
/// context: the event itself is still accepted.
pub(crate) async fn stored_session(env: &Env, session_id: &str) -> Option<SessionContext> {
    let db = env
        .d1(bindings::DB)
        .inspect_err(|e| console_error!("ar: D1 binding {} unavailable: {e}", bindings::DB))
        .ok()?;
    sessions::get(&db, session_id)
        .await
        .inspect_err(|e| console_error!("ar: reading session context failed: {e}"))
        .ok()
        .flatten()
}

/// Merges what this request saw into the stored session context, after the response (the write
/// happens only when something changed; `ar_shared::session_update`).
pub(crate) fn update_session_later(
    env: &Env,
    ctx: &Context,
    session_id: String,
    stored: Option<SessionContext>,
    seen: SessionContext,
) {
    let env = env.clone();
    ctx.wait_until(async move {
        let Ok(db) = env.d1(bindings::DB) else {
            return;
        };
        if let Err(e) = sessions::upsert(&db, &session_id, stored, &seen, runtime::now_ms()).await {
            console_error!("ar: writing session context failed: {e}");
        }
    });
}

/// Fresh randomness for an event ID, or an internal error.
pub(crate) fn random() -> Result<[u8; 16], Error> {
    runtime::random_bytes().map_err(|e| Error::Internal(format!("randomness: {e}")))
}

/// Whether the request's `If-None-Match` names `etag` (a quoted version; weak or strong, one of
/// a list) or is `*` (any current representation): the answer is then a `304` (RFC 9110
/// §13.1.2).
pub(crate) fn not_modified(req: &Request, etag: &str) -> bool {
    req.headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
        })
}
