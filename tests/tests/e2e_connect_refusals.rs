//! A sign-in that goes wrong fails cleanly, says why on the console, and stores nothing (issue
//! acceptance): a wrong `state`, a replayed callback, a code issued for another PKCE verifier
//! (code injection), a verifier gone from the flow, the merchant cancelling, and a stored
//! credential altered in D1 (AES-GCM refuses it; so does the same ciphertext moved to another
//! account, the account being its associated data). Headless Chromium, the real worker, the
//! sandbox's fake authorization servers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ar_sandbox::config::{
    DEFAULT_CUSTOMER_ID, DEFAULT_GOOGLE_CLIENT_ID, DEFAULT_META_SYSTEM_USER_TOKEN,
};
use ar_sandbox::config_accounts::DEFAULT_META_PIXEL_ID;
use ar_sandbox::harness::{ChromeDriver, Worker};
use ar_shared::connect::pkce::challenge_of;
use common::console_connect::{paste_meta_token, pick, sign_in, states_become, text_of, wait_for};
use fantoccini::Client;

fn count(worker: &Worker, sql: &str) -> u64 {
    worker.d1(sql)[0]["n"].as_u64().unwrap()
}

fn connections(worker: &Worker) -> u64 {
    count(worker, "SELECT COUNT(*) AS n FROM connections")
}

fn granted_flows(worker: &Worker) -> u64 {
    count(
        worker,
        "SELECT COUNT(*) AS n FROM connect_flows WHERE stage <> 'started'",
    )
}

/// Goes to `path` on the worker and returns the console's problem line.
async fn problem_at(client: &Client, worker: &Worker, path: &str) -> String {
    client
        .goto(&format!("{}{path}", worker.base_url))
        .await
        .unwrap();
    text_of(client, "#connect-problem").await
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map_or_else(|| panic!("no {name} in {url}"), |(_, v)| v.into_owned())
}

/// Starts Connect Google and stops on the consent page; returns its URL (with our `state`).
async fn consent_page(client: &Client, worker: &Worker) -> String {
    client
        .goto(&format!("{}/_ar/admin", worker.base_url))
        .await
        .unwrap();
    common::browser::click(client, "#google-connect").await;
    wait_for(client, "#allow").await;
    client.current_url().await.unwrap().to_string()
}

/// The platform's redirect back is cross-site: no `SameSite=Strict` cookie comes with it. The
/// callback answers without one, with a page that continues same-site to `finish`, which checks
/// the session.
async fn the_callback_needs_no_cookie_and_finish_does(worker: &Worker) {
    let http = common::http();
    let callback = format!(
        "{}/_ar/admin/connect/google/callback?code=4%2F0Sbxabc&state=xyz",
        worker.base_url
    );
    let res = http.get(&callback).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("url=/_ar/admin/connect/google/finish?code=4%2F0Sbxabc&amp;state=xyz"),
        "{page}"
    );
    let finish = callback.replace("/callback?", "/finish?");
    let res = http.get(&finish).send().await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        401,
        "finish needs the console session"
    );
    // What the callback echoes is escaped: markup in the query stays text.
    let hostile = format!(
        "{}/_ar/admin/connect/meta/callback?state=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        worker.base_url
    );
    let page = http
        .get(&hostile)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script"), "{page}");
    // Everything else under connect needs the console's credential.
    for path in [
        "google",
        "meta/token",
        "google/pick",
        "meta/retry",
        "google/disconnect",
    ] {
        let url = format!("{}/_ar/admin/connect/{path}", worker.base_url);
        let res = http.post(&url).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{path}");
    }
}

/// A forged state; a code injected with our state; that callback replayed.
async fn forged_and_injected_callbacks_are_refused(client: &Client, worker: &Worker) {
    // RFC 6749 §10.12: a state we never issued (a forged callback) is refused.
    let p = problem_at(
        client,
        worker,
        "/_ar/admin/connect/google/callback?code=4/0Sbxforged&state=not-ours",
    )
    .await;
    assert!(p.contains("unknown, expired or was already used"), "{p}");

    // RFC 7636 §1: a code issued for another verifier (an attacker's, injected into our callback
    // with our state) cannot be redeemed with ours.
    let ours = consent_page(client, worker).await;
    let our_state = query_param(&ours, "state");
    let attacker = ours
        .replace(
            &query_param(&ours, "code_challenge"),
            &challenge_of("attacker-verifier-0123456789012345678901234"),
        )
        .replace(&format!("state={our_state}"), "state=attacker");
    assert!(attacker.contains(DEFAULT_GOOGLE_CLIENT_ID));
    client.goto(&attacker).await.unwrap();
    common::browser::click(client, "#allow").await;
    // The attacker's own state is not one of ours either.
    let p = text_of(client, "#connect-problem").await;
    assert!(p.contains("unknown, expired or was already used"), "{p}");
    let injected = query_param(client.current_url().await.unwrap().as_str(), "code");
    let callback = format!("/_ar/admin/connect/google/callback?code={injected}&state={our_state}");
    let p = problem_at(client, worker, &callback).await;
    assert!(
        p.contains("Google refused the authorization code: invalid_grant"),
        "{p}"
    );
    // That flow is used up: the same callback again is refused before any exchange.
    let p = problem_at(client, worker, &callback).await;
    assert!(p.contains("unknown, expired or was already used"), "{p}");
    assert_eq!((connections(worker), granted_flows(worker)), (0, 0));
}

