//! The console's event-mapping section: the mapping in effect (with where each entry comes
//! from), a form to add or change one, a remove button per console entry, and the changes made.
//! Plain HTML forms: no script.

use std::fmt::Write as _;

use ar_shared::mapping::{AdsCategory, BusinessKey, DeliveryPath};

use super::mappings::MappingsView;
use super::page::esc;

fn options(name: &str, label: &str, choices: &[&str]) -> String {
    let mut html = format!(
        "<label>{label}<select name=\"{name}\"><option value=\"\">(standard / unchanged)</option>"
    );
    for c in choices {
        let _ = write!(html, "<option>{}</option>", esc(c));
    }
    html.push_str("</select></label>");
    html
}

/// The section, `id="mapping"`.
pub(super) fn section(view: &MappingsView) -> String {
    let mut rows = String::new();
    for m in &view.mappings {
        let remove = if m.source == "console" {
            format!(
                "<form method=\"post\" action=\"/_ar/admin/mappings\" class=\"inline\">\
                 <input type=\"hidden\" name=\"event\" value=\"{}\">\
                 <button name=\"action\" value=\"remove\">Remove</button></form>",
                esc(&m.event)
            )
        } else {
            String::new()
        };
        let version = m.version.map_or(String::new(), |v| format!(" v{v}"));
        let _ = write!(
            rows,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}{version}</td><td>{remove}</td></tr>",
            esc(&m.event),
            esc(&m.mapping.meta),
            esc(&m.mapping.ga4),
            m.mapping.ads_category.as_str(),
            m.mapping.path.as_str(),
            m.mapping.key.as_str(),
            m.source,
        );
    }
    let categories: Vec<&str> = AdsCategory::ALL.iter().map(|c| c.as_str()).collect();
    let keys: Vec<&str> = BusinessKey::ALL.iter().map(|k| k.as_str()).collect();
    let paths = [
        DeliveryPath::RealTime.as_str(),
        DeliveryPath::Batched.as_str(),
    ];
    let mut history = String::new();
    for c in view.history.iter().take(20) {
        let what = match (&c.previous, &c.value) {
            (_, Some(v)) => format!("Meta {}, GA4 {}", esc(&v.meta), esc(&v.ga4)),
            (Some(_), None) => "removed".to_owned(),
            (None, None) => String::new(),
        };
        let before = c.previous.as_ref().map_or("none".to_owned(), |p| {
            format!("Meta {}, GA4 {}", esc(&p.meta), esc(&p.ga4))
        });
        let _ = write!(
            history,
            "<li><code>{}</code> v{} at {}: {what} (before: {before})</li>",
            esc(&c.event),
            c.version,
            super::page::utc(c.changed_at)
        );
    }
    if history.is_empty() {
        history.push_str("<li>No changes yet.</li>");
    }
    format!(
        "<section id=\"mapping\"><h2>Event mapping</h2>\
         <p>Standard events, <code>EVENT_MAPPING</code> (deploy) and the console's entries, which \
         win. A change is used by new events within seconds; events already accepted keep the \
         mapping they were accepted with.</p>\
         <div class=\"scroll\"><table><thead><tr><th>event</th><th>Meta</th><th>GA4</th>\
         <th>Google Ads</th><th>path</th><th>key</th><th>from</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table></div>\
         <h3>Add or change a mapping</h3>\
         <form method=\"post\" action=\"/_ar/admin/mappings\" class=\"grid\">\
         <label>Event<input name=\"event\" required placeholder=\"quiz.completed\"></label>\
         <label>Meta name<input name=\"meta\" placeholder=\"QuizCompleted\"></label>\
         <label>GA4 name<input name=\"ga4\" placeholder=\"quiz_completed\"></label>\
         {cat}{path}{key}\
         <button name=\"action\" value=\"save\">Save mapping</button></form>\
         <h3>Changes</h3><ul>{history}</ul></section>",
        cat = options("ads_category", "Google Ads category", &categories),
        path = options("path", "Path", &paths),
        key = options("key", "Business key", &keys),
    )
}
