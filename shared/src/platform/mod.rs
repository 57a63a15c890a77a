//! Platform requests, batching, verdicts and provisioning, as pure descriptions.
//!
//! The worker hands [`OutboundEvent`](crate::outbound::OutboundEvent)s in and gets back
//! [`request::HttpRequest`] descriptions, batch plans and [`verdict::Verdict`]s; it does the
//! fetches, the clock reads and the retries those describe. Nothing here performs IO, reads a
//! clock (`now` is an argument) or draws random numbers.
//!
//! - [`ownership`]: which destination owns an event's server copy (DESIGN §1).
//! - [`batch`]: platform windows and size limits; what goes in which request.
//! - [`meta`], [`data_manager`], [`ga4`]: the request builders.
//! - [`verdict`]: what a platform's answer means for each event.
//! - [`dispatch`]: plan, build and classify for any [`Platform`].
//! - [`oauth`], [`provisioning`]: Google access tokens and conversion actions;
//!   [`google_setup`]: the console's kind rule and view over provisioning.
//! - [`request_status`]: Google's own verdict on a delivered Data Manager request, later;
//!   [`dataset_quality`]: Meta's own grades of our events, beside our estimates.

pub mod batch;
pub mod data_manager;
pub mod dataset_quality;
pub mod dispatch;
pub mod ga4;
pub mod ga4_rules;
pub mod google_setup;
pub mod meta;
pub mod oauth;
pub mod ownership;
pub mod provisioning;
pub mod request;
pub mod request_status;
pub mod verdict;

use crate::settings::Settings;

/// A place a server copy can go, as stored in the `outbox.platform` column: one outbox row per
/// event and platform (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Meta Conversions API.
    Meta,
    /// Data Manager `events:ingest`: every Google Ads conversion action, `WEBPAGE` (multi-source)
    /// or `UPLOAD_CLICKS` (offline). The Ads API's `uploadClickConversions` takes no new adopters
    /// (google.md Addendum C); rows once stored as `google_ads` were moved here (migration 0007).
    DataManager,
    /// GA4 Measurement Protocol.
    Ga4,
}

impl Platform {
    /// Every platform, in a fixed order.
    pub const ALL: [Self; 3] = [Self::Meta, Self::DataManager, Self::Ga4];

    /// The column value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::DataManager => "data_manager",
            Self::Ga4 => "ga4",
        }
    }

    /// Parses a column value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the settings switch this destination on. Data Manager also needs the OAuth client
    /// (settings report a missing one as a problem).
    pub fn enabled(self, settings: &Settings) -> bool {
        match self {
            Self::Meta => settings.meta.is_some(),
            Self::DataManager => settings.data_manager.is_some() && settings.google_oauth.is_some(),
            Self::Ga4 => settings.ga4.is_some(),
        }
    }

    /// Whether requests to this platform carry a Google OAuth access token.
    pub const fn needs_google_token(self) -> bool {
        matches!(self, Self::DataManager)
    }

    /// Most events one flush claims for this platform: one full request for Meta (1000) and
    /// Google (2000); GA4 requests hold 25 events of one client, so a flush claims ten requests'
    /// worth to stay well inside the Workers subrequest limit.
    pub const fn claim_limit(self) -> u32 {
        match self {
            Self::Meta => 1000,
            Self::DataManager => 2000,
            Self::Ga4 => 250,
        }
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::{
        RAW_EMAIL, RAW_FIRST, RAW_LAST, RAW_PHONE, all_names, data_manager_config, event,
        ga4_config, meta_config, upload_actions, webpage_actions,
    };
    use super::request::{HttpRequest, Mode};
    use super::{data_manager, ga4, meta};

    /// DESIGN §4: raw email, phone and names are never forwarded. Every request built for an event
    /// whose PII went through `pii::hash_user_data` is scanned for any form of the raw values.
    #[test]
    fn raw_pii_never_appears_in_any_built_request() {
        let forbidden = [
            RAW_EMAIL.to_lowercase(),
            "janedoe@gmail.com".into(),
            "gmail".into(),
            RAW_PHONE.into(),
            "6505551234".into(),
            "650) 555".into(),
            RAW_FIRST.to_lowercase(),
            RAW_LAST.to_lowercase(),
            "mountain".into(),
        ];
        let mut requests: Vec<HttpRequest> = Vec::new();
        for name in all_names() {
            let e = event(name);
            for mode in [Mode::Live, Mode::Test] {
                let built = [
                    meta::events_request(&meta_config(), &[&e], mode),
                    data_manager::ingest_request(
                        &data_manager_config(),
                        &upload_actions(),
                        "T",
                        &[&e],
                        mode,
                    ),
                    data_manager::ingest_request(
                        &data_manager_config(),
                        &webpage_actions(),
                        "T",
                        &[&e],
                        mode,
                    ),
                    ga4::collect_request(&ga4_config(), &[&e], mode),
                ];
                requests.extend(built.into_iter().filter_map(|b| b.request));
            }
        }
        assert_eq!(requests.len(), 8 * 2 * 4, "every destination built");
        for request in &requests {
            let text = serde_json::to_string(request)
                .unwrap_or_default()
                .to_lowercase();
            for raw in &forbidden {
                assert!(!text.contains(raw.as_str()), "{raw:?} in {}", request.url);
            }
        }
    }
}
