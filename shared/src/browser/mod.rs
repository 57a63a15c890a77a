//! The browser pixel's rules: everything the pixel decides, in one place, so that the browser's
//! tag calls and the worker's server copies follow the same mapping, IDs and consent.
//!
//! - [`config`]: what the worker serves the pixel (`GET /_ar/config`), and its version.
//! - [`region`]: the per-request consent region default (`GET /_ar/region`).
//! - [`tags`]: the `fbq` / `gtag` calls for an event, with the shared event ID.
//! - [`send_to`]: a Google Ads conversion tag target, `AW-…/label`.
//!
//! The pixel (`pixel/`) reads the page and calls browser APIs; it holds no rule of its own.

pub mod config;
pub mod region;
pub mod send_to;
#[cfg(feature = "server")]
pub mod served;
pub mod tags;

pub use config::{PixelConfig, PixelEvent};
pub use send_to::SendTo;
