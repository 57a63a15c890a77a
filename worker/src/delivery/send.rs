//! Sending claimed rows of one platform: plan batches (`batch::plan_*` drops what a platform
//! would refuse, with a recorded reason), build one request per batch, fetch it with a timeout,
//! classify the answer per event (`verdict::classify_*`) and turn each verdict into the row's next
//! state (`delivery_outcome`). Meta rejects a whole batch for one bad event (meta-capi.md §5.1),
//! so a rejected batch is bisected until the bad event stands alone (`batch::halves`).
//!
//! This is IO glue only; every decision is made in `ar-shared`.

use std::collections::BTreeMap;

use ar_shared::delivery_outcome::{self, RetryPolicy, RowUpdate};
use ar_shared::delivery_plan::{Platform, RowStatus, UNVERIFIED_REASON};
use ar_shared::outbound::OutboundEvent;
use ar_shared::platform::batch::{self, DEFAULT_CLICK_WINDOW_DAYS, Plan};
use ar_shared::platform::google_ads::usable_click;
use ar_shared::platform::request::{Built, HttpRequest, Method as HttpMethod, Mode};
use ar_shared::platform::verdict::{self, Verdict};
use ar_shared::platform::{data_manager, ga4, google_ads, meta};
use ar_shared::record::EventRecord;
use ar_shared::settings::Settings;
use worker::{AbortSignal, Env, Fetch, Headers, Method, Request, RequestInit};

use super::oauth;
use crate::store::outbox::{Claimed, Outcome};

/// A platform request that has not answered after this long is abandoned and retried
/// (meta-capi.md §5.1: retry on timeouts).
pub const TIMEOUT_MS: u32 = 10_000;

/// Most requests one call sends (bisection included), to stay inside the Workers subrequest
/// limit; events left over are retried at the next flush.
const MAX_REQUESTS: usize = 40;

/// Sends `req` and returns the answer's status and body.
///
/// # Errors
/// Timeouts and connection errors.
pub async fn fetch(req: &HttpRequest) -> worker::Result<(u16, String)> {
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

/// Everything one platform's sending needs besides the events.
pub struct Sender<'a> {
    /// The worker's environment (KV for the token cache).
    pub env: &'a Env,
    /// Settings.
    pub settings: &'a Settings,
    /// Retry backoff.
    pub policy: RetryPolicy,
    /// Now, Unix ms.
    pub now_ms: u64,
}

fn update(outcomes: &mut BTreeMap<String, (RowUpdate, Option<String>)>, id: &str, u: RowUpdate) {
    outcomes.insert(id.to_owned(), (u, None));
}

