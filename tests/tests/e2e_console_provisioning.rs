//! "Set up Google" end to end against the real worker (workerd via `wrangler dev`, local D1) and
//! the sandbox's Google Ads conversion-action service: provisioning creates exactly the missing
//! actions and a second run creates none; the recorded action ids and tags are then what a
//! delivered purchase (Data Manager `productDestinationId`) and the pixel's configuration
//! (`send_to`) use, over the deploy-time `GOOGLE_CONVERSION_ACTIONS`, without a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::config::{
    DEFAULT_CUSTOMER_ID, DEFAULT_GOOGLE_CLIENT_ID, DEFAULT_GOOGLE_CLIENT_SECRET,
    DEFAULT_GOOGLE_DEVELOPER_TOKEN, DEFAULT_GOOGLE_REFRESH_TOKEN,
};
use ar_sandbox::harness::Worker;
use serde_json::{Value, json};

const ADMIN: &str = "admin-e2e-provisioning-0123456789";
const SECRET: &str = "e2e-provisioning-secret";
/// The sandbox's seeded `UPLOAD_CLICKS` purchase action, routed at deploy time.
const DEPLOY_ACTION: &str = "1001";

fn start(sb: &Sandbox) -> Worker {
    let url = sb.platform_url.clone();
    let token_url = format!("{url}/token");
    Worker::start(&[
        ("AR_SERVER_SECRET", SECRET),
        ("ADMIN_TOKEN", ADMIN),
        ("GEO_OVERRIDE", "US"),
        ("GOOGLE_ADS_BASE_URL", &url),
        ("DATA_MANAGER_BASE_URL", &url),
        ("GOOGLE_OAUTH_URL", &token_url),
        ("GOOGLE_ADS_CUSTOMER_ID", DEFAULT_CUSTOMER_ID),
        ("GOOGLE_ADS_DEVELOPER_TOKEN", DEFAULT_GOOGLE_DEVELOPER_TOKEN),
        ("GOOGLE_CLIENT_ID", DEFAULT_GOOGLE_CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", DEFAULT_GOOGLE_CLIENT_SECRET),
        ("GOOGLE_REFRESH_TOKEN", DEFAULT_GOOGLE_REFRESH_TOKEN),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            &format!("transaction.purchase={DEPLOY_ACTION}:upload_clicks"),
        ),
        (
            "EVENT_MAPPING",
            r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed","ads_category":"ENGAGEMENT"}}}"#,
        ),
    ])
}

