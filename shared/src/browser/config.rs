//! What the worker tells the pixel (`GET /_ar/config`): the event mapping in effect, which
//! browser tags to drive, and the pixel's options. Nothing secret: every value here also shows in
//! the page's own tags.
//!
//! # Format
//!
//! `text/plain`, one record per line, each record an `application/x-www-form-urlencoded` string
//! (so the pixel parses it with the `form_urlencoded` it already links, without a JSON parser):
//!
//! ```text
//! ar=1&version=5d41402abc4b2a76&country=US
//! meta=123456789&src=https%3A%2F%2Fconnect.facebook.net%2Fen_US%2Ffbevents.js&load=1
//! ga4=G-DEMO&src=https%3A%2F%2Fwww.googletagmanager.com%2Fgtag%2Fjs&load=1
//! banner=1&text=We+use+cookies…&accept=Accept+all&reject=Reject+all
//! datalayer=capture&checkout_id=ecommerce.checkout_id
//! leads=1
//! event=transaction.purchase&meta=Purchase&ga4=purchase&key=order_id&send_to=AW-123%2FAbC
//! ```
//!
//! The first line names the format (`ar=1`), the version and the default phone country; `meta` and
//! `ga4` name the tags to drive, their base tag's URL, and whether the pixel loads it when the page
//! has none (`load=1`); one `event` line per mapped event, standard and custom, so the pixel derives
//! every ID from the mapping the worker uses. Unknown records and fields are ignored, so an older
//! pixel reads a newer worker's config.
//!
//! The version is the first 64 bits of SHA-256 over every line after the first, in hex: any change
//! of mapping, tag ids or options changes it. The worker sends it as the `ETag`, and browsers
//! revalidate on every page (DESIGN §4 "Configuration served to the pixel").

use crate::event::EventName;
use crate::mapping::BusinessKey;

use super::send_to::SendTo;

/// The format this code writes and reads.
pub const CONFIG_FORMAT: &str = "1";

/// The event fields that carry business keys (DESIGN §3), as a dataLayer key mapping names them.
pub const KEY_FIELDS: [&str; 5] = ["order_id", "checkout_id", "cart_id", "user_id", "lead_id"];

/// How one event is reported by the browser tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PixelEvent {
    /// The business event.
    pub name: EventName,
    /// Meta event name (standard or custom).
    pub meta: String,
    /// GA4 event name.
    pub ga4: String,
    /// The business key its ID is derived from.
    pub key: BusinessKey,
    /// The Google Ads conversion tag of its `WEBPAGE` action, if it has one.
    pub send_to: Option<SendTo>,
}

/// How the pixel treats GA4 e-commerce pushes on `window.dataLayer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataLayerMode {
    /// Pushes are ignored.
    #[default]
    Off,
    /// Pushes become events reported to the worker; the page's own GTM fires the tags.
    Capture,
    /// Pushes become events, and the pixel fires the tags too (no GTM on the page).
    Fire,
}

impl DataLayerMode {
    /// The configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Capture => "capture",
            Self::Fire => "fire",
        }
    }

    /// The mode named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Off, Self::Capture, Self::Fire]
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

/// The built-in consent banner's texts (shown only where the region answer asks for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannerText {
    /// The message.
    pub text: String,
    /// The accept button.
    pub accept: String,
    /// The reject button.
    pub reject: String,
}

/// A browser tag the pixel drives: its id, its base tag's URL, and whether the pixel loads the
/// base tag when the page has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Meta pixel id or GA4 measurement id.
    pub id: String,
    /// The base tag script (`fbevents.js`, `gtag/js`).
    pub src: String,
    /// Load and initialize the base tag when the page has none (`PIXEL_LOAD_TAGS`); otherwise
    /// only the page's own tag is driven.
    pub load: bool,
}

/// Everything the pixel is configured with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PixelConfig {
    /// The configuration's version (16 hex digits).
    pub version: String,
    /// Country for phone numbers without a country code (`DEFAULT_COUNTRY`).
    pub default_country: String,
    /// Meta's pixel.
    pub meta: Option<Tag>,
    /// GA4.
    pub ga4: Option<Tag>,
    /// The built-in banner, when on.
    pub banner: Option<BannerText>,
    /// dataLayer capture.
    pub datalayer: DataLayerMode,
    /// Where each business key field sits in a dataLayer push (`checkout_id` →
    /// `ecommerce.checkout_id`).
    pub datalayer_keys: Vec<(String, String)>,
    /// Whether `<form data-ar-lead>` forms report leads.
    pub lead_forms: bool,
    /// The mapping in effect, standard and custom events.
    pub events: Vec<PixelEvent>,
}

/// Why a configuration text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The first line is not `ar=1&…`.
    Format,
    /// An `event` record the pixel cannot use.
    Event {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
}

impl ConfigError {
    /// What is wrong (built without `core::fmt`, `crate::text`).
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::Format => {
                "not an Active Reach pixel configuration of format 1 (first line must be ar=1&…)"
                    .to_owned()
            }
            Self::Event { line, problem } => [
                "config line ",
                &crate::text::decimal(*line as u64),
                ": ",
                problem,
            ]
            .concat(),
        }
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for ConfigError {}

