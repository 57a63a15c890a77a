//! `/_ar/health` (JSON) and `/_ar/admin` (HTML): match quality, coverage, dedup, delivery
//! (DESIGN §6). Also the admin API: `POST /_ar/admin/test` (send a sample event in the platforms'
//! test modes) and `POST /_ar/admin/replay` (re-queue failed rows).
//!
//! Everything requires `Authorization: Bearer <ADMIN_TOKEN>` (the HTML page also accepts
//! `?token=`, for a browser): 401 otherwise, 503 while `ADMIN_TOKEN` is not set. The page is
//! rendered here, charts as inline SVG, with no external script. Only event names, ids, platforms
//! and reasons are shown: never PII.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ar_shared::delivery_outcome::CONFIG_PREFIX;
use ar_shared::delivery_plan::{Platform, RowStatus};
use ar_shared::platform::request::Mode;
use ar_shared::sample_event::sample_record;
use ar_shared::settings::{SettingProblem, Settings};
use serde_json::{Value, json};
use worker::{Context, D1Database, Env, Method, Request, Response, Result};

use super::error_json;
use crate::delivery::{oauth, send};
use crate::store::outbox::{self, field_str, field_u64, num, text};
use crate::{bindings, runtime, settings};

/// Dispatches `/_ar/health` and `/_ar/admin*`.
pub async fn handle(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let _ = ctx;
    let url = req.url()?;
    let path = url.path().to_owned();
    let query_token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    let Some(expected) = admin_token(env) else {
        return error_json(
            503,
            "admin_disabled",
            "set ADMIN_TOKEN (wrangler secret put ADMIN_TOKEN) to use the admin pages",
        );
    };
    let bearer = req
        .headers()
        .get("authorization")?
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
    let html = req.method() == Method::Get && path == "/_ar/admin";
    let presented = bearer.or(if html { query_token } else { None });
    if !presented.is_some_and(|t| same(t.as_bytes(), expected.as_bytes())) {
        return error_json(
            401,
            "unauthorized",
            "send Authorization: Bearer <ADMIN_TOKEN>",
        );
    }
    match (req.method(), path.as_str()) {
        (Method::Get, "/_ar/health") => Response::from_json(&health(env).await?),
        (Method::Get, "/_ar/admin") => Response::from_html(page(&health(env).await?)),
        (Method::Post, "/_ar/admin/test") => test(env).await,
        (Method::Post, "/_ar/admin/replay") => {
            let named = url
                .query_pairs()
                .find(|(k, _)| k == "platform")
                .map(|(_, v)| v.into_owned());
            let platform = match named.as_deref().map(|v| (v, Platform::parse(v))) {
                None => None,
                Some((_, Some(p))) => Some(p),
                // A typo must not replay every platform's failed rows.
                Some((v, None)) => {
                    let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
                    return error_json(
                        400,
                        "invalid_platform",
                        &format!("unknown platform {v:?}: use one of {}", known.join(", ")),
                    );
                }
            };
            let db = env.d1(bindings::DB)?;
            let n = outbox::replay_failed(&db, platform, runtime::now_ms()).await?;
            Response::from_json(&json!({ "requeued": n, "note": "sent at the next flush" }))
        }
        (_, "/_ar/health" | "/_ar/admin" | "/_ar/admin/test" | "/_ar/admin/replay") => {
            error_json(405, "method_not_allowed", "see the admin API in README.md")
        }
        _ => error_json(404, "not_found", "no such admin path"),
    }
}

fn admin_token(env: &Env) -> Option<String> {
    env.secret("ADMIN_TOKEN")
        .ok()
        .map(|s| s.to_string())
        .or_else(|| env.var("ADMIN_TOKEN").ok().map(|v| v.to_string()))
        .filter(|t| !t.trim().is_empty())
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn rows(db: &D1Database, sql: &str, values: &[wasm_bindgen::JsValue]) -> Result<Vec<Value>> {
    outbox::statement(db, sql, values)?
        .all()
        .await?
        .results::<Value>()
}

fn problems_json(problems: &[SettingProblem]) -> Value {
    problems
        .iter()
        .map(|p| json!({"name": p.name, "problem": p.problem}))
        .collect()
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
    }
}

