//! Consent: Google Consent Mode v2's four signals, where they come from, and what each platform may
//! receive under them.

pub mod signals;

pub use signals::{ConsentState, Signal};
