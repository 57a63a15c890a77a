//! What a builder hands the worker: an [`HttpRequest`] description (method, URL, headers, body),
//! the per-destination configuration it was built from, and the events it left out and why.
//!
//! Nothing here sends anything: the worker turns an [`HttpRequest`] into a `fetch`, and feeds the
//! answer to `verdict`. Secrets (access tokens, API secrets) live in the URL or headers of the
//! description, so its `Debug` shows neither the query string nor header values.

use core::fmt;

use serde_json::Value;

/// HTTP method of a request description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Method {
    /// `GET`.
    #[serde(rename = "GET")]
    Get,
    /// `POST`.
    #[serde(rename = "POST")]
    Post,
}

/// The body of a request description.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// `application/json`.
    Json(Value),
    /// `application/x-www-form-urlencoded`, already encoded (the OAuth token endpoint).
    Form(String),
}

impl Body {
    /// The `Content-Type` header value for this body.
    pub const fn content_type(&self) -> &'static str {
        match self {
            Self::Json(_) => "application/json",
            Self::Form(_) => "application/x-www-form-urlencoded",
        }
    }

    /// The bytes to send.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            // Serializing a `Value` into memory cannot fail (string keys only).
            Self::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Self::Form(s) => s.clone().into_bytes(),
        }
    }
}

/// One request to send, described. The worker adds nothing but transport.
#[derive(Clone, PartialEq, serde::Serialize)]
#[must_use]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Full URL, query string included.
    pub url: String,
    /// Headers in sending order (`Content-Type` included).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
}

impl HttpRequest {
    /// A `POST` with `body`, its `Content-Type` header first, then `headers`.
    pub fn post(url: String, headers: Vec<(String, String)>, body: Body) -> Self {
        let mut all = vec![("content-type".to_owned(), body.content_type().to_owned())];
        all.extend(headers);
        Self {
            method: Method::Post,
            url,
            headers: all,
            body,
        }
    }

    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    /// Shows the URL without its query and header names without values: both may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.url.split('?').next().unwrap_or_default();
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &path)
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

/// Live traffic, or the platforms' test facilities (DESIGN §5 "Send test": Meta
/// `test_event_code`, Google `validateOnly`, the GA4 debug endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Real sends.
    #[default]
    Live,
    /// Validation / test sends.
    Test,
}

/// Why an event is not in a request (recorded per event for health; never silently dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotSent {
    /// The consent policy withholds the event from this platform.
    Consent(crate::consent::policy::SkipReason),
    /// Meta website events need `client_user_agent` (meta-capi.md §1.3); DESIGN §3 records this
    /// as "insufficient context".
    MissingUserAgent,
    /// Meta website events need `event_source_url` (meta-capi.md §1.3).
    MissingSourceUrl,
    /// Google needs a click id or hashed email/phone to attribute a conversion (google.md §1.2).
    NoGoogleIdentifier,
    /// No conversion action of the right type is configured for this event.
    NoConversionAction,
    /// GA4: no `_ga` client id (DESIGN §1).
    NoGaClientId,
    /// GA4: the browser gtag fired and the event is not a purchase, so a server copy would count
    /// twice (DESIGN §1).
    BrowserTagFired,
    /// Older than the platform accepts (Meta 7 days, GA4 72 hours).
    TooOld,
    /// The click is older than the conversion action's click-through window (google.md §1.7).
    ClickWindowExpired,
    /// The conversion happened before its click (`CONVERSION_PRECEDES_EVENT`, google.md §1.5).
    PrecedesClick,
    /// Occurred later than the send time allows.
    InTheFuture,
    /// Alone larger than the platform's request body limit.
    TooLarge,
    /// The time cannot be represented as a date.
    BadTime,
    /// Belongs in another request (GA4 carries one client id and consent per request).
    OtherRequest,
    /// Breaks a documented GA4 limit, so GA4 would drop it silently.
    Ga4Rule(super::ga4_rules::Ga4Rule),
    /// Meta's Conversions API has no refund or retraction (`adjustment`).
    NoMetaAdjustment,
    /// An adjustment whose purchase was never reported: nothing to adjust (`adjustment::link`).
    PurchaseNotFound,
    /// An adjustment whose purchase never reached this platform (`adjustment::gate`).
    PurchaseNotDelivered,
}

