//! Reads `ar_shared::settings::Settings` from the worker's vars and secrets, with the console's
//! event mappings (D1) on top of the deploy-time `EVENT_MAPPING`, and the conversion actions
//! "Set up Google" recorded (D1) on top of `GOOGLE_CONVERSION_ACTIONS`, per event.
//!
//! The console's mappings are read at most every [`MAPPINGS_TTL_MS`] per isolate (D1 is strongly
//! consistent; KV would lag for about a minute), and at once after a change made in this isolate,
//! so a mapping saved in the console is used by the next events and the pixel's configuration
//! within seconds, without a redeploy.

use std::cell::RefCell;

use ar_shared::mapping::EventMapping;
use ar_shared::platform::request::ConversionAction;
use ar_shared::settings::{SettingProblem, Settings};
use worker::{Env, console_error};

use crate::store::{google_actions, mappings};
use crate::{bindings, runtime};

/// How long an isolate uses the console mappings it read before reading them again.
pub const MAPPINGS_TTL_MS: u64 = 2_000;

struct Cached {
    read_at_ms: u64,
    entries: Vec<(String, EventMapping)>,
    actions: Vec<ConversionAction>,
}

thread_local! {
    static CONSOLE_MAPPINGS: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Every setting from the vars and secrets alone, or every problem with them (each naming its
/// var or secret).
pub fn load(env: &Env) -> Result<Settings, Vec<SettingProblem>> {
    Settings::from_lookup(&|name| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

/// [`load`] with the console's event mappings on top. When D1 cannot be read the last mappings
/// read are used (or, before any, the deploy-time ones), and the failure is logged.
pub async fn current(env: &Env) -> Result<Settings, Vec<SettingProblem>> {
    let mut settings = load(env)?;
    let now = runtime::now_ms();
    let fresh = CONSOLE_MAPPINGS.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|c| now.saturating_sub(c.read_at_ms) < MAPPINGS_TTL_MS)
    });
    if !fresh {
        match read(env).await {
            Ok((entries, actions)) => CONSOLE_MAPPINGS.with(|c| {
                *c.borrow_mut() = Some(Cached {
                    read_at_ms: now,
                    entries,
                    actions,
                });
            }),
            Err(e) => console_error!("ar: reading the console's event mappings failed: {e}"),
        }
    }
    CONSOLE_MAPPINGS.with(|c| {
        if let Some(cached) = c.borrow().as_ref() {
            settings.mappings = settings
                .mappings
                .with_entries(cached.entries.iter().map(|(e, m)| (e.as_str(), m)));
            settings.conversion_actions = settings.conversion_actions.with_entries(&cached.actions);
        }
    });
    Ok(settings)
}

/// Forgets the mappings and actions read, so this isolate's next request reads the change just made.
pub fn mappings_changed() {
    CONSOLE_MAPPINGS.with(|c| *c.borrow_mut() = None);
}

type Console = (Vec<(String, EventMapping)>, Vec<ConversionAction>);

async fn read(env: &Env) -> worker::Result<Console> {
    let db = env.d1(bindings::DB)?;
    let entries = mappings::list(&db)
        .await?
        .into_iter()
        .map(|m| (m.event, m.mapping))
        .collect();
    Ok((entries, google_actions::list(&db).await?))
}
