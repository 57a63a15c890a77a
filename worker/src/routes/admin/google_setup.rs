//! Talking to Google Ads for "Set up Google" (`google_actions`): the account's actions, the
//! missing ones created through `ar_shared::platform::provisioning`, the routing recorded in D1.
//! The rules are `ar_shared::platform::google_setup`'s; this file sends and stores.

use ar_shared::EventName;
use ar_shared::mapping::AdsCategory;
use ar_shared::platform::google_setup::{self, ActionState, SetupRow};
use ar_shared::platform::provisioning::{self, ExistingAction, WantedAction};
use ar_shared::platform::request::GoogleAdsConfig;
use ar_shared::settings::Settings;
use serde_json::{Value, json};
use worker::{D1Database, Env, Response};

use crate::delivery::{oauth, send};
use crate::error::{Error, RouteResult};
use crate::store::google_actions;
use crate::{bindings, runtime, settings};

pub(super) const BODY_MAX: usize = 4096;
/// More pages than any account has actions for (10,000 per page).
const MAX_PAGES: usize = 20;

pub(super) const NOTE: &str = "delivery and the pixel's configuration use the recorded actions within \
                    seconds; per event they win over GOOGLE_CONVERSION_ACTIONS";

/// A Google answer that stops the setup: shown as 502 with what Google said.
pub(super) struct Failure {
    step: &'static str,
    status: Option<u16>,
    answer: Value,
}

impl Failure {
    pub(super) fn response(self) -> RouteResult {
        let body = json!({"error": format!("Google Ads {} failed", self.step),
                          "status": self.status, "answer": self.answer});
        Ok(Response::from_json(&body)?.with_status(502))
    }

    pub(super) fn sentence(&self) -> String {
        format!(
            "Google Ads {} failed ({}): {}",
            self.step,
            self.status
                .map_or_else(|| "no answer".into(), |s| s.to_string()),
            self.answer
                .to_string()
                .chars()
                .take(500)
                .collect::<String>()
        )
    }
}

pub(super) enum Outcome {
    Done(Value),
    Google(Failure),
}

fn db(env: &Env) -> Result<D1Database, Error> {
    env.d1(bindings::DB).map_err(Error::Store)
}

/// The mapped events outside the standard set, with their Google Ads category.
fn custom_events(settings: &Settings) -> Vec<(String, AdsCategory)> {
    settings
        .mappings
        .all()
        .into_iter()
        .filter(|(name, _)| !EventName::STANDARD.contains(name))
        .map(|(name, m)| (name.to_string(), m.ads_category))
        .collect()
}

fn ads_config(settings: &Settings) -> Result<&GoogleAdsConfig, Error> {
    settings
        .google_ads
        .as_ref()
        .ok_or(Error::NotConfigured(vec![
            "GOOGLE_ADS_CUSTOMER_ID",
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
            "GOOGLE_REFRESH_TOKEN",
        ]))
}

async fn token(env: &Env, settings: &Settings) -> Result<String, Failure> {
    oauth::access_token(env, settings, runtime::now_ms(), false)
        .await
        .map_err(|v| Failure {
            step: "access token",
            status: None,
            answer: json!(v),
        })
}

fn answer_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.chars().take(2000).collect()))
}

/// Every non-removed action in the account, following `nextPageToken`.
async fn existing(config: &GoogleAdsConfig, token: &str) -> Result<Vec<ExistingAction>, Failure> {
    let mut out = Vec::new();
    let mut page_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let req = provisioning::search_request(config, token, page_token.as_deref());
        let (status, body) = send::fetch(&req).await.map_err(|e| Failure {
            step: "search",
            status: None,
            answer: json!(e.to_string()),
        })?;
        let parsed = (status == 200)
            .then(|| provisioning::parse_search_response(&body).ok())
            .flatten();
        let Some((actions, next)) = parsed else {
            return Err(Failure {
                step: "search",
                status: Some(status),
                answer: answer_json(&body),
            });
        };
        out.extend(actions);
        match next {
            Some(next) => page_token = Some(next),
            None => break,
        }
    }
    Ok(out)
}

struct Context {
    settings: Settings,
    wanted: Vec<WantedAction>,
}

