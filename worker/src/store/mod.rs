//! D1 storage, one file per concept: the codec shared by all queries, events and their
//! merge-write, claims of outbox rows, retention, and session context. Storage only: every rule
//! about what is written is `ar_shared::delivery`'s.

pub(crate) mod adjustments;
pub(crate) mod claims;
pub(crate) mod codec;
pub(crate) mod connect_flows;
pub(crate) mod connections;
pub(crate) mod dataset_quality;
pub(crate) mod events;
pub(crate) mod failures;
pub(crate) mod google_actions;
pub(crate) mod health_counters;
pub(crate) mod mappings;
pub(crate) mod replays;
pub(crate) mod retention;
pub(crate) mod sessions;
mod writes;
