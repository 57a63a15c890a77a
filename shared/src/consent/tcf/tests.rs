//! Tests for `tcf.rs`: its rules by name, and property tests for what it parses.

use super::*;
use crate::consent::Signal::{Denied, Granted};

/// Writes big-endian bit fields, then base64url without padding, as CMPs do.
#[derive(Default)]
struct BitWriter(Vec<bool>);

impl BitWriter {
    fn put(&mut self, value: u64, n: usize) -> &mut Self {
        for i in (0..n).rev() {
            self.0.push((value >> i) & 1 == 1);
        }
        self
    }

    fn letters(&mut self, s: &str) -> &mut Self {
        for b in s.bytes() {
            self.put(u64::from(b - b'A'), 6);
        }
        self
    }

    fn finish(&self) -> String {
        let bytes: Vec<u8> = self
            .0
            .chunks(8)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, &bit)| acc | (u8::from(bit) << (7 - i)))
            })
            .collect();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

enum Vendors<'a> {
    Bitfield(&'a [u16]),
    Ranges(&'a [(u16, u16)]),
}

/// A core segment with the given purpose consents and vendor consents.
fn core_segment(purposes: &[u8], vendors: &Vendors<'_>) -> String {
    let mut w = BitWriter::default();
    w.put(2, 6) // version
        .put(16_000_000_000, 36) // created, deciseconds (2020-09-13)
        .put(16_000_000_000, 36) // lastUpdated
        .put(300, 12) // cmpId
        .put(2, 12) // cmpVersion
        .put(1, 6) // consentScreen
        .letters("DE")
        .put(150, 12) // vendorListVersion
        .put(4, 6) // tcfPolicyVersion: TCF v2.2
        .put(1, 1) // isServiceSpecific
        .put(0, 1) // useNonStandardTexts
        .put(0b1000_0000_0000, 12); // specialFeatureOptIns: feature 1
    let mask = purposes.iter().fold(0u64, |m, &p| m | (1 << (24 - p)));
    w.put(mask, 24).put(0, 24).put(0, 1).letters("FR");
    match vendors {
        Vendors::Bitfield(ids) => {
            let max = ids.iter().copied().max().unwrap_or(0);
            w.put(u64::from(max), 16).put(0, 1);
            for id in 1..=max {
                w.put(u64::from(ids.contains(&id)), 1);
            }
        }
        Vendors::Ranges(ranges) => {
            let max = ranges.iter().map(|r| r.1).max().unwrap_or(0);
            w.put(u64::from(max), 16)
                .put(1, 1)
                .put(ranges.len() as u64, 12);
            for &(start, end) in *ranges {
                if start == end {
                    w.put(0, 1).put(u64::from(start), 16);
                } else {
                    w.put(1, 1)
                        .put(u64::from(start), 16)
                        .put(u64::from(end), 16);
                }
            }
        }
    }
    w.finish()
}

const ALL_GOOGLE_PURPOSES: &[u8] = &[1, 2, 3, 4, 7, 9, 10];

#[test]
fn decodes_a_published_example_string() {
    // IAB TCF v2 example string, decoded as documented by the lib_tcstring crate's tests
    // (advancedSTORE/lib_tcstring): CMP 27, GVL 15, purposes 1-3, vendors 2, 6 and 8 (ranges).
    let tc: TcString = "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA"
        .parse()
        .unwrap();
    assert_eq!(tc.version, 2);
    assert_eq!(tc.created, 15_822_430_593);
    assert_eq!(tc.last_updated, 15_822_430_593);
    assert_eq!(tc.cmp_id, 27);
    assert_eq!(tc.cmp_version, 0);
    assert_eq!(tc.consent_screen, 0);
    assert_eq!(tc.consent_language, "EN");
    assert_eq!(tc.vendor_list_version, 15);
    assert_eq!(tc.tcf_policy_version, 2);
    assert!(!tc.is_service_specific && !tc.use_non_standard_texts && !tc.purpose_one_treatment);
    assert_eq!(tc.special_feature_opt_ins, 0);
    assert_eq!(
        (1..=24)
            .filter(|&p| tc.purpose_consent(p))
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(tc.purposes_li_transparency, 0);
    assert_eq!(tc.publisher_cc, "AA");
    assert_eq!(
        (1..=20)
            .filter(|&v| tc.vendor_consent(v))
            .collect::<Vec<_>>(),
        [2, 6, 8]
    );
    // No consent for Google (755) → every ad signal denied; analytics unstated.
    assert_eq!(
        tc.consent(),
        PartialConsent {
            ad_storage: Some(Denied),
            analytics_storage: None,
            ad_user_data: Some(Denied),
            ad_personalization: Some(Denied),
        }
    );
}

#[test]
fn decodes_every_core_field_of_a_written_string() {
    let s = core_segment(&[1, 3, 24], &Vendors::Bitfield(&[1, 2, 3, 755]));
    let tc: TcString = s.parse().unwrap();
    assert_eq!(tc.created, 16_000_000_000);
    assert_eq!(tc.cmp_id, 300);
    assert_eq!(tc.cmp_version, 2);
    assert_eq!(tc.consent_screen, 1);
    assert_eq!(tc.consent_language, "DE");
    assert_eq!(tc.vendor_list_version, 150);
    assert_eq!(tc.tcf_policy_version, 4);
    assert!(tc.is_service_specific);
    assert_eq!(tc.special_feature_opt_ins, 0b1000_0000_0000);
    assert!(tc.purpose_consent(1) && tc.purpose_consent(3) && tc.purpose_consent(24));
    assert!(!tc.purpose_consent(2) && !tc.purpose_consent(0) && !tc.purpose_consent(25));
    assert_eq!(tc.publisher_cc, "FR");
    assert_eq!(tc.max_vendor_id, 755);
    assert_eq!(tc.vendor_consents, [(1, 3), (755, 755)]);
}

#[test]
fn range_encoded_vendors_are_decoded() {
    let s = core_segment(ALL_GOOGLE_PURPOSES, &Vendors::Ranges(&[(5, 5), (700, 800)]));
    let tc: TcString = s.parse().unwrap();
    assert!(tc.vendor_consent(755) && tc.vendor_consent(5) && !tc.vendor_consent(6));
    assert_eq!(
        tc.consent(),
        PartialConsent {
            ad_storage: Some(Granted),
            analytics_storage: None,
            ad_user_data: Some(Granted),
            ad_personalization: Some(Granted),
        }
    );
}

fn consent_without(purpose: u8) -> PartialConsent {
    let purposes: Vec<u8> = ALL_GOOGLE_PURPOSES
        .iter()
        .copied()
        .filter(|&p| p != purpose)
        .collect();
    consent_from_tc_string(&core_segment(&purposes, &Vendors::Bitfield(&[755]))).unwrap()
}

#[test]
fn all_google_purposes_and_vendor_755_grant_the_ad_signals_but_leave_analytics_unstated() {
    let c = consent_without(0);
    assert_eq!(c.ad_storage, Some(Granted));
    assert_eq!(c.ad_user_data, Some(Granted));
    assert_eq!(c.ad_personalization, Some(Granted));
    assert_eq!(c.analytics_storage, None);
}

#[test]
fn purpose_1_denied_denies_ad_storage_and_ad_user_data() {
    let c = consent_without(1);
    assert_eq!(
        (c.ad_storage, c.ad_user_data, c.ad_personalization),
        (Some(Denied), Some(Denied), Some(Granted))
    );
}

#[test]
fn purpose_3_or_4_denied_denies_ad_personalization() {
    for p in [3, 4] {
        let c = consent_without(p);
        assert_eq!(
            (c.ad_storage, c.ad_user_data, c.ad_personalization),
            (Some(Granted), Some(Granted), Some(Denied))
        );
    }
}

#[test]
fn purpose_7_denied_denies_ad_user_data() {
    let c = consent_without(7);
    assert_eq!(
        (c.ad_storage, c.ad_user_data, c.ad_personalization),
        (Some(Granted), Some(Denied), Some(Granted))
    );
}

#[test]
fn no_consent_for_google_vendor_755_denies_every_ad_signal() {
    let s = core_segment(ALL_GOOGLE_PURPOSES, &Vendors::Bitfield(&[1, 754, 756]));
    let c = consent_from_tc_string(&s).unwrap();
    assert_eq!(
        (c.ad_storage, c.ad_user_data, c.ad_personalization),
        (Some(Denied), Some(Denied), Some(Denied))
    );
    assert_eq!(c.analytics_storage, None);
}

#[test]
fn segments_after_the_core_and_padding_are_ignored() {
    let core = core_segment(ALL_GOOGLE_PURPOSES, &Vendors::Bitfield(&[755]));
    let expected = consent_from_tc_string(&core);
    assert!(expected.is_some());
    assert_eq!(
        consent_from_tc_string(&format!(
            "{core}.IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQ.YAAAAAAAAAAAAAAAAAA"
        )),
        expected
    );
    assert_eq!(consent_from_tc_string(&format!("{core}==")), expected);
    assert_eq!(consent_from_tc_string(&format!(" {core}.")), expected);
}

#[test]
fn tcf_v1_strings_and_garbage_are_rejected() {
    // A TCF v1 consent string starts with 'B' (version 1).
    assert_eq!(
        "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA".parse::<TcString>(),
        Err(TcfError::UnsupportedVersion(1))
    );
    assert_eq!("".parse::<TcString>(), Err(TcfError::Empty));
    assert!(matches!(
        "C!!".parse::<TcString>(),
        Err(TcfError::Base64(_))
    ));
    assert_eq!(
        "CA".parse::<TcString>(),
        Err(TcfError::Truncated("created"))
    );
    let full = core_segment(&[1], &Vendors::Bitfield(&[755]));
    assert_eq!(
        full[..36].parse::<TcString>(),
        Err(TcfError::Truncated("maxVendorId"))
    );
}

#[test]
fn a_vendor_range_ending_before_its_start_is_rejected() {
    let s = core_segment(&[1], &Vendors::Ranges(&[(10, 3)]));
    assert_eq!(
        s.parse::<TcString>(),
        Err(TcfError::BadVendorRange { start: 10, end: 3 })
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoding_never_panics_on_any_string(s in ".*") {
            let _ = s.parse::<TcString>();
        }

        #[test]
        fn decoding_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            let _ = s.parse::<TcString>();
            let _ = format!("C{s}").parse::<TcString>();
        }

        #[test]
        fn written_strings_decode_to_what_was_written(
            purposes in proptest::collection::btree_set(1u8..=24, 0..24),
            vendors in proptest::collection::btree_set(1u16..=1000, 0..40),
            ranges in any::<bool>(),
        ) {
            let purposes: Vec<u8> = purposes.into_iter().collect();
            let ids: Vec<u16> = vendors.iter().copied().collect();
            let pairs: Vec<(u16, u16)> = ids.iter().map(|&v| (v, v)).collect();
            let s = if ranges { core_segment(&purposes, &Vendors::Ranges(&pairs)) } else { core_segment(&purposes, &Vendors::Bitfield(&ids)) };
            let tc: TcString = s.parse().unwrap();
            for p in 1..=24u8 {
                prop_assert_eq!(tc.purpose_consent(p), purposes.contains(&p));
            }
            for v in 1..=1001u16 {
                prop_assert_eq!(tc.vendor_consent(v), vendors.contains(&v));
            }
        }
    }
}
