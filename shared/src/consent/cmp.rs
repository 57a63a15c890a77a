//! Consent from the cookies of two common CMPs, OneTrust (`OptanonConsent`) and Cookiebot
//! (`CookieConsent`), as [`PartialConsent`]s that the worker merges into the cookie source.
//!
//! Category mapping (the CMPs' default categories; a merchant whose OneTrust uses other group ids
//! passes its own [`OneTrustGroups`]):
//!
//! | CMP category | Consent Mode signals |
//! |---|---|
//! | OneTrust `C0002` Performance | `analytics_storage` |
//! | OneTrust `C0004` Targeting | `ad_storage`, `ad_user_data`, `ad_personalization` |
//! | Cookiebot `statistics` | `analytics_storage` |
//! | Cookiebot `marketing` | `ad_storage`, `ad_user_data`, `ad_personalization` |
//!
//! Other categories (strictly necessary, functional/preferences) do not map to a Consent Mode v2
//! signal and are ignored. Server-only: the worker reads CMP cookies; the pixel does not. Never
//! panics; an unreadable cookie yields `None` ("this source states nothing").

use super::signals::{PartialConsent, Signal};

/// OneTrust's consent cookie.
pub const ONETRUST_COOKIE_NAME: &str = "OptanonConsent";
/// Cookiebot's consent cookie.
pub const COOKIEBOT_COOKIE_NAME: &str = "CookieConsent";

/// Which OneTrust groups stand for analytics and for advertising.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OneTrustGroups {
    /// The group that grants `analytics_storage` (OneTrust default `C0002`, "Performance").
    pub analytics: String,
    /// The group that grants the three ad signals (OneTrust default `C0004`, "Targeting").
    pub advertising: String,
}

impl Default for OneTrustGroups {
    fn default() -> Self {
        Self {
            analytics: "C0002".into(),
            advertising: "C0004".into(),
        }
    }
}

/// The three ad signals set to `ad`, analytics to `analytics`.
const fn categories(analytics: Option<Signal>, ad: Option<Signal>) -> Option<PartialConsent> {
    if analytics.is_none() && ad.is_none() {
        return None;
    }
    Some(PartialConsent {
        ad_storage: ad,
        analytics_storage: analytics,
        ad_user_data: ad,
        ad_personalization: ad,
    })
}

/// Decodes `%XX` escapes (invalid escapes kept as they are; invalid UTF-8 replaced). Hand-written
/// because `form_urlencoded` only decodes whole `application/x-www-form-urlencoded` strings (it
/// would split a JS-object-like value on `=` and turn `+` into a space) and `percent-encoding` is
/// not a direct dependency of this crate.
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|&h| hex(h));
            let lo = bytes.get(i + 2).and_then(|&l| hex(l));
            hi.zip(lo).map(|(h, l)| h * 16 + l)
        } else {
            None
        };
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `groups` parameter of an `OptanonConsent` value, tolerating a value encoded once more.
fn onetrust_groups_param(value: &str) -> Option<String> {
    let find = |v: &str| {
        form_urlencoded::parse(v.trim().as_bytes())
            .find(|(k, _)| k == "groups")
            .map(|(_, g)| g.into_owned())
    };
    let groups = find(value).or_else(|| find(&percent_decode(value)))?;
    // Some sites encode the cookie twice: `groups=C0001%253A1…` decodes to `C0001%3A1…`.
    Some(if groups.contains('%') {
        percent_decode(&groups)
    } else {
        groups
    })
}

/// Consent from a OneTrust `OptanonConsent` cookie value: a URL-encoded query string whose
/// `groups` parameter lists `GROUP:1` (consented) or `GROUP:0` entries, e.g.
/// `…&groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1%2CC0004%3A0&…`. A group the cookie does not list
/// leaves its signals unstated.
pub fn consent_from_onetrust(value: &str, groups: &OneTrustGroups) -> Option<PartialConsent> {
    let param = onetrust_groups_param(value)?;
    let mut analytics = None;
    let mut ad = None;
    for entry in param.split(',') {
        let Some((id, flag)) = entry.split_once(':') else {
            continue;
        };
        let signal = match flag.trim() {
            "1" => Signal::Granted,
            "0" => Signal::Denied,
            _ => continue,
        };
        let id = id.trim();
        // A group listed twice: the most restrictive statement wins (DESIGN §4).
        if id.eq_ignore_ascii_case(&groups.analytics) {
            analytics = Some(analytics.map_or(signal, |s: Signal| s.most_restrictive(signal)));
        }
        if id.eq_ignore_ascii_case(&groups.advertising) {
            ad = Some(ad.map_or(signal, |s: Signal| s.most_restrictive(signal)));
        }
    }
    categories(analytics, ad)
}

/// Consent from a Cookiebot `CookieConsent` cookie value: URL-encoded JS-object-like text,
/// `{stamp:'…',necessary:true,preferences:true,statistics:false,marketing:false,method:'explicit',ver:1,…}`.
/// The value `-1` means Cookiebot decided no consent is required for this visitor (outside the
/// regions where it asks): every signal granted.
pub fn consent_from_cookiebot(value: &str) -> Option<PartialConsent> {
    let mut text = value.trim().to_owned();
    // Encoded once by Cookiebot; tolerate a second layer.
    for _ in 0..2 {
        if text.contains('%') {
            text = percent_decode(&text);
        }
    }
    let text = text.trim();
    if text == "-1" {
        return Some(PartialConsent {
            ad_storage: Some(Signal::Granted),
            analytics_storage: Some(Signal::Granted),
            ad_user_data: Some(Signal::Granted),
            ad_personalization: Some(Signal::Granted),
        });
    }
    let body = text.strip_prefix('{')?.strip_suffix('}')?;
    let unquote = |s: &str| s.trim().trim_matches(|c| c == '\'' || c == '"').to_owned();
    let mut analytics = None;
    let mut ad = None;
    for entry in body.split(',') {
        let Some((key, val)) = entry.split_once(':') else {
            continue;
        };
        let signal = match unquote(val).as_str() {
            "true" => Signal::Granted,
            "false" => Signal::Denied,
            _ => continue,
        };
        match unquote(key).as_str() {
            "statistics" => analytics = Some(signal),
            "marketing" => ad = Some(signal),
            _ => {}
        }
    }
    categories(analytics, ad)
}

#[cfg(test)]
mod tests;
