//! `ar-sandbox`: what stands around the worker when it runs on one machine.
//!
//! - **Fake platforms** ([`platforms`]): Meta Conversions API, Google Ads API (click uploads,
//!   conversion actions, search, the account list), Data Manager `events:ingest`, GA4
//!   Measurement Protocol, and the authorization servers of both (Google's consent page and
//!   token endpoint, Meta's login dialog and Graph reads), validating as strictly as the real ones (per
//!   `shared/reference/*.md`) and answering with their real error shapes.
//! - **Recording and inspection** ([`record`], [`counts`], [`inspect`], [`inspect_page`]): every
//!   request, the platforms' own dedup counts, a `/_sandbox/` HTML page.
//! - **Fault injection** ([`faults`]) and a **test-controlled clock** ([`clock`]).
//! - **Demo shop origin** ([`shop`]): product → cart → checkout → payment → thank-you, sign-up and
//!   lead forms, embedding the pixel; its backend reports orders to the worker.
//! - **Test harness** ([`harness`]): the real worker under `wrangler dev`, and ChromeDriver;
//!   a loopback-only load generator for `make bench` ([`load`]).
//!
//! This crate deliberately does not depend on `ar-shared` (outside its tests): its checks must be
//! able to disagree with the product.

pub mod bench_shots;
pub mod checks;
pub mod clock;
pub mod config;
pub mod config_accounts;
pub mod counts;
pub mod dev_config;
pub mod faults;
pub mod harness;
pub mod html;
pub mod inspect;
pub mod inspect_ledger;
pub mod inspect_oauth;
pub mod inspect_page;
pub mod load;
pub mod platforms;
pub mod record;
pub mod recording_proxy;
pub mod server;
pub mod shop;
pub mod state;

pub use config::{ReportMode, SandboxConfig, ShopConfig};
pub use server::Sandbox;
