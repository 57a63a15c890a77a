//! A Google ad click: a `gclid` and/or one braid (`gbraid` or `wbraid`), with the time of the
//! click. Its text form is the value of our own first-party click cookie.
//!
//! Cookie value (version 1): `ar1.<clickTimeMs>.<kind>.<id>[.<kind>.<id>]` with kinds `gclid`,
//! `gbraid`, `wbraid`, e.g. `ar1.1716819200123.gclid.Cj0KCQiA…_wcB.wbraid.ClkKCQ…`. Only
//! cookie-octets and `.` appear, so it needs no encoding; the `ar1` prefix lets a later format
//! coexist.
//!
//! Rule: never `gbraid` and `wbraid` together. Google rejects such an upload with
//! `GBRAID_WBRAID_BOTH_SET` (`reference/google.md` §1.2, §9), so [`GoogleClickIds`] can hold only
//! one [`Braid`] and the parser refuses a value with both.

use core::fmt;
use core::str::FromStr;

use super::id::{ClickIdError, Gbraid, Gclid, Wbraid};

/// Version prefix of our click cookie value.
const VERSION: &str = "ar1";

/// One of Google's two iOS 14+ click IDs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Braid {
    /// `gbraid`: a click measured for app conversions.
    Gbraid(Gbraid),
    /// `wbraid`: a click measured for web conversions.
    Wbraid(Wbraid),
}

/// The IDs of one Google click: a `gclid`, a braid, or both; never empty and never two braids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GoogleClickIds {
    gclid: Option<Gclid>,
    braid: Option<Braid>,
}

impl GoogleClickIds {
    /// The IDs of a click, or `None` when there is neither a gclid nor a braid.
    pub fn new(gclid: Option<Gclid>, braid: Option<Braid>) -> Option<Self> {
        (gclid.is_some() || braid.is_some()).then_some(Self { gclid, braid })
    }

    /// The IDs from the landing URL's `gclid`, `gbraid` and `wbraid`. When both braids arrive,
    /// `wbraid` is kept: it is the one Google defines for web conversions, which are what a shop
    /// measures (`reference/google.md` §1.2), and Google refuses both together.
    pub fn from_params(
        gclid: Option<Gclid>,
        gbraid: Option<Gbraid>,
        wbraid: Option<Wbraid>,
    ) -> Option<Self> {
        let braid = wbraid.map(Braid::Wbraid).or(gbraid.map(Braid::Gbraid));
        Self::new(gclid, braid)
    }

    /// The gclid, if any.
    pub const fn gclid(&self) -> Option<&Gclid> {
        self.gclid.as_ref()
    }

    /// The braid, if any.
    pub const fn braid(&self) -> Option<&Braid> {
        self.braid.as_ref()
    }

    /// The gbraid, if the braid is one.
    pub const fn gbraid(&self) -> Option<&Gbraid> {
        match &self.braid {
            Some(Braid::Gbraid(id)) => Some(id),
            _ => None,
        }
    }

    /// The wbraid, if the braid is one.
    pub const fn wbraid(&self) -> Option<&Wbraid> {
        match &self.braid {
            Some(Braid::Wbraid(id)) => Some(id),
            _ => None,
        }
    }
}

/// A Google click and when it happened: the content of our click cookie.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct GoogleClick {
    ids: GoogleClickIds,
    clicked_at_ms: u64,
}

impl GoogleClick {
    /// A click with `ids` that happened at `clicked_at_ms` (Unix milliseconds).
    pub const fn new(ids: GoogleClickIds, clicked_at_ms: u64) -> Self {
        Self { ids, clicked_at_ms }
    }

    /// The click's IDs.
    pub const fn ids(&self) -> &GoogleClickIds {
        &self.ids
    }

    /// When the click happened, in Unix milliseconds.
    pub const fn clicked_at_ms(&self) -> u64 {
        self.clicked_at_ms
    }
}

