//! Google's IAB TCF → Consent Mode mapping (google.md Addendum A), one function for the worker
//! (which decodes `euconsent-v2` strings, `tcf.rs`) and the pixel (which reads `__tcfapi`,
//! `browser::consent`).

use super::signals::{PartialConsent, Signal};

/// The signals a TC string implies for Google, from Google's vendor consent (vendor 755) and
/// the consent bits of purposes `[1, 3, 4, 7]`. `analytics_storage` stays unstated: "TCF does
/// not drive `analytics_storage`" (Addendum A).
pub const fn tcf_purposes_to_consent(google_vendor: bool, purposes: [bool; 4]) -> PartialConsent {
    let [p1, p3, p4, p7] = purposes;
    // Addendum A: "a string without vendor consent for 755 should be treated as denied for Google";
    // purpose 1 denied → ad_storage and ad_user_data denied; 3 or 4 denied → ad_personalization
    // denied; 7 denied → ad_user_data denied.
    PartialConsent {
        ad_storage: Some(Signal::from_bool(google_vendor && p1)),
        analytics_storage: None,
        ad_user_data: Some(Signal::from_bool(google_vendor && p1 && p7)),
        ad_personalization: Some(Signal::from_bool(google_vendor && p3 && p4)),
    }
}
