//! THE consent policy (DESIGN §4 table): given a resolved [`ConsentState`] and where the visitor
//! is, what each platform may receive. One pure function, [`permissions`]; every row of the table
//! has a test below.
//!
//! | state | Meta | Google Ads / Data Manager | GA4 |
//! |---|---|---|---|
//! | all granted | full identifiers | full identifiers; consent GRANTED | sent |
//! | `ad_storage` denied | no fbc/fbp | no click-ID cookies; ad consent DENIED | ad consent DENIED |
//! | `ad_user_data` denied, opt-in region | not sent | no hashed PII; `ad_user_data` DENIED | same |
//! | `ad_user_data` denied, elsewhere | no hashed PII | same as above | same |
//! | `ad_personalization` denied | sent | `ad_personalization` DENIED | same |
//! | `analytics_storage` denied | – | – | not sent, `_ga` not read |
//! | US sale/sharing opt-out | Limited Data Use | restricted data processing | – |
//!
//! Rows combine: each denial only removes. This file decides permissions; building the requests
//! (and leaving fields out) is the platform modules' job, and finding the inputs is the caller's
//! (`signals::resolve`, `region.rs`, `gpc.rs`).

use super::gpc::Ldu;
use super::region::RegionPolicy;
use super::signals::{ConsentState, Signal};

/// Where the visitor is, as far as consent law goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct PolicyContext {
    /// The visitor is in an opt-in region ([`RegionPolicy::is_opt_in_region`]).
    pub opt_in_region: bool,
    /// The visitor opted out of sale/sharing under US state law, with Meta's location codes
    /// ([`Ldu::for_opt_out`]); `None` without an opt-out.
    pub sale_opt_out: Option<Ldu>,
}

impl PolicyContext {
    /// The context for a visitor from `country`/`region` (as the edge reports them) who did or did
    /// not opt out of sale/sharing (`gpc::opted_out_of_sale`).
    pub fn for_visitor(
        regions: &RegionPolicy,
        country: Option<&str>,
        region: Option<&str>,
        opted_out_of_sale: bool,
    ) -> Self {
        Self {
            opt_in_region: regions.is_opt_in_region(country, region),
            sale_opt_out: Ldu::for_opt_out(opted_out_of_sale, country, region),
        }
    }
}

/// Why a platform gets no server copy of an event (recorded for health, never silently dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum SkipReason {
    /// Meta: consent to share user data is required here and was not given.
    AdUserDataDeniedInOptInRegion,
    /// GA4: analytics consent denied.
    AnalyticsStorageDenied,
}

/// What Meta may receive when an event is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct MetaSend {
    /// `fbc`/`fbp` may be sent, and the `_fbc`/`_fbp` cookies read or set.
    pub click_ids: bool,
    /// Hashed PII (`em`, `ph`, names, address, `external_id`) may be sent.
    pub hashed_pii: bool,
    /// Send `data_processing_options: ["LDU"]` with these location codes.
    pub ldu: Option<Ldu>,
}

/// Meta Conversions API: send (with what) or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum MetaPermission {
    /// Send, within these limits.
    Send(MetaSend),
    /// Send nothing.
    Skip {
        /// Why.
        reason: SkipReason,
    },
}

/// Google Ads (`uploadClickConversions`) and Data Manager (`events:ingest`): always sent, within
/// these limits (Consent Mode lets Google model conversions from denied events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct GoogleAdsPermission {
    /// Our click cookie and Google's `_gcl_*` cookies may be read, and click-ID cookies set. A
    /// click ID in the event's own page URL is not a cookie: Consent Mode's `url_passthrough`
    /// carries it to Google with `ad_storage` denied (google.md §5), so this flag does not cover it.
    pub click_id_cookies: bool,
    /// Hashed email/phone/address may be sent.
    pub hashed_pii: bool,
    /// `consent.adUserData` to state on the request.
    pub ad_user_data: Signal,
    /// `consent.adPersonalization` to state where the API has the field (Data Manager; the Ads
    /// API's `ClickConversion.consent` takes only `adUserData`, google.md §0.4).
    pub ad_personalization: Signal,
    /// Restricted data processing (US sale/sharing opt-out) where the API supports it.
    pub restricted_data_processing: bool,
}

