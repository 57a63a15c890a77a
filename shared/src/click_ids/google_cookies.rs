//! Reading (never writing) the click cookies Google's own tags set: `_gcl_aw` (gclid), `_gcl_ag`
//! and `_gcl_gb` (the braids). `reference/google.md` §6; DESIGN §4.
//!
//! Two value formats exist and both are read for every cookie:
//! - plain: `GCL.<unixSeconds>.<id>`, e.g. `GCL.1764315984.Cj0KCQiA…_wcB`;
//! - `$`-segment: `<version>.<depth>.k<id>$i<unixSeconds>[$<field>…]`, e.g.
//!   `2.1.k0AAAAADixm5AS_XrvJQJZUVZuhLe9mQXzC$i1746060892$buYg0CJ6…` (fields keyed by their first
//!   letter; a `GCL.<s>.k<id>$i` variant takes its time from the second segment).
//!
//! Which braid lives in which cookie is not documented and public sources disagree. We follow
//! `reference/google.md` §6 (Stape's mapping, also seen in browser captures): `_gcl_ag` holds the
//! gbraid and `_gcl_gb` the wbraid. A value that does not parse gives nothing, never a guess.

use super::google_click::{Braid, GoogleClick, GoogleClickIds};
use super::id::{Gbraid, Gclid, Wbraid};

/// The longest seconds field read (12 digits reach the year 33658).
const MAX_SECONDS_DIGITS: usize = 12;

fn seconds(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > MAX_SECONDS_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The ID and click time (Unix seconds) in a `_gcl_*` value, in either format.
fn parse_gcl(value: &str) -> Option<(&str, u64)> {
    let mut segments = value.splitn(3, '.');
    let (version, second, rest) = (segments.next()?, segments.next()?, segments.next()?);
    if !rest.contains('$') {
        // Plain format: exactly three segments (the ID cannot hold a '.').
        return (version == "GCL").then_some((rest, seconds(second)?));
    }
    if version != "GCL" && seconds(version).is_none() {
        return None;
    }
    let mut id = None;
    let mut time = None;
    for field in rest.split('$') {
        if let Some(k) = field.strip_prefix('k') {
            id.get_or_insert(k);
        } else if let Some(i) = field.strip_prefix('i') {
            time = time.or(seconds(i));
        }
    }
    let time = time.or_else(|| (version == "GCL").then(|| seconds(second)).flatten())?;
    Some((id?, time))
}

fn click(
    value: Option<&str>,
    ids: impl FnOnce(&str) -> Option<GoogleClickIds>,
) -> Option<GoogleClick> {
    let (id, secs) = parse_gcl(value?)?;
    Some(GoogleClick::new(ids(id)?, secs.saturating_mul(1000)))
}

/// The clicks Google's cookies record, one per cookie, each with its time (whole seconds, as
/// Google stores them, converted to milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoogleCookieClicks {
    /// From `_gcl_aw`.
    pub gclid: Option<GoogleClick>,
    /// From `_gcl_ag`.
    pub gbraid: Option<GoogleClick>,
    /// From `_gcl_gb`.
    pub wbraid: Option<GoogleClick>,
}

impl GoogleCookieClicks {
    /// Reads the values of `_gcl_aw` (`gclid_cookie`), `_gcl_ag` (`gbraid_cookie`) and `_gcl_gb`
    /// (`wbraid_cookie`), each `None` when absent.
    /// Unparseable values are ignored.
    pub fn from_values(
        gclid_cookie: Option<&str>,
        gbraid_cookie: Option<&str>,
        wbraid_cookie: Option<&str>,
    ) -> Self {
        Self {
            gclid: click(gclid_cookie, |id| {
                GoogleClickIds::new(Some(id.parse::<Gclid>().ok()?), None)
            }),
            gbraid: click(gbraid_cookie, |id| {
                GoogleClickIds::new(None, Some(Braid::Gbraid(id.parse::<Gbraid>().ok()?)))
            }),
            wbraid: click(wbraid_cookie, |id| {
                GoogleClickIds::new(None, Some(Braid::Wbraid(id.parse::<Wbraid>().ok()?)))
            }),
        }
    }