/// Why a string is not a valid click cookie value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GoogleClickError {
    /// The value does not start with a version this code reads.
    #[error("the click cookie must start with \"ar1.\"")]
    Version,
    /// The click time is not a number of milliseconds.
    #[error("the click time must be a Unix time in milliseconds (digits only)")]
    ClickTime,
    /// The IDs are not `<kind>.<id>` pairs, or there are none.
    #[error("the click cookie must hold one to three <kind>.<id> pairs after the time")]
    Shape,
    /// A kind other than `gclid`, `gbraid` or `wbraid`.
    #[error("unknown click ID kind; expected gclid, gbraid or wbraid")]
    UnknownKind,
    /// The same kind appears twice.
    #[error("a click ID kind appears twice")]
    Duplicate,
    /// Both a gbraid and a wbraid: Google refuses that combination.
    #[error("gbraid and wbraid cannot be stored together (Google rejects GBRAID_WBRAID_BOTH_SET)")]
    BothBraids,
    /// An ID is not a valid click ID.
    #[error(transparent)]
    Id(#[from] ClickIdError),
}

impl FromStr for GoogleClick {
    type Err = GoogleClickError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut segments = s.split('.');
        if segments.next() != Some(VERSION) {
            return Err(GoogleClickError::Version);
        }
        let time = segments.next().unwrap_or_default();
        if time.is_empty() || time.len() > 20 || !time.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GoogleClickError::ClickTime);
        }
        let clicked_at_ms = time.parse().map_err(|_| GoogleClickError::ClickTime)?;
        let (mut gclid, mut gbraid, mut wbraid) = (None, None, None);
        let mut pairs = 0;
        while let Some(kind) = segments.next() {
            pairs += 1;
            let id = segments.next().ok_or(GoogleClickError::Shape)?;
            let duplicate = match kind {
                "gclid" => gclid.replace(id.parse::<Gclid>()?).is_some(),
                "gbraid" => gbraid.replace(id.parse::<Gbraid>()?).is_some(),
                "wbraid" => wbraid.replace(id.parse::<Wbraid>()?).is_some(),
                _ => return Err(GoogleClickError::UnknownKind),
            };
            if duplicate {
                return Err(GoogleClickError::Duplicate);
            }
        }
        if pairs == 0 {
            return Err(GoogleClickError::Shape);
        }
        let braid = match (gbraid, wbraid) {
            (Some(_), Some(_)) => return Err(GoogleClickError::BothBraids),
            (Some(g), None) => Some(Braid::Gbraid(g)),
            (None, Some(w)) => Some(Braid::Wbraid(w)),
            (None, None) => None,
        };
        let ids = GoogleClickIds::new(gclid, braid).ok_or(GoogleClickError::Shape)?;
        Ok(Self::new(ids, clicked_at_ms))
    }
}

impl GoogleClick {
    /// The cookie value, `ar1.<clicked at ms>[.gclid.<id>][.gbraid.<id>|.wbraid.<id>]` (built
    /// without `core::fmt`, `crate::text`: the pixel's capture module writes it).
    #[must_use]
    pub fn value(&self) -> String {
        let mut out = [VERSION, ".", &crate::text::decimal(self.clicked_at_ms)].concat();
        if let Some(gclid) = &self.ids.gclid {
            out.push_str(".gclid.");
            out.push_str(gclid.as_str());
        }
        let braid = match &self.ids.braid {
            Some(Braid::Gbraid(id)) => Some((".gbraid.", id.as_str())),
            Some(Braid::Wbraid(id)) => Some((".wbraid.", id.as_str())),
            None => None,
        };
        if let Some((kind, id)) = braid {
            out.push_str(kind);
            out.push_str(id);
        }
        out
    }
}

impl fmt::Display for GoogleClick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value())
    }
}

