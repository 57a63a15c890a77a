//! Customer data in the browser: hashed before anything leaves the page (DESIGN §4 "PII"), by
//! `pii::hash_user_data`, the function the worker uses, and handed to the tags only while
//! `ad_user_data` is granted (DESIGN §4 table).
//!
//! - To the worker: the per-platform form `{"email": {"meta": <hex>, "google": <hex>}, …}`
//!   (`HashedUserData::to_input`); Google's plain address parts stay plain because Google needs
//!   them so (google.md §3).
//! - To Meta's pixel: advanced matching, `fbq('init', id, {em, ph, …})` with Meta's digests
//!   (meta-capi.md §11.4).
//! - To gtag: `gtag('set', 'user_data', {sha256_email_address, sha256_phone_number, address: {…}})`
//!   (google.md §11.4).

use crate::consent::ConsentState;
use crate::pii::{GoogleUserData, MetaUserData, Sha256Hex};

/// Whether the tags may get hashed customer data.
pub const fn tags_may_get_user_data(state: ConsentState) -> bool {
    state.ad_user_data.is_granted()
}

/// Meta's advanced-matching keys and digests (the Conversions API's `user_data` keys).
pub fn meta_matching(m: &MetaUserData) -> Vec<(&'static str, &str)> {
    m.keyed()
}

/// Keys and values of one object for a tag.
pub type Entries<'a> = Vec<(&'static str, &'a str)>;

/// gtag's `user_data`: top-level digests, then the `address` object's entries.
pub fn gtag_user_data(g: &GoogleUserData) -> (Entries<'_>, Entries<'_>) {
    fn hex(v: Option<&Sha256Hex>) -> Option<&str> {
        v.map(Sha256Hex::as_str)
    }
    fn present<'a, const N: usize>(
        list: [(&'static str, Option<&'a str>); N],
    ) -> Vec<(&'static str, &'a str)> {
        list.into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect()
    }
    let top = present([
        ("sha256_email_address", hex(g.email.as_ref())),
        ("sha256_phone_number", hex(g.phone.as_ref())),
    ]);
    let address = present([
        ("sha256_first_name", hex(g.first_name.as_ref())),
        ("sha256_last_name", hex(g.last_name.as_ref())),
        ("sha256_street", hex(g.street.as_ref())),
        ("city", g.city.as_deref()),
        ("region", g.region.as_deref()),
        ("postal_code", g.postal_code.as_deref()),
        ("country", g.country_code.as_deref()),
    ]);
    (top, address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::Signal;
    use crate::pii::{PiiField, RawUserData, hash_user_data};

    #[test]
    fn tags_get_customer_data_only_with_ad_user_data() {
        let mut s = ConsentState::ALL_GRANTED;
        assert!(tags_may_get_user_data(s));
        s.ad_user_data = Signal::Denied;
        assert!(!tags_may_get_user_data(s));
    }

    #[test]
    fn the_tags_get_each_platforms_own_digests_and_googles_plain_address() {
        // meta-capi.md §11.4; google.md §3, §11.4.
        let raw = RawUserData::default()
            .with(PiiField::Email, "John.Smith@gmail.com")
            .with(PiiField::Zip, "94043")
            .with(PiiField::Country, "US");
        let (h, _) = hash_user_data(&raw, "US");
        let meta = meta_matching(&h.meta);
        assert_eq!(meta[0], ("em", h.meta.em.as_ref().unwrap().as_str()));
        let (top, address) = gtag_user_data(&h.google);
        assert_eq!(top[0].0, "sha256_email_address");
        assert_ne!(
            top[0].1, meta[0].1,
            "Google drops gmail dots before hashing"
        );
        assert!(address.contains(&("postal_code", "94043")));
        assert!(address.contains(&("country", "US")));
    }
}
