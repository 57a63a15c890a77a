//! The console's "Meta's grades" section: per Meta event name, Meta's own grades (Dataset Quality
//! API, fetched hourly) beside our estimates — match quality, coverage against Meta's goal,
//! deduplication, freshness, the match keys and Meta's diagnostics. Plain HTML, no script. Each row
//! is `data-event="<Meta name>"`; each figure cell carries `data-meta` and `data-ours`.

use std::fmt::Write as _;

use ar_shared::platform::dataset_quality::{EventComparison, MetaQuality, Pair};

use super::page::{esc, utc};

fn pct(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

fn score(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |s| format!("{s:.1}/10"))
}

fn attr(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// One figure: Meta's beside ours, with Meta's pass/warn.
fn cell(what: &str, p: &Pair, shown: fn(Option<f64>) -> String, state: &str) -> String {
    format!(
        "<td data-what=\"{what}\" data-meta=\"{}\" data-ours=\"{}\" class=\"{state}\">Meta <b>{}</b>\
         <br>ours {}</td>",
        attr(p.meta),
        attr(p.ours),
        shown(p.meta),
        shown(p.ours)
    )
}

fn row(e: &EventComparison) -> String {
    let keys: Vec<String> = e
        .match_keys
        .iter()
        .map(|k| format!("{} {} / {}", esc(&k.identifier), pct(k.meta), pct(k.ours)))
        .collect();
    let dedupe: Vec<String> = e
        .dedupe_keys
        .iter()
        .map(|k| format!("{} {}", esc(&k.key), pct(k.overall_browser_coverage)))
        .collect();
    let diagnostics: Vec<String> = e
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "<b>{}</b> ({}): {}",
                esc(&d.name),
                pct(d.pct.map(|p| p / 100.0)),
                esc(&d.solution)
            )
        })
        .collect();
    let mut advice = String::new();
    for c in [&e.match_quality_check, &e.coverage_check] {
        if c.state == "warn" {
            let _ = write!(advice, "<br><small>{}</small>", esc(c.what_to_do));
        }
    }
    format!(
        "<tr data-event=\"{name}\"><th>{name}<br><small>{ours}</small></th>{mq}{coverage}{dedup}\
         <td data-what=\"freshness\" data-meta=\"{fm}\" data-ours=\"{fo}\">Meta <b>{fm}</b><br>ours {fo}</td>\
         <td>{acr}</td><td><small>{keys}</small></td><td><small>{dedupe}</small></td>\
         <td>{diagnostics}{advice}</td></tr>",
        name = esc(&e.event_name),
        ours = esc(&e.our_events.join(", ")),
        mq = cell(
            "match_quality",
            &e.match_quality,
            score,
            e.match_quality_check.state
        ),
        coverage = cell("coverage", &e.coverage, pct, e.coverage_check.state),
        dedup = cell("dedup", &e.dedup, pct, "none"),
        fm = esc(e.freshness.meta.as_deref().unwrap_or("–")),
        fo = e.freshness.ours.unwrap_or("–"),
        acr = pct(e.acr),
        keys = keys.join("<br>"),
        dedupe = dedupe.join("<br>"),
        diagnostics = diagnostics.join("<br>"),
    )
}

fn status(q: &MetaQuality) -> String {
    let agent = q.agent_name.as_deref().map_or_else(
        || "every event of the dataset (no META_PARTNER_AGENT)".to_owned(),
        |a| format!("events sent with partner agent <code>{}</code>", esc(a)),
    );
    let fetched = q.fetched_at.as_deref().map_or_else(
        || "not fetched yet: the cron asks Meta at most once an hour".to_owned(),
        |t| format!("fetched {}", esc(t)),
    );
    let next = q.next_fetch_at_ms.map_or(String::new(), |ms| {
        format!("; next fetch after {}", utc(ms))
    });
    let mut out = format!(
        "<p id=\"meta-quality-status\" data-state=\"{}\">Dataset <code>{}</code>, {agent}: {fetched}{next}.</p>",
        q.state,
        esc(&q.dataset_id)
    );
    if let Some(error) = &q.error {
        let _ = write!(
            out,
            "<p role=\"alert\" id=\"meta-quality-error\"><b>The last fetch failed:</b> {}. {}</p>",
            esc(error),
            esc(q.what_to_do.as_deref().unwrap_or_default())
        );
    }
    out
}

/// The section, `id="meta-quality"`.
pub(super) fn section(q: Option<&MetaQuality>) -> String {
    let Some(q) = q else {
        return "<section id=\"meta-quality\"><h2>Meta's grades</h2><p>Meta is not configured.</p>\
                </section>"
            .to_owned();
    };
    let rows: String = q.events.iter().map(row).collect();
    format!(
        "<section id=\"meta-quality\"><h2>Meta's grades beside ours</h2><p>Meta's own figures from \
         its Dataset Quality API (match quality of the last 48 hours, coverage, deduplication and \
         additional conversions of the last 7 days), beside our estimates from the health counters.\
         </p>{}<div class=\"scroll\"><table id=\"meta-quality-table\"><thead><tr><th>Meta event</th>\
         <th>match quality (goal 7/10)</th><th>coverage (Meta's goal)</th><th>deduplicated</th>\
         <th>freshness</th><th>more conversions (ACR)</th><th>match keys, Meta / ours</th>\
         <th>dedupe keys</th><th>Meta's diagnostics</th></tr></thead><tbody>{rows}</tbody></table>\
         </div></section>",
        status(q)
    )
}
