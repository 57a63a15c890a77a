//! The cookie domain for a request's host, from the Public Suffix List (server only).
//!
//! The identifier cookies go on the registrable domain (eTLD+1) so that every subdomain of the shop
//! shares them: `shop.example.co.uk` → `example.co.uk`. "Strip one label" is wrong for multi-label
//! suffixes (Meta's PHP Parameter Builder sets `co.uk`, browsers reject it, and a new `_fbp` is
//! minted on every request: `reference/meta-capi.md` §3.3, issue #40; `reference/peers.md`), so we
//! use the list itself (`shared/data/public_suffix_list.dat`), read once per isolate by the
//! `publicsuffix` crate. As code (the `psl` crate) the list made the worker 211 KB gzipped larger
//! (859 → 648 KB, `make sizes`); as data it costs one parse per isolate, about 18 ms of CPU on the
//! first cookie decision (`make bench`). IP addresses, `localhost` and hosts that are themselves a public suffix get a
//! host-only cookie (no `Domain` attribute), which is the only kind a browser accepts there.
//!
//! The pixel has no PSL (size budget); it probes [`crate::cookies::candidate_cookie_domains`]
//! instead.

use core::net::IpAddr;
use std::sync::OnceLock;

use publicsuffix::{List, Psl as _};

use crate::cookies::CookieScope;

/// A host as it appears in a URL or `Host` header, reduced to what a cookie domain is computed from.
#[derive(Debug, PartialEq, Eq)]
enum Host {
    /// An IPv4 or IPv6 address.
    Ip,
    /// A domain name, lowercase, without port or trailing dot.
    Name(String),
}

/// Strips brackets, port and trailing dot; lowercases; recognizes IP addresses.
fn normalize(host: &str) -> Host {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        // `[::1]` or `[::1]:8787`: always IPv6 (or garbage, which must not become a Domain).
        let inner = rest.split_once(']').map_or(rest, |(inner, _)| inner);
        return if inner.parse::<IpAddr>().is_ok() {
            Host::Ip
        } else {
            Host::Name(String::new())
        };
    }
    if host.parse::<IpAddr>().is_ok() {
        return Host::Ip; // bare IPv6 (`::1`) or IPv4
    }
    let name = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    if name.parse::<IpAddr>().is_ok() {
        return Host::Ip; // IPv4 with a port
    }
    Host::Name(name.trim_end_matches('.').to_ascii_lowercase())
}

/// The registrable domain (eTLD+1) of `host`, or `None` for an IP address, a single-label host
/// (`localhost`) or a host that is itself a public suffix (`co.uk`, `myshopify.com`).
pub fn registrable_domain(host: &str) -> Option<String> {
    let Host::Name(name) = normalize(host) else {
        return None;
    };
    if !name.contains('.') || name.split('.').any(str::is_empty) {
        return None;
    }
    let domain = list().domain(name.as_bytes())?;
    core::str::from_utf8(domain.as_bytes())
        .ok()
        .map(str::to_owned)
}

/// The Public Suffix List, parsed on first use. A list that does not parse (it is checked by a
/// test) would leave every host with a host-only cookie, never a wrong `Domain`.
fn list() -> &'static List {
    static LIST: OnceLock<List> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/public_suffix_list.dat")
            .parse()
            .unwrap_or_default()
    })
}

