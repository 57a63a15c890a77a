//! Reading a `Cookie` request header, or `document.cookie` (same format): `a=1; b=2`.
//!
//! Hand-written on purpose: the `cookie` crate always pulls in the `time` crate, too heavy for the
//! pixel's wasm budget (~25 KB gzipped), and this is the whole of what both shells need.
//!
//! Tolerant, like browsers and servers in practice: spaces and tabs around names and values are
//! ignored, empty values are kept, one pair of surrounding double quotes is removed (RFC 6265
//! §4.1.1 allows a quoted value), pieces without `=` or with an empty name are skipped. Values are
//! NOT percent-decoded: `_fbc` / `_fbp` must reach Meta verbatim (`reference/meta-capi.md` §3.4).
//! When a name repeats, the first occurrence wins: browsers send the cookie with the longest
//! (most specific) path first (RFC 6265 §5.4).

/// The cookies of one request, borrowed from the header text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

impl<'a> CookieJar<'a> {
    /// Parses a `Cookie` header or a `document.cookie` string. Never fails.
    pub fn parse(header: &'a str) -> Self {
        let pairs = header
            .split(';')
            .filter_map(|piece| {
                let (name, value) = piece.split_once('=')?;
                let name = trim_ows(name);
                if name.is_empty() {
                    return None;
                }
                let value = trim_ows(value);
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                Some((name, value))
            })
            .collect();
        Self { pairs }
    }

    /// The value of the first cookie named `name` (case-sensitive, as cookie names are).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    /// Every `(name, value)` pair in header order, duplicates included.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.pairs.iter().copied()
    }

    /// Whether the header held no cookie.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_read_with_spaces_tabs_and_quotes_tolerated() {
        let jar = CookieJar::parse(" a=1;b = 2 ;\tc=\"quoted\"; d=; e=x=y");
        assert_eq!(jar.get("a"), Some("1"));
        assert_eq!(jar.get("b"), Some("2"));
        assert_eq!(jar.get("c"), Some("quoted"));
        assert_eq!(jar.get("d"), Some(""));
        assert_eq!(jar.get("e"), Some("x=y"));
        assert_eq!(jar.get("f"), None);
    }

    #[test]
    fn the_first_of_duplicate_cookies_wins() {
        let jar = CookieJar::parse("_fbc=fb.2.1.specific; _fbc=fb.1.1.general");
        assert_eq!(jar.get("_fbc"), Some("fb.2.1.specific"));
        assert_eq!(jar.iter().count(), 2);
    }

    #[test]
    fn values_are_not_decoded() {
        let jar = CookieJar::parse("_fbc=fb.1.1716819200123.IwAR%3D");
        assert_eq!(jar.get("_fbc"), Some("fb.1.1716819200123.IwAR%3D"));
    }

    #[test]
    fn pieces_without_a_name_or_equals_sign_are_skipped() {
        let jar = CookieJar::parse(";;novalue; =orphan; ok=1;");
        assert_eq!(jar.iter().collect::<Vec<_>>(), vec![("ok", "1")]);
        assert!(CookieJar::parse("").is_empty());
    }

    #[test]
    fn names_are_case_sensitive() {
        assert_eq!(CookieJar::parse("_FBC=x").get("_fbc"), None);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let jar = CookieJar::parse(&s);
            for (name, _) in jar.iter() {
                prop_assert!(jar.get(name).is_some());
            }
        }

        #[test]
        fn formatted_pairs_are_read_back(pairs in proptest::collection::vec(("[A-Za-z_][A-Za-z0-9_]{0,10}", "[A-Za-z0-9._=-]{0,20}"), 0..8)) {
            let header = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            let jar = CookieJar::parse(&header);
            prop_assert_eq!(jar.iter().collect::<Vec<_>>(), pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect::<Vec<_>>());
            // Idempotent: formatting what was read and reading it again gives the same pairs.
            let again = jar.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            prop_assert_eq!(CookieJar::parse(&again), jar);
        }
    }
}