impl fmt::Display for NotSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Consent(_) => "withheld by the consent policy",
            Self::MissingUserAgent => "insufficient context: no user agent for a website event",
            Self::MissingSourceUrl => "insufficient context: no page URL for a website event",
            Self::NoGoogleIdentifier => "no Google click id and no hashed email or phone",
            Self::NoConversionAction => "no conversion action configured for this event",
            Self::NoGaClientId => "no GA client id (_ga cookie)",
            Self::BrowserTagFired => "gtag fired in the browser; GA4 would count it twice",
            Self::TooOld => "older than the platform's window",
            Self::ClickWindowExpired => "click older than the click-through window",
            Self::PrecedesClick => "conversion time precedes the click",
            Self::InTheFuture => "occurred in the future",
            Self::TooLarge => "larger than the platform's request size limit",
            Self::BadTime => "time out of range",
            Self::OtherRequest => "belongs in another request",
            Self::Ga4Rule(rule) => return rule.fmt(f),
            Self::NoMetaAdjustment => {
                "not applicable: Meta's Conversions API has no refund or retraction (a negative purchase would count as one more purchase)"
            }
            Self::PurchaseNotFound => {
                "no purchase with this order_id was reported: an adjustment would be a new conversion"
            }
            Self::PurchaseNotDelivered => {
                "its purchase never reached this platform: an adjustment would be a new conversion"
            }
        })
    }
}

/// One event left out of a request: its index in the builder's input, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Index into the slice given to the builder or planner.
    pub index: usize,
    /// Why it was left out.
    pub reason: NotSent,
}

/// A builder's result: the request (if any event remained), which input indices it carries (in
/// body order, so that `verdict` can map a platform's per-event answer back), and what was left out.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Built {
    /// The request; `None` when every event was left out.
    pub request: Option<HttpRequest>,
    /// Input indices in the order they appear in the body.
    pub sent: Vec<usize>,
    /// Input indices left out, with reasons.
    pub skipped: Vec<Skipped>,
}

/// `base` without trailing slashes, so `{base}/{path}` never doubles one.
pub(crate) fn trim_base(base: &str) -> &str {
    base.trim_end_matches('/')
}

/// A finite `f64` as a JSON number (`NaN`/infinite values have no JSON form and are left out).
pub(crate) fn number(v: f64) -> Option<Value> {
    serde_json::Number::from_f64(v).map(Value::Number)
}

/// Google's account ids are digits; config often carries `123-456-7890` (google.md §1.1: Segment
/// strips dashes).
pub(crate) fn digits(id: &str) -> String {
    id.chars().filter(char::is_ascii_digit).collect()
}

/// Meta Conversions API settings (meta-capi.md §1.1, §1.2, §10).
#[derive(Clone, PartialEq, Eq)]
pub struct MetaConfig {
    /// `https://graph.facebook.com` in production; the sandbox's URL locally.
    pub base_url: String,
    /// Graph API version, e.g. `v25.0` (pinned in config, meta-capi.md §1.1).
    pub api_version: String,
    /// Pixel (dataset) id.
    pub pixel_id: String,
    /// System-user access token (secret).
    pub access_token: String,
    /// Platform id, under 23 characters with two letters (meta-capi.md §1.2).
    pub partner_agent: Option<String>,
    /// Events Manager test code, sent only in [`Mode::Test`] (meta-capi.md §8).
    pub test_event_code: Option<String>,
}

/// Google Ads API settings shared by click uploads and provisioning (google.md §1.1).
#[derive(Clone, PartialEq, Eq)]
pub struct GoogleAdsConfig {
    /// `https://googleads.googleapis.com` in production.
    pub base_url: String,
    /// API version path segment, e.g. `v22`.
    pub api_version: String,
    /// The operating (conversion) customer id; dashes are removed.
    pub customer_id: String,
    /// Manager account id for the `login-customer-id` header, when calling through one.
    pub login_customer_id: Option<String>,
    /// Developer token: optional since its sunset, sent only if configured (google.md §1.1).
    pub developer_token: Option<String>,
}

