//! The state both listeners share: settings, clock, request log, counters, faults, the simulated
//! Google Ads account, the credentials the fake authorization servers issued and the demo shop's
//! sessions.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::clock::SandboxClock;
use crate::config::SandboxConfig;
use crate::counts::Counts;
use crate::faults::Faults;
use crate::platforms::google_account::GoogleAccount;
use crate::platforms::google_grants::GoogleGrants;
use crate::platforms::meta_grants::MetaGrants;
use crate::record::Recorder;
use crate::shop::session::ShopStore;

/// Everything the sandbox knows.
#[derive(Debug)]
pub struct SandboxState {
    /// Settings (fixed after start, except the shop's platform URL filled in at start).
    pub config: SandboxConfig,
    /// The test-controlled clock.
    pub clock: SandboxClock,
    /// Request log.
    pub recorder: Mutex<Recorder>,
    /// Counters and dedup ledgers.
    pub counts: Mutex<Counts>,
    /// Injected faults.
    pub faults: Mutex<Faults>,
    /// The simulated Google Ads account.
    pub google: Mutex<GoogleAccount>,
    /// Codes and tokens Google's fake authorization server issued.
    pub google_oauth: Mutex<GoogleGrants>,
    /// Codes and tokens Meta's fake login issued.
    pub meta_oauth: Mutex<MetaGrants>,
    /// Demo shop sessions and orders.
    pub shop: Mutex<ShopStore>,
}

/// Shared handle to the state.
pub type AppState = Arc<SandboxState>;

impl SandboxState {
    /// Fresh state for `config`.
    pub fn new(config: SandboxConfig) -> AppState {
        Arc::new(Self {
            config,
            clock: SandboxClock::new(),
            recorder: Mutex::default(),
            counts: Mutex::default(),
            faults: Mutex::default(),
            google: Mutex::default(),
            google_oauth: Mutex::default(),
            meta_oauth: Mutex::default(),
            shop: Mutex::default(),
        })
    }

    /// `POST /_sandbox/reset`: forgets requests, counts, faults, clicks, order ids, created
    /// conversion actions and the clock offset, and un-revokes the configured credentials.
    /// Issued OAuth codes and tokens keep their state and shop sessions stay valid.
    pub fn reset(&self) {
        lock(&self.recorder).clear();
        lock(&self.counts).clear();
        lock(&self.faults).clear();
        lock(&self.google).reset();
        lock(&self.google_oauth).reset();
        lock(&self.meta_oauth).reset();
        self.clock.reset();
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the sandbox's data stays
/// usable: every update is a single step).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
