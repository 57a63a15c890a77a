//! The console's "Connected accounts" section and the pages of a sign-in: on to the platform,
//! back from it, the account picker, and what went wrong. Plain HTML, no script: navigation
//! between steps is a `<meta http-equiv="refresh">` with a link to click if it does not happen.
//! Nothing here ever prints a credential.

use std::fmt::Write as _;

use ar_shared::connect::status::{Source, State};
use ar_shared::connect::{ConnectError, Provider};
use ar_shared::settings::Settings;
use serde_json::Value;
use worker::Response;

use super::page::{confirmation, esc, shell, utc};
use crate::error::RouteResult;

fn navigate(title: &str, to: &str, link: &str) -> String {
    let head = format!(
        "<meta http-equiv=\"refresh\" content=\"0;url={}\">",
        esc(to)
    );
    let body = format!(
        "{head}<h1>{}</h1><p><a id=\"continue\" href=\"{}\">{}</a></p>",
        esc(title),
        esc(to),
        esc(link)
    );
    shell(title, &body)
}

/// The answer to "Connect …": on to the platform's sign-in.
///
/// # Errors
/// Runtime failures building the response.
pub(super) fn go_to(provider: Provider, url: &str) -> worker::Result<Response> {
    let p = provider.label();
    Response::from_html(navigate(
        &format!("Connect {p}"),
        url,
        &format!("Continue to {p}"),
    ))
}

/// The callback's answer: the same query, one same-site step further, where the console's
/// `SameSite=Strict` session cookie is sent.
pub(super) fn hop(provider: Provider, query: &str) -> RouteResult {
    let to = format!("/_ar/admin/connect/{}/finish?{query}", provider.as_str());
    Ok(Response::from_html(navigate(
        &format!("Connect {}", provider.label()),
        &to,
        "Continue",
    ))?)
}

/// What went wrong, on the console; nothing was stored.
pub(super) fn problem(provider: Provider, e: &ConnectError) -> RouteResult {
    let status = match e {
        ConnectError::Unavailable { .. } => 502,
        ConnectError::NotConfigured(_) => 503,
        _ => 400,
    };
    let body = format!(
        "<h1>Connect {p}: not connected</h1><p role=\"alert\" id=\"connect-problem\">{}</p>\
         <p><a href=\"/_ar/admin#connections\">Back to the console</a></p>",
        esc(&e.to_string()),
        p = provider.label()
    );
    Ok(
        Response::from_html(shell(&format!("Connect {}", provider.label()), &body))?
            .with_status(status),
    )
}

/// Done: what was connected or disconnected.
///
/// # Errors
/// Runtime failures building the response.
pub(super) fn done(provider: Provider, text: &str) -> worker::Result<Response> {
    Response::from_html(confirmation(&format!("Connect {}", provider.label()), text))
}

/// The picker: one radio per account (Google) or dataset (Meta).
///
/// # Errors
/// Runtime failures building the response.
pub(super) fn picker(provider: Provider, flow: &str, choices: &Value) -> worker::Result<Response> {
    let (list, what) = match provider {
        Provider::Google => (
            "accounts",
            "the Google Ads account that owns the conversion actions",
        ),
        Provider::Meta => ("datasets", "the dataset (pixel) the shop's events go to"),
    };
    let mut rows = String::new();
    for (i, c) in choices[list].as_array().into_iter().flatten().enumerate() {
        let id = c["id"].as_str().unwrap_or_default();
        let via = match provider {
            Provider::Google => c["login_id"]
                .as_str()
                .map(|m| format!(" — through manager {}", esc(m)))
                .unwrap_or_default(),
            Provider::Meta => format!(
                " — ad account {}",
                esc(c["ad_account"].as_str().unwrap_or_default())
            ),
        };
        let checked = if i == 0 { " checked" } else { "" };
        let _ = write!(
            rows,
            "<p><label><input type=\"radio\" name=\"account\" value=\"{id}\"{checked}> {} <code>{id}</code>{via}</label></p>",
            esc(c["name"].as_str().unwrap_or_default()),
            id = esc(id),
        );
    }
    let expiry = choices["expires_at_ms"].as_u64().map(|t| format!(
        "<p class=\"warn\" id=\"token-expiry\">This user token expires on {} — a system-user token does not.</p>",
        utc(t)
    )).unwrap_or_default();
    let body = format!(
        "<h1>Connect {p}: pick {what}</h1>{expiry}<form method=\"post\" action=\"/_ar/admin/connect/{slug}/pick\">\
         <input type=\"hidden\" name=\"flow\" value=\"{flow}\">{rows}<button id=\"pick\">Connect this one</button></form>\
         <p><a href=\"/_ar/admin#connections\">Cancel</a></p>",
        p = provider.label(),
        slug = provider.as_str(),
        flow = esc(flow),
    );
    Response::from_html(shell(&format!("Connect {}", provider.label()), &body))
}

