//! Which browser tags the pixel drives on a page, and what it must do to make them work: use the
//! page's own `fbq` / `gtag` when present; otherwise, when the merchant asked for it, initialize
//! and load the base tags from the configured URLs, so that the snippet alone is a complete install.
//!
//! The pixel reports what it finds ([`PageTags`]); this file decides ([`setup`]). After the page
//! has loaded, [`fired`] says which tags really fired: a call into a stub whose library never
//! arrived (an ad blocker, a failed load) never left the browser, and the worker then sends the
//! server copy GA4 would otherwise miss (DESIGN §1).

use super::config::{PixelConfig, Tag};

/// Meta's base tag, when the worker's configuration names none (meta-capi.md §11.2).
pub const OFFICIAL_META_TAG_URL: &str = "https://connect.facebook.net/en_US/fbevents.js";

/// What the page has for one tag function (`fbq` or `gtag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagState {
    /// No such function.
    Absent,
    /// The queueing stub, its library not (yet) loaded.
    Stub {
        /// The stub is the one our snippet defined (the page has no base code of its own, or its
        /// Meta base code returned early because `fbq` existed, meta-capi.md §11.2).
        ours: bool,
        /// An `init` (Meta) or `config` (gtag) command is already queued.
        initialized: bool,
    },
    /// The library has run (`fbq.callMethod`; `google_tag_manager`, meta-capi.md §11.2,
    /// google.md §11.2).
    Loaded,
}

/// What the page has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageTags {
    /// `window.fbq`.
    pub fbq: TagState,
    /// `window.gtag`.
    pub gtag: TagState,
}

/// What the pixel does for one tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drive {
    /// The pixel calls this tag for events.
    pub usable: bool,
    /// Define the queueing stub first (there is none).
    pub stub: bool,
    /// Initialize it: `fbq('init', id)`, or `gtag('js')` and `gtag('config', …)`.
    pub init: bool,
    /// Load this base tag script.
    pub load: Option<String>,
}

/// What the pixel does on this page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagSetup {
    /// Meta.
    pub meta: Drive,
    /// Google.
    pub google: Drive,
}

/// How the pixel brings up both tags.
pub fn setup(config: &PixelConfig, page: PageTags) -> TagSetup {
    TagSetup {
        meta: drive(
            config.meta.as_ref(),
            page.fbq,
            |t| t.src.clone(),
            OFFICIAL_META_TAG_URL,
        ),
        google: drive(config.ga4.as_ref(), page.gtag, |t| gtag_url(config, t), ""),
    }
}

fn drive(
    tag: Option<&Tag>,
    state: TagState,
    url: impl Fn(&Tag) -> String,
    fallback: &str,
) -> Drive {
    let load_url = || tag.map_or_else(|| fallback.to_owned(), &url);
    match state {
        TagState::Loaded | TagState::Stub { ours: false, .. } => Drive {
            usable: true,
            ..Drive::default()
        },
        // The page queued its own init into our stub: its base code skipped loading the library.
        TagState::Stub {
            ours: true,
            initialized: true,
        } => {
            let src = load_url();
            Drive {
                usable: !src.is_empty(),
                load: Some(src).filter(|s| !s.is_empty()),
                ..Drive::default()
            }
        }
        TagState::Stub {
            ours: true,
            initialized: false,
        }
        | TagState::Absent => match tag.filter(|t| t.load) {
            Some(t) => Drive {
                usable: true,
                stub: state == TagState::Absent,
                init: true,
                load: Some(url(t)),
            },
            None => Drive::default(),
        },
    }
}

/// `gtag/js?id=<measurement id>`, or the first conversion account when GA4 has no id.
fn gtag_url(config: &PixelConfig, tag: &Tag) -> String {
    let id = if tag.id.is_empty() {
        conversion_accounts(config)
            .into_iter()
            .next()
            .unwrap_or_default()
    } else {
        tag.id.clone()
    };
    let sep = if tag.src.contains('?') { "&" } else { "?" };
    [&*tag.src, sep, "id=", &id].concat()
}

/// The Google Ads accounts (`AW-…`) of the configured conversion tags, each once: each needs
/// `gtag('config', 'AW-…')` (google.md §11.1).
pub fn conversion_accounts(config: &PixelConfig) -> Vec<String> {
    let mut accounts: Vec<String> = Vec::new();
    for e in &config.events {
        if let Some(s) = &e.send_to
            && !accounts.iter().any(|a| a == s.account())
        {
            accounts.push(s.account().to_owned());
        }
    }
    accounts
}

/// Which tags really fired, once the page has loaded: the pixel called the tag, and its library ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fired {
    /// Meta's pixel.
    pub meta: bool,
    /// Google's tag.
    pub google: bool,
}

/// `called`: the tags the pixel called for the event; `page`: what the page has now.
pub fn fired(called: Fired, page: PageTags) -> Fired {
    Fired {
        meta: called.meta && page.fbq == TagState::Loaded,
        google: called.google && page.gtag == TagState::Loaded,
    }
}

#[cfg(test)]
mod tests;
