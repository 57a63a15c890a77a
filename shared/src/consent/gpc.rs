//! US opt-out of sale/sharing: the Global Privacy Control signal and Meta's Limited Data Use.
//!
//! US state privacy laws are opt-out: data flows by default, but a visitor may opt out of the
//! "sale" or "sharing" of their data. California's regulations (and Colorado's, Connecticut's…)
//! require honouring Global Privacy Control (`Sec-GPC: 1`) as such an opt-out. For Meta the answer
//! is Limited Data Use (meta-capi.md §6): `data_processing_options: ["LDU"]` with a country and
//! state code, or `0, 0` to let Meta geolocate. For Google it is restricted data processing
//! (decided in `policy.rs`).
//!
//! This file does not read headers (the worker passes the header value) and does not apply to
//! opt-in regions, where consent signals already govern (`region.rs`, `policy.rs`).

use super::region::is_iso_country;

/// Whether a `Sec-GPC` request header value signals an opt-out. The GPC spec defines exactly one
/// value, `1`; any other value (or no header) is no signal.
pub fn gpc_header_opts_out(sec_gpc: Option<&str>) -> bool {
    sec_gpc.is_some_and(|v| v.trim() == "1")
}

/// Whether the visitor opted out of sale/sharing: GPC, or an explicit flag (the event's or the
/// pixel's, e.g. a "Do not sell or share my personal information" link). An explicit `false`
/// cannot override GPC: California's regulations make the GPC signal itself a valid opt-out.
pub fn opted_out_of_sale(sec_gpc: Option<&str>, explicit: Option<bool>) -> bool {
    gpc_header_opts_out(sec_gpc) || explicit == Some(true)
}

/// Meta Limited Data Use location codes for one event (meta-capi.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct Ldu {
    /// `data_processing_options_country`: `1` = United States, `0` = let Meta geolocate.
    pub country: u32,
    /// `data_processing_options_state`: `1000` California … `1013` Rhode Island, `0` = geolocate.
    pub state: u32,
}

/// Meta's state codes for Business Tools LDU (meta-capi.md §6, "Data Processing Options for US
/// Users"). The server-event reference page documents only 1000 (California); the data processing
/// options page lists all of these for Business Tools including the Conversions API.
const META_LDU_STATES: &[(&str, u32)] = &[
    ("CA", 1000),
    ("CO", 1001),
    ("CT", 1002),
    ("FL", 1003),
    ("OR", 1004),
    ("TX", 1005),
    ("MT", 1006),
    ("DE", 1007),
    ("NE", 1008),
    ("NH", 1009),
    ("NJ", 1010),
    ("MN", 1011),
    ("MD", 1012),
    ("RI", 1013),
];

