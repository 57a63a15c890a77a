//! `ar-shared`: the pure core of Active Reach Conversions.
//!
//! Every rule that the browser pixel and the edge worker must agree on lives here, once:
//! event names and their validation, stable event IDs, and (behind the `server` feature) the JSON
//! wire format the worker accepts.
//!
//! What this crate deliberately does not do: IO of any kind, reading a clock or a random source.
//! Time and random bytes are arguments; functions return descriptions (an ID, a validated event,
//! an error naming the field) that the `pixel` and `worker` shells act on.

pub mod event;
pub mod event_id;

#[cfg(feature = "server")]
pub mod wire;

pub use event::EventName;
pub use event_id::EventId;
