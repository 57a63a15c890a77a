//! One send run over the claimed outbox rows of one platform, as a state machine in the style of
//! quinn-proto and rustls' unbuffered API: the caller asks for the next [`Step`], performs it
//! (fetch an access token, send a request) and hands the result back, until the run is
//! [`Step::Done`] with exactly one [`RowOutcome`] per claimed row.
//!
//! The run decides everything about the sequence:
//! - which rows cannot be sent at all: a missing stored record, an event no longer mapped
//!   (permanent), a browser-only purchase awaiting corroboration (held, DESIGN §4);
//! - which events the platform would refuse (too old, consent, missing context: skipped with a
//!   reason, [`dispatch::plan`]) and how the rest are cut into platform-sized batches;
//! - whether a Google access token is needed, and what a failure to get one means for every row
//!   that needed it;
//! - the request budget of one run ([`MAX_REQUESTS`]): rows left when it runs out are due again
//!   at once and the next flush takes them;
//! - what each answer means per event ([`dispatch::classify`]); a whole-batch rejection is
//!   bisected until the bad event stands alone (meta-capi.md §5.2);
//! - the platform's trace id on delivered rows;
//! - rows that got neither a request nor a reason (the platform's settings were removed after
//!   the rows were planned) fail as a configuration problem, replayable once fixed.
//!
//! A transport failure (timeout, connection error) retries the rows even though the platform
//! may have accepted the request: Meta deduplicates the resend by `event_id`, Google Ads and
//! Data Manager by order id / `transactionId`; GA4 deduplicates purchases only, so a GA4 browse
//! event resent after a timeout-after-accept can count twice (docs/decisions.md).
//!
//! No IO, no clock: `now_ms` is fixed for the run.

use crate::outbound::OutboundEvent;
use crate::platform::Platform;
use crate::platform::batch;
use crate::platform::dispatch;
use crate::platform::request::{HttpRequest, Mode};
use crate::platform::verdict::{self, Verdict};
use crate::record::EventRecord;
use crate::settings::Settings;

use crate::adjustment::{Gate, gate};

use super::outcome::{self, RetryPolicy, RowUpdate};
use super::plan::{RowStatus, UNVERIFIED_REASON};

/// Most requests one run sends (bisection included), to stay inside the Workers subrequest limit
/// (50 per invocation on the free plan); rows left over are due again at once.
pub const MAX_REQUESTS: usize = 40;

/// Why a row whose stored event cannot be read fails.
pub const MISSING_RECORD_REASON: &str = "the stored event is missing or unreadable";
/// Why a row whose event is no longer mapped fails.
pub const UNMAPPED_REASON: &str = "the event is no longer mapped (EVENT_MAPPING)";
/// Why an adjustment waits (`adjustment::gate`).
pub const PURCHASE_WAIT_REASON: &str = "waits for its purchase to be delivered first";

/// The row update for an adjustment its [`Gate`] keeps from being sent.
fn held_back(gate: Gate, attempts: u32, now_ms: u64, policy: &RetryPolicy) -> RowUpdate {
    match gate {
        Gate::Skip(reason) => outcome::skipped(reason, now_ms),
        Gate::Wait(secs) => outcome::not_attempted(
            &Verdict::Retry {
                after_secs: secs,
                reason: PURCHASE_WAIT_REASON.into(),
            },
            attempts,
            now_ms,
            policy,
        ),
        // Not held back: the caller sends it (never reached, kept total).
        Gate::Send => outcome::deferred(PURCHASE_WAIT_REASON, now_ms),
    }
}

/// Why rows are left for the next flush when the request budget ran out.
pub const BUDGET_REASON: &str = "deferred to the next flush (request budget)";

/// A row claimed for sending, with its stored record (`None`: missing or unreadable).
#[derive(Debug, Clone)]
pub struct ClaimedRow {
    /// The event.
    pub event_id: String,
    /// Attempts before this run.
    pub attempts: u32,
    /// The stored record.
    pub record: Option<EventRecord>,
    /// For a refund or cancellation: where its purchase stands on this platform
    /// (`adjustment::gate`; `None` reads as never delivered).
    pub purchase: Option<crate::adjustment::PurchaseDelivery>,
}

