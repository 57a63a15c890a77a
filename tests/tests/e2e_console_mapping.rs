//! The event mapping edited in the console, end to end against the real worker (workerd via
//! `wrangler dev`, local D1) and the fake platforms, without restarting the worker: a custom
//! mapping added through the console's form reaches Meta and GA4 under its names and the
//! pixel's configuration within seconds; API input is checked by `EVENT_MAPPING`'s rules; each
//! change is versioned with its previous value; a queued event keeps the mapping it was accepted
//! with, and removing a mapping never fails it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::config::DEFAULT_GA4_API_SECRET;
use ar_sandbox::harness::Worker;
use serde_json::{Value, json};

const ADMIN: &str = "admin-e2e-console-0123456789abc";
const UA: &str = "Mozilla/5.0 (e2e-console-mapping)";
const GA_CLIENT: &str = "GA1.1.468604437.1764000000";

fn start(sb: &Sandbox) -> Worker {
    let url = sb.platform_url.clone();
    Worker::start(&[
        ("META_BASE_URL", &url),
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("GA4_BASE_URL", &url),
        ("GA4_MEASUREMENT_ID", "G-E2E"),
        ("GA4_API_SECRET", DEFAULT_GA4_API_SECRET),
        ("AR_SERVER_SECRET", "e2e-console-secret"),
        ("ADMIN_TOKEN", ADMIN),
        ("GEO_OVERRIDE", "US"),
        (
            "EVENT_MAPPING",
            r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed"}}}"#,
        ),
    ])
}