impl Sender<'_> {
    /// Sends the claimed rows of `platform` (records by event id) and returns each row's outcome.
    pub async fn send(
        &self,
        platform: Platform,
        claimed: &[Claimed],
        records: &BTreeMap<String, EventRecord>,
    ) -> Vec<Outcome> {
        let now = self.now_ms;
        let mut outcomes: BTreeMap<String, (RowUpdate, Option<String>)> = BTreeMap::new();
        let mut events: Vec<OutboundEvent> = Vec::new();
        let mut rows: Vec<&Claimed> = Vec::new();
        for c in claimed {
            let Some(record) = records.get(&c.event_id) else {
                let v = Verdict::Permanent {
                    reason: "the stored event is missing or unreadable".into(),
                };
                update(
                    &mut outcomes,
                    &c.event_id,
                    delivery_outcome::not_attempted(&v, c.attempts, now, &self.policy),
                );
                continue;
            };
            // DESIGN §4: an unverified browser purchase is held until the shop corroborates it.
            if self.settings.hold_unverified && record.awaits_corroboration() {
                let held = RowUpdate {
                    status: RowStatus::Held,
                    next_attempt_at_ms: now,
                    last_error: Some(UNVERIFIED_REASON.to_owned()),
                    attempted: false,
                };
                update(&mut outcomes, &c.event_id, held);
                continue;
            }
            if let Some(e) = record.to_outbound(&self.settings.mappings, &self.settings.regions) {
                events.push(e);
                rows.push(c);
            } else {
                let v = Verdict::Permanent {
                    reason: "the event is no longer mapped (EVENT_MAPPING)".into(),
                };
                update(
                    &mut outcomes,
                    &c.event_id,
                    delivery_outcome::not_attempted(&v, c.attempts, now, &self.policy),
                );
            }
        }
        if !events.is_empty() {
            self.send_events(platform, &events, &rows, &mut outcomes)
                .await;
        }
        // Every claimed row leaves `sending`: one that got no request and no skip reason (the
        // platform's settings were removed after it was planned) fails as a setup problem,
        // replayable once the settings are back, instead of cycling through stale claims.
        for c in claimed {
            if !outcomes.contains_key(&c.event_id) {
                let v = Verdict::ConfigError {
                    reason: format!(
                        "{} is not configured (its settings were removed?); replay after fixing them",
                        platform.as_str()
                    ),
                };
                update(
                    &mut outcomes,
                    &c.event_id,
                    delivery_outcome::not_attempted(&v, c.attempts, now, &self.policy),
                );
            }
        }
        outcomes
            .into_iter()
            .map(|(event_id, (update, trace_id))| Outcome {
                event_id,
                update,
                trace_id,
            })
            .collect()
    }

    fn plan(&self, platform: Platform, refs: &[&OutboundEvent]) -> Plan {
        let s = self.settings;
        let now = self.now_ms;
        match (platform, &s.google_ads) {
            (Platform::Meta, _) => batch::plan_meta(refs, now),
            (Platform::GoogleAds, Some(config)) => batch::plan_google_ads(
                config,
                &s.conversion_actions,
                refs,
                now,
                DEFAULT_CLICK_WINDOW_DAYS,
            ),
            (Platform::GoogleAds, None) => Plan::default(),
            (Platform::DataManager, _) => {
                batch::plan_data_manager(&s.conversion_actions, refs, now)
            }
            (Platform::Ga4, _) => batch::plan_ga4(refs, now),
        }
    }

    #[allow(clippy::too_many_lines)] // one loop: plan, build, fetch, classify, bisect
    async fn send_events(
        &self,
        platform: Platform,
        events: &[OutboundEvent],
        rows: &[&Claimed],
        outcomes: &mut BTreeMap<String, (RowUpdate, Option<String>)>,
    ) {
        let now = self.now_ms;
        let policy = &self.policy;
        let refs: Vec<&OutboundEvent> = events.iter().collect();
        let plan = self.plan(platform, &refs);
        for s in &plan.skipped {
            if let Some(c) = rows.get(s.index) {
                update(
                    outcomes,
                    &c.event_id,
                    delivery_outcome::skipped(s.reason, now),
                );
            }
        }
        let token = match platform {
            Platform::GoogleAds | Platform::DataManager if !plan.batches.is_empty() => {
                match oauth::access_token(self.env, self.settings, now).await {
                    Ok(t) => t,
                    Err(v) => {
                        for &i in plan.batches.iter().flatten() {
                            if let Some(c) = rows.get(i) {
                                let u =
                                    delivery_outcome::not_attempted(&v, c.attempts, now, policy);
                                update(outcomes, &c.event_id, u);
                            }
                        }
                        return;
                    }
                }
            }
            _ => String::new(),
        };
        let mut work: Vec<Vec<usize>> = plan.batches;
        let mut requests = 0usize;
        while let Some(indices) = work.pop() {
            if requests >= MAX_REQUESTS {
                let v = Verdict::Retry {
                    after_secs: 1,
                    reason: "deferred to the next flush (request budget)".into(),
                };
                for &i in &indices {
                    if let Some(c) = rows.get(i) {
                        let mut u = delivery_outcome::not_attempted(&v, c.attempts, now, policy);
                        u.next_attempt_at_ms = now;
                        update(outcomes, &c.event_id, u);
                    }
                }
                continue;
            }
            let batch_refs: Vec<&OutboundEvent> = indices.iter().map(|&i| &events[i]).collect();
            let built = self.build(platform, &batch_refs, &token);
            for s in &built.skipped {
                if let Some(c) = indices.get(s.index).and_then(|&i| rows.get(i)) {
                    update(
                        outcomes,
                        &c.event_id,
                        delivery_outcome::skipped(s.reason, now),
                    );
                }
            }
            let Some(request) = built.request else {
                continue;
            };
            requests += 1;
            let sent: Vec<usize> = built
                .sent
                .iter()
                .filter_map(|&k| indices.get(k).copied())
                .collect();
            let answer = fetch(&request).await;
            let (verdicts, trace) = match &answer {
                Ok((status, body)) => {
                    let sent_refs: Vec<&OutboundEvent> = sent.iter().map(|&i| &events[i]).collect();
                    (
                        self.classify(platform, *status, body, &sent_refs),
                        delivery_outcome::trace_id(platform, body),
                    )
                }
                Err(_) => (vec![verdict::transport_failure(); sent.len()], None),
            };
            let mut split = Vec::new();
            for (k, &i) in sent.iter().enumerate() {
                let Some(c) = rows.get(i) else { continue };
                let v = verdicts
                    .get(k)
                    .cloned()
                    .unwrap_or_else(verdict::transport_failure);
                if matches!(v, Verdict::SplitAndRetry { .. }) && sent.len() > 1 {
                    split.push(i);
                    continue;
                }
                let u = delivery_outcome::after_verdict(&v, c.attempts, now, policy);
                let trace = (u.status == RowStatus::Delivered)
                    .then(|| trace.clone())
                    .flatten();
                outcomes.insert(c.event_id.clone(), (u, trace));
            }
            if !split.is_empty() {
                // meta-capi.md §5.2: "on a 400 for a multi-event batch, bisect".
                let (a, b) = batch::halves(&split);
                work.extend([a, b].into_iter().filter(|h| !h.is_empty()));
            }
        }
    }

    fn build(&self, platform: Platform, events: &[&OutboundEvent], token: &str) -> Built {
        build(self.settings, platform, events, token, Mode::Live)
    }

    fn classify(
        &self,
        platform: Platform,
        status: u16,
        body: &str,
        events: &[&OutboundEvent],
    ) -> Vec<Verdict> {
        classify(platform, status, body, events, self.now_ms, Mode::Live)
    }
}

