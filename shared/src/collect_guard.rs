//! What `/_ar/collect` accepts before it reads a body: the content type and the `Origin`.
//!
//! `/_ar/collect` is public (DESIGN §4, "Forged events"), so these checks only keep other sites'
//! pages from posting into a shop's data through its visitors' browsers; forged purchases are
//! handled by corroboration and order tokens (`record::EventRecord::awaits_corroboration`).
//! - Content type: JSON (`application/json`, `*+json`) or `text/plain` (what `sendBeacon` sends
//!   for a string body); no header is allowed too (a bare `fetch` body). HTML form encodings
//!   (`application/x-www-form-urlencoded`, `multipart/form-data`) are refused: they are what a
//!   cross-site form can send without a CORS preflight.
//! - `Origin`: when a browser sends one, it must be the shop's own host (the supported setup
//!   routes the worker on the storefront's hostname, DESIGN §4 "Deployment") or one of the
//!   configured `ALLOWED_ORIGINS`. The scheme is not compared: TLS may end before the worker.
//!   A request without `Origin` (a non-browser client, an old browser's same-origin GET-like
//!   beacon) is allowed: it proves nothing either way.

use crate::pii::{PiiField, PiiValue, RawUserData, Sha256Hex};
use crate::wire::ValidationError;

/// The media types a collect body may have (case-insensitive, parameters ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// JSON or no declared type.
    Accepted,
    /// Anything else: answer 415.
    Refused,
}

/// Classifies a `Content-Type` header value.
pub fn body_type(content_type: Option<&str>) -> BodyType {
    let Some(value) = content_type else {
        return BodyType::Accepted;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let ok = essence.is_empty()
        || essence == "application/json"
        || essence == "text/plain"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if ok {
        BodyType::Accepted
    } else {
        BodyType::Refused
    }
}

/// The host (with port) of an origin or URL: `https://Shop.Example.com:8443/x` →
/// `shop.example.com:8443`. `None` for `null` and anything without `scheme://host`.
pub fn origin_host(origin: &str) -> Option<String> {
    let (_, rest) = origin.trim().split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `scheme://host[:port]` of an origin or URL, lower-cased; `None` for `null` and anything
/// without `http(s)://host`.
pub fn origin_key(origin: &str) -> Option<String> {
    let (scheme, _) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    Some(format!("{scheme}://{}", origin_host(origin)?))
}

/// Whether a request with this `Origin` header may post to collect at `request_origin` (the
/// request URL's `scheme://host[:port]`): the same origin — scheme included, so a page served
/// over plain http cannot post as the https shop — or one listed in `ALLOWED_ORIGINS`.
pub fn origin_allowed(origin: Option<&str>, request_origin: &str, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(key) = origin_key(origin) else {
        return false; // `Origin: null` (sandboxed frames, file:) or garbage
    };
    origin_key(request_origin).is_some_and(|own| own == key)
        || allowed
            .iter()
            .filter_map(|a| origin_key(a))
            .any(|a| a == key)
}

/// The collect URL's query parameter that states the device's clock when it sent the event
/// (`?sent=<Unix ms>`, the loader's `Date.now()` on each send): with it the worker puts a browser
/// event's time on its own clock ([`crate::trust::on_edge_clock`]). The loader
/// (`pixel/loader.js`, `arCollect`) writes the same name.
pub const SENT_PARAM: &str = "sent";

/// The device's send time a collect URL's query states, `None` when it states none (an older
/// pixel, a non-browser client: their `occurred_at` is checked as stated).
///
/// # Errors
/// A `sent` that is not a whole number of milliseconds, named as the field.
pub fn sent_at(query: Option<&str>) -> Result<Option<u64>, ValidationError> {
    let Some(value) = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(name, _)| name == SENT_PARAM)
            .map(|(_, v)| v)
    }) else {
        return Ok(None);
    };
    match value.parse::<u64>() {
        // Any time: a device whose clock reset to 1970 still dates its events by their age.
        Ok(ms) if value.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(ms)),
        _ => Err(ValidationError::new(
            SENT_PARAM,
            "must be the device's clock in whole milliseconds (Date.now())",
        )),
    }
}

