//! The pixel's settings: which base tags it loads, the built-in consent banner, dataLayer capture
//! and lead forms. Served to the browser by `GET /_ar/config` (`browser::served`).
//!
//! | setting | default | what |
//! |---|---|---|
//! | `PIXEL_LOAD_TAGS` | `false` | `true`: the pixel loads Meta's and Google's base tags itself when the page has none |
//! | `META_TAG_URL` | Meta's `fbevents.js` | the Meta base tag the pixel loads |
//! | `GTAG_URL` | Google's `gtag/js` | the gtag base tag the pixel loads (`?id=` is appended) |
//! | `CONSENT_BANNER` | `off` | `on`: the built-in banner asks visitors in its regions |
//! | `CONSENT_BANNER_REGIONS` | `CONSENT_REGIONS` | where it asks: the region format, or `ALL` |
//! | `CONSENT_BANNER_TEXT`, `…_ACCEPT`, `…_REJECT` | English texts | its message and buttons |
//! | `DATALAYER` | `off` | `capture` or `fire`: GA4 e-commerce pushes become events |
//! | `DATALAYER_KEYS` | — | `checkout_id=ecommerce.checkout_id,user_id=user_id`: where each key sits |
//! | `LEAD_FORMS` | `true` | `<form data-ar-lead>` forms report `lead.submitted` |

use crate::browser::config::{DataLayerMode, KEY_FIELDS};
use crate::consent::RegionPolicy;

use super::Reader;

/// Meta's base tag (meta-capi.md §11.2).
pub const DEFAULT_META_TAG_URL: &str = crate::browser::setup::OFFICIAL_META_TAG_URL;
/// Google's base tag (google.md §11.2).
pub const DEFAULT_GTAG_URL: &str = "https://www.googletagmanager.com/gtag/js";

const DEFAULT_BANNER_TEXT: &str = "We use cookies to measure our ads. Do you agree?";
const DEFAULT_BANNER_ACCEPT: &str = "Accept all";
const DEFAULT_BANNER_REJECT: &str = "Reject all";

/// Where the built-in banner asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BannerRegions {
    /// Every visitor.
    All,
    /// The opt-in regions of `CONSENT_REGIONS`.
    ConsentRegions,
    /// Its own list, in the `CONSENT_REGIONS` format.
    Listed(RegionPolicy),
}

impl BannerRegions {
    /// Whether the banner asks a visitor in `country` / `region`.
    pub fn applies(
        &self,
        consent_regions: &RegionPolicy,
        country: Option<&str>,
        region: Option<&str>,
    ) -> bool {
        match self {
            Self::All => true,
            Self::ConsentRegions => consent_regions.is_opt_in_region(country, region),
            Self::Listed(p) => p.is_opt_in_region(country, region),
        }
    }
}

/// The built-in banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannerSettings {
    /// Where it asks.
    pub regions: BannerRegions,
    /// Its message.
    pub text: String,
    /// Its accept button.
    pub accept: String,
    /// Its reject button.
    pub reject: String,
}

/// Everything the pixel is configured with besides the mapping and the tag ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PixelSettings {
    /// Load the base tags when the page has none.
    pub load_tags: bool,
    /// Meta's base tag URL.
    pub meta_tag_url: String,
    /// gtag's base tag URL.
    pub gtag_url: String,
    /// The built-in banner, when on.
    pub banner: Option<BannerSettings>,
    /// dataLayer capture.
    pub datalayer: DataLayerMode,
    /// Where each business key sits in a dataLayer push.
    pub datalayer_keys: Vec<(String, String)>,
    /// Lead forms.
    pub lead_forms: bool,
}

fn flag(r: &mut Reader<'_>, name: &'static str, default: bool) -> bool {
    match r.get(name).as_deref() {
        None => default,
        Some("true" | "on" | "1") => true,
        Some("false" | "off" | "0") => false,
        Some(v) => {
            r.problem(name, format!("{v:?} is neither true nor false"));
            default
        }
    }
}

pub(super) fn read(r: &mut Reader<'_>) -> PixelSettings {
    let load_tags = flag(r, "PIXEL_LOAD_TAGS", false);
    let meta_tag_url = super::url(r, "META_TAG_URL", DEFAULT_META_TAG_URL);
    let gtag_url = super::url(r, "GTAG_URL", DEFAULT_GTAG_URL);
    let banner = flag(r, "CONSENT_BANNER", false).then(|| banner(r));
    let datalayer = match r.get("DATALAYER") {
        None => DataLayerMode::Off,
        Some(v) => DataLayerMode::from_name(&v).unwrap_or_else(|| {
            r.problem("DATALAYER", format!("{v:?} is not off, capture or fire"));
            DataLayerMode::Off
        }),
    };
    let datalayer_keys = r
        .get("DATALAYER_KEYS")
        .map(|v| datalayer_keys(r, &v))
        .unwrap_or_default();
    PixelSettings {
        load_tags,
        meta_tag_url,
        gtag_url,
        banner,
        datalayer,
        datalayer_keys,
        lead_forms: flag(r, "LEAD_FORMS", true),
    }
}

fn banner(r: &mut Reader<'_>) -> BannerSettings {
    let regions = match r.get("CONSENT_BANNER_REGIONS") {
        None => BannerRegions::ConsentRegions,
        Some(v) if v.eq_ignore_ascii_case("ALL") => BannerRegions::All,
        Some(v) => v.parse().map_or_else(
            |e| {
                r.problem("CONSENT_BANNER_REGIONS", format!("{e} (or write ALL)"));
                BannerRegions::ConsentRegions
            },
            BannerRegions::Listed,
        ),
    };
    let text = |r: &Reader<'_>, name, default: &str| r.get(name).unwrap_or_else(|| default.into());
    BannerSettings {
        regions,
        text: text(r, "CONSENT_BANNER_TEXT", DEFAULT_BANNER_TEXT),
        accept: text(r, "CONSENT_BANNER_ACCEPT", DEFAULT_BANNER_ACCEPT),
        reject: text(r, "CONSENT_BANNER_REJECT", DEFAULT_BANNER_REJECT),
    }
}

/// `key=path` pairs, comma-separated; a path is dot-separated field names.
fn datalayer_keys(r: &mut Reader<'_>, value: &str) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = entry.split_once('=').and_then(|(k, path)| {
            let key = KEY_FIELDS.into_iter().find(|f| *f == k.trim())?;
            let path = path.trim();
            let ok = !path.is_empty() && path.split('.').all(|p| !p.is_empty());
            ok.then(|| (key.to_owned(), path.to_owned()))
        });
        match parsed {
            Some(pair) => keys.push(pair),
            None => r.problem(
                "DATALAYER_KEYS",
                format!(
                    "{entry:?} is not <order_id|checkout_id|cart_id|user_id|lead_id>=<field.path>"
                ),
            ),
        }
    }
    keys
}
