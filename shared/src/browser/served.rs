//! The pixel's configuration as the worker serves it: built from the worker's settings, so the
//! pixel fires exactly the names, IDs and conversion tags the server copies use.

use crate::settings::Settings;

use super::config::{BannerText, PixelConfig, PixelEvent, Tag, render};

/// The configuration for `settings`.
pub fn pixel_config(settings: &Settings) -> PixelConfig {
    let p = &settings.pixel;
    let events = settings
        .mappings
        .all()
        .into_iter()
        .map(|(name, m)| PixelEvent {
            send_to: settings
                .conversion_actions
                .for_event(name.as_str())
                .and_then(|a| a.send_to.clone()),
            name,
            meta: m.meta,
            ga4: m.ga4,
            key: m.key,
        })
        .collect();
    let tag = |id: &str, src: &str| Tag {
        id: id.to_owned(),
        src: src.to_owned(),
        load: p.load_tags,
    };
    PixelConfig {
        version: String::new(),
        default_country: settings.default_country.clone(),
        meta: settings
            .meta
            .as_ref()
            .map(|m| tag(&m.pixel_id, &p.meta_tag_url)),
        // gtag also carries conversions: a merchant with conversion tags but no GA4 still gets
        // the tag (with an empty measurement id).
        ga4: settings
            .ga4
            .as_ref()
            .map(|g| tag(&g.measurement_id, &p.gtag_url))
            .or_else(|| {
                let conversions = settings
                    .conversion_actions
                    .0
                    .iter()
                    .any(|a| a.send_to.is_some());
                conversions.then(|| tag("", &p.gtag_url))
            }),
        banner: p.banner.as_ref().map(|b| BannerText {
            text: b.text.clone(),
            accept: b.accept.clone(),
            reject: b.reject.clone(),
        }),
        datalayer: p.datalayer,
        datalayer_keys: p.datalayer_keys.clone(),
        lead_forms: p.lead_forms,
        events,
    }
}

/// The configuration text and its version (the `ETag`).
#[must_use]
pub fn served_config(settings: &Settings) -> (String, String) {
    render(&pixel_config(settings))
}