/// What GA4 may receive when an event is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct Ga4Send {
    /// Hashed user-provided data may be sent.
    pub hashed_pii: bool,
    /// `consent.ad_user_data` to state.
    pub ad_user_data: Signal,
    /// `consent.ad_personalization` to state.
    pub ad_personalization: Signal,
}

/// GA4 Measurement Protocol: send (the `_ga` cookie may be read for the client id) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Ga4Permission {
    /// Send, stating these consent fields.
    Send(Ga4Send),
    /// No server copy, and `_ga` is not read.
    Skip {
        /// Why.
        reason: SkipReason,
    },
}

impl Ga4Permission {
    /// Whether the `_ga` cookie may be read (DESIGN §4: `analytics_storage` denied → no `_ga` read).
    pub const fn may_read_ga_cookie(&self) -> bool {
        matches!(self, Self::Send(_))
    }
}

/// What every platform may receive for one event, and what the edge may do with ad cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
#[must_use]
pub struct Permissions {
    /// The edge may set `_fbc`, `_fbp` and our click cookie (= `ad_storage` granted).
    pub edge_may_set_ad_cookies: bool,
    /// Meta Conversions API.
    pub meta: MetaPermission,
    /// Google Ads API / Data Manager API.
    pub google_ads: GoogleAdsPermission,
    /// GA4 Measurement Protocol.
    pub ga4: Ga4Permission,
}

/// The consent policy: what each platform may receive under `state` for a visitor in `ctx`.
pub const fn permissions(state: ConsentState, ctx: PolicyContext) -> Permissions {
    let ad_storage = state.ad_storage.is_granted();
    let ad_user_data = state.ad_user_data.is_granted();
    let sale_opt_out = ctx.sale_opt_out.is_some();

    // DESIGN §4: "ad_user_data denied, opt-in region → Meta not sent". Meta's CAPI has no consent
    // field; Meta says to apply the pixel's consent logic, so missing required consent = nothing.
    let meta = if !ad_user_data && ctx.opt_in_region {
        MetaPermission::Skip {
            reason: SkipReason::AdUserDataDeniedInOptInRegion,
        }
    } else {
        MetaPermission::Send(MetaSend {
            // "ad_storage denied → no fbc/fbp; no ad cookies read or set".
            click_ids: ad_storage,
            // "ad_user_data denied, elsewhere → sent without hashed PII".
            hashed_pii: ad_user_data,
            // "US visitor opted out of sale/sharing → Limited Data Use".
            ldu: ctx.sale_opt_out,
        })
    };

    // What we state to Google. DESIGN §4 "ad_storage denied → ad consent DENIED": Addendum A pairs
    // storage with user data (TCF purpose 1 denied → ad_storage and ad_user_data denied), so
    // without ad_storage both ad signals are stated DENIED. A sale/sharing opt-out also states
    // ad_personalization DENIED: Google's restricted data processing means "only non-personalized
    // ads" (support.google.com/adsense/answer/14182916), and ad_personalization is the field the
    // Data Manager API and GA4 actually have (inference from that equivalence).
    let google_ad_user_data = Signal::from_bool(ad_storage && ad_user_data);
    let google_ad_personalization =
        Signal::from_bool(ad_storage && state.ad_personalization.is_granted() && !sale_opt_out);
    // Never send user data while stating ad_user_data DENIED.
    let google_pii = google_ad_user_data.is_granted();

    let google_ads = GoogleAdsPermission {
        // "ad_storage denied → no click-ID cookies read or set".
        click_id_cookies: ad_storage,
        hashed_pii: google_pii,
        ad_user_data: google_ad_user_data,
        ad_personalization: google_ad_personalization,
        restricted_data_processing: sale_opt_out,
    };

    // "analytics_storage denied → no `_ga` read; no GA4 server copy".
    let ga4 = if state.analytics_storage.is_granted() {
        Ga4Permission::Send(Ga4Send {
            hashed_pii: google_pii,
            ad_user_data: google_ad_user_data,
            ad_personalization: google_ad_personalization,
        })
    } else {
        Ga4Permission::Skip {
            reason: SkipReason::AnalyticsStorageDenied,
        }
    };

    Permissions {
        edge_may_set_ad_cookies: ad_storage,
        meta,
        google_ads,
        ga4,
    }
}

#[cfg(test)]
mod tests;
