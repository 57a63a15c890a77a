//! `ar-shared`: the pure core of Active Reach Conversions.
//!
//! Every rule that the browser pixel and the edge worker must agree on lives here, once: event
//! names, validation and platform mapping, stable event IDs, click IDs and the cookies that carry
//! them, consent, PII normalization and hashing, match quality, and (behind the `server` feature)
//! the JSON wire formats, the Public Suffix List and the platform requests.
//!
//! What this crate deliberately does not do: IO of any kind, reading a clock or a random source.
//! Time and random bytes are arguments; functions return descriptions (an ID, cookies to set, a
//! request to send, a verdict with a reason) that the `pixel` and `worker` shells act on.
//!
//! Features: without `server` (the pixel's build) the crate links no `serde_json`, no PSL and no
//! date formatting, to keep the browser module small.

pub mod browser;
pub mod click_ids;
pub mod consent;
pub mod cookies;
pub mod event;
pub mod event_id;
pub mod event_rules;
pub mod mapping;
pub mod match_quality;
pub mod pii;
pub mod text;

#[cfg(feature = "server")]
pub mod adjustment;
#[cfg(feature = "server")]
pub mod connect;
#[cfg(feature = "server")]
pub mod console;
#[cfg(feature = "server")]
pub mod delivery;
#[cfg(feature = "server")]
pub mod domain;
#[cfg(feature = "server")]
pub mod health_counters;
#[cfg(feature = "server")]
pub mod health_report;
#[cfg(feature = "server")]
pub mod mapping_config;
#[cfg(feature = "server")]
pub mod money;
#[cfg(feature = "server")]
pub mod outbound;
#[cfg(feature = "server")]
pub mod page_url;
#[cfg(feature = "server")]
pub mod platform;
#[cfg(feature = "server")]
pub mod record;
#[cfg(feature = "server")]
pub mod sample_event;
#[cfg(feature = "server")]
pub mod settings;
#[cfg(feature = "server")]
pub mod signature;
#[cfg(feature = "server")]
pub mod tokens;
#[cfg(feature = "server")]
pub mod trust;
#[cfg(feature = "server")]
pub mod wire;

#[cfg(feature = "server")]
pub mod collect_guard;
#[cfg(feature = "server")]
pub mod edge_event;
#[cfg(feature = "server")]
pub mod event_report;
#[cfg(feature = "server")]
pub mod proxy;
#[cfg(feature = "server")]
pub mod rate_limit;
#[cfg(feature = "server")]
pub mod session_update;
#[cfg(feature = "server")]
pub mod visit;

pub use event::EventName;
pub use event_id::EventId;
