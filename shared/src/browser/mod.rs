//! The browser pixel's rules: everything the pixel decides, in one place, so that the browser's
//! tag calls and the worker's server copies follow the same mapping, IDs and consent.
//!
//! - [`capture`]: click IDs and `_fbc`/`_fbp` when the worker is not in front of the page.
//! - [`config`]: what the worker serves the pixel (`GET /_ar/config`), and its version.
//! - [`consent`]: what the tags are told about consent, and what `ar('consent')` writes.
//! - [`snippet`]: the inline snippet that runs before every tag.
//! - [`datalayer`]: GA4 e-commerce pushes as events, and the keyless rule.
//! - [`delivery`]: how an event gets to the worker from a shopper's device.
//! - [`event`]: what the page reports with `ar('track', …)`, checked, with its ID.
//! - [`files`]: the pixel's files and the versions that tie `pixel.js` to its modules.
//! - [`lead_form`]: `<form data-ar-lead>` forms and their lead id.
//! - [`region`]: the per-request consent region default (`GET /_ar/region`).
//! - [`tags`]: the `fbq` / `gtag` calls for an event, with the shared event ID.
//! - [`setup`]: which tags the pixel drives on a page, what it loads, which really fired.
//! - [`user`]: customer data hashed in the browser, and what the tags get of it.
//! - [`send_to`]: a Google Ads conversion tag target, `AW-…/label`.
//!
//! The pixel (`pixel/`) reads the page and calls browser APIs; it holds no rule of its own.

pub mod capture;
pub mod config;
pub mod consent;
pub mod datalayer;
pub mod delivery;
pub mod event;
pub mod files;
pub mod lead_form;
pub mod region;
pub mod send_to;
#[cfg(feature = "server")]
pub mod served;
pub mod setup;
pub mod snippet;
pub mod tags;
pub mod user;

pub use config::{PixelConfig, PixelEvent};
pub use send_to::SendTo;