/// One row's result: its next state and, for delivered rows, the platform's trace id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOutcome {
    /// The event.
    pub event_id: String,
    /// The row's next state.
    pub update: RowUpdate,
    /// The platform's trace id (delivered rows of Meta requests).
    pub trace_id: Option<String>,
}

/// What the caller does next.
#[derive(Debug)]
#[must_use]
pub enum Step {
    /// Get a Google access token and hand it to [`DeliveryRun::token`].
    NeedToken,
    /// Send this request and hand its answer to [`DeliveryRun::answer`].
    Send(HttpRequest),
    /// The run is over: one outcome per claimed row, in claim order.
    Done(Vec<RowOutcome>),
}

/// A platform's answer to a request, or its absence.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// The platform answered.
    Response {
        /// HTTP status.
        status: u16,
        /// Body text.
        body: &'a str,
    },
    /// No answer: timeout or connection error.
    NoAnswer,
}

#[derive(Debug)]
enum State {
    NeedToken,
    Ready,
    /// A request is out; its events (indices into `events`), in body order.
    Awaiting(Vec<usize>),
    Finished,
}

/// One send run. Build it with [`DeliveryRun::new`], then loop on [`DeliveryRun::poll`].
#[derive(Debug)]
pub struct DeliveryRun<'s> {
    platform: Platform,
    settings: &'s Settings,
    policy: RetryPolicy,
    mode: Mode,
    now_ms: u64,
    rows: Vec<ClaimedRow>,
    /// Sendable events and, for each, the index of its row.
    events: Vec<(OutboundEvent, usize)>,
    /// Batches still to send (indices into `events`); the last is sent first.
    work: Vec<Vec<usize>>,
    token: String,
    /// Whether the token in hand was refused once already (google.md §1.9): the next token asked
    /// for must be freshly minted, and a second refusal is final.
    token_refused: bool,
    /// The platform refused the credential itself (`Verdict::Reconnect`): the rest waits.
    credential_refused: Option<String>,
    requests: usize,
    state: State,
    outcomes: Vec<Option<RowOutcome>>,
}

impl<'s> DeliveryRun<'s> {
    /// A run over `rows` of `platform`, deciding at `now_ms`.
    pub fn new(
        platform: Platform,
        settings: &'s Settings,
        policy: RetryPolicy,
        now_ms: u64,
        rows: Vec<ClaimedRow>,
    ) -> Self {
        let mut run = Self {
            platform,
            settings,
            policy,
            mode: Mode::Live,
            now_ms,
            outcomes: vec![None; rows.len()],
            rows,
            events: Vec::new(),
            work: Vec::new(),
            token: String::new(),
            token_refused: false,
            credential_refused: None,
            requests: 0,
            state: State::Ready,
        };
        run.prepare();
        run
    }

    /// The same run against the platforms' test facilities (Meta `test_event_code`, Data
    /// Manager `validateOnly`, the GA4 debug endpoint; DESIGN §5 "Test mode").
    #[must_use]
    pub fn in_test_mode(mut self) -> Self {
        self.mode = Mode::Test;
        self
    }

