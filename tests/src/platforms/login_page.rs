//! What the two fake authorization pages (Google's consent screen, Meta's login dialog) share:
//! the registered-redirect rule, redirects back to the app, plain HTML pages with no JavaScript,
//! and the hidden fields that carry the original request through the Allow / Cancel forms.
//!
//! Both platforms compare the redirect URI exactly with the registered ones (Google: `Error 400:
//! redirect_uri_mismatch`; Meta: "URL Blocked … not whitelisted in the app's Client OAuth
//! Settings", oauth.md §1.3, §5.1). When nothing is registered the sandbox accepts a loopback
//! callback on any port, since every test's worker listens on a port of its own.

use axum::http::{StatusCode, header};
use serde_json::json;

use super::Outcome;
use crate::html::escape;
use crate::record::{SECRET_FIELDS, Verdict};

/// Whether `uri` is registered: listed exactly in `registered`, or — when the list is empty —
/// `http://127.0.0.1:<port><path>` / `http://localhost:<port><path>` with nothing after the path.
pub fn registered_redirect(registered: &[String], uri: &str, path: &str) -> bool {
    if !registered.is_empty() {
        return registered.iter().any(|r| r == uri);
    }
    let Some(rest) = uri
        .strip_prefix("http://127.0.0.1:")
        .or_else(|| uri.strip_prefix("http://localhost:"))
    else {
        return false;
    };
    let Some(port) = rest.strip_suffix(path) else {
        return false;
    };
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0)
}

/// `uri` with `params` appended to its query (after `&` when it already has one), then
/// `fragment` (Facebook appends `#_=_` to every login redirect).
pub fn with_params(uri: &str, params: &[(&str, &str)], fragment: Option<&str>) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    let mut out = format!("{uri}{sep}{query}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `location` with the values of secret parameters (`code`, tokens) replaced, for the log.
fn redacted(location: &str) -> String {
    let (base, fragment) = location
        .split_once('#')
        .map_or((location, None), |(b, f)| (b, Some(f)));
    let Some((uri, query)) = base.split_once('?') else {
        return location.to_owned();
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let v = if SECRET_FIELDS.contains(&k.as_ref()) {
                "[redacted]".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    with_params(uri, &refs, fragment)
}

/// A `302 Found` to `location` (the log keeps the location with its code redacted).
pub fn redirect(endpoint: &str, location: String) -> Outcome {
    let note = json!({ "location": redacted(&location) });
    let mut o = Outcome::new(endpoint, StatusCode::FOUND, Some(note), Verdict::Accepted);
    o.headers.push((header::LOCATION, location));
    o
}

/// An HTML page answered with `status`.
pub fn page(endpoint: &str, status: StatusCode, title: &str, body: &str) -> Outcome {
    let verdict = if status.is_success() {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:36rem;margin:3rem auto;line-height:1.5}}\
         button{{margin-right:1rem;padding:.5rem 1.5rem}}</style></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    );
    let mut o = Outcome::new(endpoint, status, None, verdict);
    o.page = Some(html);
    o
}

/// An error page that never redirects: `heading` (e.g. `Error 400: redirect_uri_mismatch`),
/// `message`, and the request details the platform shows.
pub fn error_page(
    endpoint: &str,
    status: StatusCode,
    title: &str,
    heading: &str,
    message: &str,
    details: &[(&str, &str)],
) -> Outcome {
    let rows: String = details
        .iter()
        .map(|(k, v)| format!("<li>{}: {}</li>", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .concat();
    let body = format!(
        "<h1>{}</h1>\n<h2 id=\"error\">{}</h2>\n<p id=\"message\">{}</p>\n<h3>Request Details</h3>\n<ul>{rows}</ul>",
        escape(title),
        escape(heading),
        escape(message)
    );
    let mut o = page(endpoint, status, title, &body);
    o.error = Some(format!("{heading}: {message}"));
    o.error_codes = vec![heading.rsplit(' ').next().unwrap_or(heading).to_owned()];
    o
}

/// Hidden inputs carrying `params` through a form.
pub fn hidden_fields(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The request's parameters: the query of a `GET`, or the form body of the page's own `POST`.
pub fn request_params(req: &super::PlatformRequest) -> Vec<(String, String)> {
    if req.method == axum::http::Method::POST {
        form_urlencoded::parse(&req.body).into_owned().collect()
    } else {
        req.query.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/_ar/admin/connect/google/callback";

    #[test]
    fn an_empty_registration_accepts_loopback_callbacks_on_any_port_only() {
        assert!(registered_redirect(
            &[],
            &format!("http://127.0.0.1:8787{PATH}"),
            PATH
        ));
        assert!(registered_redirect(
            &[],
            &format!("http://localhost:41234{PATH}"),
            PATH
        ));
        assert!(!registered_redirect(
            &[],
            &format!("http://127.0.0.1{PATH}"),
            PATH
        ));
        assert!(!registered_redirect(
            &[],
            &format!("https://127.0.0.1:8787{PATH}"),
            PATH
        ));
        assert!(!registered_redirect(
            &[],
            &format!("http://127.0.0.1:8787{PATH}/"),
            PATH
        ));
        assert!(!registered_redirect(
            &[],
            &format!("http://127.0.0.1:8787{PATH}?x=1"),
            PATH
        ));
        assert!(!registered_redirect(
            &[],
            &format!("http://evil.test:80{PATH}"),
            PATH
        ));
    }

    #[test]
    fn a_registration_list_is_matched_exactly() {
        let list = vec!["https://shop.example/cb".to_owned()];
        assert!(registered_redirect(&list, "https://shop.example/cb", PATH));
        assert!(!registered_redirect(
            &list,
            "https://shop.example/cb/",
            PATH
        ));
        assert!(!registered_redirect(
            &list,
            &format!("http://127.0.0.1:1{PATH}"),
            PATH
        ));
    }

    #[test]
    fn redirects_append_to_an_existing_query_and_redact_codes_for_the_log() {
        let to = with_params(
            "http://a/cb?x=1",
            &[("code", "4/abc"), ("state", "s t")],
            Some("_=_"),
        );
        assert_eq!(to, "http://a/cb?x=1&code=4%2Fabc&state=s+t#_=_");
        assert_eq!(
            redacted(&to),
            "http://a/cb?x=1&code=%5Bredacted%5D&state=s+t#_=_"
        );
    }
}