impl PixelConfig {
    /// The mapping of `name`, if the worker maps it.
    pub fn event(&self, name: &EventName) -> Option<&PixelEvent> {
        self.events.iter().find(|e| &e.name == name)
    }

    /// Reads the configuration text.
    ///
    /// # Errors
    /// [`ConfigError`] for a text of another format or an unusable `event` line.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut lines = text.lines();
        let header = record(lines.next().unwrap_or_default());
        if field(&header, "ar") != Some(CONFIG_FORMAT) {
            return Err(ConfigError::Format);
        }
        let mut config = Self {
            version: field(&header, "version").unwrap_or_default().to_owned(),
            default_country: field(&header, "country").unwrap_or("US").to_owned(),
            ..Self::default()
        };
        for (i, line) in lines.enumerate() {
            let r = record(line);
            let tag = |id: &str| Tag {
                id: id.to_owned(),
                src: field(&r, "src").unwrap_or_default().to_owned(),
                load: field(&r, "load") == Some("1"),
            };
            match r.first().map(|(k, v)| (k.as_str(), v.as_str())) {
                Some(("meta", id)) => config.meta = Some(tag(id)),
                Some(("ga4", id)) => config.ga4 = Some(tag(id)),
                Some(("banner", _)) => {
                    let get = |k| field(&r, k).unwrap_or_default().to_owned();
                    config.banner = Some(BannerText {
                        text: get("text"),
                        accept: get("accept"),
                        reject: get("reject"),
                    });
                }
                Some(("datalayer", mode)) => {
                    config.datalayer = DataLayerMode::from_name(mode).unwrap_or_default();
                    config.datalayer_keys = r
                        .iter()
                        .filter(|(k, _)| KEY_FIELDS.contains(&k.as_str()))
                        .cloned()
                        .collect();
                }
                Some(("leads", on)) => config.lead_forms = on == "1",
                Some(("event", _)) => config.events.push(event(&r, i + 2)?),
                _ => {}
            }
        }
        Ok(config)
    }
}

fn event(r: &[(String, String)], line: usize) -> Result<PixelEvent, ConfigError> {
    let bad = |problem| ConfigError::Event { line, problem };
    let name = field(r, "event")
        .and_then(|n| n.parse().ok())
        .ok_or(bad("not an event name"))?;
    let key =
        BusinessKey::from_name(field(r, "key").unwrap_or("none")).ok_or(bad("unknown key"))?;
    let send_to = match field(r, "send_to") {
        Some(s) => Some(s.parse().map_err(|_| bad("send_to is not AW-…/label"))?),
        None => None,
    };
    Ok(PixelEvent {
        name,
        meta: field(r, "meta").ok_or(bad("no meta name"))?.to_owned(),
        ga4: field(r, "ga4").ok_or(bad("no ga4 name"))?.to_owned(),
        key,
        send_to,
    })
}

fn record(line: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(line.trim().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(r: &'a [(String, String)], key: &str) -> Option<&'a str> {
    r.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Renders the configuration text, computing its version.
#[cfg(feature = "server")]
#[must_use]
pub fn render(config: &PixelConfig) -> (String, String) {
    let line = |pairs: &[(&str, &str)]| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish() + "\n"
    };
    let tag = |kind: &str, t: &Tag| {
        line(&[
            (kind, &t.id),
            ("src", &t.src),
            ("load", if t.load { "1" } else { "0" }),
        ])
    };
    let mut body = String::new();
    if let Some(t) = &config.meta {
        body += &tag("meta", t);
    }
    if let Some(t) = &config.ga4 {
        body += &tag("ga4", t);
    }
    if let Some(b) = &config.banner {
        body += &line(&[
            ("banner", "1"),
            ("text", &b.text),
            ("accept", &b.accept),
            ("reject", &b.reject),
        ]);
    }
    if config.datalayer != DataLayerMode::Off {
        let mut pairs = vec![("datalayer", config.datalayer.as_str())];
        pairs.extend(
            config
                .datalayer_keys
                .iter()
                .map(|(k, p)| (k.as_str(), p.as_str())),
        );
        body += &line(&pairs);
    }
    body += &line(&[("leads", if config.lead_forms { "1" } else { "0" })]);
    for e in &config.events {
        let mut pairs = vec![
            ("event", e.name.as_str()),
            ("meta", e.meta.as_str()),
            ("ga4", e.ga4.as_str()),
            ("key", e.key.as_str()),
        ];
        if let Some(s) = &e.send_to {
            pairs.push(("send_to", s.as_str()));
        }
        body += &line(&pairs);
    }
    let version = version_of(&body);
    let header = line(&[
        ("ar", CONFIG_FORMAT),
        ("version", &version),
        ("country", &config.default_country),
    ]);
    (header + &body, version)
}

/// The first 64 bits of SHA-256 over `body`, as 16 lowercase hex digits.
#[cfg(feature = "server")]
fn version_of(body: &str) -> String {
    use core::fmt::Write as _;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body.as_bytes());
    digest.iter().take(8).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests;
