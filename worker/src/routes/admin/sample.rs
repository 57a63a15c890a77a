//! `POST /_ar/admin/test` and the console's "Send test" button: the sample event
//! (`ar_shared::sample_event`) sent to every enabled platform in its test mode, with each
//! platform's answer, the event ID and what to check where.
//!
//! The API takes an optional JSON body `{"meta_test_event_code": "TEST123"}` and answers JSON;
//! the page's form (`meta_test_event_code=…`) is answered with a page.

use ar_shared::platform::Platform;
use ar_shared::platform::dispatch;
use ar_shared::platform::request::Mode;
use ar_shared::platform::verdict::Verdict;
use ar_shared::sample_event::{self, PlatformTest, TEST_EVENT, TestSend};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use worker::{Env, Request, Response};

use super::page;
use crate::delivery::{oauth, send};
use crate::error::{Error, RouteResult};
use crate::routes::common;
use crate::runtime;

const NOTE: &str = "a custom event (Meta ActiveReachTest, GA4 active_reach_test), not a \
                    conversion: Meta keeps test events for targeting and measurement, Google's \
                    validateOnly and GA4's validation endpoint record nothing";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestInput {
    #[serde(default)]
    meta_test_event_code: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: field.into(),
        message: message.into(),
    }
}

/// Sends the sample; JSON for the API, a page for the form.
pub(super) async fn send(req: &mut Request, env: &Env) -> RouteResult {
    let form = req
        .headers()
        .get("content-type")?
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let body = common::body_capped(req, 4096, "the test request is limited to 4 KiB").await?;
    let input: TestInput = if form {
        let mut input = TestInput::default();
        for (k, v) in form_urlencoded::parse(&body) {
            match k.as_ref() {
                "meta_test_event_code" => input.meta_test_event_code = Some(v.into_owned()),
                other => return Err(invalid(other, "is not a field of the test form")),
            }
        }
        input
    } else if body.iter().all(u8::is_ascii_whitespace) {
        TestInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| invalid("body", e.to_string()))?
    };
    let code = match input.meta_test_event_code.as_deref() {
        Some(c) => sample_event::test_code(c).map_err(|m| invalid("meta_test_event_code", m))?,
        None => None,
    };
    let answer = run(env, code.as_deref()).await?;
    if form {
        return Ok(Response::from_html(page::test_answer(&answer))?);
    }
    Ok(Response::from_json(&answer)?)
}

async fn run(env: &Env, code: Option<&str>) -> Result<Value, Error> {
    let settings = common::settings(env).await?;
    let now = runtime::now_ms();
    let test = sample_event::plan(&settings, now, common::random()?, code)
        .map_err(|e| Error::Internal(format!("sample event: {e}")))?;
    let mut answers = Map::new();
    for t in &test.platforms {
        answers.insert(t.platform.as_str().into(), answer(env, &test, t, now).await);
    }
    let enabled = answers.len();
    Ok(json!({
        "event_id": test.event.event_id,
        "event": TEST_EVENT,
        "note": NOTE,
        "enabled_platforms": enabled,
        "platforms": answers,
    }))
}

/// One platform's answer: sent (`status`, `answer`, `verdict`, `ok`) or `skipped`, with
/// `check` and the conversion `action` validated.
async fn answer(env: &Env, test: &TestSend, t: &PlatformTest, now: u64) -> Value {
    let mut out = json!({"check": t.check, "action": t.action});
    if let Some(reason) = &t.skipped {
        out["sent"] = json!(false);
        out["ok"] = json!(false);
        out["skipped"] = json!(reason);
        return out;
    }
    let request = if t.platform.needs_google_token() {
        match oauth::access_token(env, &test.settings, now, false).await {
            Ok(token) => test.request(t.platform, &token).request,
            Err(v) => {
                out["sent"] = json!(false);
                out["ok"] = json!(false);
                out["error"] = json!({"no Google access token": v});
                return out;
            }
        }
    } else {
        t.request.clone()
    };
    let Some(request) = request else {
        out["sent"] = json!(false);
        out["ok"] = json!(false);
        out["skipped"] = json!("nothing to send");
        return out;
    };
    out["sent"] = json!(true);
    match send::fetch(&request).await {
        Ok((status, body)) => {
            let verdicts =
                dispatch::classify(t.platform, status, &body, &[&test.event], Mode::Test);
            let verdict = verdicts.first();
            out["status"] = json!(status);
            out["answer"] = serde_json::from_str(&body)
                .unwrap_or_else(|_| Value::String(body.chars().take(2000).collect()));
            out["verdict"] = json!(verdict);
            out["ok"] = json!(
                matches!(verdict, Some(Verdict::Delivered))
                    && ga4_clean(t.platform, &out["answer"])
            );
        }
        Err(e) => {
            out["ok"] = json!(false);
            out["error"] = json!(format!("no answer: {e}"));
        }
    }
    out
}

/// GA4's validation endpoint answers 200 with its findings in `validationMessages`: the test
/// passes only without any.
fn ga4_clean(platform: Platform, answer: &Value) -> bool {
    platform != Platform::Ga4
        || answer["validationMessages"]
            .as_array()
            .is_none_or(Vec::is_empty)
}
