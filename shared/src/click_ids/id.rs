//! The click IDs an ad click appends to the landing URL: `fbclid` (Meta), `gclid`, `gbraid` and
//! `wbraid` (Google).
//!
//! Every ID is opaque and case-sensitive: it is stored exactly as received (after the one
//! percent-decoding of the query string) and never trimmed, re-cased or truncated
//! (`reference/meta-capi.md` §3.1: "`ClickID` value is case sensitive - do not apply any
//! modifications"; §3.4: no re-casing, no truncation, no double decoding).
//!
//! What is accepted: 1 to [`MAX_CLICK_ID_LEN`] printable ASCII characters, excluding the few that
//! cannot live inside a cookie value or would split the cookies that carry the ID (whitespace,
//! controls, `"`, `,`, `;`, `\`, `.` and `$`). Real IDs are base64url with `-` and `_` (e.g.
//! `IwZXh0bgNhZW0CMTAAAR-uK_5w`, `Cj0KCQiA57G5BhDUARIsACgCYnzs…_wcB`); parsers that allow only
//! `[A-Za-z0-9]` silently lose real clicks (`reference/meta-capi.md` §3.3, Setono PR #13).

use core::fmt;
use core::str::FromStr;

/// Longest click ID accepted. Meta's client-side Parameter Builder ignores an fbclid longer than
/// 500 characters (`reference/meta-capi.md` §3.3); the same bound keeps every cookie well under the
/// browsers' 4 KiB limit.
pub const MAX_CLICK_ID_LEN: usize = 500;

/// Why a string is not an acceptable click ID. The field names the ID (`"fbclid"`, `"gclid"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClickIdError {
    /// The value is empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// The value is longer than [`MAX_CLICK_ID_LEN`].
    #[error("{0} is longer than {MAX_CLICK_ID_LEN} characters")]
    TooLong(&'static str),
    /// The value holds a character no real click ID contains.
    #[error(
        "{0} contains whitespace, a control or non-ASCII character, or one of '\"' ',' ';' '\\' '.' '$'"
    )]
    BadCharacter(&'static str),
}

/// Whether `b` may appear in a click ID: a cookie-value octet (RFC 6265 §4.1.1) that is neither
/// the `.` separating `_fbc` / `_gcl_*` segments nor the `$` separating newer `_gcl_*` fields.
pub(crate) const fn is_click_id_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\' | b'.' | b'$')
}

/// Checks `value` against the click-ID rules; `name` labels the error.
pub(crate) fn validate(name: &'static str, value: &str) -> Result<(), ClickIdError> {
    if value.is_empty() {
        return Err(ClickIdError::Empty(name));
    }
    if value.len() > MAX_CLICK_ID_LEN {
        return Err(ClickIdError::TooLong(name));
    }
    if !value.bytes().all(is_click_id_byte) {
        return Err(ClickIdError::BadCharacter(name));
    }
    Ok(())
}

/// Defines one click-ID newtype with its parameter name, `FromStr`, `Display` and conversions.
macro_rules! click_id {
    ($(#[$doc:meta])* $name:ident, $param:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(
            feature = "server",
            derive(serde::Serialize, serde::Deserialize),
            serde(try_from = "String", into = "String")
        )]
        pub struct $name(String);

        impl $name {
            /// The URL query parameter that carries this ID.
            pub const PARAM: &'static str = $param;

            /// The ID exactly as received.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ClickIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                validate($param, s)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = ClickIdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                validate($param, &s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

click_id!(
    /// Meta's click ID (`fbclid` URL parameter); the payload of an [`crate::click_ids::Fbc`].
    Fbclid,
    "fbclid"
);
click_id!(
    /// Google's click ID (`gclid` URL parameter).
    Gclid,
    "gclid"
);
click_id!(
    /// Google's click ID for app conversions from iOS 14+ traffic (`gbraid` URL parameter;
    /// `reference/google.md` §1.2).
    Gbraid,
    "gbraid"
);
click_id!(
    /// Google's click ID for web conversions from iOS 14+ traffic (`wbraid` URL parameter;
    /// `reference/google.md` §1.2).
    Wbraid,
    "wbraid"
);

#[cfg(test)]
mod tests {
    use super::*;

    const REAL_FBCLID: &str = "IwZXh0bgNhZW0CMTAAAR-uK_5w";
    const REAL_FBCLID_WITH_AEM: &str =
        "IwY2xjawFq0bFleHRuA2FlbQEwAAEdyW1HzCnE_aem_AbCdEfGh-Ij_KlMnOpQrSt";
    const REAL_GCLID: &str = "Cj0KCQiA57G5BhDUARIsACgCYnzslr7dkd-AgSVLRggRlKmR1f2rnN3toTlSBkk_mZoRrIMR9BjhUZ8aAtqEEALw_wcB";

    #[test]
    fn real_click_ids_with_dash_and_underscore_are_accepted() {
        for id in [REAL_FBCLID, REAL_FBCLID_WITH_AEM] {
            assert_eq!(
                id.parse::<Fbclid>().map(|v| v.to_string()),
                Ok(id.to_owned())
            );
        }
        assert_eq!(
            REAL_GCLID.parse::<Gclid>().map(|v| v.to_string()),
            Ok(REAL_GCLID.to_owned())
        );
        assert!(
            "0AAAAADixm5AS_XrvJQJZUVZuhLe9mQXzC"
                .parse::<Gbraid>()
                .is_ok()
        );
        assert!("ClkKCQjw-AbC_dEf".parse::<Wbraid>().is_ok());
    }

    #[test]
    fn fbclid_is_kept_verbatim() {
        // Case, padding and percent signs survive: no re-casing, no second decoding.
        let id = "IwAR3xYz%3D_MixedCASE=="
            .parse::<Fbclid>()
            .map(String::from);
        assert_eq!(id, Ok("IwAR3xYz%3D_MixedCASE==".to_owned()));
    }

    #[test]
    fn whitespace_control_and_separator_characters_are_rejected() {
        for bad in [
            "a b", "a\tb", "a\nb", "a\u{7f}b", "é", "a.b", "a;b", "a,b", "a\"b", "a\\b", "a$b",
        ] {
            assert_eq!(
                bad.parse::<Gclid>(),
                Err(ClickIdError::BadCharacter("gclid")),
                "{bad:?}"
            );
        }
        assert_eq!(
            " abc".parse::<Fbclid>(),
            Err(ClickIdError::BadCharacter("fbclid"))
        );
    }

    #[test]
    fn empty_and_overlong_ids_are_rejected() {
        assert_eq!("".parse::<Wbraid>(), Err(ClickIdError::Empty("wbraid")));
        let long = "a".repeat(MAX_CLICK_ID_LEN + 1);
        assert_eq!(long.parse::<Gbraid>(), Err(ClickIdError::TooLong("gbraid")));
        assert!("a".repeat(MAX_CLICK_ID_LEN).parse::<Gbraid>().is_ok());
    }

    #[test]
    fn errors_name_the_parameter() {
        let err = "a b".parse::<Fbclid>().map(|_| ()).unwrap_err();
        assert!(err.to_string().starts_with("fbclid contains whitespace"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = s.parse::<Fbclid>();
            let _ = s.parse::<Gclid>();
        }

        #[test]
        fn real_shaped_ids_round_trip_verbatim(s in "[A-Za-z0-9_-]{1,200}") {
            let id: Gclid = s.parse().unwrap();
            prop_assert_eq!(id.to_string(), s.clone());
            prop_assert_eq!(id.to_string().parse::<Gclid>().unwrap(), id);
        }
    }
}
