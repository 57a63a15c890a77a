//! The console's "Set up Google" section: per event the wanted conversion action, whether it
//! exists in the Ads account, is missing or conflicts, the action and tag it feeds, a kind
//! choice, and one button that creates the missing actions. Plain HTML form: no script.

use std::fmt::Write as _;

use serde_json::Value;

use super::page::esc;

fn kind_select(event: &str, kind: &str) -> String {
    let option = |value: &str, label: &str, wire: &str| {
        let selected = if kind == wire { " selected" } else { "" };
        format!("<option value=\"{value}\"{selected}>{label}</option>")
    };
    format!(
        "<select name=\"kind.{}\" aria-label=\"kind of {}\">{}{}</select>",
        esc(event),
        esc(event),
        option("webpage", "WEBPAGE (pixel's gtag conversion)", "WEBPAGE"),
        option(
            "upload_clicks",
            "UPLOAD_CLICKS (secondary)",
            "UPLOAD_CLICKS"
        ),
    )
}

/// The section, `id="google"`, from `GET /_ar/admin/google-actions`'s view or why there is none.
pub(super) fn section(view: &Result<Value, String>) -> String {
    let body = match view {
        Err(why) => format!(
            "<p id=\"google-status\" class=\"scroll\">The Ads account cannot be read: {}</p>",
            esc(why)
        ),
        Ok(v) => {
            let mut rows = String::new();
            for a in v["actions"].as_array().into_iter().flatten() {
                let text = |k: &str| esc(a[k].as_str().unwrap_or("–"));
                let event = a["event"].as_str().unwrap_or_default();
                let state = match a["state"].as_str() {
                    Some("conflict") => format!(
                        "conflict: an action of this name is {} (rename it in Google Ads)",
                        text("existing_type")
                    ),
                    Some(s) => esc(s),
                    None => "–".into(),
                };
                let _ = write!(
                    rows,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"state\">{state}</td>\
                     <td>{}</td><td><code>{}</code></td></tr>",
                    esc(event),
                    text("name"),
                    kind_select(event, a["kind"].as_str().unwrap_or_default()),
                    text("action_id"),
                    text("send_to"),
                );
            }
            format!(
                "<p id=\"google-status\">{} missing, {} in conflict. {}.</p>\
                 <form method=\"post\" action=\"/_ar/admin/google-actions\">\
                 <div class=\"scroll\"><table><thead><tr><th>Event</th><th>Action</th><th>Kind</th><th>In the account</th>\
                 <th>Action id</th><th>Tag (send_to)</th></tr></thead><tbody>{rows}</tbody></table></div>\
                 <button id=\"create-actions\">Create missing actions and record them</button></form>",
                v["missing"],
                v["conflicts"],
                esc(v["rule"].as_str().unwrap_or_default()),
            )
        }
    };
    format!(
        "<section id=\"google\"><h2>Set up Google</h2><p>One Google Ads conversion action per \
         event, created in the account and recorded here, so no id or label is typed by hand. \
         Changing a kind creates a new action of that kind on the next run (an action's type \
         cannot change).</p>{body}</section>"
    )
}
