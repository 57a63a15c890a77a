//! The event mapping the merchant edits in the console, without a redeploy (README "Admin API"):
//!
//! - `GET /_ar/admin/mappings`: every mapped event with its source (`standard`, `deploy` for
//!   `EVENT_MAPPING`, `console`), the console's versions and the latest changes;
//! - `PUT /_ar/admin/mappings/<event>` with a JSON entry (`{"meta": …, "ga4": …, "ads_category":
//!   …, "path": …, "key": …}`): saves it, checked by the rules `EVENT_MAPPING` is checked by;
//! - `DELETE /_ar/admin/mappings/<event>`: back to the deploy-time or standard mapping;
//! - `POST /_ar/admin/mappings`, the page's form (`event`, `action=save|remove` and the fields):
//!   the same, answered with a page that says what was done.
//!
//! New events use a change within `settings::MAPPINGS_TTL_MS`; events already accepted keep the
//! mapping they were accepted with (`EventRecord::mapping`).

use ar_shared::mapping::EventMapping;
use ar_shared::mapping_config::{ENTRY_FIELDS, MappingEntry, MappingError};
use ar_shared::settings::Settings;
use serde::Serialize;
use serde_json::{Value, json};
use worker::{D1Database, Env, Request, Response};

use super::page;
use crate::error::{Error, RouteResult};
use crate::store::mappings::{self, Change, StoredMapping};
use crate::{bindings, runtime, settings};

/// Bodies of the mapping API and form.
const BODY_MAX: usize = 4096;

const NOTE: &str = "new events use this within seconds (the pixel's configuration too); events \
                    already accepted keep the mapping they were accepted with";

/// One mapped event as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct MappingView {
    pub event: String,
    #[serde(flatten)]
    pub mapping: EventMapping,
    /// `standard`, `deploy` (`EVENT_MAPPING`) or `console`.
    pub source: &'static str,
    pub version: Option<u64>,
    pub updated_at: Option<u64>,
}

/// Everything the console shows about the mapping.
#[derive(Debug, Clone, Default, Serialize)]
pub(super) struct MappingsView {
    pub mappings: Vec<MappingView>,
    pub history: Vec<Change>,
}

fn invalid(e: &MappingError) -> Error {
    Error::InvalidInput {
        field: e.field(),
        message: e.to_string(),
    }
}

fn db(env: &Env) -> Result<D1Database, Error> {
    env.d1(bindings::DB).map_err(Error::Store)
}

/// The mapping as the console shows it.
///
/// # Errors
/// Setting problems (the page then shows none), D1 failures.
pub(super) async fn view(env: &Env) -> Result<MappingsView, Error> {
    let deploy: Settings = settings::load(env)
        .map_err(|p| Error::NotConfigured(p.iter().map(|p| p.name).collect()))?;
    let db = db(env)?;
    let stored: Vec<StoredMapping> = mappings::list(&db).await.map_err(Error::Store)?;
    let live = deploy
        .mappings
        .with_entries(stored.iter().map(|s| (s.event.as_str(), &s.mapping)));
    let mut out = Vec::new();
    for (name, mapping) in live.all() {
        let console = stored.iter().find(|s| s.event == name.as_str());
        let source = if console.is_some() {
            "console"
        } else if deploy.mappings.has_entry(name.as_str()) {
            "deploy"
        } else {
            "standard"
        };
        out.push(MappingView {
            event: name.to_string(),
            mapping,
            source,
            version: console.map(|c| c.version),
            updated_at: console.map(|c| c.updated_at),
        });
    }
    Ok(MappingsView {
        mappings: out,
        history: mappings::history(&db, 50).await.map_err(Error::Store)?,
    })
}

/// `GET /_ar/admin/mappings`.
pub(super) async fn get(env: &Env) -> RouteResult {
    Ok(Response::from_json(&view(env).await?)?)
}

fn parsed(previous: Option<&str>) -> Value {
    previous
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null)
}

async fn save(env: &Env, event: &str, entry: MappingEntry) -> Result<Value, Error> {
    let (name, mapping) = entry.resolve(event).map_err(|e| invalid(&e))?;
    let db = db(env)?;
    let (version, previous) = mappings::save(&db, name.as_str(), &mapping, runtime::now_ms())
        .await
        .map_err(Error::Store)?;
    settings::mappings_changed();
    Ok(json!({
        "event": name.as_str(), "mapping": mapping, "version": version,
        "previous": parsed(previous.as_deref()), "note": NOTE,
    }))
}

