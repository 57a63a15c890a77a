//! The console's failures page: filters, the reasons with a "replay all of this reason" button
//! each, and the rows with a checkbox each (plain HTML forms, no script).

use std::fmt::Write as _;

use ar_shared::platform::Platform;
use serde_json::Value;

use super::page::{esc, shell, utc};

fn select(name: &str, current: &str, choices: &[&str]) -> String {
    let mut html = format!("<select name=\"{name}\"><option value=\"\">any</option>");
    for c in choices {
        let selected = if *c == current { " selected" } else { "" };
        let _ = write!(html, "<option{selected}>{}</option>", esc(c));
    }
    html.push_str("</select>");
    html
}

/// The page for `report` (`failures::report`), with the filter `pairs` it was asked with.
pub(super) fn render(report: &Value, pairs: &[(String, String)]) -> String {
    let get = |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == n)
            .map_or("", |(_, v)| v.as_str())
    };
    let platforms: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
    let filters = format!(
        "<form method=\"get\" action=\"/_ar/admin/failures\" class=\"grid\">\
         <label>Platform{}</label><label>Status{}</label>\
         <label>Event<input name=\"event\" value=\"{}\" placeholder=\"transaction.purchase\"></label>\
         <label>Reason<input name=\"reason\" value=\"{}\"></label><button>Filter</button></form>",
        select("platform", get("platform"), &platforms),
        select("status", get("status"), &["failed", "held"]),
        esc(get("event")),
        esc(get("reason")),
    );
    let mut reasons = String::new();
    for g in report["reasons"].as_array().into_iter().flatten() {
        let button = if g["status"] == "failed" {
            format!(
                "<form method=\"post\" action=\"/_ar/admin/replay\" class=\"inline\">\
                 <input type=\"hidden\" name=\"platform\" value=\"{p}\">\
                 <input type=\"hidden\" name=\"reason\" value=\"{r}\">\
                 <button>Replay all of this reason</button></form>",
                p = esc(g["platform"].as_str().unwrap_or_default()),
                r = esc(g["reason"].as_str().unwrap_or_default()),
            )
        } else {
            String::new()
        };
        let _ = write!(
            reasons,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{button}</td></tr>",
            esc(g["platform"].as_str().unwrap_or_default()),
            esc(g["status"].as_str().unwrap_or_default()),
            g["events"],
            esc(g["reason"].as_str().unwrap_or_default()),
        );
    }
    let mut rows = String::new();
    for r in report["rows"].as_array().into_iter().flatten() {
        let id = r["event_id"].as_str().unwrap_or_default();
        let platform = r["platform"].as_str().unwrap_or_default();
        let pick = if r["replayable"] == true {
            format!(
                "<input type=\"checkbox\" name=\"row\" value=\"{}:{}\" aria-label=\"replay {}\">",
                esc(id),
                esc(platform),
                esc(id)
            )
        } else {
            format!(
                "<small>{}</small>",
                esc(r["refused"].as_str().unwrap_or_default())
            )
        };
        let _ = write!(
            rows,
            "<tr><td>{pick}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(id),
            esc(r["event"].as_str().unwrap_or_default()),
            esc(platform),
            esc(r["status"].as_str().unwrap_or_default()),
            esc(r["reason"].as_str().unwrap_or_default()),
            r["attempts"],
            r["occurred_at"].as_u64().map_or("–".to_owned(), utc),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"8\">No failed or held events match.</td></tr>");
    }
    let body = format!(
        "<h1>Failures</h1><nav><a href=\"/_ar/admin\">Back to the console</a></nav>{filters}\
         <h2>Reasons</h2><div class=\"scroll\"><table><thead><tr><th>platform</th><th>status</th>\
         <th>events</th><th>reason</th><th></th></tr></thead><tbody>{reasons}</tbody></table></div>\
         <h2>Events</h2><p>Failed rows can be sent again after a fix; rows past their platform's \
         window and held purchases are not (the reason is shown instead of a checkbox).</p>\
         <form method=\"post\" action=\"/_ar/admin/replay\"><div class=\"scroll\"><table><thead>\
         <tr><th></th><th>event ID</th><th>event</th><th>platform</th><th>status</th><th>reason</th>\
         <th>attempts</th><th>happened</th></tr></thead><tbody>{rows}</tbody></table></div>\
         <button id=\"replay-selected\">Replay selected</button></form>"
    );
    shell("Active Reach — failures", &body)
}
