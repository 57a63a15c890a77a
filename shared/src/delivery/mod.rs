//! Delivery: from stored copies of an event to one server copy per platform (DESIGN §5).
//!
//! - [`merge`]: copies of one event meet the stored record and its outbox rows (pure; the worker
//!   reads D1 first and writes what this returns);
//! - [`plan`]: which outbox rows an event gets and how a new copy changes existing rows;
//! - [`run`]: one send run over claimed rows of one platform, as a state machine: it yields the
//!   requests to send, takes their answers and ends with one update per row;
//! - [`outcome`]: what one verdict does to one row (backoff, give up, skip, fail);
//! - [`message`]: the events queue's messages.
//!
//! Nothing here performs IO or reads a clock: `now` is an argument, requests are descriptions
//! and answers are handed in. The worker only stores, claims and fetches.

pub mod merge;
pub mod message;
pub mod outcome;
pub mod plan;
pub mod replay;
pub mod run;

#[cfg(test)]
pub(crate) mod fixtures;
