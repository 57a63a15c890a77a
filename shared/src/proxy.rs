//! The rules of proxying the storefront: which headers cross, which responses are pages that get
//! our cookies, and how the origin's redirects are made to point back at the shop's own host.
//!
//! The worker sits on the storefront's hostname and fetches every non-`/_ar/` path from the
//! configured origin (DESIGN §1, §4 "Deployment"). Pure: header lists in, header lists out.
//! - Hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and the fields it names, `Keep-Alive`,
//!   `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`) describe one connection and are
//!   not forwarded; neither is `Host` (the origin's own) or `Content-Length` (the runtime frames
//!   the streamed body).
//! - `x-ar-event` (the edge-routed checkout's event, `edge_event.rs`) never reaches the browser,
//!   and no `x-ar-*` header a browser sends reaches the origin: those names are ours (`trust`).
//! - Our cookies go on page responses only (HTML, or a redirect answering a navigation): that
//!   is where Safari ITP lets server-set cookies live long (DESIGN §4 "Edge-set cookies"), and an
//!   image or script response would add nothing.

use crate::edge_event::EDGE_EVENT_HEADER;

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn named_by_connection(name: &str, connection: Option<&str>) -> bool {
    connection.is_some_and(|c| c.split(',').any(|n| n.trim().eq_ignore_ascii_case(name)))
}

/// The request headers to send to the origin, from the browser's (`connection` is the request's
/// `Connection` header, whose listed fields are hop-by-hop too).
pub fn origin_request_headers(
    headers: &[(String, String)],
    connection: Option<&str>,
) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.to_ascii_lowercase();
            !(HOP_BY_HOP.contains(&n.as_str())
                || n == "host"
                || n == "content-length"
                || n.starts_with("x-ar-")
                || named_by_connection(&n, connection))
        })
        .cloned()
        .collect()
}

/// The response headers to send to the browser, from the origin's: hop-by-hop fields and
/// `x-ar-event` removed.
pub fn browser_response_headers(
    headers: &[(String, String)],
    connection: Option<&str>,
) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.to_ascii_lowercase();
            !(HOP_BY_HOP.contains(&n.as_str())
                || n == EDGE_EVENT_HEADER
                || n.starts_with("x-ar-")
                || named_by_connection(&n, connection))
        })
        .cloned()
        .collect()
}

/// Whether our cookies may go on a response with this `Cache-Control`: not on one a shared
/// cache may store (`public`, `s-maxage`), or every visitor served from that cache would get the
/// first visitor's session and click cookies.
pub fn may_set_cookies(cache_control: Option<&str>) -> bool {
    !cache_control.is_some_and(|cc| {
        cc.split(',').any(|d| {
            let d = d.trim().to_ascii_lowercase();
            d == "public" || d.starts_with("s-maxage")
        })
    })
}

/// Whether a response is a page our cookies go on: an HTML document, or a redirect answering a
/// `GET`/`POST` navigation (a landing redirect, the order form's "see other").
pub fn is_page_response(method: &str, status: u16, content_type: Option<&str>) -> bool {
    let html = content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("text/html")
            || essence.eq_ignore_ascii_case("application/xhtml+xml")
    });
    let navigation_redirect =
        matches!(status, 301 | 302 | 303 | 307 | 308) && matches!(method, "GET" | "POST");
    html || navigation_redirect
}

/// The origin URL for a request path: `origin_url` (no trailing slash) + `path_and_query`.
pub fn origin_url_for(origin_url: &str, path_and_query: &str) -> String {
    let base = origin_url.trim_end_matches('/');
    if path_and_query.starts_with('/') {
        format!("{base}{path_and_query}")
    } else {
        format!("{base}/{path_and_query}")
    }
}

/// A `Location` that points at the origin, rewritten to the shop's public origin; any other
/// value (relative, another site) is kept as it is.
pub fn public_location(location: &str, origin_url: &str, public_origin: &str) -> String {
    let base = origin_url.trim_end_matches('/');
    match location.strip_prefix(base) {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '?', '#']) => {
            format!("{}{rest}", public_origin.trim_end_matches('/'))
        }
        _ => location.to_owned(),
    }
}

