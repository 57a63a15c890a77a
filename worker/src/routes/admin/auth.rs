//! Who may use the admin pages: `Authorization: Bearer <ADMIN_TOKEN>` (the HTML page also
//! accepts `?token=`, for a browser); 401 otherwise, 503 while `ADMIN_TOKEN` is not set.

use worker::{Env, Method, Request, Url};

use crate::error::Error;

/// Passes when the request presents the admin token.
pub(super) fn check(req: &Request, url: &Url, env: &Env) -> Result<(), Error> {
    let Some(expected) = admin_token(env) else {
        return Err(Error::AdminDisabled);
    };
    let bearer = req
        .headers()
        .get("authorization")?
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
    let html = req.method() == Method::Get && url.path() == "/_ar/admin";
    let query_token = || {
        url.query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    };
    let presented = bearer.or_else(|| if html { query_token() } else { None });
    if presented.is_some_and(|t| same(t.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(Error::AdminUnauthorized)
    }
}

fn admin_token(env: &Env) -> Option<String> {
    env.secret("ADMIN_TOKEN")
        .ok()
        .map(|s| s.to_string())
        .or_else(|| env.var("ADMIN_TOKEN").ok().map(|v| v.to_string()))
        .filter(|t| !t.trim().is_empty())
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