impl Ldu {
    /// The value of `data_processing_options` when LDU applies.
    pub const DATA_PROCESSING_OPTIONS: &'static [&'static str] = &["LDU"];

    /// `0, 0`: Meta geolocates the event from its IP address.
    pub const GEOLOCATE: Self = Self {
        country: 0,
        state: 0,
    };

    /// `1, 1000`: United States, California.
    pub const CALIFORNIA: Self = Self {
        country: 1,
        state: 1000,
    };

    /// LDU codes for a US visitor in `state` (USPS code `CA`, or ISO 3166-2 `US-CA`). A state Meta has
    /// no code for, or an unknown state, yields [`Ldu::GEOLOCATE`]: Meta says "if you set a country,
    /// you must also set a state", so we never send country 1 with state 0.
    pub fn for_us_state(state: Option<&str>) -> Self {
        let Some(state) = state.map(str::trim) else {
            return Self::GEOLOCATE;
        };
        let state = match state.get(..3) {
            Some(prefix) if prefix.eq_ignore_ascii_case("US-") => {
                state.get(3..).unwrap_or_default()
            }
            _ => state,
        };
        META_LDU_STATES
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(state))
            .map_or(Self::GEOLOCATE, |&(_, code)| Self {
                country: 1,
                state: code,
            })
    }

    /// LDU for a visitor who opted out of sale/sharing (`opted_out`), given where the edge thinks
    /// they are. `None` when there is no opt-out, or when the visitor is known to be outside the US
    /// (LDU exists for US state laws). An unknown country yields [`Ldu::GEOLOCATE`], letting Meta
    /// decide from the IP, rather than ignoring an opt-out.
    pub fn for_opt_out(
        opted_out: bool,
        country: Option<&str>,
        region: Option<&str>,
    ) -> Option<Self> {
        if !opted_out {
            return None;
        }
        match country.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) if c.eq_ignore_ascii_case("US") => Some(Self::for_us_state(region)),
            Some(c) if is_iso_country(c) => None,
            // Missing, `XX`, Tor's `T1`, garbage: as in `region.rs`, unknown is not "elsewhere".
            _ => Some(Self::GEOLOCATE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_gpc_1_is_an_opt_out_and_nothing_else_is() {
        assert!(gpc_header_opts_out(Some("1")));
        assert!(gpc_header_opts_out(Some(" 1 ")));
        for v in [None, Some("0"), Some(""), Some("true"), Some("11")] {
            assert!(!gpc_header_opts_out(v), "{v:?}");
        }
    }

    #[test]
    fn explicit_false_does_not_override_gpc() {
        assert!(opted_out_of_sale(Some("1"), Some(false)));
        assert!(opted_out_of_sale(None, Some(true)));
        assert!(!opted_out_of_sale(None, None));
        assert!(!opted_out_of_sale(Some("0"), Some(false)));
    }

    #[test]
    fn california_opt_out_gets_country_1_state_1000() {
        assert_eq!(
            Ldu::for_opt_out(true, Some("US"), Some("CA")),
            Some(Ldu::CALIFORNIA)
        );
        assert_eq!(
            Ldu::for_opt_out(true, Some("us"), Some("US-CA")),
            Some(Ldu::CALIFORNIA)
        );
        assert_eq!(
            Ldu::CALIFORNIA,
            Ldu {
                country: 1,
                state: 1000
            }
        );
    }

    #[test]
    fn other_ldu_states_get_their_meta_codes() {
        assert_eq!(
            Ldu::for_us_state(Some("CO")),
            Ldu {
                country: 1,
                state: 1001
            }
        );
        assert_eq!(
            Ldu::for_us_state(Some("RI")),
            Ldu {
                country: 1,
                state: 1013
            }
        );
    }

    #[test]
    fn us_state_without_a_meta_code_lets_meta_geolocate() {
        assert_eq!(
            Ldu::for_opt_out(true, Some("US"), Some("NY")),
            Some(Ldu::GEOLOCATE)
        );
        assert_eq!(
            Ldu::for_opt_out(true, Some("US"), None),
            Some(Ldu::GEOLOCATE)
        );
        assert_eq!(
            Ldu::GEOLOCATE,
            Ldu {
                country: 0,
                state: 0
            }
        );
    }

    #[test]
    fn opt_out_from_unknown_country_lets_meta_geolocate() {
        assert_eq!(Ldu::for_opt_out(true, None, None), Some(Ldu::GEOLOCATE));
        assert_eq!(
            Ldu::for_opt_out(true, Some("XX"), None),
            Some(Ldu::GEOLOCATE)
        );
        assert_eq!(
            Ldu::for_opt_out(true, Some("T1"), None),
            Some(Ldu::GEOLOCATE)
        );
        assert_eq!(
            Ldu::for_opt_out(true, Some("ZZ"), None),
            Some(Ldu::GEOLOCATE)
        );
    }

    #[test]
    fn no_ldu_without_opt_out_or_outside_the_us() {
        assert_eq!(Ldu::for_opt_out(false, Some("US"), Some("CA")), None);
        assert_eq!(Ldu::for_opt_out(true, Some("DE"), None), None);
        assert_eq!(Ldu::DATA_PROCESSING_OPTIONS, &["LDU"]);
    }
}
