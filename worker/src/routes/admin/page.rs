//! The admin page: the health report as HTML, charts as inline SVG, no external script.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::mappings::MappingsView;
use super::report::{Health, ReasonCount};

/// A time for people (`ar_shared::console::utc_time`).
pub(super) fn utc(ms: u64) -> String {
    ar_shared::console::utc_time(ms)
}

/// The page's style: one column that reflows from 1280 px down to a phone's width.
const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em}\
    .kpi{display:inline-block;margin:0 2em 1em 0}.kpi b{font-size:1.6em;display:block}\
    .scroll{overflow-x:auto}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;\
    padding:.3em .5em;text-align:left;vertical-align:top}.grid{display:flex;flex-wrap:wrap;\
    gap:.5em 1em;align-items:end}.grid label{display:flex;flex-direction:column}\
    form.inline{display:inline}input,select,button{font:inherit;padding:.3em}\
    svg{max-width:100%;height:auto}nav a{margin-right:1em}.warn b{color:#b26a00}\
    .pass b{color:#2e7d32}";

/// A console page with `title` and `body`.
pub(super) fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// The answer to a form: what was done (or why nothing was), and the way back.
pub(super) fn confirmation(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Active Reach — {t}</title>\
         <style>{STYLE}</style></head><body><h1>{t}</h1><p role=\"status\" id=\"outcome\">{x}</p>\
         <p><a href=\"/_ar/admin\">Back to the console</a></p></body></html>",
        t = esc(title),
        x = esc(text)
    )
}

/// `s` escaped for HTML text and attribute values.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [(&str, &str); 5] = [
    ("delivered", "#2e7d32"),
    ("pending", "#f9a825"),
    ("held", "#6d4c41"),
    ("skipped", "#9e9e9e"),
    ("failed", "#c62828"),
];

/// One stacked horizontal bar per platform.
fn delivery_chart(delivery: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    let count = |c: &BTreeMap<String, u64>, s: &str| c.get(s).copied().unwrap_or(0);
    let max = delivery
        .values()
        .map(|c| COLORS.iter().map(|(s, _)| count(c, s)).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = delivery.len() * 30 + 30;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"delivery per platform\" width=\"640\" height=\"{height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (row, (name, counts)) in delivery.iter().enumerate() {
        let y = row * 30 + 5;
        let _ = write!(svg, "<text x=\"0\" y=\"{}\">{}</text>", y + 15, esc(name));
        let mut x = 110.0;
        for (status, color) in COLORS {
            let n = count(counts, status);
            #[allow(clippy::cast_precision_loss)]
            let w = n as f64 / max as f64 * 500.0;
            if n > 0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{color}\"><title>{status}: {n}</title></rect>"
                );
            }
            x += w;
        }
    }
    let mut x = 110;
    for (status, color) in COLORS {
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\">{status}</text>",
            height - 18,
            x + 14,
            height - 9
        );
        x += 90;
    }
    svg.push_str("</svg>");
    svg
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return "<p>None.</p>".to_owned();
    }
    let rows: Vec<String> = items.iter().map(|v| format!("<li>{}</li>", f(v))).collect();
    format!("<ul>{}</ul>", rows.join(""))
}

fn reason_counts(items: &[ReasonCount]) -> String {
    list(items, |r| {
        format!(
            "{} ({} events): {}",
            esc(&r.platform),
            r.events.0,
            esc(r.reason.as_deref().unwrap_or(""))
        )
    })
}

