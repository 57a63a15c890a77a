//! Reads `ar_shared::settings::Settings` from the worker's vars and secrets, with the console's
//! state on top: event mappings (D1) over the deploy-time `EVENT_MAPPING`, the conversion actions
//! "Set up Google" recorded (D1) over `GOOGLE_CONVERSION_ACTIONS`, and the accounts connected
//! from the console (D1, credentials opened with `CREDENTIALS_KEY`) where no secret is set by
//! hand, with the credentials the platforms refused.
//!
//! The console's state is read at most every [`MAPPINGS_TTL_MS`] per isolate (D1 is strongly
//! consistent; KV would lag for about a minute), and at once after a change made in this isolate,
//! so a mapping saved or an account connected in the console is used by the next events and the
//! pixel's configuration within seconds, without a redeploy.

use std::cell::RefCell;

use ar_shared::connect::Provider;
use ar_shared::connect::credential::{self, Sealed, connection_aad};
use ar_shared::connect::status::{Connection, Refusal};
use ar_shared::mapping::EventMapping;
use ar_shared::platform::request::ConversionAction;
use ar_shared::settings::{SettingProblem, Settings};
use worker::{Env, console_error};

use crate::store::{connections, google_actions, mappings};
use crate::{bindings, crypto, runtime};

/// How long an isolate uses the console state it read before reading it again.
pub const MAPPINGS_TTL_MS: u64 = 2_000;

type Opened = Option<(Connection, String)>;

#[derive(Clone, Default)]
struct Console {
    entries: Vec<(String, EventMapping)>,
    actions: Vec<ConversionAction>,
    google: Opened,
    meta: Opened,
    refusals: Vec<Refusal>,
    unreadable: Vec<Provider>,
}

struct Cached {
    read_at_ms: u64,
    console: Console,
}

thread_local! {
    static CONSOLE: RefCell<Option<Cached>> = const { RefCell::new(None) };
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

/// [`load`] with the console's state on top. When D1 cannot be read the last state read is used
/// (or, before any, the deploy-time settings alone), and the failure is logged.
pub async fn current(env: &Env) -> Result<Settings, Vec<SettingProblem>> {
    let settings = load(env)?;
    let now = runtime::now_ms();
    let fresh = CONSOLE.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|c| now.saturating_sub(c.read_at_ms) < MAPPINGS_TTL_MS)
    });
    if !fresh {
        match read(env, &settings).await {
            Ok(console) => CONSOLE.with(|c| {
                *c.borrow_mut() = Some(Cached {
                    read_at_ms: now,
                    console,
                });
            }),
            Err(e) => console_error!("ar: reading the console's settings failed: {e}"),
        }
    }
    let console = CONSOLE.with(|c| c.borrow().as_ref().map(|c| c.console.clone()));
    let Some(console) = console else {
        return Ok(settings);
    };
    let mut settings = settings.with_connections(console.google, console.meta, console.refusals);
    settings.connect.unreadable = console.unreadable;
    settings.mappings = settings
        .mappings
        .with_entries(console.entries.iter().map(|(e, m)| (e.as_str(), m)));
    settings.conversion_actions = settings.conversion_actions.with_entries(&console.actions);
    Ok(settings)
}

/// Forgets the console state read, so this isolate's next request reads the change just made.
pub fn mappings_changed() {
    CONSOLE.with(|c| *c.borrow_mut() = None);
}

async fn read(env: &Env, settings: &Settings) -> worker::Result<Console> {
    let db = env.d1(bindings::DB)?;
    let entries = mappings::list(&db)
        .await?
        .into_iter()
        .map(|m| (m.event, m.mapping))
        .collect();
    let mut console = Console {
        entries,
        actions: google_actions::list(&db).await?,
        refusals: connections::refusals(&db).await?,
        ..Console::default()
    };
    let stored = connections::list(&db).await?;
    if stored.is_empty() {
        return Ok(console);
    }
    let key = settings
        .connect
        .credentials_key
        .as_ref()
        .and_then(|k| credential::sealing_key(&k.0).ok());
    for s in stored {
        let Some(provider) = s.connection.provider else {
            continue;
        };
        let aad = connection_aad(provider, &s.connection.account_id);
        let opened = match (&key, Sealed::parse(&s.sealed)) {
            (Some(key), Some(sealed)) => crypto::open(key, &aad, &sealed).await,
            _ => None,
        };
        let Some(secret) = opened else {
            console_error!(
                "ar: the stored {} credential does not open (CREDENTIALS_KEY changed or the row was altered)",
                provider.as_str()
            );
            console.unreadable.push(provider);
            continue;
        };
        match provider {
            Provider::Google => console.google = Some((s.connection, secret)),
            Provider::Meta => console.meta = Some((s.connection, secret)),
        }
    }
    Ok(console)
}
