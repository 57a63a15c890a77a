//! Where the identifier cookies are scoped: a `Domain` attribute (the registrable domain, so every
//! subdomain of the shop shares them) or host-only (IP addresses, `localhost`), together with the
//! Meta subdomain index that `_fbc` / `_fbp` values set there carry.
//!
//! The worker computes the scope from the Public Suffix List (`crate::domain`, server only); the
//! pixel has no PSL and probes [`candidate_cookie_domains`] instead, as the platforms' tags do.

use crate::click_ids::SubdomainIndex;

use super::set_cookie::SetCookieError;

/// Where a cookie is set: the `Domain` attribute (or host-only) and the matching Meta subdomain
/// index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CookieScope {
    domain: Option<String>,
    subdomain_index: SubdomainIndex,
}

impl CookieScope {
    /// A cookie shared by `domain` and its subdomains (`Domain=example.co.uk`); a leading `.` is
    /// dropped. Meta's index counts its dots (`reference/meta-capi.md` §3.1).
    ///
    /// # Errors
    /// [`SetCookieError::Domain`] when `domain` is empty or holds anything but ASCII letters,
    /// digits, `-` and `.` (convert internationalized names to punycode first).
    pub fn domain(domain: &str) -> Result<Self, SetCookieError> {
        let domain = domain.strip_prefix('.').unwrap_or(domain);
        let valid = !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
        if !valid {
            return Err(SetCookieError::Domain);
        }
        Ok(Self {
            subdomain_index: SubdomainIndex::of_domain(domain),
            domain: Some(domain.to_owned()),
        })
    }

    /// A host-only cookie (no `Domain` attribute) on `host`. The index counts the host's dots, and
    /// is 0 for an IP address (`reference/meta-capi.md` §3.3: "IP hosts → 0").
    pub fn host_only(host: &str) -> Self {
        let subdomain_index = if is_ip_literal(host) {
            SubdomainIndex::new(0)
        } else {
            SubdomainIndex::of_domain(host)
        };
        Self {
            domain: None,
            subdomain_index,
        }
    }

    /// The `Domain` attribute, `None` for a host-only cookie.
    pub fn domain_attribute(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Meta's subdomain index for `_fbc` / `_fbp` values set in this scope.
    pub const fn subdomain_index(&self) -> SubdomainIndex {
        self.subdomain_index
    }
}

/// Whether `host` is an IP literal as a URL gives it: bracketed or bare IPv6, or a dotted host
/// whose last label is numeric (the WHATWG URL rule for IPv4).
fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[')
        || host.contains(':')
        || host
            .trim_end_matches('.')
            .rsplit('.')
            .next()
            .is_some_and(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()))
}

/// The domains a browser script tries, from the top-level domain down, when it must find the
/// registrable domain without a Public Suffix List: it sets a test cookie on each and keeps the
/// first that sticks, as Meta's and Google's tags do (`reference/meta-capi.md` §3.3, client JS).
/// `a.shop.example.co.uk` → `uk`, `co.uk`, `example.co.uk`, `shop.example.co.uk`,
/// `a.shop.example.co.uk`. Empty for an IP address or an empty host (use a host-only cookie).
pub fn candidate_cookie_domains(host: &str) -> Vec<&str> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || is_ip_literal(host) || host.split('.').any(str::is_empty) {
        return Vec::new();
    }
    let mut candidates: Vec<&str> = host
        .match_indices('.')
        .filter_map(|(dot, _)| host.get(dot + 1..))
        .collect();
    candidates.reverse();
    candidates.push(host);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_only_scope_on_an_ip_or_localhost_has_index_zero() {
        for host in ["::1", "[::1]", "192.168.0.10", "localhost"] {
            let scope = CookieScope::host_only(host);
            assert_eq!(scope.domain_attribute(), None);
            assert_eq!(scope.subdomain_index().get(), 0, "{host}");
        }
    }

    #[test]
    fn scope_index_counts_the_domain_levels() {
        let scope = CookieScope::domain("example.co.uk").unwrap();
        assert_eq!(scope.subdomain_index().get(), 2);
        let dotted = CookieScope::domain(".example.com").unwrap();
        assert_eq!(dotted.domain_attribute(), Some("example.com"));
        assert_eq!(dotted.subdomain_index().get(), 1);
    }

    #[test]
    fn invalid_domains_are_refused() {
        for bad in ["ex;ample.com", "", ".", "exa mple.com", "bücher.de"] {
            assert_eq!(
                CookieScope::domain(bad),
                Err(SetCookieError::Domain),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn candidate_domains_go_from_the_top_level_domain_down() {
        assert_eq!(
            candidate_cookie_domains("a.shop.example.co.uk"),
            vec![
                "uk",
                "co.uk",
                "example.co.uk",
                "shop.example.co.uk",
                "a.shop.example.co.uk"
            ]
        );
        assert_eq!(
            candidate_cookie_domains("example.com."),
            vec!["com", "example.com"]
        );
        assert_eq!(candidate_cookie_domains("localhost"), vec!["localhost"]);
    }

    #[test]
    fn ip_hosts_have_no_candidate_domains() {
        for host in ["127.0.0.1", "[::1]", "::1", "2001:db8::1", "", "a..b"] {
            assert!(candidate_cookie_domains(host).is_empty(), "{host:?}");
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn candidate_domains_never_panic_and_end_with_the_host(host in "\\PC*") {
            let candidates = candidate_cookie_domains(&host);
            if let Some(last) = candidates.last() {
                prop_assert_eq!(*last, host.strip_suffix('.').unwrap_or(&host));
            }
        }

        #[test]
        fn valid_domains_round_trip(domain in "[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,4}") {
            let scope = CookieScope::domain(&domain).unwrap();
            prop_assert_eq!(scope.domain_attribute(), Some(domain.as_str()));
            prop_assert_eq!(CookieScope::domain(&domain).unwrap(), scope);
        }
    }
}
