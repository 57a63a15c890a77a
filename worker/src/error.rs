//! The one error type at the worker's boundary, and the one place it becomes an HTTP answer.
//!
//! Every route returns `Result<Response, Error>`; [`Error::response`] maps each kind to its
//! status and a JSON body `{"error": <stable code>, "message": …}` (plus `field`, `problem` or
//! `problems` where they apply). Internal faults are logged here, without PII (error texts from
//! D1 or the runtime never carry request data), and answered without detail.

use ar_shared::signature::SignatureError;
use ar_shared::wire::ValidationError;
use serde_json::{Value, json};
use worker::{Response, console_error};

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum Error {
    /// 400: the event is malformed (`field` names the JSON path).
    InvalidEvent(ValidationError),
    /// 400: the `{"events": […]}` envelope is malformed.
    InvalidBatch(ValidationError),
    /// 400: a query parameter names an unknown platform.
    InvalidPlatform(String),
    /// 400: an admin input is not valid (`field` names it).
    InvalidInput {
        /// The field at fault.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// 401: the server-event signature does not verify.
    BadSignature(SignatureError),
    /// 401: a signed request that was already taken.
    Replayed,
    /// 401: no or a wrong admin token.
    AdminUnauthorized,
    /// 403: the `Origin` may not post events.
    ForbiddenOrigin,
    /// 404: no such path (what was looked for).
    NotFound(&'static str),
    /// 405: wrong method (what to use).
    MethodNotAllowed(&'static str),
    /// 409: the event's ID belongs to another event (`ar_shared::trust`).
    EventIdConflict,
    /// 413: the body is over the route's limit (the limit, in words).
    TooLarge(&'static str),
    /// 415: the body is not JSON (or `text/plain` from `sendBeacon`).
    UnsupportedMediaType,
    /// 429: too many events from one client.
    RateLimited {
        /// Seconds until the client may send again.
        retry_after_secs: u64,
    },
    /// 503: tracking is off until the settings are fixed. The answer is generic (a public route
    /// never echoes configuration); the log names the settings, `/_ar/health` says what is wrong.
    NotConfigured(Vec<&'static str>),
    /// 503: `/_ar/events` is off while `AR_SERVER_SECRET` is not set.
    ServerEventsOff,
    /// 502: the storefront origin did not answer.
    OriginUnreachable,
    /// 503: the admin pages are off until `ADMIN_TOKEN` is set.
    AdminDisabled,
    /// 503: an event could not be stored; sending it again later is safe.
    Store(worker::Error),
    /// 503: events kept changing under concurrent writers (how many).
    Contended(usize),
    /// 500: a fault of the runtime (headers, streams, bindings).
    Runtime(worker::Error),
    /// 500: anything else (an encoding fault, no randomness).
    Internal(String),
}

impl From<worker::Error> for Error {
    fn from(e: worker::Error) -> Self {
        Self::Runtime(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("json: {e}"))
    }
}

impl Error {
    /// The HTTP status.
    pub(crate) const fn status(&self) -> u16 {
        match self {
            Self::InvalidEvent(_)
            | Self::InvalidBatch(_)
            | Self::InvalidPlatform(_)
            | Self::InvalidInput { .. } => 400,
            Self::BadSignature(_) | Self::Replayed | Self::AdminUnauthorized => 401,
            Self::ForbiddenOrigin => 403,
            Self::NotFound(_) => 404,
            Self::EventIdConflict => 409,
            Self::MethodNotAllowed(_) => 405,
            Self::TooLarge(_) => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited { .. } => 429,
            Self::Runtime(_) | Self::Internal(_) => 500,
            Self::OriginUnreachable => 502,
            Self::AdminDisabled
            | Self::Store(_)
            | Self::Contended(_)
            | Self::NotConfigured(_)
            | Self::ServerEventsOff => 503,
        }
    }

    /// The stable code in the body's `error` field.
    pub(crate) const fn code(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) => "invalid_event",
            Self::InvalidBatch(_) => "invalid_batch",
            Self::InvalidPlatform(_) => "invalid_platform",
            Self::InvalidInput { .. } => "invalid_input",
            Self::BadSignature(_) | Self::Replayed | Self::AdminUnauthorized => "unauthorized",
            Self::ForbiddenOrigin => "forbidden_origin",
            Self::NotFound(_) => "not_found",
            Self::EventIdConflict => "event_id_conflict",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::NotConfigured(_) => "not_configured",
            Self::ServerEventsOff => "server_events_off",
            Self::OriginUnreachable => "origin_unreachable",
            Self::AdminDisabled => "admin_disabled",
            Self::Store(_) | Self::Contended(_) => "store_failed",
            Self::Runtime(_) | Self::Internal(_) => "internal",
        }
    }

    fn body(&self) -> Value {
        let code = self.code();
        match self {
            Self::InvalidEvent(e) | Self::InvalidBatch(e) => {
                json!({ "error": code, "field": e.field, "message": e.to_string() })
            }
            Self::BadSignature(e) => {
                json!({ "error": code, "problem": e.code(), "message": e.to_string() })
            }
            Self::InvalidInput { field, message } => {
                json!({ "error": code, "field": field, "message": message })
            }
            Self::InvalidPlatform(message) => {
                json!({ "error": code, "field": "platform", "message": message })
            }
            Self::Replayed => {
                json!({ "error": code, "problem": "replayed", "message": self.message() })
            }
            _ => json!({ "error": code, "message": self.message() }),
        }
    }

    fn message(&self) -> String {
        match self {
            Self::InvalidEvent(e) | Self::InvalidBatch(e) => e.to_string(),
            Self::InvalidPlatform(m) => m.clone(),
            Self::InvalidInput { field, message } => format!("{field}: {message}"),
            Self::BadSignature(e) => e.to_string(),
            Self::Replayed => "this signed request was already received; sign each request \
                anew (a fresh x-ar-timestamp)"
                .into(),
            Self::AdminUnauthorized => {
                "send Authorization: Bearer <ADMIN_TOKEN>, or sign in at /_ar/admin".into()
            }
            Self::ForbiddenOrigin => "this Origin may not post events here: serve the pixel from \
                the shop's own host or add the origin to ALLOWED_ORIGINS"
                .into(),
            Self::NotFound(what) | Self::MethodNotAllowed(what) | Self::TooLarge(what) => {
                (*what).into()
            }
            Self::EventIdConflict => "this event_id belongs to another event; leave event_id out \
                or use the ID the event's business key gives"
                .into(),
            Self::UnsupportedMediaType => {
                "send the event as application/json (or text/plain from sendBeacon)".into()
            }
            Self::RateLimited { .. } => {
                "too many events from this client; retry after the time in Retry-After".into()
            }
            Self::NotConfigured(_) => "tracking is switched off until its settings are fixed; \
                the admin health page says what to fix"
                .into(),
            Self::ServerEventsOff => "server events are off: set AR_SERVER_SECRET (wrangler \
                secret put AR_SERVER_SECRET) to the secret the shop's backend signs with"
                .into(),
            Self::OriginUnreachable => "the storefront origin (ORIGIN_URL) did not answer".into(),
            Self::AdminDisabled => {
                "set ADMIN_TOKEN (wrangler secret put ADMIN_TOKEN) to use the admin pages".into()
            }
            Self::Store(_) | Self::Contended(_) => {
                "the event could not be stored; retry later".into()
            }
            Self::Runtime(_) | Self::Internal(_) => "internal error".into(),
        }
    }

    /// What to log for this error, when it is our fault (never request data).
    fn log(&self) {
        match self {
            Self::NotConfigured(names) => {
                console_error!("ar: tracking off, settings to fix: {}", names.join(", "));
            }
            Self::Store(e) => console_error!("ar: storage failed: {e}"),
            Self::Contended(n) => {
                console_error!("ar: {n} event(s) kept changing under concurrent writes");
            }
            Self::Runtime(e) => console_error!("ar: runtime error: {e}"),
            Self::Internal(e) => console_error!("ar: internal error: {e}"),
            _ => {}
        }
    }

    /// The HTTP answer.
    pub(crate) fn response(&self) -> worker::Result<Response> {
        self.log();
        let response = Response::from_json(&self.body())?.with_status(self.status());
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers()
                .set("retry-after", &retry_after_secs.to_string())?;
        }
        Ok(response)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(e) => write!(f, "storage: {e}"),
            Self::Runtime(e) => write!(f, "runtime: {e}"),
            Self::NotConfigured(names) => {
                write!(f, "settings to fix: {}", names.join(", "))
            }
            Self::Internal(e) => write!(f, "internal: {e}"),
            other => write!(f, "{}: {}", other.code(), other.message()),
        }
    }
}

/// The result of a route.
pub(crate) type RouteResult = Result<Response, Error>;