impl TryFrom<String> for GoogleClick {
    type Error = GoogleClickError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<GoogleClick> for String {
    fn from(click: GoogleClick) -> String {
        click.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GCLID: &str = "Cj0KCQiA57G5BhDUARIsACgCYnzs-AgSVLRggR_wcB";

    fn ids(
        gclid: Option<&str>,
        gbraid: Option<&str>,
        wbraid: Option<&str>,
    ) -> Option<GoogleClickIds> {
        GoogleClickIds::from_params(
            gclid.map(|s| s.parse().unwrap()),
            gbraid.map(|s| s.parse().unwrap()),
            wbraid.map(|s| s.parse().unwrap()),
        )
    }

    #[test]
    fn click_cookie_round_trips_with_gclid_and_braid() {
        let click = GoogleClick::new(
            ids(Some(GCLID), None, Some("ClkKCQ-w_b")).unwrap(),
            1_716_819_200_123,
        );
        let raw = click.to_string();
        assert_eq!(
            raw,
            format!("ar1.1716819200123.gclid.{GCLID}.wbraid.ClkKCQ-w_b")
        );
        assert_eq!(raw.parse::<GoogleClick>(), Ok(click));
    }

    #[test]
    fn gbraid_and_wbraid_are_never_together() {
        let both = ids(None, Some("0AAAAAgb"), Some("ClkKwb")).unwrap();
        assert_eq!(both.wbraid().map(Wbraid::as_str), Some("ClkKwb"));
        assert_eq!(both.gbraid(), None);
        assert_eq!(
            "ar1.1.gbraid.a.wbraid.b".parse::<GoogleClick>(),
            Err(GoogleClickError::BothBraids)
        );
    }

    #[test]
    fn a_click_needs_at_least_one_id() {
        assert_eq!(ids(None, None, None), None);
        assert_eq!("ar1.1".parse::<GoogleClick>(), Err(GoogleClickError::Shape));
    }

    #[test]
    fn malformed_click_cookies_are_rejected_with_the_reason() {
        assert_eq!(
            "ar2.1.gclid.a".parse::<GoogleClick>(),
            Err(GoogleClickError::Version)
        );
        assert_eq!(
            "ar1.x.gclid.a".parse::<GoogleClick>(),
            Err(GoogleClickError::ClickTime)
        );
        assert_eq!(
            "ar1.1.gclid".parse::<GoogleClick>(),
            Err(GoogleClickError::Shape)
        );
        assert_eq!(
            "ar1.1.dclid.a".parse::<GoogleClick>(),
            Err(GoogleClickError::UnknownKind)
        );
        assert_eq!(
            "ar1.1.gclid.a.gclid.b".parse::<GoogleClick>(),
            Err(GoogleClickError::Duplicate)
        );
        assert_eq!(
            "ar1.1.gclid.".parse::<GoogleClick>(),
            Err(GoogleClickError::Id(ClickIdError::Empty("gclid")))
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = s.parse::<GoogleClick>();
        }

        #[test]
        fn near_miss_values_never_panic(s in "ar1\\.[0-9]{0,22}(\\.(gclid|gbraid|wbraid|x)?(\\.[A-Za-z0-9_-]{0,5})?){0,4}") {
            let _ = s.parse::<GoogleClick>();
        }

        #[test]
        fn format_then_parse_round_trips(
            ms in any::<u64>(),
            gclid in proptest::option::of("[A-Za-z0-9_-]{1,80}"),
            braid in proptest::option::of("[A-Za-z0-9_-]{1,80}"),
            web in any::<bool>(),
        ) {
            let braid = braid.map(|b| if web {
                Braid::Wbraid(b.parse().unwrap())
            } else {
                Braid::Gbraid(b.parse().unwrap())
            });
            if let Some(ids) = GoogleClickIds::new(gclid.map(|g| g.parse().unwrap()), braid) {
                let click = GoogleClick::new(ids, ms);
                let parsed: GoogleClick = click.to_string().parse().unwrap();
                prop_assert_eq!(&parsed, &click);
                prop_assert_eq!(parsed.to_string(), click.to_string());
            }
        }
    }
}