/// The sign-in page: one form that posts the admin token (never put in a URL).
pub(super) fn login(problem: Option<&str>) -> String {
    let problem = problem.map_or(String::new(), |p| {
        format!("<p role=\"alert\"><b>{}</b></p>", esc(p))
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Active Reach — sign in</title>\
         <style>body{{font-family:sans-serif;max-width:30em;margin:3em auto;padding:0 1em}}\
         input{{width:100%;padding:.4em;margin:.4em 0}}</style></head><body>\
         <h1>Active Reach — sign in</h1>{problem}\
         <form method=\"post\" action=\"/_ar/admin/login\"><label for=\"token\">Admin token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form></body></html>"
    )
}

/// The answer to the "Send test" button: the event ID, each platform's answer and what to
/// check where. Each platform's row is `id="test-<platform>"` with `data-ok="true|false"`.
pub(super) fn test_answer(answer: &serde_json::Value) -> String {
    let mut rows = String::new();
    if let Some(platforms) = answer["platforms"].as_object() {
        for (name, a) in platforms {
            let ok = a["ok"] == true;
            let result = if let Some(s) = a["skipped"].as_str() {
                format!("not sent: {}", esc(s))
            } else if !a["error"].is_null() {
                format!("failed: {}", esc(&a["error"].to_string()))
            } else {
                format!(
                    "HTTP {} — {}",
                    a["status"],
                    if ok {
                        "accepted by the test mode"
                    } else {
                        "refused"
                    }
                )
            };
            let body = if a["answer"].is_null() {
                String::new()
            } else {
                let text = serde_json::to_string_pretty(&a["answer"]).unwrap_or_default();
                format!(
                    "<pre>{}</pre>",
                    esc(&text.chars().take(3000).collect::<String>())
                )
            };
            let action = a["action"].as_str().map_or(String::new(), |x| {
                format!("<p>Conversion action: {}</p>", esc(x))
            });
            let _ = write!(
                rows,
                "<tr id=\"test-{n}\" data-ok=\"{ok}\"><th>{n}</th><td><b>{result}</b>{action}{body}</td>\
                 <td>{check}</td></tr>",
                n = esc(name),
                check = esc(a["check"].as_str().unwrap_or_default()),
            );
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Active Reach — test sent</title>\
         <style>{STYLE}pre{{white-space:pre-wrap;max-width:40em;font-size:.85em}}</style></head><body>\
         <h1>Test sent</h1><p role=\"status\" id=\"outcome\">Sent the test event \
         <code id=\"test-event-id\">{id}</code> ({event}) to {n} enabled platform(s): {note}.</p>\
         <div class=\"scroll\"><table><thead><tr><th>platform</th><th>answer</th><th>what to check</th>\
         </tr></thead><tbody>{rows}</tbody></table></div>\
         <p><a href=\"/_ar/admin\">Back to the console</a></p></body></html>",
        id = esc(answer["event_id"].as_str().unwrap_or_default()),
        event = esc(answer["event"].as_str().unwrap_or_default()),
        n = answer["enabled_platforms"],
        note = esc(answer["note"].as_str().unwrap_or_default()),
    )
}

/// The console's "Send test" form.
fn test_form() -> String {
    "<section id=\"test\"><h2>Send test</h2><p>Sends one test event (a custom event, not a \
     conversion) to every enabled platform's test mode: Meta with a test code, Google with \
     validateOnly, GA4 to its validation endpoint. The answers are shown with what to check.</p>\
     <form method=\"post\" action=\"/_ar/admin/test\" class=\"grid\"><label>Meta test code \
     (empty: META_TEST_EVENT_CODE)<input name=\"meta_test_event_code\" placeholder=\"TEST12345\" \
     pattern=\"[A-Za-z0-9_-]{1,64}\"></label><button id=\"send-test\">Send test</button></form></section>"
        .to_owned()
}

/// The HTML health page.
pub(super) fn render(
    h: &Health,
    mappings: &MappingsView,
    google: &str,
    connections: &str,
) -> String {
    let e = &h.events;
    let pct = |v: Option<f64>| v.map_or("–".to_owned(), |r| format!("{:.1} %", r * 100.0));
    let problems = list(&h.config.problems, |p| {
        format!("<b>{}</b>: {}", esc(p.name), esc(&p.problem))
    });
    let config_errors = reason_counts(&h.config.errors);
    let failures = list(&h.recent_failures, |f| {
        format!(
            "<code>{}</code> {} → {}: {}",
            esc(&f.event_id),
            esc(f.event.as_deref().unwrap_or("")),
            esc(&f.platform),
            esc(f.reason.as_deref().unwrap_or(""))
        )
    });
    let skipped = reason_counts(&h.skipped);
    let missing = list(&h.match_quality.most_missing, |m| {
        format!(
            "<code>{}</code> missing in {} events",
            esc(&m.key),
            m.events
        )
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Active Reach — health</title>\
         <style>{STYLE}</style></head><body>\
         <h1>Active Reach — health</h1>\
         <nav><a href=\"#meta-quality\">Meta's grades</a><a href=\"#test\">Send test</a><a href=\"#mapping\">Event mapping</a>\
         <a href=\"#google\">Set up Google</a><a href=\"#connections\">Connected accounts</a>\
         <a href=\"/_ar/admin/failures\" id=\"failures-link\">Failures and replay</a></nav>\
         <div class=\"kpi\"><b>{total}</b>events</div>\
         <div class=\"kpi\"><b>{coverage}</b>events with a shop copy</div>\
         <div class=\"kpi\"><b>{dedup}</b>seen from pixel and shop</div>\
         <div class=\"kpi\"><b>{mq}/10</b>average match quality</div>\
         {figures}{quality}<h2>Delivery per platform</h2>{chart}\
         <h2>Configuration problems</h2>{problems}<h3>Platform setup errors</h3>{config_errors}\
         <h2>Recent failures</h2>{failures}\
         <h2>Skipped and held</h2>{skipped}\
         <h2>Most missing match keys</h2>{missing}\
         <p>JSON: <code>GET /_ar/health</code>. Replay failed rows: <code>POST /_ar/admin/replay</code>. \
         Send a test event: <code>POST /_ar/admin/test</code>.</p>{connections}{test}{mapping}{google}</body></html>",
        test = test_form(),
        mapping = super::mapping_page::section(mappings),
        total = e.total,
        coverage = pct(e.coverage),
        dedup = pct(e.dedup_rate),
        mq = h.match_quality.average_score,
        chart = delivery_chart(&h.delivery),
        figures = super::health_page::section(&h.figures),
        quality = super::meta_quality_page::section(h.meta_quality.as_ref()),
    )
}
