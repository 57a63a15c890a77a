//! `ar-worker`: the edge half of Active Reach Conversions, a thin `workers-rs` shell.
//!
//! It routes requests, reads bindings and config, calls `ar-shared` for every rule, and performs
//! the IO that `ar-shared` describes. It holds no business rule of its own.

mod pixel_assets;
mod routes;
mod runtime;

use worker::{Context, Env, Request, Response, Result, event};

/// Entry point for every HTTP request that reaches the worker.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::handle(req, &env).await
}