async fn context(env: &Env, overrides: &[(String, String)]) -> Result<Context, Error> {
    let settings = super::super::common::settings(env).await?;
    ads_config(&settings)?;
    let wanted = google_setup::plan(
        &custom_events(&settings),
        &settings.conversion_actions,
        overrides,
    )
    .map_err(|e| Error::InvalidInput {
        field: e.field,
        message: e.message,
    })?;
    Ok(Context { settings, wanted })
}

fn view(rows: &[SetupRow], recorded: &[ar_shared::platform::request::ConversionAction]) -> Value {
    let recorded: Vec<Value> = recorded
        .iter()
        .map(|a| {
            json!({"event": a.event, "action_id": a.action_id, "kind": a.kind,
                   "send_to": a.send_to.as_ref().map(ToString::to_string)})
        })
        .collect();
    let count = |s: ActionState| rows.iter().filter(|r| r.state == s).count();
    json!({
        "actions": rows,
        "missing": count(ActionState::Missing),
        "conflicts": count(ActionState::Conflict),
        "recorded": recorded,
        "rule": "WEBPAGE for the event the pixel fires a gtag conversion for (transaction.purchase \
                 unless chosen otherwise), UPLOAD_CLICKS (secondary) for every other event",
        "note": NOTE,
    })
}

/// The account's state for the wanted set, without changing anything.
pub(super) async fn status(env: &Env) -> Result<Outcome, Error> {
    let ctx = context(env, &[]).await?;
    let config = ads_config(&ctx.settings)?;
    let token = match token(env, &ctx.settings).await {
        Ok(t) => t,
        Err(f) => return Ok(Outcome::Google(f)),
    };
    let existing = match existing(config, &token).await {
        Ok(e) => e,
        Err(f) => return Ok(Outcome::Google(f)),
    };
    let rows = google_setup::rows(&ctx.wanted, &provisioning::diff(&ctx.wanted, &existing));
    let recorded = google_actions::list(&db(env)?)
        .await
        .map_err(Error::Store)?;
    Ok(Outcome::Done(view(&rows, &recorded)))
}

/// Creates what is missing and records the routing of everything present.
pub(super) async fn provision(env: &Env, overrides: &[(String, String)]) -> Result<Outcome, Error> {
    let ctx = context(env, overrides).await?;
    let config = ads_config(&ctx.settings)?;
    let token = match token(env, &ctx.settings).await {
        Ok(t) => t,
        Err(f) => return Ok(Outcome::Google(f)),
    };
    let before = match existing(config, &token).await {
        Ok(e) => provisioning::diff(&ctx.wanted, &e),
        Err(f) => return Ok(Outcome::Google(f)),
    };
    let mut create_errors = Value::Null;
    if !before.missing.is_empty() {
        let req = provisioning::create_request(config, &token, &before.missing, false);
        match send::fetch(&req).await {
            Ok((200, body)) => create_errors = answer_json(&body)["partialFailureError"].clone(),
            Ok((status, body)) => {
                return Ok(Outcome::Google(Failure {
                    step: "create",
                    status: Some(status),
                    answer: answer_json(&body),
                }));
            }
            Err(e) => {
                return Ok(Outcome::Google(Failure {
                    step: "create",
                    status: None,
                    answer: json!(e.to_string()),
                }));
            }
        }
    }
    // Read the account again: a create answer names only the resource, not the tag snippets.
    let after = match existing(config, &token).await {
        Ok(e) => provisioning::diff(&ctx.wanted, &e),
        Err(f) => return Ok(Outcome::Google(f)),
    };
    let routing: Vec<_> = after
        .conversion_actions()
        .0
        .into_iter()
        .zip(after.present.iter().map(|(w, _)| w.name.clone()))
        .collect();
    let db = db(env)?;
    google_actions::save(&db, &routing, runtime::now_ms())
        .await
        .map_err(Error::Store)?;
    settings::mappings_changed();
    let created: Vec<&str> = before
        .missing
        .iter()
        .filter(|w| after.present.iter().any(|(p, _)| p.name == w.name))
        .map(|w| w.name.as_str())
        .collect();
    let rows = google_setup::rows(&ctx.wanted, &after);
    let recorded = google_actions::list(&db).await.map_err(Error::Store)?;
    let mut out = view(&rows, &recorded);
    out["created"] = json!(created);
    out["create_errors"] = create_errors;
    Ok(Outcome::Done(out))
}
