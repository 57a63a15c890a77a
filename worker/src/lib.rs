//! `ar-worker`: the edge half of Active Reach Conversions, a thin `workers-rs` shell.
//!
//! It routes requests, reads bindings and settings, calls `ar-shared` for every rule, and performs
//! the IO that `ar-shared` describes: D1 reads and writes, Queue sends, `fetch` to the platforms,
//! `Set-Cookie` on storefront responses. It holds no business rule of its own.

mod bindings;
mod crypto;
mod delivery;
mod error;
mod ingest;
mod queue;
mod routes;
mod runtime;
mod settings;
mod store;
mod visit;

use worker::{
    Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent, event,
};

/// Every HTTP request that reaches the worker.
#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    routes::handle(req, &env, &ctx).await
}

/// Batched events from the Queue (and the dead-letter queue).
#[event(queue)]
async fn consume(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    queue::consume(batch, &env).await
}

/// The cron trigger: flush batched events, retry due rows, prune old data.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    delivery::flush::run(&env).await;
}