/// Where to set the identifier cookies for a request to `host`.
///
/// A configured `override_domain` wins (e.g. a shop that wants `example.com` while the PSL would
/// say otherwise); an invalid override is ignored. Otherwise the registrable domain from the
/// Public Suffix List, and a host-only cookie when there is none (IP addresses, `localhost`).
pub fn cookie_scope(host: &str, override_domain: Option<&str>) -> CookieScope {
    if let Some(scope) =
        override_domain.and_then(|d| CookieScope::domain(&d.to_ascii_lowercase()).ok())
    {
        return scope;
    }
    if let Some(domain) = registrable_domain(host)
        && let Ok(scope) = CookieScope::domain(&domain)
    {
        return scope;
    }
    match normalize(host) {
        // Meta's index for an IP host is 0 (`reference/meta-capi.md` §3.3); `host_only` knows.
        Host::Ip => CookieScope::host_only(host.trim()),
        Host::Name(name) => CookieScope::host_only(&name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(host: &str) -> (Option<String>, u8) {
        let s = cookie_scope(host, None);
        (
            s.domain_attribute().map(str::to_owned),
            s.subdomain_index().get(),
        )
    }

    #[test]
    fn multi_label_suffixes_give_the_registrable_domain() {
        assert_eq!(
            scope("shop.example.co.uk"),
            (Some("example.co.uk".into()), 2)
        );
        assert_eq!(scope("example.co.uk"), (Some("example.co.uk".into()), 2));
        assert_eq!(
            scope("a.b.shop.example.com.au"),
            (Some("example.com.au".into()), 2)
        );
    }

    #[test]
    fn plain_domains_give_the_registrable_domain() {
        assert_eq!(scope("www.example.com"), (Some("example.com".into()), 1));
        assert_eq!(scope("WWW.Example.COM."), (Some("example.com".into()), 1));
        assert_eq!(
            scope("www.example.com:8443"),
            (Some("example.com".into()), 1)
        );
    }

    #[test]
    fn ip_hosts_get_a_host_only_cookie_with_index_zero() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8787",
            "::1",
            "[::1]",
            "[::1]:8787",
            "[2001:db8::1]:443",
            "2001:db8::1",
        ] {
            assert_eq!(scope(host), (None, 0), "{host}");
        }
    }

    #[test]
    fn localhost_and_public_suffixes_get_a_host_only_cookie() {
        assert_eq!(scope("localhost"), (None, 0));
        assert_eq!(scope("localhost:8787"), (None, 0));
        assert_eq!(scope("co.uk"), (None, 1));
        assert_eq!(registrable_domain("co.uk"), None);
    }

    #[test]
    fn the_embedded_list_parses() {
        let parsed: Result<List, _> = include_str!("../data/public_suffix_list.dat").parse();
        assert!(parsed.is_ok_and(|l| !l.is_empty()));
    }

    #[test]
    fn internationalized_suffixes_match_in_their_ascii_form() {
        // `公司.cn` is a public suffix; a Host header carries it as `xn--55qx5d.cn`.
        assert_eq!(
            registrable_domain("www.shop.xn--55qx5d.cn").as_deref(),
            Some("shop.xn--55qx5d.cn")
        );
        assert_eq!(registrable_domain("xn--55qx5d.cn"), None);
    }

    #[test]
    fn private_suffixes_keep_shops_apart() {
        // myshopify.com is on the PSL's private section: one shop must not set cookies for all.
        assert_eq!(
            registrable_domain("a-shop.myshopify.com").as_deref(),
            Some("a-shop.myshopify.com")
        );
    }

    #[test]
    fn a_configured_override_wins() {
        let s = cookie_scope("shop.example.co.uk", Some(".Shop.Example.co.uk"));
        assert_eq!(s.domain_attribute(), Some("shop.example.co.uk"));
        assert_eq!(s.subdomain_index().get(), 3);
        let bad = cookie_scope("shop.example.co.uk", Some("bad domain"));
        assert_eq!(bad.domain_attribute(), Some("example.co.uk"));
    }

    #[test]
    fn garbage_hosts_never_get_a_domain() {
        for host in ["", "[", "[zz]", "a..b", ".", ":"] {
            assert_eq!(registrable_domain(host), None, "{host:?}");
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics_and_domain_is_a_suffix_of_the_host(host in "\\PC*") {
            let s = cookie_scope(&host, None);
            if let Some(domain) = s.domain_attribute() {
                prop_assert!(host.to_ascii_lowercase().contains(domain));
            }
        }

        #[test]
        fn registrable_domain_is_idempotent(host in "([a-z0-9-]{1,8}\\.){0,4}(com|co\\.uk|de|myshopify\\.com)") {
            if let Some(d) = registrable_domain(&host) {
                prop_assert_eq!(registrable_domain(&d), Some(d.clone()));
            }
        }
    }
}