/// The flow's verifier gone; the merchant cancelling.
async fn a_lost_verifier_or_a_cancel_stores_nothing(client: &Client, worker: &Worker) {
    // The verifier gone from the stored flow: refused with what happened.
    consent_page(client, worker).await;
    worker.d1("UPDATE connect_flows SET sealed = NULL WHERE stage = 'started'");
    common::browser::click(client, "#allow").await;
    let p = text_of(client, "#connect-problem").await;
    assert!(p.contains("PKCE verifier is missing"), "{p}");
    assert_eq!((connections(worker), granted_flows(worker)), (0, 0));

    // The merchant cancels on Google's page.
    consent_page(client, worker).await;
    common::browser::click(client, "#cancel").await;
    let p = text_of(client, "#connect-problem").await;
    assert!(p.contains("did not grant access (access_denied)"), "{p}");
    assert_eq!((connections(worker), granted_flows(worker)), (0, 0));
}

/// A good sign-in whose callback is replayed; a pasted token that is not one.
async fn a_replayed_callback_and_a_bad_token_are_refused(client: &Client, worker: &Worker) {
    // A good sign-in; then its callback replayed: the code is never exchanged twice.
    consent_page(client, worker).await;
    common::browser::click(client, "#allow").await;
    wait_for(client, "#pick").await;
    let finish = client.current_url().await.unwrap().to_string();
    let outcome = pick(client, DEFAULT_CUSTOMER_ID).await;
    assert!(outcome.contains("Google connected"), "{outcome}");
    let replayed = finish.replacen(&worker.base_url, "", 1);
    let p = problem_at(client, worker, &replayed).await;
    assert!(p.contains("unknown, expired or was already used"), "{p}");
    assert_eq!(connections(worker), 1);

    // A pasted token that is not one: refused before any call is saved.
    let p = {
        client
            .goto(&format!("{}/_ar/admin", worker.base_url))
            .await
            .unwrap();
        common::console_connect::type_into(
            client,
            "#meta-token",
            "not-a-meta-token-but-long-enough-to-try",
        )
        .await;
        common::browser::click(client, "#meta-paste").await;
        text_of(client, "#connect-problem").await
    };
    assert!(p.starts_with("Meta refused"), "{p}");
    assert_eq!(connections(worker), 1);
}

/// AES-GCM with the account as associated data.
async fn an_altered_or_moved_ciphertext_does_not_open(client: &Client, worker: &Worker) {
    // AES-GCM with the account as associated data: an altered ciphertext, or one moved to
    // another dataset's row, does not open; the console says so and Meta is off.
    let outcome = paste_meta_token(
        client,
        worker,
        DEFAULT_META_SYSTEM_USER_TOKEN,
        DEFAULT_META_PIXEL_ID,
    )
    .await;
    assert!(outcome.contains("Meta connected"), "{outcome}");
    states_become(client, worker, ("connected", "connected")).await;
    let sealed = worker.d1("SELECT sealed FROM connections WHERE provider = 'meta'")[0]["sealed"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = sealed.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &sealed[..sealed.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    worker.d1(&format!(
        "UPDATE connections SET sealed = '{flipped}' WHERE provider = 'meta'"
    ));
    states_become(client, worker, ("connected", "not connected")).await;
    let line = text_of(client, "#meta-connection").await;
    assert!(line.contains("does not open"), "{line}");
    worker.d1(&format!(
        "UPDATE connections SET sealed = '{sealed}', account_id = '999888777' WHERE provider = 'meta'"
    ));
    // Back to the original ciphertext, but on another dataset's row.
    states_become(client, worker, ("connected", "not connected")).await;
    worker.d1("UPDATE connections SET account_id = (SELECT json_extract(details, '$.account_id')) WHERE provider = 'meta'");
    // The untouched row opens again.
    states_become(client, worker, ("connected", "connected")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_sign_ins_fail_with_a_clear_message_and_store_nothing() {
    let sb = common::sandbox().await;
    let worker = common::console_connect::worker(&sb, &[]);
    let driver = ChromeDriver::start();
    let client = common::browser::browser(&driver).await;
    the_callback_needs_no_cookie_and_finish_does(&worker).await;
    sign_in(&client, &worker).await;
    forged_and_injected_callbacks_are_refused(&client, &worker).await;
    a_lost_verifier_or_a_cancel_stores_nothing(&client, &worker).await;
    a_replayed_callback_and_a_bad_token_are_refused(&client, &worker).await;
    an_altered_or_moved_ciphertext_does_not_open(&client, &worker).await;
}
