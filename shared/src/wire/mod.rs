//! The one JSON event shape, shared by the pixel (`/_ar/collect`) and the merchant's backend
//! (`/_ar/events`), and its strict validation.
//!
//! Parsing rejects unknown fields and wrong types with the JSON path of the offending field
//! (`items[2].price: invalid type…`), because a typo in a field name would otherwise silently
//! drop data. Validation then checks what types cannot: business keys the event needs, ISO 4217
//! currencies, finite non-negative amounts, bounded strings and arrays, plausible times. It
//! derives the stable event ID. It does not hash PII or apply consent: those are the next steps,
//! in `pii` and `consent`.

use serde::Deserialize;

use crate::consent::PartialConsent;
use crate::event::EventName;
use crate::event_id::{BusinessKeys, EventId};
use crate::mapping::EventMapping;
use crate::pii::RawUserData;

#[cfg(test)]
mod tests;
mod validate;

pub use validate::{ValidationContext, validate};

/// Longest accepted identifier or free-text field.
pub use crate::event_rules::MAX_STRING_LEN;
/// Longest accepted URL.
pub use crate::event_rules::MAX_URL_LEN;
/// Longest accepted user agent.
pub const MAX_USER_AGENT_LEN: usize = 1024;
/// Most items accepted on one event.
pub use crate::event_rules::MAX_ITEMS;
/// Largest accepted monetary value.
pub use crate::event_rules::MAX_VALUE;
/// How far in the future `occurred_at` may be (clock skew between shop and edge).
pub const MAX_FUTURE_SKEW_MS: u64 = 5 * 60 * 1000;
/// Earliest plausible `occurred_at` (2015-01-01): anything earlier is almost surely seconds, not ms.
pub const MIN_OCCURRED_AT_MS: u64 = 1_420_070_400_000;

/// An event as it arrives, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Event name (`transaction.purchase`, a custom name, …).
    pub event: String,
    /// The ID the sender used for its browser tags; derived from the business key when absent.
    pub event_id: Option<String>,
    /// When it happened, Unix milliseconds; the receive time when absent.
    pub occurred_at: Option<u64>,
    /// Order id (purchases).
    pub order_id: Option<String>,
    /// Checkout id (checkout started, payment info added).
    pub checkout_id: Option<String>,
    /// Cart id (add to cart).
    pub cart_id: Option<String>,
    /// Lead id (lead forms).
    pub lead_id: Option<String>,
    /// The shop's user id (sign-ups).
    pub user_id: Option<String>,
    /// The shop's refund id (refunds; the refunded purchase is `order_id`).
    pub refund_id: Option<String>,
    /// Monetary value.
    pub value: Option<f64>,
    /// ISO 4217 currency of `value`.
    pub currency: Option<String>,
    /// Line items.
    #[serde(default)]
    pub items: Vec<ItemInput>,
    /// Customer information, raw or already hashed (hashed at the edge on arrival).
    pub user: Option<RawUserData>,
    /// Where it happened.
    pub page: Option<PageInput>,
    /// Click identifiers the sender knows (server events; the pixel's arrive as cookies).
    pub click_ids: Option<ClickIdsInput>,
    /// Consent as the sender knows it (the strongest source).
    pub consent: Option<PartialConsent>,
    /// `true` when the shopper opted out of the sale or sharing of their data (a "Do Not Sell or
    /// Share" choice), besides Global Privacy Control, which the edge reads itself (DESIGN §4:
    /// Meta then gets Limited Data Use for US visitors).
    pub sale_opt_out: Option<bool>,
    /// The shopper's IP and user agent (server events).
    pub client: Option<ClientInput>,
    /// The value of our first-party session cookie, linking a server event to the visit.
    pub session_id: Option<String>,
    /// A signed order token rendered into the thank-you page (browser purchases).
    pub order_token: Option<String>,
    /// Which browser tags the pixel fired for this event.
    pub fired: Option<TagsFired>,
}

/// One line item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// SKU or product id.
    pub id: String,
    /// Product name.
    pub name: Option<String>,
    /// Unit price.
    pub price: Option<f64>,
    /// Quantity (at least 1).
    pub quantity: Option<u32>,
    /// Product category.
    pub category: Option<String>,
}

/// The page an event happened on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageInput {
    /// Full URL.
    pub url: Option<String>,
    /// The page's referrer.
    pub referrer: Option<String>,
}

/// Click identifiers, as strings; `click_ids` parses them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickIdsInput {
    /// Meta `_fbc` value.
    pub fbc: Option<String>,
    /// Meta `_fbp` value.
    pub fbp: Option<String>,
    /// Google click id.
    pub gclid: Option<String>,
    /// Google app-to-web click id (iOS).
    pub gbraid: Option<String>,
    /// Google web-to-app click id (iOS).
    pub wbraid: Option<String>,
}