async fn admin(worker: &Worker, method: reqwest::Method, body: Option<Value>) -> (u16, Value) {
    let mut req = common::http()
        .request(
            method,
            format!("{}/_ar/admin/google-actions", worker.base_url),
        )
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The sandbox account's conversion actions, by name.
async fn account_actions(sb: &Sandbox) -> Vec<Value> {
    let token = common::google_token(sb).await;
    let auth = format!("Bearer {token}");
    let (status, res) = common::post_json(
        &format!(
            "{}/v22/customers/{DEFAULT_CUSTOMER_ID}/googleAds:search",
            sb.platform_url
        ),
        &json!({"query": "SELECT conversion_action.id, conversion_action.name, conversion_action.type FROM conversion_action"}),
        &[
            ("authorization", &auth),
            ("developer-token", DEFAULT_GOOGLE_DEVELOPER_TOKEN),
        ],
    )
    .await;
    assert_eq!(status, 200, "{res}");
    res["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r["conversionAction"].clone())
        .collect()
}

/// One action created in the account beforehand, as a merchant may have done by hand.
async fn create_in_account(sb: &Sandbox, name: &str, kind: &str, category: &str) {
    let token = common::google_token(sb).await;
    let auth = format!("Bearer {token}");
    let (status, res) = common::post_json(
        &format!(
            "{}/v22/customers/{DEFAULT_CUSTOMER_ID}/conversionActions:mutate",
            sb.platform_url
        ),
        &json!({"operations": [{"create": {"name": name, "type": kind, "category": category,
                 "status": "ENABLED", "primaryForGoal": false}}]}),
        &[
            ("authorization", &auth),
            ("developer-token", DEFAULT_GOOGLE_DEVELOPER_TOKEN),
        ],
    )
    .await;
    assert_eq!(status, 200, "{res}");
}

fn state_of<'a>(view: &'a Value, event: &str) -> &'a Value {
    view["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["event"] == event))
        .unwrap_or(&Value::Null)
}

/// Waits until the pixel's configuration names `send_to` for the purchase (a minute at most).
async fn purchase_send_to(worker: &Worker, want: &str) -> Option<String> {
    let purchase: ar_shared::EventName = "transaction.purchase".parse().unwrap();
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let got = common::pixel_config(&worker.base_url)
            .await
            .event(&purchase)
            .and_then(|e| e.send_to.as_ref().map(ToString::to_string));
        if got.as_deref() == Some(want) || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Data Manager ingest requests, once at least one arrived (a minute at most).
async fn ingests(sb: &Sandbox) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let got: Vec<Value> = common::platform_requests(sb, "data_manager", None)
            .await
            .into_iter()
            .filter(|r| r["endpoint"] == "events:ingest")
            .collect();
        if !got.is_empty() || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A signed purchase with a stated click reaches Data Manager with `action` as its destination.
async fn purchase_reaches(sb: &Sandbox, worker: &Worker, action: &str) {
    let body = json!({"events": [{"event": "transaction.purchase", "order_id": "prov-1",
        "value": 10, "currency": "EUR", "click_ids": {"gclid": "Cj0-provisioned"},
        "consent": {"ad_storage": "granted", "ad_user_data": "granted",
                    "ad_personalization": "granted", "analytics_storage": "granted"}}]});
    let (status, json) = common::post_signed_events(&worker.base_url, SECRET, &body).await;
    assert_eq!(status, 200, "{json}");
    let uploads = ingests(sb).await;
    assert_eq!(
        uploads.len(),
        1,
        "{uploads:#?}\n{}",
        worker.process.output().join("\n")
    );
    assert_eq!(uploads[0]["verdict"], "accepted", "{:#}", uploads[0]);
    let destination = &uploads[0]["body"]["destinations"][0];
    assert_eq!(
        destination["productDestinationId"], action,
        "{destination:#}"
    );
    assert_eq!(uploads[0]["body"]["events"][0]["transactionId"], "prov-1");
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioning_creates_exactly_the_missing_actions_once_and_delivery_and_the_pixel_use_them()
{
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let log = || worker.process.output().join("\n");
    create_in_account(&sb, "AR add_to_cart", "UPLOAD_CLICKS", "ADD_TO_CART").await;
    let before = account_actions(&sb).await;

    // The view: the standard set and the custom event, which exist and which are missing.
    let (status, view) = admin(&worker, reqwest::Method::GET, None).await;
    assert_eq!(status, 200, "{view}\n{}", log());
    assert_eq!(
        view["actions"].as_array().map(Vec::len),
        Some(8),
        "{view:#}"
    );
    assert_eq!(view["missing"], 7, "{view:#}");
    assert_eq!(state_of(&view, "cart.added")["state"], "exists");
    assert_eq!(state_of(&view, "quiz.completed")["state"], "missing");
    // The deploy-time routing sets the purchase's kind until it is changed.
    assert_eq!(
        state_of(&view, "transaction.purchase")["kind"],
        "UPLOAD_CLICKS"
    );

    // Input is checked, naming the field.
    let (status, err) = admin(
        &worker,
        reqwest::Method::POST,
        Some(json!({"kinds": {"transaction.purchase": "both"}})),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err.to_string().contains("kinds.transaction.purchase"),
        "{err}"
    );
    assert_eq!(
        account_actions(&sb).await.len(),
        before.len(),
        "a refused run creates nothing"
    );

    // First run: the purchase as a WEBPAGE action (the pixel's gtag conversion), the rest
    // UPLOAD_CLICKS; exactly the seven missing actions are created.
    let (status, done) = admin(
        &worker,
        reqwest::Method::POST,
        Some(json!({"kinds": {"transaction.purchase": "webpage"}})),
    )
    .await;
    assert_eq!(status, 200, "{done}\n{}", log());
    let mut created: Vec<&str> = done["created"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    created.sort_unstable();
    assert_eq!(
        created,
        [
            "AR add_payment_info",
            "AR begin_checkout",
            "AR generate_lead",
            "AR purchase",
            "AR quiz.completed",
            "AR sign_up",
            "AR view_item",
        ],
        "{done:#}"
    );
    let after = account_actions(&sb).await;
    assert_eq!(after.len(), before.len() + 7, "{after:#?}");
    let purchase = after.iter().find(|a| a["name"] == "AR purchase").unwrap();
    assert_eq!(purchase["type"], "WEBPAGE");
    let purchase_id = purchase["id"].as_str().unwrap().to_owned();
    let quiz = after
        .iter()
        .find(|a| a["name"] == "AR quiz.completed")
        .unwrap();
    assert_eq!(quiz["type"], "UPLOAD_CLICKS");
    assert_eq!(done["missing"], 0, "{done:#}");
    let recorded = done["recorded"].as_array().unwrap();
    assert_eq!(
        recorded.len(),
        8,
        "every event records its action: {done:#}"
    );
    let row = state_of(&done, "transaction.purchase");
    assert_eq!(row["action_id"], purchase_id.as_str());
    // The sandbox's tag snippet for a WEBPAGE action names `AW-123/lbl<id>`.
    let send_to = format!("AW-123/lbl{purchase_id}");
    assert_eq!(row["send_to"], send_to.as_str(), "{row:#}");

    // Second run: nothing is missing, nothing is created.
    let (status, again) = admin(&worker, reqwest::Method::POST, None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["created"], json!([]), "{again:#}");
    assert_eq!(account_actions(&sb).await.len(), after.len());
    assert_eq!(state_of(&again, "transaction.purchase")["kind"], "WEBPAGE");

    // The pixel fires its gtag conversion into the recorded tag.
    assert_eq!(
        purchase_send_to(&worker, &send_to).await.as_deref(),
        Some(send_to.as_str())
    );

    // A purchase goes to the recorded action, not to GOOGLE_CONVERSION_ACTIONS's.
    purchase_reaches(&sb, &worker, &purchase_id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_page_shows_set_up_google_and_its_form_creates_the_missing_actions() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let page = common::http()
        .get(format!("{}/_ar/admin", worker.base_url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<section id=\"google\"><h2>Set up Google</h2>"),
        "{page}"
    );
    assert!(page.contains("8 missing"), "{page}");
    assert!(page.contains("name=\"kind.quiz.completed\""), "{page}");

    let res = common::http()
        .post(format!("{}/_ar/admin/google-actions", worker.base_url))
        .bearer_auth(ADMIN)
        .form(&[("kind.transaction.purchase", "webpage")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Created AR purchase"), "{html}");
    assert!(
        html.contains("8 events now feed a recorded action"),
        "{html}"
    );

    // Without the admin session nothing is shown or created.
    let res = common::http()
        .post(format!("{}/_ar/admin/google-actions", worker.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}