/// The `Cookie` header to send to the origin: the browser's, plus our session cookie when it was
/// minted on this request, so the storefront sees `_ar_sid` from the very first page and can pass
/// it on as `session_id` (DESIGN §3).
pub fn origin_cookie_header(
    browser: Option<&str>,
    new_session: Option<(&str, &str)>,
) -> Option<String> {
    match (
        browser.map(str::trim).filter(|c| !c.is_empty()),
        new_session,
    ) {
        (Some(c), Some((name, value))) => Some(format!("{c}; {name}={value}")),
        (None, Some((name, value))) => Some(format!("{name}={value}")),
        (Some(c), None) => Some(c.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_a_shared_cache_may_store_get_no_cookies() {
        assert!(may_set_cookies(None));
        assert!(may_set_cookies(Some("private, max-age=60")));
        assert!(!may_set_cookies(Some("public, max-age=600")));
        assert!(!may_set_cookies(Some("max-age=0, S-MAXAGE=300")));
    }

    #[test]
    fn no_x_ar_header_crosses_the_proxy_in_either_direction() {
        let h = |n: &str| {
            vec![
                (n.to_owned(), "v".to_owned()),
                ("accept".to_owned(), "*/*".to_owned()),
            ]
        };
        for name in ["x-ar-event", "X-AR-Event", "x-ar-anything"] {
            assert_eq!(origin_request_headers(&h(name), None).len(), 1, "{name}");
            assert_eq!(browser_response_headers(&h(name), None).len(), 1, "{name}");
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn hop_by_hop_host_and_length_are_not_forwarded_to_the_origin() {
        let input = pairs(&[
            ("Host", "shop.example.com"),
            ("Connection", "keep-alive, X-Secret-Hop"),
            ("X-Secret-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Content-Length", "12"),
            ("Cookie", "a=1"),
            ("Accept", "text/html"),
        ]);
        let out = origin_request_headers(&input, Some("keep-alive, X-Secret-Hop"));
        assert_eq!(out, pairs(&[("Cookie", "a=1"), ("Accept", "text/html")]));
    }

    #[test]
    fn the_edge_event_header_never_reaches_the_browser() {
        let input = pairs(&[
            ("content-type", "text/html"),
            ("X-AR-Event", "eyJ9"),
            ("transfer-encoding", "chunked"),
            ("set-cookie", "shop_session=1"),
        ]);
        let out = browser_response_headers(&input, None);
        assert_eq!(
            out,
            pairs(&[
                ("content-type", "text/html"),
                ("set-cookie", "shop_session=1")
            ])
        );
    }

    #[test]
    fn html_documents_and_navigation_redirects_are_pages() {
        assert!(is_page_response(
            "GET",
            200,
            Some("text/html; charset=utf-8")
        ));
        assert!(is_page_response("GET", 404, Some("TEXT/HTML")));
        assert!(is_page_response("POST", 303, None));
        assert!(!is_page_response("GET", 200, Some("image/png")));
        assert!(!is_page_response("GET", 200, None));
        assert!(!is_page_response("PUT", 302, None));
    }

    #[test]
    fn origin_urls_join_the_path_and_query() {
        assert_eq!(
            origin_url_for("http://127.0.0.1:9000/", "/p/1?fbclid=x"),
            "http://127.0.0.1:9000/p/1?fbclid=x"
        );
        assert_eq!(origin_url_for("https://o.test", "a"), "https://o.test/a");
    }

    #[test]
    fn redirects_to_the_origin_point_back_at_the_shop() {
        let origin = "http://127.0.0.1:9000";
        let public = "https://shop.example.com";
        assert_eq!(
            public_location("http://127.0.0.1:9000/thank-you?order=1", origin, public),
            "https://shop.example.com/thank-you?order=1"
        );
        assert_eq!(public_location("/thank-you", origin, public), "/thank-you");
        assert_eq!(
            public_location("http://127.0.0.1:90001/x", origin, public),
            "http://127.0.0.1:90001/x"
        );
        assert_eq!(
            public_location("https://pay.example.net/", origin, public),
            "https://pay.example.net/"
        );
    }

    #[test]
    fn a_new_session_cookie_is_passed_to_the_origin() {
        assert_eq!(
            origin_cookie_header(Some("a=1"), Some(("_ar_sid", "abc"))).as_deref(),
            Some("a=1; _ar_sid=abc")
        );
        assert_eq!(
            origin_cookie_header(None, Some(("_ar_sid", "abc"))).as_deref(),
            Some("_ar_sid=abc")
        );
        assert_eq!(origin_cookie_header(Some(" "), None), None);
    }
}