async fn remove(env: &Env, event: &str) -> Result<Value, Error> {
    let name: ar_shared::EventName = event.parse().map_err(|reason| {
        invalid(&MappingError::EventName {
            event: event.into(),
            reason,
        })
    })?;
    let db = db(env)?;
    let Some(previous) = mappings::remove(&db, name.as_str(), runtime::now_ms())
        .await
        .map_err(Error::Store)?
    else {
        return Err(Error::NotFound(
            "this event has no console mapping (standard and EVENT_MAPPING entries are changed by saving one)",
        ));
    };
    settings::mappings_changed();
    let now = settings::load(env)
        .ok()
        .and_then(|s| s.mappings.lookup(&name));
    Ok(json!({
        "event": name.as_str(), "removed": true, "previous": parsed(Some(&previous)),
        "now": now, "note": NOTE,
    }))
}

async fn body(req: &mut Request) -> Result<String, Error> {
    let bytes =
        super::super::common::body_capped(req, BODY_MAX, "mapping bodies are limited to 4 KiB")
            .await?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidInput {
        field: "body".into(),
        message: "is not UTF-8".into(),
    })
}

/// `PUT /_ar/admin/mappings/<event>` (JSON entry) and `DELETE /_ar/admin/mappings/<event>`.
pub(super) async fn api(req: &mut Request, env: &Env, event: &str, delete: bool) -> RouteResult {
    if delete {
        return Ok(Response::from_json(&remove(env, event).await?)?);
    }
    let text = body(req).await?;
    let entry = MappingEntry::from_json(event, &text).map_err(|e| invalid(&e))?;
    Ok(Response::from_json(&save(env, event, entry).await?)?)
}

/// `POST /_ar/admin/mappings`: the page's form, answered with a page saying what was done (or
/// what is wrong, with 400).
pub(super) async fn form(req: &mut Request, env: &Env) -> RouteResult {
    let text = body(req).await?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let event = get("event");
    let action = get("action");
    let outcome = match action.as_str() {
        "remove" => remove(env, &event).await,
        "save" | "" => {
            let fields = pairs
                .iter()
                .filter(|(k, _)| ENTRY_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()));
            match MappingEntry::from_pairs(&event, fields) {
                Ok(entry) => save(env, &event, entry).await,
                Err(e) => Err(invalid(&e)),
            }
        }
        other => Err(Error::InvalidInput {
            field: "action".into(),
            message: format!("{other:?} is not save or remove"),
        }),
    };
    match outcome {
        Ok(done) => Ok(Response::from_html(page::confirmation(
            "Event mapping saved",
            &describe(&done),
        ))?),
        Err(e @ (Error::InvalidInput { .. } | Error::NotFound(_))) => Ok(Response::from_html(
            page::confirmation("Event mapping not changed", &e.to_string()),
        )?
        .with_status(e.status())),
        Err(e) => Err(e),
    }
}

/// What a save or removal did, in one sentence.
fn describe(done: &Value) -> String {
    let event = done["event"].as_str().unwrap_or_default();
    let names = |m: &Value| {
        format!(
            "Meta {}, GA4 {}, Google Ads {}, {}, key {}",
            m["meta"].as_str().unwrap_or("–"),
            m["ga4"].as_str().unwrap_or("–"),
            m["ads_category"].as_str().unwrap_or("–"),
            m["path"].as_str().unwrap_or("–"),
            m["key"].as_str().unwrap_or("–"),
        )
    };
    if done["removed"] == true {
        let now = if done["now"].is_null() {
            "it is no longer mapped (new copies are refused as unmapped)".to_owned()
        } else {
            format!("it now uses {}", names(&done["now"]))
        };
        format!(
            "Removed the console mapping of {event} (was {}); {now}. {NOTE}.",
            names(&done["previous"])
        )
    } else {
        format!(
            "Saved {event} → {} as version {}. {NOTE}.",
            names(&done["mapping"]),
            done["version"]
        )
    }
}
