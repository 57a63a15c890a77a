//! "Set up Google" (README "Admin API"): the Google Ads conversion action of each event.
//!
//! - `GET /_ar/admin/google-actions`: per event of the standard set and the mapped custom events,
//!   the wanted action (name, kind), whether it exists in the account, is missing or conflicts,
//!   and the recorded routing;
//! - `POST /_ar/admin/google-actions` (JSON `{"kinds": {"<event>": "webpage"|"upload_clicks"}}`,
//!   optional, or the page's form with `kind.<event>` fields): creates the missing actions
//!   (idempotent: names are the identity), reads the account again and records in D1 which
//!   action — and for a WEBPAGE action which `AW-…/label` from its tag snippets — each event
//!   feeds. Delivery and the pixel's configuration use the recorded routing within
//!   `settings::MAPPINGS_TTL_MS`, over `GOOGLE_CONVERSION_ACTIONS` per event.
//!
//! The rules (kinds, names, categories, primary or secondary) are
//! `ar_shared::platform::google_setup`'s and `provisioning`'s; the calls to Google and D1 are
//! `google_setup`'s (this module's sibling); this file reads the request and answers.

use serde_json::Value;
use worker::{Env, Request, Response};

use super::google_setup::{BODY_MAX, NOTE, Outcome, provision, status};
use super::page;
use crate::error::{Error, RouteResult};

/// `GET /_ar/admin/google-actions`.
pub(super) async fn get(env: &Env) -> RouteResult {
    match status(env).await? {
        Outcome::Done(v) => Ok(Response::from_json(&v)?),
        Outcome::Google(f) => f.response(),
    }
}

/// The per-event kind choices of a JSON body: `{"kinds": {"<event>": "<kind>"}}`, or empty.
fn json_kinds(text: &str) -> Result<Vec<(String, String)>, Error> {
    let bad = |field: &str, message: &str| Error::InvalidInput {
        field: field.into(),
        message: message.into(),
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let body: Value =
        serde_json::from_str(text).map_err(|_| bad("body", "is not JSON ({\"kinds\": {…}})"))?;
    let Some(object) = body.as_object() else {
        return Err(bad("body", "is not a JSON object"));
    };
    if let Some(other) = object.keys().find(|k| *k != "kinds") {
        return Err(bad(other, "is not a field (only \"kinds\")"));
    }
    let Some(kinds) = object.get("kinds") else {
        return Ok(Vec::new());
    };
    let Some(kinds) = kinds.as_object() else {
        return Err(bad(
            "kinds",
            "is not an object of event → webpage|upload_clicks",
        ));
    };
    kinds
        .iter()
        .map(|(event, kind)| match kind.as_str() {
            Some(k) => Ok((event.clone(), k.to_owned())),
            None => Err(bad(&format!("kinds.{event}"), "is not a string")),
        })
        .collect()
}

/// `POST /_ar/admin/google-actions`: JSON in and out, or the page's form (urlencoded, fields
/// `kind.<event>`) answered with a page saying what was done.
pub(super) async fn post(req: &mut Request, env: &Env) -> RouteResult {
    let is_form = req
        .headers()
        .get("content-type")?
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let bytes =
        super::super::common::body_capped(req, BODY_MAX, "setup bodies are limited to 4 KiB")
            .await?;
    let text = String::from_utf8(bytes).map_err(|_| Error::InvalidInput {
        field: "body".into(),
        message: "is not UTF-8".into(),
    })?;
    if !is_form {
        return match provision(env, &json_kinds(&text)?).await? {
            Outcome::Done(v) => Ok(Response::from_json(&v)?),
            Outcome::Google(f) => f.response(),
        };
    }
    let kinds: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .filter_map(|(k, v)| Some((k.strip_prefix("kind.")?.to_owned(), v.into_owned())))
        .collect();
    match provision(env, &kinds).await {
        Ok(Outcome::Done(v)) => Ok(Response::from_html(page::confirmation(
            "Google conversion actions set up",
            &describe(&v),
        ))?),
        Ok(Outcome::Google(f)) => Ok(Response::from_html(page::confirmation(
            "Google conversion actions not set up",
            &f.sentence(),
        ))?
        .with_status(502)),
        Err(e @ (Error::InvalidInput { .. } | Error::NotConfigured(_))) => Ok(Response::from_html(
            page::confirmation("Google conversion actions not set up", &e.to_string()),
        )?
        .with_status(e.status())),
        Err(e) => Err(e),
    }
}

/// What a provisioning run did, in one sentence.
fn describe(done: &Value) -> String {
    let created: Vec<&str> = done["created"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let created = if created.is_empty() {
        "Created no action (none was missing)".to_owned()
    } else {
        format!("Created {}", created.join(", "))
    };
    format!(
        "{created}; {} events now feed a recorded action, {} conflict with a same-named action of \
         another type. {NOTE}.",
        done["recorded"].as_array().map_or(0, Vec::len),
        done["conflicts"]
    )
}

/// The page's "Set up Google" section: the account's state per event (one search per page
/// view) or why it cannot be read, and the form that creates the missing actions.
pub(super) async fn section(env: &Env) -> String {
    let view = match status(env).await {
        Ok(Outcome::Done(v)) => Ok(v),
        Ok(Outcome::Google(f)) => Err(f.sentence()),
        Err(e) => Err(e.to_string()),
    };
    super::google_page::section(&view)
}