/// One platform's line in the section.
fn line(settings: &Settings, provider: Provider, now_ms: u64) -> String {
    let p = provider.label();
    let slug = provider.as_str();
    let state = settings.credential_state(provider, now_ms);
    let source = settings.credential_source(provider);
    let connection = settings.connection(provider);
    let mut text = match (&state, source, connection) {
        (State::NotConnected, ..) => "not connected".to_owned(),
        (_, Some(Source::Secret), _) => {
            "configured by hand (wrangler secrets win over a connection)".to_owned()
        }
        (_, _, Some(c)) => {
            let mut t = format!(
                "connected as {} to {} <code>{}</code>, since {}",
                esc(&c.connected_as),
                esc(&c.account_name),
                esc(&c.account_id),
                utc(c.connected_at_ms)
            );
            if !c.scopes.is_empty() {
                let _ = write!(t, "; scopes {}", esc(&c.scopes.join(", ")));
            }
            if let Some(at) = c.expires_at_ms {
                let _ = write!(t, "; token expires {}", utc(at));
            }
            t
        }
        _ => "connected".to_owned(),
    };
    if settings.connect.unreadable.contains(&provider) {
        text.push_str(" — the stored credential does not open (CREDENTIALS_KEY changed, or the row was altered): connect again");
    }
    let reason = match &state {
        State::Reconnect { reason, .. } => {
            format!(" <span id=\"{slug}-reason\">{}</span>", esc(reason))
        }
        _ => String::new(),
    };
    let button = if matches!(state, State::Reconnect { .. }) {
        "Reconnect"
    } else {
        "Connect"
    };
    let retry = if matches!(state, State::Reconnect { .. }) {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/_ar/admin/connect/{slug}/retry\"><button id=\"{slug}-retry\">Try again with the same credential</button></form> "
        )
    } else {
        String::new()
    };
    let disconnect = if connection.is_some() {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/_ar/admin/connect/{slug}/disconnect\"><button id=\"{slug}-disconnect\">Disconnect</button></form>"
        )
    } else {
        String::new()
    };
    let paste = if provider == Provider::Meta {
        "<form method=\"post\" action=\"/_ar/admin/connect/meta/token\"><label>Or paste a system-user token \
         <input name=\"token\" type=\"password\" autocomplete=\"off\" id=\"meta-token\"></label> \
         <button id=\"meta-paste\">Check and continue</button></form>"
    } else {
        ""
    };
    format!(
        "<div class=\"{level}\" id=\"{slug}-connection\"><h3>{p}</h3><p><b id=\"{slug}-state\">{state_name}</b> {text}.{reason}</p>\
         <p>{advice}</p><form class=\"inline\" method=\"post\" action=\"/_ar/admin/connect/{slug}\"><button id=\"{slug}-connect\">{button} {p}</button></form> {retry}{disconnect}{paste}</div>",
        level = state.level(),
        state_name = match &state {
            State::NotConnected => "not connected",
            State::Connected => "connected",
            State::ExpiresSoon { .. } => "expires soon",
            State::Reconnect { .. } => "reconnect",
        },
        advice = esc(&state.advice(provider)),
    )
}

/// The section, `id="connections"`.
pub(super) fn section(settings: &Settings, now_ms: u64) -> String {
    let lines: String = Provider::ALL
        .iter()
        .map(|p| line(settings, *p, now_ms))
        .collect();
    format!("<h2 id=\"connections\">Connected accounts</h2>{lines}")
}