/// The contact fields that must arrive hashed on `/_ar/collect`: a raw email, phone number or
/// name means raw PII left a shopper's browser, which the pixel never lets happen (DESIGN §4
/// "PII": the pixel hashes in the browser).
pub const HASHED_ONLY: [PiiField; 4] = [
    PiiField::Email,
    PiiField::Phone,
    PiiField::FirstName,
    PiiField::LastName,
];

/// Refuses a browser event whose `user` carries a raw email, phone or name, naming the field.
/// Each such value must be a SHA-256 hex digest, or per platform (`{"meta": …, "google": …}`)
/// digests. Other fields (Google's plain address parts) pass to the usual hashing.
///
/// # Errors
/// [`ValidationError`] with the field's path, `user.email`.
pub fn user_data_hashed(user: &RawUserData) -> Result<(), ValidationError> {
    let hashed = |v: Option<&str>| v.is_none_or(Sha256Hex::looks_hashed);
    for field in HASHED_ONLY {
        let ok = match user.get(field) {
            None => true,
            Some(PiiValue::Text(t)) => hashed(Some(t)),
            Some(PiiValue::PerPlatform(v)) => {
                hashed(v.meta.as_deref()) && hashed(v.google.as_deref())
            }
        };
        if !ok {
            return Err(ValidationError::new(
                format!("user.{field}"),
                "arrived unhashed: browser events carry only SHA-256 digests of contact fields \
                 (the pixel hashes them; ar('track') and ar('identify') take the plain values)",
            ));
        }
    }
    Ok(())
}

