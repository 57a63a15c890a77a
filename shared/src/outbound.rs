//! What the request builders receive: one event with everything the platforms may get, already
//! hashed, and the consent permissions that say which parts each platform may see.
//!
//! The worker assembles an [`OutboundEvent`] from the validated event, the stored session context
//! and the consent policy; the builders in `platform` turn it into requests and must obey
//! [`Permissions`] (drop what a platform may not receive). This type does not decide anything.

use crate::click_ids::{Fbc, Fbp};
use crate::consent::ConsentState;
use crate::consent::policy::Permissions;
use crate::event::EventName;
use crate::event_id::EventId;
use crate::mapping::EventMapping;
use crate::money::Money;
use crate::pii::HashedUserData;
use crate::wire::{ItemInput, TagsFired};

/// A Google click identifier; at most one per conversion (google.md §1.2: gbraid and wbraid never
/// together, and exactly one of gclid/gbraid/wbraid per click conversion).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "server", serde(rename_all = "snake_case"))]
pub enum GoogleClickId {
    /// `gclid`.
    Gclid(String),
    /// `gbraid` (iOS app-to-web).
    Gbraid(String),
    /// `wbraid` (iOS web-to-app).
    Wbraid(String),
}

/// One event ready for the platform builders.
#[derive(Debug, Clone)]
pub struct OutboundEvent {
    /// Stable event ID (Meta `event_id`; Google `transactionId` for non-purchases).
    pub event_id: EventId,
    /// The business event.
    pub name: EventName,
    /// Its platform names, category and path.
    pub mapping: EventMapping,
    /// Original occurrence time, Unix ms (never the send time).
    pub occurred_at_ms: u64,
    /// Order id (purchases): Google `transaction_id`/`orderId`, Meta `order_id`.
    pub order_id: Option<String>,
    /// Value and ISO 4217 currency (for an adjustment: the amount it takes back).
    pub money: Option<Money>,
    /// For a refund or cancellation: its purchase and the restated total.
    pub adjusts: Option<crate::adjustment::Adjustment>,
    /// Line items.
    pub items: Vec<ItemInput>,
    /// Page URL (Meta `event_source_url`, required for website events).
    pub page_url: Option<String>,
    /// Referrer URL.
    pub referrer_url: Option<String>,
    /// Hashed customer information (both platforms' forms).
    pub user: HashedUserData,
    /// `_fbc`, verbatim.
    pub fbc: Option<Fbc>,
    /// `_fbp`, verbatim.
    pub fbp: Option<Fbp>,
    /// Google click id, with the click time in Unix ms when known.
    pub google_click: Option<(GoogleClickId, Option<u64>)>,
    /// GA4 client id from `_ga` (`<random>.<timestamp>`).
    pub ga_client_id: Option<String>,
    /// GA4 session id from `_ga_<id>`.
    pub ga_session_id: Option<u64>,
    /// Shopper IP, raw (Meta requires it unhashed).
    pub client_ip: Option<String>,
    /// Shopper user agent, raw.
    pub user_agent: Option<String>,
    /// The resolved consent state.
    pub consent: ConsentState,
    /// What each platform may receive under that consent (`consent::policy`).
    pub permissions: Permissions,
    /// Which browser tags fired for this event (GA4 server copy only when gtag did not).
    pub fired: TagsFired,
}
