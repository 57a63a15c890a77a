//! Helpers for the "Connect Google" / "Connect Meta" tests: PKCE pairs, reading the fake consent
//! pages' forms the way a browser would submit them, and following their redirects.

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::http;

/// A callback URL the fakes accept with their default (empty) registration.
pub fn google_callback() -> String {
    "http://127.0.0.1:8787/_ar/admin/connect/google/callback".into()
}

/// The Meta counterpart of [`google_callback`].
pub fn meta_callback() -> String {
    "http://127.0.0.1:8787/_ar/admin/connect/meta/callback".into()
}

/// `(verifier, BASE64URL(SHA256(verifier)))` (RFC 7636 §4.1–4.2).
pub fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("{seed}-{}", "v".repeat(50));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the tag `tag` (`<input name="x" value="y">`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// What submitting the form `form_id` of `html` sends: its action, its hidden and checked inputs
/// and its submit button's name/value.
pub fn form(html: &str, form_id: &str) -> (String, Vec<(String, String)>) {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("no form {form_id} in {html}"));
    let open = html[..start].rfind("<form").expect("form tag");
    let end = html[open..].find("</form>").expect("form end") + open;
    let body = &html[open..end];
    let action = attr(&body[..body.find('>').expect("tag")], "action").expect("action");
    let mut fields = Vec::new();
    for tag in body.split('<').skip(1) {
        let tag = format!("<{}", tag.split('>').next().unwrap_or_default());
        let checkbox = tag.contains("type=\"checkbox\"");
        let submit = tag.starts_with("<button");
        let sent = (tag.starts_with("<input") && (!checkbox || tag.contains(" checked"))) || submit;
        if sent && let (Some(n), Some(v)) = (attr(&tag, "name"), attr(&tag, "value")) {
            fields.push((n, v));
        }
    }
    (action, fields)
}

/// Posts `fields` to `base` + `action`; returns the status and the `Location` header.
pub async fn submit(base: &str, action: &str, fields: &[(String, String)]) -> (u16, String) {
    let res = http()
        .post(format!("{base}{action}"))
        .form(fields)
        .send()
        .await
        .expect("submit the form");
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (res.status().as_u16(), location)
}

/// Gets a page; returns status, `Location` header and body.
pub async fn get_page(url: &str) -> (u16, String, String) {
    let res = http().get(url).send().await.expect("get the page");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, res.text().await.unwrap_or_default())
}

/// The query parameter `name` of `url` (before any `#`).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url.split('#').next().unwrap_or_default();
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with `params` as its query.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{url}?{query}")
}

/// Gets JSON with headers; returns status and body.
pub async fn get_json_with(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = http().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("get");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