/// The health report (DESIGN §6).
#[allow(clippy::too_many_lines)] // one query per section, in page order
async fn health(env: &Env) -> Result<Value> {
    let loaded = settings::load(env);
    let (problems, enabled) = match &loaded {
        Ok(s) => (
            Vec::new(),
            Platform::ALL
                .iter()
                .map(|p| (p.as_str(), p.enabled(s)))
                .collect::<BTreeMap<_, _>>(),
        ),
        Err(p) => (p.clone(), BTreeMap::new()),
    };
    let db = env.d1(bindings::DB)?;
    let mut delivery: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for p in Platform::ALL {
        let counts = delivery.entry(p.as_str().to_owned()).or_default();
        for s in RowStatus::ALL {
            counts.insert(s.as_str().to_owned(), 0);
        }
    }
    for row in rows(
        &db,
        "SELECT platform, status, COUNT(*) AS n FROM outbox GROUP BY platform, status",
        &[],
    )
    .await?
    {
        delivery
            .entry(field_str(&row, "platform").to_owned())
            .or_default()
            .insert(field_str(&row, "status").to_owned(), field_u64(&row, "n"));
    }
    let failures: Vec<Value> = rows(
        &db,
        "SELECT o.event_id, o.platform, o.last_error, o.updated_at, e.event FROM outbox o \
         LEFT JOIN events e ON e.event_id = o.event_id WHERE o.status = 'failed' \
         ORDER BY o.updated_at DESC LIMIT 20",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        json!({"event_id": field_str(r, "event_id"), "event": field_str(r, "event"),
               "platform": field_str(r, "platform"), "reason": field_str(r, "last_error"),
               "at_ms": field_u64(r, "updated_at")})
    })
    .collect();
    let config_errors: Vec<Value> = rows(
        &db,
        "SELECT platform, last_error, COUNT(*) AS n FROM outbox WHERE status = 'failed' \
         AND substr(last_error, 1, length(?1)) = ?1 GROUP BY platform, last_error ORDER BY n DESC LIMIT 10",
        &[text(Some(CONFIG_PREFIX))],
    )
    .await?
    .iter()
    .map(|r| json!({"platform": field_str(r, "platform"), "reason": field_str(r, "last_error"), "events": field_u64(r, "n")}))
    .collect();
    let skips: Vec<Value> = rows(
        &db,
        "SELECT platform, last_error, COUNT(*) AS n FROM outbox WHERE status IN ('skipped', 'held') \
         GROUP BY platform, last_error ORDER BY n DESC LIMIT 10",
        &[],
    )
    .await?
    .iter()
    .map(|r| json!({"platform": field_str(r, "platform"), "reason": field_str(r, "last_error"), "events": field_u64(r, "n")}))
    .collect();
    let totals = rows(
        &db,
        "SELECT COUNT(*) AS total, COALESCE(SUM(from_shop), 0) AS shop, COALESCE(SUM(from_pixel), 0) AS pixel, \
           COALESCE(SUM(from_shop * from_pixel), 0) AS both, COALESCE(AVG(match_quality), 0) AS mq \
         FROM events",
        &[],
    )
    .await?;
    let t = totals.first().cloned().unwrap_or(Value::Null);
    let (total, shop, pixel, both) = (
        field_u64(&t, "total"),
        field_u64(&t, "shop"),
        field_u64(&t, "pixel"),
        field_u64(&t, "both"),
    );
    let mut missing: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows(
        &db,
        "SELECT missing_keys FROM events ORDER BY updated_at DESC LIMIT 1000",
        &[],
    )
    .await?
    {
        for key in field_str(&r, "missing_keys")
            .split(',')
            .filter(|k| !k.is_empty())
        {
            *missing.entry(key.to_owned()).or_default() += 1;
        }
    }
    let mut most_missing: Vec<(String, u64)> = missing.into_iter().collect();
    most_missing.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let history: Vec<Value> = rows(
        &db,
        "SELECT day, platform, metric, n FROM counters WHERE day >= ?1 ORDER BY day",
        &[num(runtime::now_ms() / 86_400_000 - 14)],
    )
    .await?
    .iter()
    .map(|r| json!({"day": field_u64(r, "day"), "platform": field_str(r, "platform"), "metric": field_str(r, "metric"), "n": field_u64(r, "n")}))
    .collect();
    let mq = t["mq"].as_f64().unwrap_or(0.0);
    Ok(json!({
        "ok": problems.is_empty() && config_errors.is_empty(),
        "config": { "problems": problems_json(&problems), "platforms": enabled, "errors": config_errors },
        "delivery": delivery,
        "recent_failures": failures,
        "skipped": skips,
        "events": {
            "total": total, "from_pixel": pixel, "server_copies": shop, "both_sources": both,
            // DESIGN §6: coverage = server copies vs all seen; dedup = seen from both sides.
            "coverage": ratio(shop, total), "dedup_rate": ratio(both, total),
        },
        "match_quality": {
            "average_score": (mq / 10.0 * 10.0).round() / 10.0,
            "average_points": mq.round(),
            "most_missing": most_missing.iter().take(5)
                .map(|(k, n)| json!({"key": k, "events": n})).collect::<Vec<_>>(),
        },
        "history": history,
    }))
}

