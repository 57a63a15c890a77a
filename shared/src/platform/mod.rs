//! Platform requests, batching, verdicts and provisioning, as pure descriptions.
//!
//! The worker hands [`OutboundEvent`](crate::outbound::OutboundEvent)s in and gets back
//! [`request::HttpRequest`] descriptions, batch plans and [`verdict::Verdict`]s; it does the
//! fetches, the clock reads and the retries those describe. Nothing here performs IO, reads a
//! clock (`now` is an argument) or draws random numbers.
//!
//! - [`ownership`]: which destination owns an event's server copy (DESIGN §1).
//! - [`batch`]: platform windows and size limits; what goes in which request.
//! - [`meta`], [`google_ads`], [`data_manager`], [`ga4`]: the request builders.
//! - [`schedule`]: when a click upload may first be sent.
//! - [`verdict`]: what a platform's answer means for each event.
//! - [`oauth`], [`provisioning`]: Google access tokens and conversion actions.

pub mod batch;
pub mod data_manager;
pub mod ga4;
pub mod google_ads;
pub mod meta;
pub mod oauth;
pub mod ownership;
pub mod provisioning;
pub mod request;
pub mod schedule;
pub mod verdict;

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::{
        RAW_EMAIL, RAW_FIRST, RAW_LAST, RAW_PHONE, ads_config, all_names, data_manager_config,
        event, ga4_config, meta_config, upload_actions, webpage_actions,
    };
    use super::request::{HttpRequest, Mode};
    use super::{data_manager, ga4, google_ads, meta};

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
                    google_ads::upload_request(&ads_config(), &upload_actions(), "T", &[&e], mode),
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