async fn admin(
    worker: &Worker,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = common::http()
        .request(method, format!("{}{path}", worker.base_url))
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The console's form, as the page posts it; returns status and the page's outcome line.
async fn form(worker: &Worker, fields: &[(&str, &str)]) -> (u16, String) {
    common::console_form(&worker.base_url, "/_ar/admin/mappings", ADMIN, fields).await
}

/// The pixel's copy of `event` with GA4's cookie and no tag fired (so GA4 gets the server copy).
async fn collect(worker: &Worker, body: Value) {
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", UA)
        .header("cookie", format!("_ga={GA_CLIENT}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert_eq!(status, 204, "{}", res.text().await.unwrap_or_default());
}

fn event(name: &str, key: Option<(&str, &str)>) -> Value {
    let mut e = json!({"event": name, "page": {"url": "https://shop.example.com/quiz"},
                       "fired": {"meta": false, "google": false}});
    if let Some((k, v)) = key {
        e[k] = json!(v);
    }
    e
}

/// Waits until `check` holds for the platform's recorded requests (a minute at most).
async fn until(sb: &Sandbox, platform: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let got = common::platform_requests(sb, platform, None).await;
        if check(&got) || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn meta_names(requests: &[Value]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r["verdict"] == "accepted")
        .flat_map(|r| r["body"]["data"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["event_name"].as_str().map(str::to_owned))
        .collect()
}

fn ga4_names(requests: &[Value]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r["endpoint"] == "collect")
        .flat_map(|r| r["body"]["events"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mapping_added_in_the_console_reaches_meta_ga4_and_the_pixel_without_a_restart() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let log = || worker.process.output().join("\n");
    let survey: ar_shared::EventName = "survey.answered".parse().unwrap();
    assert!(
        common::pixel_config(&worker.base_url)
            .await
            .event(&survey)
            .is_none()
    );

    // Before: not mapped, so refused with the reason.
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .json(&event("survey.answered", Some(("lead_id", "s-0"))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);

    let (status, outcome) = common::console_save_survey_mapping(&worker.base_url, ADMIN).await;
    assert_eq!(status, 200, "{outcome}");
    assert!(
        outcome.contains("Saved survey.answered → Meta SurveyAnswered, GA4 survey_answered")
            && outcome.contains("version 1"),
        "the page says what it did: {outcome}"
    );

    // The pixel's configuration has it within seconds (a condition, not a sleep).
    let deadline = Instant::now() + Duration::from_secs(30);
    while common::pixel_config(&worker.base_url)
        .await
        .event(&survey)
        .is_none()
    {
        assert!(Instant::now() < deadline, "never in /_ar/config\n{}", log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let served = common::pixel_config(&worker.base_url).await;
    let served = served.event(&survey).unwrap();
    assert_eq!(served.meta, "SurveyAnswered");

    collect(&worker, event("survey.answered", Some(("lead_id", "s-1")))).await;
    let meta = until(&sb, "meta", |r| !meta_names(r).is_empty()).await;
    assert_eq!(
        meta_names(&meta),
        ["SurveyAnswered"],
        "{meta:#?}\n{}",
        log()
    );
    let ga4 = until(&sb, "ga4", |r| !ga4_names(r).is_empty()).await;
    assert_eq!(ga4_names(&ga4), ["survey_answered"], "{ga4:#?}\n{}", log());
}

/// Every kind of bad input is refused with 400 and the field named; no token, 401.
async fn refuses_bad_input(worker: &Worker, path: &str) {
    let put = reqwest::Method::PUT;
    for (body, field) in [
        (r#"{"meta":"Quiz","ga4":"page_view"}"#, "ga4"),
        (r#"{"meta":"","ga4":"quiz"}"#, "meta"),
        (r#"{"meta":"Quiz","ga4":"quiz","paht":"batched"}"#, "body"),
        (r#"{"meta":"Quiz","ga4":"quiz","path":"slow"}"#, "path"),
        ("not json", "body"),
    ] {
        let (status, answer) = admin(worker, put.clone(), path, Some(body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_input", "{answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let (status, answer) = admin(
        worker,
        put.clone(),
        "/_ar/admin/mappings/Quiz%20Done",
        Some(r#"{"meta":"Q","ga4":"q"}"#),
    )
    .await;
    assert_eq!(
        (status, answer["field"].clone()),
        (400, json!("event")),
        "{answer}"
    );
    let (status, outcome) = form(worker, &[("event", "quiz.completed"), ("path", "slow")]).await;
    assert_eq!(status, 400);
    assert!(outcome.contains("`path`"), "{outcome}");
    let (status, _) = admin(worker, reqwest::Method::GET, "/_ar/admin/mappings", None).await;
    assert_eq!(status, 200);
    let unauthenticated = common::http()
        .put(format!("{}{path}", worker.base_url))
        .body(r#"{"meta":"Q","ga4":"q"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn console_input_is_checked_like_event_mapping_and_every_change_is_versioned() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let put = reqwest::Method::PUT;
    let path = "/_ar/admin/mappings/quiz.completed";
    refuses_bad_input(&worker, path).await;
    let (status, first) = admin(
        &worker,
        put.clone(),
        path,
        Some(r#"{"meta":"QuizFinished","ga4":"quiz_finished"}"#),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["version"], 1);
    assert_eq!(first["previous"], Value::Null);
    let (_, second) = admin(
        &worker,
        put.clone(),
        path,
        Some(r#"{"meta":"QuizDone","ga4":"quiz_done","path":"real_time"}"#),
    )
    .await;
    assert_eq!(second["version"], 2);
    assert_eq!(second["previous"]["meta"], "QuizFinished");
    let (_, listed) = admin(&worker, reqwest::Method::GET, "/_ar/admin/mappings", None).await;
    let quiz = listed["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["event"] == "quiz.completed")
        .unwrap()
        .clone();
    assert_eq!(
        (
            quiz["meta"].clone(),
            quiz["source"].clone(),
            quiz["version"].clone()
        ),
        (json!("QuizDone"), json!("console"), json!(2))
    );
    let cart = listed["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["event"] == "cart.added")
        .unwrap()
        .clone();
    assert_eq!(cart["source"], "standard");
    let history = listed["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{listed:#}");
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["previous"]["meta"], "QuizFinished");
    assert!(history[0]["changed_at"].as_u64().unwrap() > 1_700_000_000_000);

    let (status, removed) = admin(&worker, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["previous"]["meta"], "QuizDone");
    assert_eq!(
        removed["now"]["meta"], "QuizCompleted",
        "back to the deploy-time EVENT_MAPPING"
    );
    let (status, _) = admin(&worker, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 404, "nothing left to remove");
    let (_, listed) = admin(&worker, reqwest::Method::GET, "/_ar/admin/mappings", None).await;
    let history = listed["history"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0]["value"], Value::Null, "a removal");
    assert_eq!(history[0]["version"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_events_keep_their_mapping_through_a_change_and_a_removal() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let put = reqwest::Method::PUT;
    let path = "/_ar/admin/mappings/poll.voted";
    let (status, answer) = admin(
        &worker,
        put.clone(),
        path,
        Some(r#"{"meta":"PollVoted","ga4":"poll_voted","path":"batched"}"#),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let poll: ar_shared::EventName = "poll.voted".parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while common::pixel_config(&worker.base_url)
        .await
        .event(&poll)
        .is_none()
    {
        assert!(Instant::now() < deadline, "never served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Batched: accepted now, sent at the next flush.
    collect(&worker, event("poll.voted", None)).await;
    // The queue consumer stores it; wait until it is in D1 as pending before changing anything.
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let (_, h) = admin(&worker, reqwest::Method::GET, "/_ar/health", None).await;
        if h["delivery"]["meta"]["pending"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "never stored: {h:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, changed) = admin(
        &worker,
        put.clone(),
        path,
        Some(r#"{"meta":"PollCast","ga4":"poll_cast","path":"batched"}"#),
    )
    .await;
    assert_eq!(changed["version"], 2);
    let (status, _) = admin(&worker, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 200);
    common::cron(&worker.base_url).await;
    let meta = until(&sb, "meta", |r| !meta_names(r).is_empty()).await;
    assert_eq!(
        meta_names(&meta),
        ["PollVoted"],
        "sent under the mapping it was accepted with, though since changed and removed"
    );
    let ga4 = until(&sb, "ga4", |r| !ga4_names(r).is_empty()).await;
    assert_eq!(ga4_names(&ga4), ["poll_voted"]);
    let (_, h) = admin(&worker, reqwest::Method::GET, "/_ar/health", None).await;
    assert_eq!(h["delivery"]["meta"]["failed"], 0, "{h:#}");
    assert_eq!(h["delivery"]["meta"]["delivered"], 1, "{h:#}");
}
