//! Names of the bindings declared in `wrangler.toml`, in one place.

/// D1 database: sessions, events, outbox, counters.
pub const DB: &str = "DB";
/// KV namespace: cached Google OAuth access token.
pub const KV: &str = "KV";
/// Queue producer for batched events.
pub const EVENTS_QUEUE: &str = "EVENTS";
/// The batched-events queue's name (consumer side).
pub const EVENTS_QUEUE_NAME: &str = "ar-events";
/// Its dead-letter queue.
pub const DEAD_LETTER_QUEUE_NAME: &str = "ar-events-dlq";
/// Rate limiter for pixel events per client (`[[ratelimits]]`; optional).
pub const COLLECT_LIMIT: &str = "COLLECT_LIMIT";
/// The pixel's files (`build/pixel/`), uploaded as the worker's static assets.
pub const ASSETS: &str = "ASSETS";