    fn prepare(&mut self) {
        let (now, policy) = (self.now_ms, self.policy);
        for (i, row) in self.rows.iter().enumerate() {
            let update = match &row.record {
                None => outcome::not_attempted(
                    &Verdict::Permanent {
                        reason: MISSING_RECORD_REASON.into(),
                    },
                    row.attempts,
                    now,
                    &policy,
                ),
                // DESIGN §4: an unverified browser purchase is held until the shop corroborates it.
                Some(record)
                    if self.settings.hold_unverified
                        && record.awaits_corroboration(&self.settings.mappings) =>
                {
                    outcome::held(UNVERIFIED_REASON, now)
                }
                Some(record) if record.adjusts.is_some() && gate(row.purchase) != Gate::Send => {
                    held_back(gate(row.purchase), row.attempts, now, &policy)
                }
                Some(record) => {
                    let settings = self.settings;
                    if let Some(event) = record.to_outbound(&settings.mappings, &settings.regions) {
                        self.events.push((event, i));
                        continue;
                    }
                    outcome::not_attempted(
                        &Verdict::Permanent {
                            reason: UNMAPPED_REASON.into(),
                        },
                        row.attempts,
                        now,
                        &policy,
                    )
                }
            };
            self.outcomes[i] = Some(plain(&row.event_id, update));
        }
        if self.events.is_empty() {
            return;
        }
        let refs: Vec<&OutboundEvent> = self.events.iter().map(|(e, _)| e).collect();
        let plan = dispatch::plan(self.settings, self.platform, &refs, now);
        for s in &plan.skipped {
            self.finish_event(s.index, outcome::skipped(s.reason, now), None);
        }
        self.work = plan.batches;
        // connect::status: a platform whose credential was refused waits for the merchant.
        if let Some(reason) = self.settings.paused(self.platform, now) {
            self.pause_remaining(&reason);
            return;
        }
        if self.platform.needs_google_token() && !self.work.is_empty() {
            self.state = State::NeedToken;
        }
    }

    /// The next thing to do.
    pub fn poll(&mut self) -> Step {
        loop {
            match &self.state {
                State::NeedToken => return Step::NeedToken,
                // An answer never handed back counts as none (the rows are retried).
                State::Awaiting(_) => self.answer(Answer::NoAnswer),
                State::Finished => return Step::Done(Vec::new()),
                State::Ready => {
                    let Some(batch) = self.work.pop() else {
                        return Step::Done(self.finish());
                    };
                    if let Some(request) = self.next_request(batch) {
                        return Step::Send(request);
                    }
                }
            }
        }
    }

    /// Whether the token [`Step::NeedToken`] asks for must be freshly minted, not a cached one:
    /// the platform refused the last token (revoked before its expiry, google.md §1.9).
    pub fn wants_fresh_token(&self) -> bool {
        self.token_refused
    }

    /// The access token [`Step::NeedToken`] asked for, or the verdict for every row that needed
    /// one (a refused refresh is a configuration problem, an unreachable endpoint a retry).
    pub fn token(&mut self, token: Result<String, Verdict>) {
        match token {
            Ok(t) => self.token = t,
            Err(v) => {
                if let Verdict::Reconnect { reason } = &v {
                    self.credential_refused = Some(reason.clone());
                }
                for batch in core::mem::take(&mut self.work) {
                    for i in batch {
                        let attempts = self.rows[self.events[i].1].attempts;
                        let u = outcome::not_attempted(&v, attempts, self.now_ms, &self.policy);
                        self.finish_event(i, u, None);
                    }
                }
            }
        }
        if matches!(self.state, State::NeedToken) {
            self.state = State::Ready;
        }
    }

