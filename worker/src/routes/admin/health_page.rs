//! The console's health section: the figures aggregated as events flow, for 24 hours and 7 days,
//! per event type, with each threshold's pass/warn and its "what to do".

use std::fmt::Write as _;

use ar_shared::health_report::{Check, Figures, HealthFigures, Window};

use super::page::esc;

fn pct(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

fn ms(v: Option<u64>) -> String {
    match v {
        None => "–".into(),
        Some(u64::MAX) => "> 7 d".into(),
        Some(m) if m < 60_000 => format!("≤ {} s", m / 1000),
        Some(m) if m < 3_600_000 => format!("≤ {} min", m / 60_000),
        Some(m) => format!("≤ {} h", m / 3_600_000),
    }
}

fn badge(c: &Check, shown: &str) -> String {
    let advice = if c.state == "warn" {
        format!("<br><small>{}</small>", esc(c.what_to_do))
    } else {
        String::new()
    };
    format!(
        "<span class=\"{s}\" data-check=\"{s}\">{shown} <b>{s}</b></span>{advice}",
        s = c.state
    )
}

fn row(name: &str, f: &Figures) -> String {
    let meta = &f.platforms["meta"];
    let mut platforms = String::new();
    for (p, x) in &f.platforms {
        if x.delivered + x.failed + x.retried + x.throttled == 0 {
            continue;
        }
        let reasons: Vec<String> = x
            .top_reasons
            .iter()
            .map(|(r, n)| format!("{} ({n})", esc(r)))
            .collect();
        let _ = write!(
            platforms,
            "<div><b>{p}</b>: {} delivered, {} failed, {} retried, {} throttled; p50 {}, p95 {}{}</div>",
            x.delivered,
            x.failed,
            x.retried,
            x.throttled,
            ms(x.latency_p50_ms),
            ms(x.latency_p95_ms),
            if reasons.is_empty() {
                String::new()
            } else {
                format!("; top reasons: {}", reasons.join(", "))
            }
        );
    }
    let consent: Vec<String> = f
        .consent
        .get("ad_user_data")
        .map(|m| m.iter().map(|(s, n)| format!("{s} {n}")).collect())
        .unwrap_or_default();
    format!(
        "<tr><th>{}</th><td>{}</td><td>{} / {} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{platforms}</td></tr>",
        esc(name),
        f.seen,
        f.from_pixel,
        f.from_shop,
        f.both,
        badge(&f.dedup_check, &pct(f.dedup_rate)),
        badge(
            &f.match_quality_check,
            &f.match_quality.map_or("–".into(), |m| format!("{m:.1}/10"))
        ),
        badge(&meta.coverage_check, &pct(meta.coverage)),
        badge(&meta.combined_check, &pct(meta.combined_coverage)),
        consent.join(", "),
    )
}

fn table(w: &Window, id: &str) -> String {
    let mut rows = row("all events", &w.all);
    for (event, f) in &w.events {
        rows.push_str(&row(event, f));
    }
    format!(
        "<h3>Last {h}</h3><div class=\"scroll\"><table id=\"{id}\"><thead><tr><th>event</th>\
         <th>seen</th><th>pixel / shop / both</th><th>dedup</th><th>match quality (goal 7/10)</th>\
         <th>Meta coverage (goal 75 %)</th><th>pixel + server (goal ~100 %)</th>\
         <th>ad_user_data</th><th>delivery</th></tr></thead><tbody>{rows}</tbody></table></div>",
        h = if w.hours == 24 { "24 hours" } else { "7 days" },
    )
}

/// Meta coverage (server copies) and pixel + server coverage per event type, 7 days, as bars
/// against the 75 % goal line.
fn coverage_chart(w: &Window) -> String {
    let rows: Vec<(&str, Option<f64>, Option<f64>)> = w
        .events
        .iter()
        .map(|(e, f)| {
            let m = &f.platforms["meta"];
            (e.as_str(), m.coverage, m.combined_coverage)
        })
        .collect();
    let height = rows.len() * 34 + 40;
    let mut svg = format!(
        "<svg id=\"coverage-chart\" role=\"img\" aria-label=\"Meta coverage per event type\" \
         width=\"640\" height=\"{height}\" viewBox=\"0 0 640 {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (i, (event, server, combined)) in rows.iter().enumerate() {
        let y = i * 34 + 5;
        let _ = write!(svg, "<text x=\"0\" y=\"{}\">{}</text>", y + 12, esc(event));
        for (j, (v, color, what)) in [
            (server, "#1565c0", "server"),
            (combined, "#90caf9", "pixel + server"),
        ]
        .into_iter()
        .enumerate()
        {
            let w = v.unwrap_or(0.0) * 440.0;
            let _ = write!(
                svg,
                "<rect x=\"170\" y=\"{}\" width=\"{w:.1}\" height=\"12\" fill=\"{color}\">\
                 <title>{what}: {}</title></rect>",
                y + j * 13,
                pct(*v)
            );
        }
    }
    let goal = 170.0 + 0.75 * 440.0;
    let _ = write!(
        svg,
        "<line x1=\"{goal}\" x2=\"{goal}\" y1=\"0\" y2=\"{}\" stroke=\"#c62828\" \
         stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{}\">75 % goal</text>\
         <rect x=\"170\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#1565c0\"/>\
         <text x=\"184\" y=\"{}\">server copies</text>\
         <rect x=\"300\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#90caf9\"/>\
         <text x=\"314\" y=\"{}\">pixel + server</text></svg>",
        height - 22,
        goal + 4.0,
        height - 26,
        height - 16,
        height - 7,
        height - 16,
        height - 7,
    );
    svg
}

/// The section, `id="health"`.
pub(super) fn section(f: &HealthFigures) -> String {
    format!(
        "<section id=\"health\"><h2>Health</h2><p>Counted as events flow, by the hour each event \
         happened. Shares are of the events seen from any source.</p>{}{}\
         <h3>Meta coverage per event type, 7 days</h3>{}</section>",
        table(&f.last_24h, "health-24h"),
        table(&f.last_7d, "health-7d"),
        coverage_chart(&f.last_7d)
    )
}