fn esc(s: &str) -> String {
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

/// One stacked horizontal bar per platform, drawn as inline SVG.
fn delivery_chart(delivery: &Value) -> String {
    let platforms: Vec<(&String, &Value)> = delivery
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    let max = platforms
        .iter()
        .map(|(_, c)| {
            COLORS
                .iter()
                .map(|(s, _)| c[*s].as_u64().unwrap_or(0))
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let height = platforms.len() * 30 + 30;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"delivery per platform\" width=\"640\" height=\"{height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (row, (name, counts)) in platforms.iter().enumerate() {
        let y = row * 30 + 5;
        let _ = write!(svg, "<text x=\"0\" y=\"{}\">{}</text>", y + 15, esc(name));
        let mut x = 110.0;
        for (status, color) in COLORS {
            let n = counts[status].as_u64().unwrap_or(0);
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

fn list(items: &Value, f: impl Fn(&Value) -> String) -> String {
    let rows: Vec<String> = items
        .as_array()
        .map(|a| a.iter().map(|v| format!("<li>{}</li>", f(v))).collect())
        .unwrap_or_default();
    if rows.is_empty() {
        "<p>None.</p>".to_owned()
    } else {
        format!("<ul>{}</ul>", rows.join(""))
    }
}

/// The HTML health page.
fn page(h: &Value) -> String {
    let e = &h["events"];
    let pct = |v: &Value| {
        v.as_f64()
            .map_or("–".to_owned(), |r| format!("{:.1} %", r * 100.0))
    };
    let problems = list(&h["config"]["problems"], |p| {
        format!(
            "<b>{}</b>: {}",
            esc(field_str(p, "name")),
            esc(field_str(p, "problem"))
        )
    });
    let config_errors = list(&h["config"]["errors"], |p| {
        format!(
            "{} ({} events): {}",
            esc(field_str(p, "platform")),
            field_u64(p, "events"),
            esc(field_str(p, "reason"))
        )
    });
    let failures = list(&h["recent_failures"], |f| {
        format!(
            "<code>{}</code> {} → {}: {}",
            esc(field_str(f, "event_id")),
            esc(field_str(f, "event")),
            esc(field_str(f, "platform")),
            esc(field_str(f, "reason"))
        )
    });
    let skipped = list(&h["skipped"], |f| {
        format!(
            "{} ({}): {}",
            esc(field_str(f, "platform")),
            field_u64(f, "events"),
            esc(field_str(f, "reason"))
        )
    });
    let missing = list(&h["match_quality"]["most_missing"], |m| {
        format!(
            "<code>{}</code> missing in {} events",
            esc(field_str(m, "key")),
            field_u64(m, "events")
        )
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Active Reach — health</title>\
         <style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;padding:0 1em}}\
         .kpi{{display:inline-block;margin:0 2em 1em 0}}.kpi b{{font-size:1.6em;display:block}}</style></head><body>\
         <h1>Active Reach — health</h1>\
         <div class=\"kpi\"><b>{total}</b>events</div>\
         <div class=\"kpi\"><b>{coverage}</b>coverage (server copies)</div>\
         <div class=\"kpi\"><b>{dedup}</b>seen from pixel and shop</div>\
         <div class=\"kpi\"><b>{mq}/10</b>average match quality</div>\
         <h2>Delivery per platform</h2>{chart}\
         <h2>Configuration problems</h2>{problems}<h3>Platform setup errors</h3>{config_errors}\
         <h2>Recent failures</h2>{failures}\
         <h2>Skipped and held</h2>{skipped}\
         <h2>Most missing match keys</h2>{missing}\
         <p>JSON: <code>GET /_ar/health</code>. Replay failed rows: <code>POST /_ar/admin/replay</code>. \
         Send a test event: <code>POST /_ar/admin/test</code>.</p></body></html>",
        total = field_u64(e, "total"),
        coverage = pct(&e["coverage"]),
        dedup = pct(&e["dedup_rate"]),
        mq = h["match_quality"]["average_score"].as_f64().unwrap_or(0.0),
        chart = delivery_chart(&h["delivery"]),
    )
}

/// Sends the sample event to every configured platform in test mode and reports each answer.
async fn test(env: &Env) -> Result<Response> {
    let settings: Settings = match settings::load(env) {
        Ok(s) => s,
        Err(problems) => {
            return Ok(Response::from_json(&json!({
                "error": "invalid_settings", "problems": problems_json(&problems)
            }))?
            .with_status(503));
        }
    };
    let now = runtime::now_ms();
    let record = sample_record(
        now,
        runtime::random_bytes()?,
        &settings.default_country,
        &settings.mappings,
    )
    .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let Some(event) = record.to_outbound(&settings.mappings, &settings.regions) else {
        return error_json(500, "unmapped", "purchases are not mapped");
    };
    let mut answers = serde_json::Map::new();
    for platform in Platform::ALL {
        if !platform.enabled(&settings) {
            continue;
        }
        // Without a test code a Meta "test" would be a live conversion (meta-capi.md §8).
        if platform == Platform::Meta
            && settings
                .meta
                .as_ref()
                .is_none_or(|m| m.test_event_code.is_none())
        {
            answers.insert(platform.as_str().into(), json!({"skipped": "set META_TEST_EVENT_CODE (Events Manager → Test events) to send a test event"}));
            continue;
        }
        let token = match platform {
            Platform::GoogleAds | Platform::DataManager => {
                match oauth::access_token(env, &settings, now).await {
                    Ok(t) => t,
                    Err(v) => {
                        answers.insert(platform.as_str().into(), json!({"error": v}));
                        continue;
                    }
                }
            }
            Platform::Meta | Platform::Ga4 => String::new(),
        };
        let built = send::build(&settings, platform, &[&event], &token, Mode::Test);
        let Some(request) = built.request else {
            let reasons: Vec<String> = built.skipped.iter().map(|s| s.reason.to_string()).collect();
            answers.insert(
                platform.as_str().into(),
                json!({"skipped": reasons.join("; ")}),
            );
            continue;
        };
        let answer = match send::fetch(&request).await {
            Ok((status, body)) => {
                let verdicts = send::classify(platform, status, &body, &[&event], now, Mode::Test);
                let body: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| Value::String(body.chars().take(2000).collect()));
                json!({"status": status, "answer": body, "verdict": verdicts.first()})
            }
            Err(e) => json!({"error": format!("no answer: {e}")}),
        };
        answers.insert(platform.as_str().into(), answer);
    }
    Response::from_json(&json!({ "event_id": record.event_id, "platforms": answers }))
}
