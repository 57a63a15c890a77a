//! Page and referrer URLs as they may be stored and forwarded (DESIGN §4: raw PII is never
//! stored or forwarded; Meta takes the page as `event_source_url`, meta-capi.md §1.3).
//!
//! A shop's URLs can carry personal data: `?email=jane@example.com` after a newsletter click, a
//! search term, a reset token. Only what the platforms use for attribution is kept: the query
//! parameters of click IDs (`fbclid`, `gclid`, `gbraid`, `wbraid`, `gad_*`, `dclid`, `msclkid`,
//! `ttclid`), Google's cross-domain linker `_gl` and the `utm_*` campaign tags — and of those,
//! none whose value looks like an email address. The fragment and any user:password part are
//! dropped, and a path segment holding an `@` is replaced by `-`.

/// Query parameters the platforms use for attribution.
fn kept(name: &str) -> bool {
    matches!(
        name,
        "fbclid" | "gclid" | "gbraid" | "wbraid" | "dclid" | "msclkid" | "ttclid" | "_gl"
    ) || name.starts_with("gad_")
        || name.starts_with("utm_")
}

/// Whether a (still percent-encoded) value looks like it holds an email address.
fn email_like(value: &str) -> bool {
    value.contains('@') || value.to_ascii_lowercase().contains("%40")
}

/// `url` reduced to what may be stored and forwarded; `None` when it is not an absolute
/// http(s) URL.
#[must_use]
pub fn for_attribution(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    // `user:password@host`: the host is what follows the last `@`.
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() {
        return None;
    }
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| if email_like(segment) { "-" } else { segment })
        .collect();
    let params: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            !name.is_empty() && kept(name) && !email_like(value)
        })
        .collect();
    let mut out = format!("{}://{host}{}", scheme.to_ascii_lowercase(), path.join("/"));
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_in_the_query_never_reaches_storage_or_meta() {
        assert_eq!(
            for_attribution("https://shop.example/p/1?email=jane@x.com&fbclid=IwAR1").as_deref(),
            Some("https://shop.example/p/1?fbclid=IwAR1")
        );
        assert_eq!(
            for_attribution("https://shop.example/?utm_source=jane%40x.com&utm_medium=mail")
                .as_deref(),
            Some("https://shop.example/?utm_medium=mail")
        );
    }

    #[test]
    fn attribution_parameters_are_kept_verbatim_and_everything_else_dropped() {
        let url = "https://shop.example/c?q=red+shoes&gclid=Cj0_x-1&gad_source=1&_gl=1*abc&utm_campaign=bf&token=s3cret#top";
        assert_eq!(
            for_attribution(url).as_deref(),
            Some("https://shop.example/c?gclid=Cj0_x-1&gad_source=1&_gl=1*abc&utm_campaign=bf")
        );
    }

    #[test]
    fn user_info_fragments_and_email_path_segments_are_removed() {
        assert_eq!(
            for_attribution("https://user:pw@shop.example/account/jane@x.com/orders#x").as_deref(),
            Some("https://shop.example/account/-/orders")
        );
        assert_eq!(
            for_attribution("https://shop.example").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(for_attribution("ftp://shop.example/"), None);
        assert_eq!(for_attribution("https:///nohost"), None);
    }
}
