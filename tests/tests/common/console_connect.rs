//! Connecting accounts in the console with headless Chromium against the sandbox's fake
//! authorization servers (Google's consent page, Meta's login dialog): signing in, the Connect
//! buttons, the pickers, and reading what a page says in one script (no element handle to go
//! stale while a page navigates).

use std::time::Duration;

use ar_sandbox::Sandbox;
use ar_sandbox::config::{
    DEFAULT_GOOGLE_CLIENT_ID, DEFAULT_GOOGLE_CLIENT_SECRET, DEFAULT_GOOGLE_DEVELOPER_TOKEN,
    DEFAULT_META_APP_ID, DEFAULT_META_APP_SECRET, DEFAULT_META_LOGIN_CONFIG_ID,
};
use ar_sandbox::harness::Worker;
use fantoccini::{Client, Locator};

/// The console token of these tests.
pub const ADMIN: &str = "admin-e2e-connect-0123456789abcdef";
/// The server secret.
pub const SECRET: &str = "e2e-connect-server-secret";
/// The sealing secret.
pub const CREDENTIALS_KEY: &str = "e2e-connect-credentials-key-0123456789";

/// A worker with the OAuth clients set but no platform credential: everything is connected
/// from the console.
pub fn worker(sb: &Sandbox, extra: &[(&str, &str)]) -> Worker {
    let url = sb.platform_url.clone();
    let token_url = format!("{url}/token");
    let auth_url = format!("{url}/o/oauth2/v2/auth");
    let mut vars: Vec<(&str, &str)> = vec![
        ("AR_SERVER_SECRET", SECRET),
        ("ADMIN_TOKEN", ADMIN),
        ("CREDENTIALS_KEY", CREDENTIALS_KEY),
        ("GEO_OVERRIDE", "US"),
        ("MERGE_WINDOW_MS", "0"),
        ("RETRY_BASE_SECS", "1"),
        ("GOOGLE_CLIENT_ID", DEFAULT_GOOGLE_CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", DEFAULT_GOOGLE_CLIENT_SECRET),
        ("GOOGLE_AUTH_URL", &auth_url),
        ("GOOGLE_OAUTH_URL", &token_url),
        ("GOOGLE_ADS_BASE_URL", &url),
        ("GOOGLE_ADS_DEVELOPER_TOKEN", DEFAULT_GOOGLE_DEVELOPER_TOKEN),
        ("DATA_MANAGER_BASE_URL", &url),
        // The sandbox's seeded UPLOAD_CLICKS purchase action.
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks",
        ),
        ("META_APP_ID", DEFAULT_META_APP_ID),
        ("META_APP_SECRET", DEFAULT_META_APP_SECRET),
        ("META_LOGIN_CONFIG_ID", DEFAULT_META_LOGIN_CONFIG_ID),
        ("META_BASE_URL", &url),
        ("META_DIALOG_URL", &url),
        ("META_TEST_EVENT_CODE", "TEST12345"),
    ];
    vars.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    vars.extend_from_slice(extra);
    Worker::start(&vars)
}

/// Signs the browser in through the console's form with `token` and waits for `ready` on the
/// console.
pub async fn sign_in_with(client: &Client, base_url: &str, token: &str, ready: &str) {
    client.goto(&format!("{base_url}/_ar/admin")).await.unwrap();
    type_into(client, "input[name=token]", token).await;
    super::browser::click(client, "form[action='/_ar/admin/login'] button").await;
    wait_for(client, ready).await;
}

/// Signs the browser in with these tests' token and waits for the console.
pub async fn sign_in(client: &Client, worker: &Worker) {
    sign_in_with(client, &worker.base_url, ADMIN, "#connections").await;
}

/// Types `text` into the field `css` once the page has it.
pub async fn type_into(client: &Client, css: &str, text: &str) {
    let field = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"));
    field.send_keys(text).await.unwrap();
}

/// Waits for `css` on the current page.
pub async fn wait_for(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"));
}

/// The text of `css` once the page has it, read in one script.
pub async fn text_of(client: &Client, css: &str) -> String {
    for _ in 0..5 {
        wait_for(client, css).await;
        let got = client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                vec![serde_json::Value::String(css.to_owned())],
            )
            .await
            .unwrap();
        if let Some(t) = got.as_str() {
            return t.to_owned();
        }
    }
    panic!("{css} kept disappearing");
}

/// The console, reloaded: each platform's state word (`connected`, `reconnect`, …).
pub async fn states(client: &Client, worker: &Worker) -> (String, String) {
    client
        .goto(&format!("{}/_ar/admin", worker.base_url))
        .await
        .unwrap();
    (
        text_of(client, "#google-state").await,
        text_of(client, "#meta-state").await,
    )
}

/// Reloads the console until its states are `want` (the worker re-reads D1 every 2 s).
pub async fn states_become(client: &Client, worker: &Worker, want: (&str, &str)) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (g, m) = states(client, worker).await;
        if (g.as_str(), m.as_str()) == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "states stay ({g}, {m}), want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Picks `value` in the picker now shown and connects it; returns the outcome line.
pub async fn pick(client: &Client, value: &str) -> String {
    wait_for(client, "#pick").await;
    super::browser::click(client, &format!("input[name=account][value='{value}']")).await;
    super::browser::click(client, "#pick").await;
    text_of(client, "#outcome").await
}

/// Connect Google from the console: consent, then `account` in the picker.
pub async fn connect_google(client: &Client, worker: &Worker, account: &str) -> String {
    client
        .goto(&format!("{}/_ar/admin", worker.base_url))
        .await
        .unwrap();
    super::browser::click(client, "#google-connect").await;
    super::browser::click(client, "#allow").await;
    pick(client, account).await
}

/// Connect Meta through the login dialog, then `dataset` in the picker.
pub async fn connect_meta(client: &Client, worker: &Worker, dataset: &str) -> String {
    client
        .goto(&format!("{}/_ar/admin", worker.base_url))
        .await
        .unwrap();
    super::browser::click(client, "#meta-connect").await;
    super::browser::click(client, "#allow").await;
    pick(client, dataset).await
}

/// Connect Meta with a pasted system-user token, then `dataset`.
pub async fn paste_meta_token(
    client: &Client,
    worker: &Worker,
    token: &str,
    dataset: &str,
) -> String {
    client
        .goto(&format!("{}/_ar/admin", worker.base_url))
        .await
        .unwrap();
    type_into(client, "#meta-token", token).await;
    super::browser::click(client, "#meta-paste").await;
    pick(client, dataset).await
}

/// Every row of every table of the worker's D1, as text (for scanning).
pub fn d1_dump(worker: &Worker) -> String {
    let tables = worker.d1("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'");
    let mut out = String::new();
    for t in tables {
        let name = t["name"].as_str().unwrap_or_default();
        for row in worker.d1(&format!("SELECT * FROM \"{name}\"")) {
            out.push_str(name);
            out.push(' ');
            out.push_str(&row.to_string());
            out.push('\n');
        }
    }
    out
}
