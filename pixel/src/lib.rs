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

mod consent;
mod datalayer;
mod js;
mod lead_form;
mod props;
mod tags;
mod track;
mod user;

use std::cell::{Cell, RefCell};

use ar_shared::browser::PixelConfig;
use ar_shared::browser::consent::{banner_asks, page_consent, snippet_default};
use ar_shared::browser::region::RegionAnswer;
use ar_shared::browser::setup::{Fired, TagSetup, fired as really_fired, setup};
use ar_shared::consent::{CONSENT_COOKIE_NAME, ConsentState};
use ar_shared::{EventId, EventName};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

/// Why the pixel could not do what the page asked.
#[derive(Debug)]
pub enum PixelError {
    /// The event is not one the pixel can report (the message names the field).
    Event(ar_shared::browser::event::EventError),
    /// The event name is not valid.
    EventName(ar_shared::event::EventNameError),
    /// A consent choice with a value that is neither granted nor denied.
    Choice(ar_shared::browser::consent::ChoiceError),
    /// The worker's configuration is unreadable.
    Config(ar_shared::browser::config::ConfigError),
    /// A field the worker does not take, or takes otherwise (its name, the problem).
    Field(String, &'static str),
    /// A command before [`boot`].
    NotBooted,
    /// A command the pixel does not know.
    UnknownCommand(String),
    /// Customer data to hash before the hashing module (`ar-pixel-hash`) loaded.
    NoHasher,
    /// No `window` (not running in a page).
    NoWindow,
    /// The browser refused a call (crypto, a hook).
    Browser(String),
}

impl PixelError {
    /// The message the page's rejected promise carries. Built with `concat`, not `core::fmt`:
    /// the formatting machinery is about 1 KB gzipped of the module (`ar_shared::text`).
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::Event(e) => e.message(),
            Self::EventName(e) => ["event: ", e.message()].concat(),
            Self::Choice(e) => e.message(),
            Self::Config(e) => [
                "ar: the worker's configuration is unreadable: ",
                &e.message(),
            ]
            .concat(),
            Self::Field(name, problem) => [name, ": ", problem].concat(),
            Self::NotBooted => "ar: the pixel is not configured yet".to_owned(),
            Self::UnknownCommand(name) => [
                "ar: unknown command \"",
                name,
                "\" (use track, identify or consent)",
            ]
            .concat(),
            Self::NoHasher => {
                "ar: the hashing module has not loaded (customer data is never sent unhashed)"
                    .to_owned()
            }
            Self::NoWindow => "no window: the pixel runs only in a browser page".to_owned(),
            Self::Browser(e) => ["browser error: ", e].concat(),
        }
    }
}

impl core::fmt::Display for PixelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PixelError {}

impl From<ar_shared::browser::event::EventError> for PixelError {
    fn from(e: ar_shared::browser::event::EventError) -> Self {
        Self::Event(e)
    }
}

impl From<ar_shared::event::EventNameError> for PixelError {
    fn from(e: ar_shared::event::EventNameError) -> Self {
        Self::EventName(e)
    }
}

impl From<ar_shared::browser::consent::ChoiceError> for PixelError {
    fn from(e: ar_shared::browser::consent::ChoiceError) -> Self {
        Self::Choice(e)
    }
}

