//! A recording reverse proxy for end-to-end tests: the browser talks to it, it forwards every
//! request to the worker unchanged (the `Host` header included, so the worker's cookies and
//! redirects name the proxy) and keeps each request's path, query and body, so a test can scan
//! everything the page sent.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::state::lock;

/// One request the page made: `path?query` and its body.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Path and query.
    pub target: String,
    /// The body as text.
    pub body: String,
    /// Its `Sec-Fetch-Mode` header: `no-cors` for `navigator.sendBeacon`, `cors` for the
    /// pixel's own `fetch`.
    pub fetch_mode: Option<String>,
}

/// A running proxy; dropping it stops it.
#[derive(Debug)]
pub struct RecordingProxy {
    /// `http://127.0.0.1:<port>`: where the browser goes.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    held: Arc<Held>,
    task: JoinHandle<()>,
}

/// A path whose answers wait for [`RecordingProxy::release`].
#[derive(Debug, Default)]
struct Held {
    path: Mutex<Option<String>>,
    released: Notify,
    /// Requests to this path are answered 503 without reaching the worker (a flaky network).
    failing: Mutex<Option<String>>,
}

impl RecordingProxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:<port>`).
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let held: Arc<Held> = Arc::default();
        let (upstream, log, gate) = (upstream.to_owned(), Arc::clone(&seen), Arc::clone(&held));
        let app = Router::new().fallback(move |req: Request| {
            let (client, upstream, log) = (client.clone(), upstream.clone(), Arc::clone(&log));
            let gate = Arc::clone(&gate);
            async move {
                let waits = lock(&gate.path).as_deref() == Some(req.uri().path());
                if waits {
                    gate.released.notified().await;
                }
                if lock(&gate.failing).as_deref() == Some(req.uri().path()) {
                    let target = req.uri().to_string();
                    let fetch_mode = fetch_mode(req.headers());
                    let body = to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
                    lock(&log).push(Seen {
                        target,
                        body: String::from_utf8_lossy(&body).into_owned(),
                        fetch_mode,
                    });
                    return error(StatusCode::SERVICE_UNAVAILABLE);
                }
                forward(&client, &upstream, &log, req).await
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url,
            seen,
            held,
            task,
        })
    }

    /// Holds every answer to `path` until [`RecordingProxy::release`].
    pub fn hold(&self, path: &str) {
        *lock(&self.held.path) = Some(path.to_owned());
    }

    /// Answers every request to `path` with 503 until [`RecordingProxy::heal`].
    pub fn fail(&self, path: &str) {
        *lock(&self.held.failing) = Some(path.to_owned());
    }

    /// Forwards requests to the failing path again.
    pub fn heal(&self) {
        *lock(&self.held.failing) = None;
    }

    /// Lets the held answers (and later ones) through.
    pub fn release(&self) {
        *lock(&self.held.path) = None;
        self.held.released.notify_waiters();
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    log: &Mutex<Vec<Seen>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
    lock(log).push(Seen {
        target: target.clone(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        fetch_mode: fetch_mode(&parts.headers),
    });
    let mut out = client.request(parts.method, format!("{upstream}{target}"));
    for (name, value) in &parts.headers {
        if name != "content-length" {
            out = out.header(name, value);
        }
    }
    let Ok(answer) = out.body(bytes).send().await else {
        return error(StatusCode::BAD_GATEWAY);
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(HeaderName::from(name), value);
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(body))
        .unwrap_or_else(|_| error(StatusCode::BAD_GATEWAY))
}

fn fetch_mode(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("sec-fetch-mode")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn error(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}