/// The request for `events` on `platform` (empty when the platform is not configured).
pub fn build(
    settings: &Settings,
    platform: Platform,
    events: &[&OutboundEvent],
    token: &str,
    mode: Mode,
) -> Built {
    let none = || Built {
        request: None,
        sent: Vec::new(),
        skipped: Vec::new(),
    };
    match platform {
        Platform::Meta => settings
            .meta
            .as_ref()
            .map_or_else(none, |c| meta::events_request(c, events, mode)),
        Platform::GoogleAds => settings.google_ads.as_ref().map_or_else(none, |c| {
            google_ads::upload_request(c, &settings.conversion_actions, token, events, mode)
        }),
        Platform::DataManager => settings.data_manager.as_ref().map_or_else(none, |c| {
            data_manager::ingest_request(c, &settings.conversion_actions, token, events, mode)
        }),
        Platform::Ga4 => settings
            .ga4
            .as_ref()
            .map_or_else(none, |c| ga4::collect_request(c, events, mode)),
    }
}

/// The per-event verdicts for an answer to a request carrying `events` (in body order).
pub fn classify(
    platform: Platform,
    status: u16,
    body: &str,
    events: &[&OutboundEvent],
    now_ms: u64,
    mode: Mode,
) -> Vec<Verdict> {
    let n = events.len();
    match platform {
        Platform::Meta => verdict::classify_meta(status, body, n),
        Platform::GoogleAds => {
            let clicks: Vec<Option<u64>> = events
                .iter()
                .map(|e| usable_click(e, &e.permissions.google_ads).and_then(|(_, at)| at))
                .collect();
            verdict::classify_google_ads(status, body, &clicks, now_ms)
        }
        Platform::DataManager => verdict::classify_data_manager(status, body, n),
        Platform::Ga4 => verdict::classify_ga4(status, body, n, mode),
    }
}
