//! One send run: `ar_shared::delivery::run::DeliveryRun` decides; this loop fetches what it asks
//! for (an access token, a request) and hands the answers back. No decision is made here.

use std::collections::BTreeMap;

use ar_shared::delivery::outcome::RetryPolicy;
use ar_shared::delivery::run::{Answer, ClaimedRow, DeliveryRun, RowOutcome, Step};
use ar_shared::platform::Platform;
use ar_shared::platform::request::{HttpRequest, Method as HttpMethod};
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{AbortSignal, Env, Fetch, Headers, Method, Request, RequestInit};

use super::oauth;
use crate::bindings;
use crate::store::adjustments;
use crate::store::claims::Claimed;

/// A platform request that has not answered after this long is abandoned and retried
/// (meta-capi.md §5.1: retry on timeouts).
pub(crate) const TIMEOUT_MS: u32 = 10_000;

/// Sends `req` and returns the answer's status and body.
///
/// # Errors
/// Timeouts and connection errors.
pub(crate) async fn fetch(req: &HttpRequest) -> worker::Result<(u16, String)> {
    let headers = Headers::new();
    for (name, value) in &req.headers {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_headers(headers);
    match req.method {
        HttpMethod::Get => {
            init.with_method(Method::Get);
        }
        HttpMethod::Post => {
            let bytes = req.body.to_bytes();
            init.with_method(Method::Post)
                .with_body(Some(js_sys::Uint8Array::from(bytes.as_slice()).into()));
        }
    }
    let request = Request::new_with_init(&req.url, &init)?;
    let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS));
    let mut response = Fetch::Request(request).send_with_signal(&signal).await?;
    let status = response.status_code();
    let body = response.text().await.unwrap_or_default();
    Ok((status, body))
}

/// Everything one platform's sending needs besides the rows.
pub(crate) struct Sender<'a> {
    /// The worker's environment (KV for the token cache).
    pub env: &'a Env,
    /// Settings.
    pub settings: &'a Settings,
    /// Retry backoff.
    pub policy: RetryPolicy,
    /// Now, Unix ms.
    pub now_ms: u64,
}

impl Sender<'_> {
    /// Sends the claimed rows of `platform` (records by event id) and returns each row's outcome.
    pub(crate) async fn send(
        &self,
        platform: Platform,
        claimed: &[Claimed],
        records: &BTreeMap<String, EventRecord>,
    ) -> Vec<RowOutcome> {
        // adjustment::gate: where each adjustment's purchase stands here (unknown reads as never
        // delivered, so a D1 hiccup cannot send an unmatched adjustment).
        let purchases = match self.env.d1(bindings::DB) {
            Ok(db) => adjustments::purchase_rows(&db, platform, records)
                .await
                .unwrap_or_default(),
            Err(_) => BTreeMap::new(),
        };
        let rows = claimed
            .iter()
            .map(|c| ClaimedRow {
                event_id: c.event_id.clone(),
                attempts: c.attempts,
                record: records.get(&c.event_id).cloned(),
                purchase: purchases.get(&c.event_id).copied(),
            })
            .collect();
        let mut run = DeliveryRun::new(platform, self.settings, self.policy, self.now_ms, rows);
        loop {
            match run.poll() {
                Step::NeedToken => {
                    let fresh = run.wants_fresh_token();
                    let token = oauth::access_token(self.env, self.settings, self.now_ms, fresh);
                    run.token(token.await);
                }
                Step::Send(request) => match fetch(&request).await {
                    Ok((status, body)) => run.answer(Answer::Response {
                        status,
                        body: &body,
                    }),
                    Err(_) => run.answer(Answer::NoAnswer),
                },
                Step::Done(outcomes) => {
                    if let Some(reason) = run.credential_refused() {
                        super::record_refusal(
                            self.env,
                            self.settings,
                            platform,
                            reason,
                            self.now_ms,
                        )
                        .await;
                    }
                    return outcomes;
                }
            }
        }
    }
}