impl From<ar_shared::browser::config::ConfigError> for PixelError {
    fn from(e: ar_shared::browser::config::ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<PixelError> for JsValue {
    fn from(e: PixelError) -> Self {
        js_sys::Error::new(&e.message()).into()
    }
}

pub(crate) fn browser(e: &JsValue) -> PixelError {
    PixelError::Browser(
        e.as_string()
            .or_else(|| js_sys::Error::from(e.clone()).message().as_string())
            .unwrap_or_default(),
    )
}

/// What [`boot`] set up: the worker's configuration, the visitor's region default, the tags, the
/// consent in force, and the loader's `send` and `hash` hooks.
pub(crate) struct State {
    pub(crate) config: PixelConfig,
    pub(crate) region: Option<RegionAnswer>,
    pub(crate) tags: TagSetup,
    pub(crate) consent: Cell<ConsentState>,
    /// The `_ar_consent` value last chosen on this page (`ar('consent')`, a TCF CMP) while the
    /// browser refuses the cookie: the choice still holds for this page.
    pub(crate) chosen: RefCell<Option<String>>,
    /// A sale/sharing opt-out stated on this page (kept like `chosen`).
    pub(crate) opted_out: Cell<bool>,
    pub(crate) send: Function,
    /// The hashing module's `hash(user, country)`, `undefined` until the loader has it.
    pub(crate) hash: Function,
    /// The loader's `capture(args)`: fetches the capture module and writes what it answers.
    pub(crate) capture: Function,
}

impl State {
    /// The consent in force: the signals chosen on this page or the cookie's, then the region
    /// default.
    pub(crate) fn page_consent(&self) -> ConsentState {
        let chosen = self.chosen.borrow().clone();
        let cookie = chosen.or_else(|| consent::cookie(CONSENT_COOKIE_NAME));
        page_consent(cookie.as_deref(), self.region.as_ref())
    }
}

// The pixel's allocator (`ar-pixel-alloc`: a free list, 7 KB smaller than dlmalloc).
#[cfg(target_arch = "wasm32")]
use ar_pixel_alloc as _;

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
        .map_err(|_| PixelError::Browser(["the loader gave no ", name, " hook"].concat()))
}

/// Configures the pixel from the worker's configuration text (`GET /_ar/config`) and the
/// visitor's region answer (`GET /_ar/region`, `None` when it did not arrive), tells the tags the
/// consent in force where the snippet had to be strict, brings up the page's tags, and shows the
/// banner when it asks. `hooks` are the loader's: `send(body, called)`, `load(src)`,
/// `stub(kind)`, `banner(text, accept, reject)`, `hash(user, country)` (the hashing module's,
/// `undefined` while it is not loaded), `capture(args)` (the capture module's cookies written).
///
/// # Errors
/// An unreadable configuration, or a hook missing.
#[wasm_bindgen]
#[allow(clippy::needless_pass_by_value)] // wasm-bindgen passes owned strings from JS
pub fn boot(config: &str, region: Option<String>, hooks: &JsValue) -> Result<(), JsValue> {
    let config = PixelConfig::parse(config).map_err(PixelError::from)?;
    let region = region.as_deref().and_then(RegionAnswer::parse);
    let cookie = consent::cookie(CONSENT_COOKIE_NAME);
    let consent = page_consent(cookie.as_deref(), region.as_ref());
    let tags = setup(&config, tags::page_tags());
    tags::stub(&tags, &hook(hooks, "stub")?)?;
    // The loader says whether the inline snippet ran: without it no consent default preceded
    // the tags (README "Adding the pixel"); ours at least precede our own tag commands.
    if js::get(hooks, "snippet").as_bool() == Some(false) {
        js::warn(
            "ar: the inline snippet is missing from <head>: tags that ran before this module had no consent default",
        );
        consent::default_tags(snippet_default(cookie.as_deref()))?;
    }
    if consent != snippet_default(cookie.as_deref()) {
        consent::update_tags(consent)?;
    }
    // Click IDs by the edge's rules when the worker did not set them (browser::capture).
    let capture_hook = hook(hooks, "capture")?;
    capture(&capture_hook, consent);
    tags::bring_up(&config, &tags, &hook(hooks, "load")?)?;
    let tcf = js::global_fn("__tcfapi").is_some();
    if let Some(b) = &config.banner
        && banner_asks(region.as_ref(), cookie.as_deref(), tcf)
    {
        let args = js_sys::Array::of3(
            &b.text.as_str().into(),
            &b.accept.as_str().into(),
            &b.reject.as_str().into(),
        );
        hook(hooks, "banner")?
            .apply(&JsValue::NULL, &args)
            .map_err(|e| browser(&e))?;
    }
    let send = hook(hooks, "send")?;
    let hash = hook(hooks, "hash")?;
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            config,
            region,
            tags,
            consent: Cell::new(consent),
            chosen: RefCell::new(None),
            opted_out: Cell::new(false),
            send,
            hash,
            capture: capture_hook,
        });
    });
    Ok(())
}

/// Takes a newer configuration text (the loader revalidates `/_ar/config` while the page stays
/// open: when it is shown again, and after a command once the copy is 30 s old): later events use
/// its event mapping and conversion tags, so an open page and the worker derive event IDs from
/// the same mapping. The tags the page brought up (ids, base tags) and the banner stay as booted
/// until the next page.
///
/// # Errors
/// An unreadable configuration (the one in use stays), or a call before [`boot`].
#[wasm_bindgen]
pub fn reconfigure(config: &str) -> Result<(), JsValue> {
    let config = PixelConfig::parse(config).map_err(PixelError::from)?;
    STATE.with(|s| match s.borrow_mut().as_mut() {
        Some(state) => {
            state.config = config;
            Ok(())
        }
        None => Err(PixelError::NotBooted.into()),
    })
}

/// One `window.dataLayer` push (the loader hands each past and future one here): a GA4
/// e-commerce event becomes a reported event (`ar_shared::browser::datalayer`); resolves to its ID,
/// or `undefined` when the push is not reported.
///
/// # Errors
/// The event's own error (which names the field at fault).
#[wasm_bindgen(js_name = dataLayerPush)]
pub fn data_layer_push(entry: &JsValue) -> Result<JsValue, JsValue> {
    Ok(with_state(|s| datalayer::push(s, entry))?)
}

