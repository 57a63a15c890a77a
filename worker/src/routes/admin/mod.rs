//! `/_ar/health` (JSON) and `/_ar/admin` (HTML): match quality, coverage, dedup, delivery
//! (DESIGN §6). Also the admin API: `POST /_ar/admin/test` (send a sample event in the platforms'
//! test modes) and `POST /_ar/admin/replay` (re-queue failed rows).
//!
//! - [`auth`]: who may see these pages (bearer token, or a session cookie from the sign-in
//!   form), and the security headers every answer carries;
//! - [`report`]: the health report, as a typed value (the JSON and the page show the same);
//! - [`health`]: reading it from D1;
//! - [`page`]: the HTML page, charts as inline SVG, no external script;
//! - [`meta_quality`], [`meta_quality_page`]: Meta's own grades beside ours;
//! - [`sample`]: the test send;
//! - [`google_actions`], [`google_page`]: "Set up Google", the conversion actions.
//!
//! Only event names, ids, platforms and reasons are shown: never PII.

mod auth;
mod connect;
mod connect_flow;
mod connect_google;
mod connect_meta;
mod connect_page;
mod failures;
mod failures_page;
mod google_actions;
mod google_page;
mod google_setup;
mod health;
mod health_page;
mod mapping_page;
mod mappings;
mod meta_quality;
mod meta_quality_page;
mod page;
mod report;
mod sample;

use worker::{Env, Method, Request, Response};

use crate::error::{Error, RouteResult};

/// Dispatches `/_ar/health` and `/_ar/admin*`; every answer, errors included, carries the
/// admin security headers ([`auth::secure`]).
pub(crate) async fn handle(req: Request, env: &Env) -> RouteResult {
    let answer = match route(req, env).await {
        Ok(response) => response,
        Err(e) => e.response()?,
    };
    auth::secure(answer)
}

async fn route(mut req: Request, env: &Env) -> RouteResult {
    let url = req.url()?;
    let path = url.path().to_owned();
    let token = auth::admin_token(env)?;
    let method = req.method();
    if path == "/_ar/admin/login" {
        if method != Method::Post {
            return Err(Error::MethodNotAllowed(
                "sign in with POST (the form at /_ar/admin)",
            ));
        }
        return login(&mut req, &token).await;
    }
    // The platform's redirect back is a cross-site navigation: the `SameSite=Strict` session
    // cookie is not sent with it. The callback only answers a page that continues, same-site,
    // to `…/finish` (where the session is checked); it reads nothing and changes nothing.
    if method == Method::Get
        && let Some(provider) = path
            .strip_prefix("/_ar/admin/connect/")
            .and_then(|rest| rest.strip_suffix("/callback"))
            .and_then(ar_shared::connect::Provider::parse)
    {
        return connect_page::hop(provider, url.query().unwrap_or_default());
    }
    let page = method == Method::Get && path == "/_ar/admin";
    match auth::check(&req, &url, &token)? {
        auth::Credential::ValidInUrl if page => return auth::sign_in(&token),
        auth::Credential::Valid => {}
        _ if page => return Ok(Response::from_html(page::login(None))?),
        _ => return Err(Error::AdminUnauthorized),
    }
    if let Some(rest) = path.strip_prefix("/_ar/admin/connect/") {
        let rest = rest.to_owned();
        return connect::route(req, env, &url, &rest).await;
    }
    if let Some(event) = path.strip_prefix("/_ar/admin/mappings/") {
        let event = event.to_owned();
        return match method {
            Method::Put => mappings::api(&mut req, env, &event, false).await,
            Method::Delete => mappings::api(&mut req, env, &event, true).await,
            _ => Err(Error::MethodNotAllowed(
                "PUT a JSON entry or DELETE (README \"Admin API\")",
            )),
        };
    }
    match (method, path.as_str()) {
        (Method::Get, "/_ar/health") => Ok(Response::from_json(&health::report(env).await?)?),
        (Method::Get, "/_ar/admin") => {
            let health = health::report(env).await?;
            // A settings problem leaves the mapping section empty; the health part names it.
            let mappings = mappings::view(env).await.unwrap_or_default();
            let google = google_actions::section(env).await;
            let connections = match crate::settings::current(env).await {
                Ok(s) => connect_page::section(&s, crate::runtime::now_ms()),
                Err(_) => String::new(),
            };
            Ok(Response::from_html(page::render(
                &health,
                &mappings,
                &google,
                &connections,
            ))?)
        }
        (Method::Get, "/_ar/admin/mappings") => mappings::get(env).await,
        (Method::Post, "/_ar/admin/mappings") => mappings::form(&mut req, env).await,
        (Method::Get, "/_ar/admin/google-actions") => google_actions::get(env).await,
        (Method::Post, "/_ar/admin/google-actions") => google_actions::post(&mut req, env).await,
        (Method::Post, "/_ar/admin/test") => sample::send(&mut req, env).await,
        (Method::Post, "/_ar/admin/replay") => failures::replay(&mut req, env, &url).await,
        (Method::Get, "/_ar/admin/failures") => failures::list(&req, env, &url).await,
        (
            _,
            "/_ar/health"
            | "/_ar/admin"
            | "/_ar/admin/test"
            | "/_ar/admin/replay"
            | "/_ar/admin/mappings"
            | "/_ar/admin/google-actions"
            | "/_ar/admin/failures",
        ) => Err(Error::MethodNotAllowed("see the admin API in README.md")),
        _ => Err(Error::NotFound("no such admin path")),
    }
}

/// `POST /_ar/admin/login` with the form field `token`: a session and a redirect to the page,
/// or the form again with 401.
async fn login(req: &mut Request, token: &str) -> RouteResult {
    let body =
        super::common::body_capped(req, 4096, "the sign-in form is limited to 4 KiB").await?;
    let presented = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if auth::is_token(&presented, token) {
        return auth::sign_in(token);
    }
    auth::failed(req);
    Ok(Response::from_html(page::login(Some("That is not the admin token.")))?.with_status(401))
}
