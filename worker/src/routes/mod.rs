//! Request routing: our own `/_ar/*` paths; everything else belongs to the storefront.

mod admin;
mod collect;
mod events;
mod home;
mod pixel;
mod proxy;

use worker::{Context, Env, Method, Request, Response, Result};

/// Dispatches one request: our own `/_ar/*` paths, everything else to the storefront.
pub async fn handle(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Get | Method::Head, "/_ar/pixel.js") => pixel::script(),
        (Method::Get | Method::Head, "/_ar/pixel.wasm") => pixel::wasm(),
        (Method::Post, "/_ar/collect") => collect::handle(req, env, ctx).await,
        (Method::Post, "/_ar/events") => events::handle(req, env, ctx).await,
        (_, "/_ar/collect" | "/_ar/events") => error_json(405, "method_not_allowed", "use POST"),
        (_, p) if p == "/_ar/health" || p.starts_with("/_ar/admin") => {
            admin::handle(req, env, ctx).await
        }
        (_, p) if p.starts_with("/_ar/") => {
            error_json(404, "not_found", "no such path under /_ar/")
        }
        _ => proxy::handle(req, env, ctx).await,
    }
}

/// A JSON error body `{"error": code, "message": message}` with `status`.
pub fn error_json(status: u16, code: &str, message: &str) -> Result<Response> {
    let body = serde_json::json!({ "error": code, "message": message });
    Ok(Response::from_json(&body)?.with_status(status))
}

/// The request body, or `None` once it passes `max` bytes. Reads the stream chunk by chunk and
/// stops there, so a body sent without a `Content-Length` (chunked) or with a false one cannot
/// make the worker buffer more than `max` plus one chunk.
pub async fn read_body_capped(req: &mut Request, max: usize) -> Result<Option<Vec<u8>>> {
    use futures_util::StreamExt;
    if req.inner().body().is_none() {
        return Ok(Some(Vec::new()));
    }
    let mut stream = req.stream()?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