/// The shopper's connection, for server events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    /// IPv4 or IPv6 address.
    pub ip: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
}

/// The pixel's fired-flags: whether each browser tag fired (false when blocked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagsFired {
    /// Meta `fbq`.
    #[serde(default)]
    pub meta: bool,
    /// Google `gtag`.
    #[serde(default)]
    pub google: bool,
}

/// A validated event: every field checked, the mapping resolved, the ID fixed.
#[derive(Debug, Clone)]
pub struct ValidatedEvent {
    /// The event.
    pub name: EventName,
    /// Its platform names and delivery path.
    pub mapping: EventMapping,
    /// The stable event ID.
    pub event_id: EventId,
    /// Original occurrence time, Unix ms.
    pub occurred_at_ms: u64,
    /// Business identifiers.
    pub keys: BusinessKeys,
    /// Value and currency (currency upper-case ISO 4217).
    pub money: Option<crate::money::Money>,
    /// Line items.
    pub items: Vec<ItemInput>,
    /// Customer information, still raw: hash it with `pii` before storing or forwarding.
    pub user: RawUserData,
    /// Where it happened.
    pub page: PageInput,
    /// Click identifiers the sender supplied.
    pub click_ids: ClickIdsInput,
    /// Consent the sender stated.
    pub consent: PartialConsent,
    /// The sender stated an opt-out of sale/sharing.
    pub sale_opt_out: bool,
    /// IP and user agent.
    pub client: ClientInput,
    /// Our session cookie value, if given.
    pub session_id: Option<String>,
    /// Signed order token, if given.
    pub order_token: Option<String>,
    /// The pixel's fired-flags, if given.
    pub fired: Option<TagsFired>,
}

/// A rejected event: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// JSON path of the field (`items[2].price`), or `body`.
    pub field: String,
    /// What is wrong, in words a merchant can act on.
    pub problem: String,
}

impl ValidationError {
    pub(crate) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Parses one event from JSON, naming the path of any unknown or mistyped field.
///
/// # Errors
/// [`ValidationError`] with the JSON path.
pub fn parse_event(json: &[u8]) -> Result<EventInput, ValidationError> {
    from_json(json)
}

/// Parses one event from an already-parsed JSON value (one element of a batch).
///
/// # Errors
/// [`ValidationError`] with the JSON path.
pub fn event_from_value(value: serde_json::Value) -> Result<EventInput, ValidationError> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// Parses `{"events": [...]}` into its elements, leaving each event to be parsed on its own so
/// that one bad event does not reject the others.
///
/// # Errors
/// When the body is not such an object, or holds more than `max` events.
pub fn parse_batch(json: &[u8], max: usize) -> Result<Vec<serde_json::Value>, ValidationError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Batch {
        events: Vec<serde_json::Value>,
    }
    let batch: Batch = from_json(json)?;
    if batch.events.is_empty() {
        return Err(ValidationError::new(
            "events",
            "must hold at least one event",
        ));
    }
    if batch.events.len() > max {
        return Err(ValidationError::new(
            "events",
            format!("at most {max} events per request"),
        ));
    }
    Ok(batch.events)
}

fn from_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, ValidationError> {
    // One parse, with the path (to name the field of a refusal). Parsing first without it and
    // again only on a refusal was measured: the wasm Meta path's parse went from 20% to 12% of
    // its time, but the worker grew by 16 KB gzipped (a second copy of every event type's
    // deserializer), for no difference in the whole path within the bench's spread.
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    // What follows the document (`{…} x`) is refused: one JSON document per body.
    de.end()
        .map_err(|e| ValidationError::new("body", redact_values(&e.to_string())))?;
    Ok(value)
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> ValidationError {
    let path = e.path().to_string();
    // "." is the document root; "?" is where a syntax error leaves no path.
    let field = if path == "." || path == "?" {
        "body".to_owned()
    } else {
        redact_path(&path)
    };
    ValidationError::new(field, redact_values(&e.into_inner().to_string()))
}

/// A parser message without the values it quotes: `invalid type: string "jane@x.com", expected
/// f64` becomes `invalid type: string, expected f64`. An answer (and any log line) never repeats
/// what the sender put in a field, which may be someone's personal data (DESIGN §4).
fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        // Skip the quoted value, escapes included.
        let mut escaped = false;
        for q in chars.by_ref() {
            if escaped {
                escaped = false;
            } else if q == '\\' {
                escaped = true;
            } else if q == '"' {
                break;
            }
        }
        if out.ends_with(' ') {
            out.pop();
        }
    }
    // Field names the sender invented (`unknown field `…``) are kept unless they look personal.
    out.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 && part.contains('@') {
                "…"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A JSON path without segments that look like personal data (an email used as a key).
fn redact_path(path: &str) -> String {
    path.split('.')
        .map(|segment| {
            if segment.contains('@') {
                "…"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}