    /// The answer to the request of the last [`Step::Send`].
    pub fn answer(&mut self, answer: Answer<'_>) {
        let State::Awaiting(sent) = core::mem::replace(&mut self.state, State::Ready) else {
            return;
        };
        if let Answer::Response { status, body } = answer
            && self.platform.needs_google_token()
            && !self.token_refused
            && verdict::refuses_access_token(status, body)
        {
            // google.md §1.9: a revoked token; send the same batch again with a fresh one.
            self.token_refused = true;
            self.work.push(sent);
            self.state = State::NeedToken;
            return;
        }
        let (verdicts, trace) = match answer {
            Answer::Response { status, body } => {
                let refs: Vec<&OutboundEvent> = sent.iter().map(|&i| &self.events[i].0).collect();
                let v = dispatch::classify(self.platform, status, body, &refs, self.mode);
                (v, outcome::trace_id(self.platform, body))
            }
            Answer::NoAnswer => (Vec::new(), None),
        };
        let mut split = Vec::new();
        for (k, &i) in sent.iter().enumerate() {
            let v = verdicts
                .get(k)
                .cloned()
                .unwrap_or_else(verdict::transport_failure);
            if matches!(v, Verdict::SplitAndRetry { .. }) && sent.len() > 1 {
                split.push(i);
                continue;
            }
            if let Verdict::Reconnect { reason } = &v {
                self.credential_refused = Some(reason.clone());
            }
            let attempts = self.rows[self.events[i].1].attempts;
            let u = outcome::after_verdict(&v, attempts, self.now_ms, &self.policy);
            let trace = (u.status == RowStatus::Delivered)
                .then(|| trace.clone())
                .flatten();
            self.finish_event(i, u, trace);
        }
        if !split.is_empty() {
            // meta-capi.md §5.2: "on a 400 for a multi-event batch, bisect".
            let (a, b) = batch::halves(&split);
            self.work
                .extend([a, b].into_iter().filter(|h| !h.is_empty()));
        }
        if let Some(reason) = self.credential_refused.clone() {
            self.pause_remaining(&reason);
        }
    }

    /// The platform's reason when it refused the credential during this run: the caller
    /// records the refusal, which pauses the platform until the merchant reconnects.
    pub fn credential_refused(&self) -> Option<&str> {
        self.credential_refused.as_deref()
    }

    /// Every batch not yet sent waits, unattempted ([`outcome::paused`]).
    fn pause_remaining(&mut self, reason: &str) {
        for batch in core::mem::take(&mut self.work) {
            for i in batch {
                self.finish_event(i, outcome::paused(reason, self.now_ms), None);
            }
        }
    }

    /// Builds the request for `batch`, recording what the builder left out; `None` when nothing
    /// is left to send or the budget is spent.
    fn next_request(&mut self, batch: Vec<usize>) -> Option<HttpRequest> {
        if self.requests >= MAX_REQUESTS {
            for i in batch {
                let u = outcome::deferred(BUDGET_REASON, self.now_ms);
                self.finish_event(i, u, None);
            }
            return None;
        }
        let refs: Vec<&OutboundEvent> = batch.iter().map(|&i| &self.events[i].0).collect();
        let built = dispatch::build(self.settings, self.platform, &refs, &self.token, self.mode);
        for s in &built.skipped {
            if let Some(&i) = batch.get(s.index) {
                self.finish_event(i, outcome::skipped(s.reason, self.now_ms), None);
            }
        }
        let request = built.request?;
        let sent: Vec<usize> = built
            .sent
            .iter()
            .filter_map(|&k| batch.get(k).copied())
            .collect();
        self.requests += 1;
        self.state = State::Awaiting(sent);
        Some(request)
    }

    fn finish_event(&mut self, event: usize, update: RowUpdate, trace_id: Option<String>) {
        let row = self.events[event].1;
        self.outcomes[row] = Some(RowOutcome {
            event_id: self.rows[row].event_id.clone(),
            update,
            trace_id,
        });
    }

    /// Every row's outcome; a row that got no request and no reason fails as a setup problem.
    fn finish(&mut self) -> Vec<RowOutcome> {
        self.state = State::Finished;
        let reason = format!(
            "{} is not configured (its settings were removed?); replay after fixing them",
            self.platform.as_str()
        );
        let unconfigured = Verdict::ConfigError { reason };
        let (now, policy) = (self.now_ms, self.policy);
        let outcomes = core::mem::take(&mut self.outcomes);
        outcomes
            .into_iter()
            .zip(&self.rows)
            .map(|(o, row)| {
                o.unwrap_or_else(|| {
                    let u = outcome::not_attempted(&unconfigured, row.attempts, now, &policy);
                    plain(&row.event_id, u)
                })
            })
            .collect()
    }
}

fn plain(event_id: &str, update: RowUpdate) -> RowOutcome {
    RowOutcome {
        event_id: event_id.to_owned(),
        update,
        trace_id: None,
    }
}

#[cfg(test)]
mod reconnect_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod token_tests;
