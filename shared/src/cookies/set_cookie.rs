//! A cookie to set, and its rendering as a `Set-Cookie` header value.
//!
//! Attributes (DESIGN §4; `reference/meta-capi.md` §3.1, §3.4): `Max-Age` 90 days, `Path=/`,
//! `Secure`, `SameSite=Lax`, and no `HttpOnly` because Meta's and Google's browser tags must read
//! `_fbc` / `_fbp`; our own session cookie, which no script needs, is `HttpOnly`
//! ([`SetCookie::hidden_from_scripts`]). `Domain` comes from the [`CookieScope`].

use super::scope::CookieScope;

/// Lifetime of the identifier cookies: 90 days, as Meta recommends for `_fbc` and its Parameter
/// Builder uses (`reference/meta-capi.md` §3.1, §3.3) and as Google's `_gcl_*` last
/// (`reference/google.md` §6).
pub const COOKIE_MAX_AGE_SECS: u32 = 90 * 24 * 60 * 60;

/// Why a cookie description was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SetCookieError {
    /// The name is empty or holds a character a cookie name cannot (RFC 6265 `token`).
    #[error("cookie name must be a non-empty RFC 6265 token (no spaces, separators or controls)")]
    Name,
    /// The value holds a character a cookie value cannot (RFC 6265 `cookie-octet`).
    #[error("cookie value may not contain whitespace, controls, '\"', ',', ';' or '\\'")]
    Value,
    /// The domain is empty or holds a character a domain name cannot.
    #[error("cookie domain must be non-empty and contain only ASCII letters, digits, '-' and '.'")]
    Domain,
}

/// A cookie to set: what the worker renders as `Set-Cookie` and the pixel writes to
/// `document.cookie`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a cookie description does nothing until a shell sets it"]
pub struct SetCookie {
    name: String,
    value: String,
    domain: Option<String>,
    max_age_secs: u32,
    http_only: bool,
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

fn is_cookie_octet(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\')
}

impl SetCookie {
    /// A cookie `name=value` in `scope` for `max_age_secs` seconds, with `Path=/`, `Secure` and
    /// `SameSite=Lax`.
    ///
    /// # Errors
    /// [`SetCookieError::Name`] / [`SetCookieError::Value`] when the name is not a token or the
    /// value is not made of cookie-octets (RFC 6265 §4.1.1).
    pub fn new(
        name: &str,
        value: &str,
        scope: &CookieScope,
        max_age_secs: u32,
    ) -> Result<Self, SetCookieError> {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(SetCookieError::Name);
        }
        if !value.bytes().all(is_cookie_octet) {
            return Err(SetCookieError::Value);
        }
        Ok(Self::from_checked(
            name,
            value.to_owned(),
            scope,
            max_age_secs,
        ))
    }

    /// A cookie whose name is one of our constants and whose value comes from a validated type
    /// (click IDs and `_fbc` / `_fbp` values are cookie-octets by construction).
    pub(super) fn from_checked(
        name: &str,
        value: String,
        scope: &CookieScope,
        max_age_secs: u32,
    ) -> Self {
        Self {
            name: name.to_owned(),
            value,
            domain: scope.domain_attribute().map(str::to_owned),
            max_age_secs,
            http_only: false,
        }
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie value, exactly as it will be sent.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The `Domain` attribute, `None` for a host-only cookie.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Lifetime in seconds (`Max-Age`).
    pub const fn max_age_secs(&self) -> u32 {
        self.max_age_secs
    }

    /// Whether the cookie is hidden from scripts (`HttpOnly`): never for the identifier cookies,
    /// which the platforms' browser tags must read (DESIGN §4).
    pub const fn http_only(&self) -> bool {
        self.http_only
    }

    /// The same cookie, `HttpOnly`: for cookies no script may read (our session id).
    pub fn hidden_from_scripts(mut self) -> Self {
        self.http_only = true;
        self
    }

    /// The `Set-Cookie` header value, also valid for `document.cookie`:
    /// `name=value; Max-Age=…; Domain=…; Path=/; Secure; SameSite=Lax`.
    pub fn to_header_value(&self) -> String {
        // Built without `core::fmt` (`crate::text`): the pixel writes cookies with it.
        let max_age = crate::text::decimal(u64::from(self.max_age_secs));
        let mut out = [&*self.name, "=", &self.value, "; Max-Age=", &max_age].concat();
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        out.push_str("; Path=/; Secure; SameSite=Lax");
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_header_has_the_documented_attributes() {
        let scope = CookieScope::domain("example.co.uk").unwrap();
        let cookie = SetCookie::new("_fbp", "fb.2.1.1", &scope, COOKIE_MAX_AGE_SECS).unwrap();
        assert_eq!(
            cookie.to_header_value(),
            "_fbp=fb.2.1.1; Max-Age=7776000; Domain=example.co.uk; Path=/; Secure; SameSite=Lax"
        );
        assert!(!cookie.http_only());
    }

    #[test]
    fn host_only_cookies_have_no_domain_attribute() {
        let cookie = SetCookie::new("_fbp", "x", &CookieScope::host_only("[::1]"), 60).unwrap();
        assert_eq!(
            cookie.to_header_value(),
            "_fbp=x; Max-Age=60; Path=/; Secure; SameSite=Lax"
        );
        assert_eq!(cookie.domain(), None);
    }

    #[test]
    fn unsafe_names_and_values_are_refused() {
        let scope = CookieScope::domain("example.com").unwrap();
        assert_eq!(
            SetCookie::new("a b", "x", &scope, 1),
            Err(SetCookieError::Name)
        );
        assert_eq!(
            SetCookie::new("", "x", &scope, 1),
            Err(SetCookieError::Name)
        );
        assert_eq!(
            SetCookie::new("a=b", "x", &scope, 1),
            Err(SetCookieError::Name)
        );
        assert_eq!(
            SetCookie::new("a", "x;y", &scope, 1),
            Err(SetCookieError::Value)
        );
        assert_eq!(
            SetCookie::new("a", "x y", &scope, 1),
            Err(SetCookieError::Value)
        );
        assert!(SetCookie::new("a", "", &scope, 1).is_ok());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn set_cookie_never_panics(name in "\\PC*", value in "\\PC*", domain in "\\PC*") {
            let scope = CookieScope::domain(&domain).unwrap_or_else(|_| CookieScope::host_only(&domain));
            if let Ok(cookie) = SetCookie::new(&name, &value, &scope, 1) {
                let prefix = format!("{name}={value}; ");
                prop_assert!(cookie.to_header_value().starts_with(&prefix));
            }
        }
    }
}
