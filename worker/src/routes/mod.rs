//! Request routing: our own `/_ar/*` paths; everything else belongs to the storefront.

mod collect;
mod home;
mod pixel;

use worker::{Env, Method, Request, Response, Result};

/// Dispatches one request.
pub async fn handle(req: Request, env: &Env) -> Result<Response> {
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Get | Method::Head, "/_ar/pixel.js") => pixel::script(),
        (Method::Get | Method::Head, "/_ar/pixel.wasm") => pixel::wasm(),
        (Method::Post, "/_ar/collect") => collect::handle(req, env).await,
        (_, "/_ar/collect") => error_json(405, "method_not_allowed", "use POST"),
        (Method::Get, "/") => home::page(),
        _ => error_json(404, "not_found", "no such path"),
    }
}

/// A JSON error body `{"error": code, "message": message}` with `status`.
pub fn error_json(status: u16, code: &str, message: &str) -> Result<Response> {
    let body = serde_json::json!({ "error": code, "message": message });
    Ok(Response::from_json(&body)?.with_status(status))
}