/// The `Access-Control-Allow-Origin` to answer a cross-origin request with: the request's own
/// `Origin` when it is one of `ALLOWED_ORIGINS` (a shop whose pages are served elsewhere, posting
/// to a collect host on its subdomain, DESIGN §4 "Deployment"), else none. A same-origin request
/// needs no CORS answer.
pub fn cors_allow_origin<'a>(
    origin: Option<&'a str>,
    request_host: &str,
    allowed: &[String],
) -> Option<&'a str> {
    let origin = origin?;
    let host = origin_host(origin)?;
    let key = origin_key(origin)?;
    let same = host == request_host.trim().to_ascii_lowercase();
    // Scheme included: `http://shop.example` is not the listed `https://shop.example`.
    let listed = allowed
        .iter()
        .filter_map(|a| origin_key(a))
        .any(|a| a == key);
    (!same && listed).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_time_is_read_from_the_collect_query_in_whole_milliseconds() {
        assert_eq!(sent_at(None), Ok(None));
        assert_eq!(sent_at(Some("")), Ok(None));
        assert_eq!(sent_at(Some("x=1")), Ok(None));
        assert_eq!(
            sent_at(Some("sent=1764000000123")),
            Ok(Some(1_764_000_000_123))
        );
        assert_eq!(
            sent_at(Some("a=b&sent=1764000000123&sent=9")),
            Ok(Some(1_764_000_000_123))
        );
        // A clock reset to 1970 is a clock, not an error.
        assert_eq!(sent_at(Some("sent=86400000")), Ok(Some(86_400_000)));
        for bad in [
            "sent=",
            "sent=x",
            "sent=-1",
            "sent=+1764000000123",
            "sent=1.5e12",
            "sent=99999999999999999999999",
        ] {
            let err = sent_at(Some(bad)).unwrap_err();
            assert_eq!(err.field, SENT_PARAM, "{bad}");
        }
    }

    #[test]
    fn cors_is_answered_only_to_a_listed_origin_with_its_scheme() {
        let allowed = vec!["https://shop.example".to_owned()];
        assert_eq!(
            cors_allow_origin(Some("https://shop.example"), "t.shop.example", &allowed),
            Some("https://shop.example")
        );
        assert_eq!(
            cors_allow_origin(Some("http://shop.example"), "t.shop.example", &allowed),
            None
        );
    }

    #[test]
    fn json_text_plain_and_no_content_type_are_accepted() {
        for ct in [
            None,
            Some("application/json"),
            Some("Application/JSON; charset=utf-8"),
            Some("text/plain;charset=UTF-8"),
            Some("application/ld+json"),
        ] {
            assert_eq!(body_type(ct), BodyType::Accepted, "{ct:?}");
        }
    }

    #[test]
    fn form_encodings_and_others_are_refused() {
        for ct in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/html",
            "application/xml",
        ] {
            assert_eq!(body_type(Some(ct)), BodyType::Refused, "{ct}");
        }
    }

    #[test]
    fn the_shops_own_origin_is_allowed_whatever_the_scheme() {
        assert!(origin_allowed(
            Some("https://shop.example.com"),
            "https://shop.example.com",
            &[]
        ));
        assert!(origin_allowed(
            Some("http://127.0.0.1:8787"),
            "http://127.0.0.1:8787",
            &[]
        ));
        assert!(origin_allowed(None, "https://shop.example.com", &[]));
        assert!(
            !origin_allowed(
                Some("http://shop.example.com"),
                "https://shop.example.com",
                &[]
            ),
            "the scheme is part of the origin"
        );
    }

    #[test]
    fn other_origins_are_refused_unless_configured() {
        let allowed = vec!["https://www.example.com".to_owned()];
        assert!(!origin_allowed(
            Some("https://evil.test"),
            "https://shop.example.com",
            &allowed
        ));
        assert!(origin_allowed(
            Some("https://www.example.com"),
            "https://shop.example.com",
            &allowed
        ));
        assert!(!origin_allowed(
            Some("https://shop.example.com:8443"),
            "https://shop.example.com",
            &[]
        ));
        assert!(!origin_allowed(
            Some("null"),
            "https://shop.example.com",
            &[]
        ));
    }

    #[test]
    fn origin_hosts_are_lowercased_without_path_or_credentials() {
        assert_eq!(
            origin_host("HTTPS://u:p@Shop.Example.com:8443/x?y").as_deref(),
            Some("shop.example.com:8443")
        );
        assert_eq!(origin_host("null"), None);
        assert_eq!(origin_host("https://"), None);
    }

    #[test]
    fn cors_answers_only_allowed_cross_origins() {
        let allowed = vec!["https://shop.example".to_owned()];
        assert_eq!(
            cors_allow_origin(Some("https://shop.example"), "t.shop.example", &allowed),
            Some("https://shop.example")
        );
        assert_eq!(
            cors_allow_origin(Some("https://evil.example"), "t.shop.example", &allowed),
            None
        );
        assert_eq!(
            cors_allow_origin(Some("https://t.shop.example"), "t.shop.example", &allowed),
            None,
            "same origin needs no CORS"
        );
        assert_eq!(cors_allow_origin(None, "t.shop.example", &allowed), None);
    }

    #[test]
    fn a_raw_email_phone_or_name_on_collect_is_refused_naming_the_field() {
        // DESIGN §4 "PII": the pixel hashes in the browser; raw contact data never arrives.
        let digest = "a".repeat(64);
        let raw = RawUserData::default().with(PiiField::Phone, "+49 170 1234567");
        let err = user_data_hashed(&raw).unwrap_err();
        assert_eq!(err.field, "user.phone");
        let half = RawUserData::default().with(
            PiiField::Email,
            PiiValue::PerPlatform(crate::pii::PerPlatformValue {
                meta: Some(digest.clone()),
                google: Some("jane@example.com".into()),
            }),
        );
        assert_eq!(user_data_hashed(&half).unwrap_err().field, "user.email");
        let ok = RawUserData::default()
            .with(PiiField::Email, digest.as_str())
            .with(PiiField::Zip, "94043")
            .with(PiiField::City, "Berlin");
        assert_eq!(user_data_hashed(&ok), Ok(()), "plain address parts pass");
    }
}