/// How a conversion action receives server events (DESIGN §1): exactly one per action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionKind {
    /// The gtag's `WEBPAGE` action, fed by Data Manager `events:ingest`, deduplicated by
    /// `transactionId` (google.md §8).
    Webpage,
    /// An `UPLOAD_CLICKS` action fed by `uploadClickConversions` (google.md §1).
    UploadClicks,
}

/// The conversion action that receives one business event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionAction {
    /// Business event name (`transaction.purchase`, or a custom name).
    pub event: String,
    /// Numeric conversion action id.
    pub action_id: String,
    /// How it is fed.
    pub kind: ActionKind,
    /// A `WEBPAGE` action's conversion tag (`AW-…/label`), which the pixel fires into.
    pub send_to: Option<crate::browser::SendTo>,
}

/// Which conversion action each event goes to. One entry per event: a second entry for the same
/// event is ignored, so an event never reaches two actions (DESIGN §1 "never both").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversionActions(pub Vec<ConversionAction>);

impl ConversionActions {
    /// The action for `event` (the first configured one).
    pub fn for_event(&self, event: &str) -> Option<&ConversionAction> {
        self.0.iter().find(|a| a.event == event)
    }

    /// These actions with `entries` (the console's, recorded by provisioning) replacing the
    /// entry of their event: per event, a console entry wins over `GOOGLE_CONVERSION_ACTIONS`.
    #[must_use]
    pub fn with_entries(&self, entries: &[ConversionAction]) -> Self {
        let mut out: Vec<ConversionAction> = self
            .0
            .iter()
            .filter(|a| !entries.iter().any(|e| e.event == a.event))
            .cloned()
            .collect();
        out.extend(entries.iter().cloned());
        Self(out)
    }
}

/// Data Manager API settings (google.md §8).
#[derive(Clone, PartialEq, Eq)]
pub struct DataManagerConfig {
    /// `https://datamanager.googleapis.com` in production.
    pub base_url: String,
    /// The Google Ads account that owns the conversion actions (10 digits; dashes removed).
    pub operating_account_id: String,
    /// Manager account, when access goes through one.
    pub login_account_id: Option<String>,
}

/// GA4 Measurement Protocol settings (google.md §4).
#[derive(Clone, PartialEq, Eq)]
pub struct Ga4Config {
    /// `https://www.google-analytics.com` in production.
    pub base_url: String,
    /// `G-XXXX` (not the stream id).
    pub measurement_id: String,
    /// Measurement Protocol API secret.
    pub api_secret: String,
}

macro_rules! redacted_debug {
    ($ty:ty, $($field:ident),*) => {
        impl fmt::Debug for $ty {
            /// Secrets are not shown.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))$(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
redacted_debug!(MetaConfig, base_url, api_version, pixel_id);
redacted_debug!(GoogleAdsConfig, base_url, api_version, customer_id);
redacted_debug!(DataManagerConfig, base_url, operating_account_id);
redacted_debug!(Ga4Config, base_url, measurement_id);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_query_strings_header_values_and_secrets() {
        let req = HttpRequest::post(
            "https://x.test/a?access_token=SECRET".into(),
            vec![("authorization".into(), "Bearer SECRET".into())],
            Body::Json(Value::Null),
        );
        let cfg = Ga4Config {
            base_url: "b".into(),
            measurement_id: "G-1".into(),
            api_secret: "SECRET".into(),
        };
        let shown = format!("{req:?} {cfg:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(req.header("Authorization"), Some("Bearer SECRET"));
        assert_eq!(req.header("content-type"), Some("application/json"));
    }

    #[test]
    fn account_ids_lose_their_dashes_and_bases_their_trailing_slash() {
        assert_eq!(digits("123-456-7890"), "1234567890");
        assert_eq!(trim_base("https://a.test//"), "https://a.test");
    }

    #[test]
    fn only_the_first_action_per_event_counts() {
        let actions = ConversionActions(vec![
            ConversionAction {
                event: "e".into(),
                action_id: "1".into(),
                kind: ActionKind::Webpage,
                send_to: None,
            },
            ConversionAction {
                event: "e".into(),
                action_id: "2".into(),
                kind: ActionKind::UploadClicks,
                send_to: None,
            },
        ]);
        assert_eq!(
            actions.for_event("e").map(|a| a.action_id.as_str()),
            Some("1")
        );
    }
}
