//! Request routing: our own `/_ar/*` paths; everything else belongs to the storefront. Every
//! route returns `Result<Response, Error>`, and errors become answers here, in one place
//! (`crate::error`).

mod admin;
mod collect;
mod common;
mod config;
mod cors;
mod edge;
mod events;
mod home;
mod pixel;
mod proxy;

use worker::{Context, Env, Method, Request, Response, Result};

use crate::error::Error;

pub(crate) use common::settings;

/// Dispatches one request: our own `/_ar/*` paths, everything else to the storefront.
pub(crate) async fn handle(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let path = req.path();
    // A collect host on the shop's subdomain answers its allowed origins, errors included.
    let cors_origin = (path == "/_ar/collect")
        .then(|| cors::allowed_origin(&req, env))
        .flatten();
    let answer = match (req.method(), path.as_str()) {
        (Method::Get | Method::Head, p) if pixel::file(p).is_some() => {
            pixel::serve(&req, env).await
        }
        (Method::Get | Method::Head, "/_ar/config") => config::config(&req, env).await,
        (Method::Get | Method::Head, "/_ar/region") => config::region(&req, env),
        (Method::Options, "/_ar/config" | "/_ar/region" | "/_ar/collect") => {
            common::deploy_settings(env).and_then(|s| cors::preflight(&req, &s))
        }
        (Method::Post, "/_ar/collect") => collect::handle(req, env, ctx).await,
        (Method::Post, "/_ar/events") => events::handle(req, env, ctx).await,
        (_, "/_ar/collect" | "/_ar/events") => Err(Error::MethodNotAllowed("use POST")),
        (_, p) if p == "/_ar/health" || p.starts_with("/_ar/admin") => {
            admin::handle(req, env).await
        }
        (_, p) if p.starts_with("/_ar/") => Err(Error::NotFound("no such path under /_ar/")),
        _ => proxy::handle(req, env, ctx).await,
    };
    let response = answer.or_else(|e| e.response())?;
    if let Some(origin) = cors_origin
        && cors::set(response.headers(), &origin).is_err()
    {
        return Error::Internal("CORS headers refused".into()).response();
    }
    Ok(response)
}