    /// The most recent click. IDs Google stored in the same second come from the same landing and
    /// are combined (a gclid with its braid); a wbraid is preferred over a gbraid of the same
    /// second, as on the landing URL, since Google refuses both together (`reference/google.md`
    /// §1.2).
    #[must_use]
    pub fn newest(&self) -> Option<GoogleClick> {
        let all = [&self.gclid, &self.wbraid, &self.gbraid];
        let time = all
            .iter()
            .filter_map(|c| c.as_ref())
            .map(GoogleClick::clicked_at_ms)
            .max()?;
        let at = |c: &Option<GoogleClick>| c.clone().filter(|c| c.clicked_at_ms() == time);
        let gclid = at(&self.gclid).and_then(|c| c.ids().gclid().cloned());
        let braid = at(&self.wbraid)
            .or_else(|| at(&self.gbraid))
            .and_then(|c| c.ids().braid().cloned());
        GoogleClickIds::new(gclid, braid).map(|ids| GoogleClick::new(ids, time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GCLID: &str = "Cj0KCQiAiqDJBhCXARIsABk2kSkKXObEknJuiKZWpaSBMb1woxq4CyGu-LxrAmbxEh33irjFu3A72YYaAoqJEALw_wcB";

    #[test]
    fn gcl_aw_plain_format_gives_the_gclid_and_its_time() {
        let clicks =
            GoogleCookieClicks::from_values(Some(&format!("GCL.1764315984.{GCLID}")), None, None);
        let click = clicks.gclid.unwrap();
        assert_eq!(click.ids().gclid().map(Gclid::as_str), Some(GCLID));
        assert_eq!(click.clicked_at_ms(), 1_764_315_984_000);
    }

    #[test]
    fn dollar_segment_gcl_ag_gives_the_gbraid() {
        let raw = "2.1.k0AAAAADixm5AS_XrvJQJZUVZuhLe9mQXzC$i1746060892$buYg0CJ6XtvkBEJC3xsUD";
        let clicks = GoogleCookieClicks::from_values(None, Some(raw), None);
        let click = clicks.gbraid.unwrap();
        assert_eq!(
            click.ids().gbraid().map(Gbraid::as_str),
            Some("0AAAAADixm5AS_XrvJQJZUVZuhLe9mQXzC")
        );
        assert_eq!(click.clicked_at_ms(), 1_746_060_892_000);
    }

    #[test]
    fn both_braid_cookies_are_read_in_both_formats() {
        let plain = GoogleCookieClicks::from_values(
            None,
            Some("GCL.1790219695.Probe_Gbraid-002"),
            Some("GCL.1784981831.CLEAN_WB"),
        );
        assert_eq!(
            plain.gbraid.unwrap().ids().gbraid().map(Gbraid::as_str),
            Some("Probe_Gbraid-002")
        );
        assert_eq!(
            plain.wbraid.unwrap().ids().wbraid().map(Wbraid::as_str),
            Some("CLEAN_WB")
        );
        let dollar = GoogleCookieClicks::from_values(None, None, Some("2.1.kWb-1$i1790219714"));
        assert_eq!(
            dollar.wbraid.unwrap().ids().wbraid().map(Wbraid::as_str),
            Some("Wb-1")
        );
        let gcl_prefixed =
            GoogleCookieClicks::from_values(None, Some("GCL.1719000000.kGBRAIDVALUE$i"), None);
        assert_eq!(
            gcl_prefixed.gbraid.unwrap().clicked_at_ms(),
            1_719_000_000_000
        );
        let gcl_aw_dollar =
            GoogleCookieClicks::from_values(Some("2.1.kGc_1$i1719000000$u3375712"), None, None);
        assert!(gcl_aw_dollar.gclid.is_some());
    }

    #[test]
    fn garbage_gcl_values_give_nothing() {
        for bad in [
            "",
            "GCL",
            "GCL.x.abc",
            "GCL.1.",
            "XYZ.1.abc",
            "GCL.1.a.b",
            "2.1.k$i1",
            "2.1.kabc",
            "x.1.kabc$i1",
            "2.1.k a$i1",
            "GCL.1.a b",
        ] {
            let clicks = GoogleCookieClicks::from_values(Some(bad), Some(bad), Some(bad));
            assert_eq!(clicks, GoogleCookieClicks::default(), "{bad:?}");
        }
    }

    #[test]
    fn newest_combines_ids_of_the_same_second_and_never_both_braids() {
        let clicks = GoogleCookieClicks::from_values(
            Some("GCL.1700000100.gc"),
            Some("GCL.1700000100.gb"),
            Some("GCL.1700000100.wb"),
        );
        let newest = clicks.newest().unwrap();
        assert_eq!(newest.ids().gclid().map(Gclid::as_str), Some("gc"));
        assert_eq!(newest.ids().wbraid().map(Wbraid::as_str), Some("wb"));
        assert_eq!(newest.ids().gbraid(), None);
        let later_braid = GoogleCookieClicks::from_values(
            Some("GCL.1700000100.gc"),
            Some("GCL.1700000200.gb"),
            None,
        );
        let newest = later_braid.newest().unwrap();
        assert_eq!(newest.ids().gclid(), None);
        assert_eq!(newest.ids().gbraid().map(Gbraid::as_str), Some("gb"));
        assert_eq!(GoogleCookieClicks::default().newest(), None);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn reading_never_panics(a in "\\PC*", b in "[0-9GCL.k$ia-z_-]{0,40}") {
            let clicks = GoogleCookieClicks::from_values(Some(&a), Some(&b), Some(&b));
            let _ = clicks.newest();
        }

        #[test]
        fn plain_values_are_read_back(secs in 0u64..100_000_000_000, id in "[A-Za-z0-9_-]{1,100}") {
            let clicks = GoogleCookieClicks::from_values(Some(&format!("GCL.{secs}.{id}")), None, None);
            let click = clicks.gclid.unwrap();
            prop_assert_eq!(click.ids().gclid().map(Gclid::as_str), Some(id.as_str()));
            prop_assert_eq!(click.clicked_at_ms(), secs * 1000);
        }
    }
}
