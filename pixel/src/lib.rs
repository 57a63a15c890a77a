//! `ar-pixel`: the browser half of Active Reach Conversions.
//!
//! A thin shell around `ar-shared`: it reads what only the browser has (the page, its tags, its
//! cookies, the crypto random source), asks `ar-shared` for every decision (the configuration's
//! meaning, event IDs, which tags to drive and how, the tag calls), and makes the browser calls.
//! It holds no business rule of its own.
//!
//! The exports are synchronous; the JS loader (`pixel/loader.js`, appended to the wasm-bindgen
//! glue) does the asynchronous IO: it fetches the configuration, calls [`boot`], defines
//! `window.ar(...)` on top of [`command`], hands the commands queued by the snippet to [`replay`],
//! loads base tag scripts, and sends each event to `/_ar/collect` with [`fired`] filled in once
//! the page's tags have settled.

mod js;
mod props;
mod tags;
mod track;

use std::cell::RefCell;

use ar_shared::browser::PixelConfig;
use ar_shared::browser::setup::{Fired, TagSetup, fired as really_fired, setup};
use ar_shared::{EventId, EventName};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

/// Why the pixel could not do what the page asked.
#[derive(Debug, thiserror::Error)]
pub enum PixelError {
    /// The event is not one the pixel can report (the message names the field).
    #[error("{0}")]
    Event(#[from] ar_shared::browser::event::EventError),
    /// The event name is not valid.
    #[error("event: {0}")]
    EventName(#[from] ar_shared::event::EventNameError),
    /// The worker's configuration is unreadable.
    #[error("ar: the worker's configuration is unreadable: {0}")]
    Config(#[from] ar_shared::browser::config::ConfigError),
    /// A command before [`boot`].
    #[error("ar: the pixel is not configured yet")]
    NotBooted,
    /// A command the pixel does not know.
    #[error("ar: unknown command \"{0}\" (use track, identify or consent)")]
    UnknownCommand(String),
    /// No `window` (not running in a page).
    #[error("no window: the pixel runs only in a browser page")]
    NoWindow,
    /// The browser refused a call (crypto, a hook).
    #[error("browser error: {0}")]
    Browser(String),
}

impl From<PixelError> for JsValue {
    fn from(e: PixelError) -> Self {
        js_sys::Error::new(&e.to_string()).into()
    }
}

pub(crate) fn browser(e: &JsValue) -> PixelError {
    PixelError::Browser(
        e.as_string()
            .or_else(|| js_sys::Error::from(e.clone()).message().as_string())
            .unwrap_or_default(),
    )
}

/// What [`boot`] set up: the worker's configuration, the tags, and the loader's `send` hook.
pub(crate) struct State {
    pub(crate) config: PixelConfig,
    pub(crate) tags: TagSetup,
    pub(crate) send: Function,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

pub(crate) fn with_state<T>(
    f: impl FnOnce(&State) -> Result<T, PixelError>,
) -> Result<T, PixelError> {
    STATE.with(|s| s.borrow().as_ref().map_or(Err(PixelError::NotBooted), f))
}

fn hook(hooks: &JsValue, name: &str) -> Result<Function, PixelError> {
    js::get(hooks, name)
        .dyn_into()
        .map_err(|_| PixelError::Browser(format!("the loader gave no {name} hook")))
}

/// Configures the pixel from the worker's configuration text (`GET /_ar/config`) and brings up
/// the page's tags. `hooks` are the loader's: `send(body, called)`, `load(src)`, `stub(kind)`.
///
/// # Errors
/// An unreadable configuration, or a hook missing.
#[wasm_bindgen]
pub fn boot(config: &str, hooks: &JsValue) -> Result<(), JsValue> {
    let config = PixelConfig::parse(config).map_err(PixelError::from)?;
    let tags = setup(&config, tags::page_tags());
    tags::bring_up(&config, &tags, &hook(hooks, "stub")?, &hook(hooks, "load")?)?;
    let send = hook(hooks, "send")?;
    STATE.with(|s| *s.borrow_mut() = Some(State { config, tags, send }));
    Ok(())
}

/// Runs one `ar(name, ...args)` command and returns its result (`track`: the event ID).
///
/// # Errors
/// An unknown command, or the command's own error (which names the field at fault).
#[wasm_bindgen]
pub fn command(name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let arg = |i| args.get(i);
    let result = match name {
        "track" => {
            with_state(|s| track::track(s, &arg(0).as_string().unwrap_or_default(), &arg(1)))
        }
        "eventId" => {
            event_id(&arg(0).as_string().unwrap_or_default(), arg(1).as_string()).map(JsValue::from)
        }
        other => Err(PixelError::UnknownCommand(other.to_owned())),
    };
    Ok(result?)
}

/// Runs the commands the snippet queued before the pixel loaded, in order: each entry is
/// `[arguments, resolve, reject]`, and each promise settles with its command's result.
#[wasm_bindgen]
pub fn replay(queue: &JsValue) {
    for entry in js::elements(queue) {
        let args = Array::from(&js::get(&entry, "0"));
        let name = args.get(0).as_string().unwrap_or_default();
        let rest = args.slice(1, args.length());
        let (settle, value) = match command(&name, &rest) {
            Ok(v) => ("1", v),
            Err(e) => ("2", e),
        };
        if let Ok(f) = js::get(&entry, settle).dyn_into::<Function>() {
            let _ = f.call1(&JsValue::NULL, &value);
        }
    }
}

/// Which tags really fired for an event whose tag calls were `called` (`{meta, google}`): asked
/// once the page's tags have settled.
#[wasm_bindgen]
pub fn fired(called: &JsValue) -> JsValue {
    let called = Fired {
        meta: js::get(called, "meta").is_truthy(),
        google: js::get(called, "google").is_truthy(),
    };
    let f = really_fired(called, tags::page_tags());
    fired_object(f)
}

pub(crate) fn fired_object(f: Fired) -> JsValue {
    let o = js::object();
    let _ = js::set(&o, "meta", &JsValue::from_bool(f.meta));
    let _ = js::set(&o, "google", &JsValue::from_bool(f.google));
    o
}

/// The stable event ID for `event` identified by `business_key`, or a random one when there is no
/// business key.
///
/// # Errors
/// An invalid event name, or no browser crypto source.
#[wasm_bindgen(js_name = eventId)]
#[allow(clippy::needless_pass_by_value)] // wasm-bindgen passes owned strings from JS
pub fn event_id(event: &str, business_key: Option<String>) -> Result<String, PixelError> {
    let name: EventName = event.parse()?;
    Ok(match business_key {
        Some(key) if !key.is_empty() => EventId::from_business_key(&name, &key),
        _ => EventId::from_random(random_bytes()?),
    }
    .to_string())
}

pub(crate) fn random_bytes() -> Result<[u8; 16], PixelError> {
    let crypto = web_sys::window()
        .ok_or(PixelError::NoWindow)?
        .crypto()
        .map_err(|e| browser(&e))?;
    let mut bytes = [0u8; 16];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| browser(&e))?;
    Ok(bytes)
}