/// A submitted lead form's inputs, as the loader's capturing `submit` listener read them
/// (`[[name, type, data-ar-field, value], …]`): reports `lead.submitted` and answers
/// `[event ID, lead id for the hidden ar_lead_id field]` (`undefined` when the form had one; the
/// event's error in place of its ID when it failed, the minted id still there), or `undefined`
/// while lead forms are off.
///
/// # Errors
/// No browser randomness for a new lead id.
#[wasm_bindgen(js_name = formSubmitted)]
pub fn form_submitted(inputs: &JsValue) -> Result<JsValue, JsValue> {
    Ok(with_state(|s| lead_form::submitted(s, inputs))?)
}

/// Hands the capture module what it needs to write the identifier cookies the page lacks
/// (`ar_shared::browser::capture`), through the loader's `capture(args)` hook, which fetches the
/// module: only where `may_write` says the edge's rules may write one.
pub(crate) fn capture(hook: &Function, consent: ConsentState) {
    let global = js_sys::global();
    let location = js::get(&global, "location");
    let url = js::get_str(&location, "href").unwrap_or_default();
    let referrer = js::get_str(&js::get(&global, "document"), "referrer").filter(|r| !r.is_empty());
    let all = consent::document_cookie();
    let granted = consent.ad_storage.is_granted();
    let jar = ar_shared::cookies::CookieJar::parse(&all);
    if !ar_shared::browser::capture::may_write(&jar, &url, referrer.as_deref(), granted) {
        return;
    }
    let random = random_bytes().unwrap_or_default();
    let scope = consent::cookie_scope();
    let args = Array::new();
    for value in [
        JsValue::from_str(&url),
        referrer.map_or(JsValue::UNDEFINED, |r| JsValue::from_str(&r)),
        JsValue::from_str(&all),
        JsValue::from_f64(js_sys::Date::now()),
        js_sys::Uint8Array::from(&random[..8]).into(),
        scope
            .domain_attribute()
            .map_or(JsValue::UNDEFINED, JsValue::from_str),
        js::get(&location, "hostname"),
        JsValue::from_bool(granted),
    ] {
        args.push(&value);
    }
    let _ = hook.call1(&JsValue::NULL, &args);
}

/// What a TCF CMP's `__tcfapi` listener reported (`tcloaded` or `useractioncomplete`): followed
/// like an `ar('consent')` choice of its signals (google.md §11.5, Addendum A).
///
/// # Errors
/// When the cookie cannot be written.
#[wasm_bindgen]
pub fn tcf(data: &JsValue) -> Result<JsValue, JsValue> {
    Ok(with_state(|s| consent::follow_tcf(s, data))?)
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
        "consent" => with_state(|s| consent::choose(s, &arg(0))),
        "identify" => with_state(|s| user::identify(s, &arg(0))),
        "eventId" => {
            event_id(&arg(0).as_string().unwrap_or_default(), arg(1).as_string()).map(JsValue::from)
        }
        other => Err(PixelError::UnknownCommand(other.to_owned())),
    };
    Ok(result?)
}

/// Whether `ar(name, ...args)` needs the hashing module (`identify`, or `track` with `user{}`):
/// the loader fetches it first.
#[wasm_bindgen(js_name = needsHasher)]
pub fn needs_hasher(name: &str, args: &Array) -> bool {
    user::needs_hash(name, args)
}

/// What the loader finds lead forms by (`[form selector, contact field attribute, lead id
/// field]`, `undefined` while they are off): a lead form's submit handler cannot wait for the
/// hashing module, so the loader fetches it ahead when the page has one, or when the shopper
/// focuses a field inside one.
#[wasm_bindgen(js_name = leadForms)]
pub fn lead_forms() -> JsValue {
    with_state(|s| Ok(lead_form::names(s))).unwrap_or(JsValue::UNDEFINED)
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

/// How long the loader waits before sending an event again after send number `attempt` was
/// answered `status` (`0`: no answer); `undefined` to stop (`ar_shared::browser::delivery`).
#[wasm_bindgen(js_name = retryDelay)]
pub fn retry_delay(attempt: u32, status: u16) -> Option<u32> {
    ar_shared::browser::delivery::retry_delay_ms(attempt, status)
}

/// The outbox's `sessionStorage` key and size (`[key, max events]`).
#[wasm_bindgen(js_name = outbox)]
pub fn outbox() -> js_sys::Array {
    use ar_shared::browser::delivery::{MAX_OUTBOX, OUTBOX_KEY};
    // The outbox holds a few dozen events at most.
    #[allow(clippy::cast_precision_loss)]
    js_sys::Array::of2(&OUTBOX_KEY.into(), &JsValue::from_f64(MAX_OUTBOX as f64))
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
    .as_str()
    .to_owned())
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
