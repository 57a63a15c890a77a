//! The four Consent Mode v2 signals.

/// One consent signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// The shopper agreed (or the region's default grants it).
    Granted,
    /// The shopper refused, or the region requires opt-in and none was given.
    Denied,
}

/// Google Consent Mode v2's four signals, all resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsentState {
    /// Cookies and identifiers for advertising (fbc, fbp, click-ID cookies).
    pub ad_storage: Signal,
    /// Cookies for analytics (`_ga`).
    pub analytics_storage: Signal,
    /// Sending user data (hashed PII) to Google/Meta for advertising.
    pub ad_user_data: Signal,
    /// Personalized advertising (remarketing).
    pub ad_personalization: Signal,
}
