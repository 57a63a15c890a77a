//! `GET /_sandbox/`: a plain server-rendered page (no scripts) showing the counts and every
//! recorded request, newest first, so a person sees exactly what would have reached Meta and
//! Google. `?platform=meta` filters; `?refresh=5` reloads every 5 seconds.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

use crate::html::escape;
use crate::state::{AppState, lock};

/// How many requests the page shows.
const PAGE_LIMIT: usize = 300;

/// Query parameters of the page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    platform: Option<String>,
    refresh: Option<u32>,
}

/// Renders the page.
pub async fn page(State(state): State<AppState>, Query(q): Query<PageQuery>) -> Html<String> {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sandbox: what reached Meta and Google</title>",
    );
    if let Some(s) = q.refresh.filter(|s| *s > 0) {
        let _ = write!(html, "<meta http-equiv=\"refresh\" content=\"{s}\">");
    }
    html.push_str("<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}pre{margin:0;max-height:30em;overflow:auto;font-size:12px}.accepted{color:#070}.rejected{color:#b00}.fault{color:#a50}.partially_accepted{color:#a60}</style></head><body>");
    html.push_str("<h1>Sandbox</h1><p>Fake Meta and Google endpoints: every request they received, with secrets removed. <a href=\"/_sandbox/\">all</a> · <a href=\"/_sandbox/?platform=meta\">meta</a> · <a href=\"/_sandbox/?platform=google_ads\">google_ads</a> · <a href=\"/_sandbox/?platform=data_manager\">data_manager</a> · <a href=\"/_sandbox/?platform=ga4\">ga4</a> · <a href=\"/_sandbox/?platform=browser_tags\">browser tags</a> · <a href=\"/_sandbox/?refresh=5\">auto-refresh</a> · JSON: <a href=\"/_sandbox/requests\">requests</a>, <a href=\"/_sandbox/counts\">counts</a></p>");
    counts_table(&state, &mut html);
    requests_table(&state, q.platform.as_deref(), &mut html);
    html.push_str("</body></html>");
    Html(html)
}

fn counts_table(state: &AppState, html: &mut String) {
    let snapshot = lock(&state.counts).snapshot();
    html.push_str("<h2>Counts</h2><table><tr><th>platform</th><th>requests</th><th>server events received</th><th>accepted</th><th>rejected</th><th>browser copies</th><th>counted after platform dedup</th><th>duplicates dropped</th><th>by event (server / browser / counted)</th></tr>");
    for (name, c) in &snapshot {
        let by_event: Vec<String> = c
            .by_event
            .iter()
            .map(|(e, n)| {
                format!(
                    "{}: {} / {} / {}",
                    escape(e),
                    n.server,
                    n.browser,
                    n.deduplicated
                )
            })
            .collect();
        let _ = write!(
            html,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td><td>{}</td></tr>",
            c.requests,
            c.events_received,
            c.events_accepted,
            c.events_rejected,
            c.browser_events,
            c.deduplicated,
            c.duplicates,
            by_event.join("<br>")
        );
    }
    html.push_str("</table>");
}

fn requests_table(state: &AppState, platform: Option<&str>, html: &mut String) {
    let recorder = lock(&state.recorder);
    let mut rows: Vec<_> = recorder
        .all()
        .filter(|r| platform.is_none_or(|p| r.platform.as_str() == p))
        .collect();
    rows.reverse();
    let _ = write!(
        html,
        "<h2>Requests ({} shown, newest first)</h2><table><tr><th>#</th><th>time (sandbox clock, ms)</th><th>platform</th><th>request</th><th>verdict</th><th>events</th><th>ids</th><th>error</th><th>body / response</th></tr>",
        rows.len().min(PAGE_LIMIT)
    );
    for r in rows.into_iter().take(PAGE_LIMIT) {
        let verdict = serde_json::to_value(r.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let body = serde_json::to_string_pretty(&r.body).unwrap_or_default();
        let response = serde_json::to_string_pretty(&r.response).unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}<br>{}</td><td class=\"{verdict}\">{verdict} ({})</td><td>{} / {}</td><td>{}</td><td>{}<br>{}</td><td><details><summary>body</summary><pre>{}</pre></details><details><summary>response</summary><pre>{}</pre></details></td></tr>",
            r.id,
            r.received_at_ms,
            r.platform.as_str(),
            escape(&r.method),
            escape(&r.path),
            escape(&r.endpoint),
            r.status,
            r.accepted_events,
            r.events,
            escape(&r.event_ids.join(", ")),
            escape(r.error.as_deref().unwrap_or("")),
            escape(&r.error_codes.join(", ")),
            escape(&body),
            escape(&response),
        );
    }
    html.push_str("</table>");
}
