//! D1 storage: session context (`sessions`), events and their per-platform outbox (`outbox`).

pub mod outbox;
pub mod sessions;
