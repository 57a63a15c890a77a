//! `POST /_ar/admin/test`: the sample event sent to every configured platform in its test mode
//! (DESIGN §5 "Test mode"), with each platform's answer.

use ar_shared::platform::Platform;
use ar_shared::platform::dispatch;
use ar_shared::platform::request::Mode;
use ar_shared::sample_event::sample_record;
use serde_json::{Value, json};
use worker::{Env, Response};

use crate::delivery::{oauth, send};
use crate::error::{Error, RouteResult};
use crate::routes::common;
use crate::runtime;

/// Sends the sample event and reports each platform's answer.
pub(super) async fn send(env: &Env) -> RouteResult {
    let settings = common::settings(env).await?;
    let now = runtime::now_ms();
    let record = sample_record(
        now,
        common::random()?,
        &settings.default_country,
        &settings.mappings,
    )
    .map_err(|e| Error::Internal(format!("sample event: {e}")))?;
    let Some(event) = record.to_outbound(&settings.mappings, &settings.regions) else {
        return Err(Error::Internal("purchases are not mapped".into()));
    };
    let mut answers = serde_json::Map::new();
    for platform in Platform::ALL {
        if !platform.enabled(&settings) {
            continue;
        }
        // Without a test code a Meta "test" would be a live conversion (meta-capi.md §8).
        if platform == Platform::Meta
            && settings
                .meta
                .as_ref()
                .is_none_or(|m| m.test_event_code.is_none())
        {
            answers.insert(platform.as_str().into(), json!({"skipped": "set META_TEST_EVENT_CODE (Events Manager → Test events) to send a test event"}));
            continue;
        }
        let token = if platform.needs_google_token() {
            match oauth::access_token(env, &settings, now, false).await {
                Ok(t) => t,
                Err(v) => {
                    answers.insert(platform.as_str().into(), json!({"error": v}));
                    continue;
                }
            }
        } else {
            String::new()
        };
        let built = dispatch::build(&settings, platform, &[&event], &token, Mode::Test);
        let Some(request) = built.request else {
            let reasons: Vec<String> = built.skipped.iter().map(|s| s.reason.to_string()).collect();
            answers.insert(
                platform.as_str().into(),
                json!({"skipped": reasons.join("; ")}),
            );
            continue;
        };
        let answer = match send::fetch(&request).await {
            Ok((status, body)) => {
                let verdicts =
                    dispatch::classify(platform, status, &body, &[&event], now, Mode::Test);
                let body: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| Value::String(body.chars().take(2000).collect()));
                json!({"status": status, "answer": body, "verdict": verdicts.first()})
            }
            Err(e) => json!({"error": format!("no answer: {e}")}),
        };
        answers.insert(platform.as_str().into(), answer);
    }
    Ok(Response::from_json(
        &json!({ "event_id": record.event_id, "platforms": answers }),
    )?)
}
