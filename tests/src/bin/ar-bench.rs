//! `make bench`, part 3: the worker under load on loopback, against the workerd floor. Starts the
//! sandbox (fake Meta), the product under `wrangler dev` and a trivial 204 worker
//! (`bench/floor/`) the same way, then prints table rows:
//!
//! - `/_ar/collect`, `/_ar/events` with 1 and with 100 purchases per request: throughput, p50 and
//!   p99, each a ratio to the floor answering the same requests; rounds alternate between the two;
//! - `/_ar/collect` refused at validation (a 400 before any storage): the part of a collect's time
//!   spent before the session read, the queue send and the session write;
//! - D1: events stored per second through the real write path (`/_ar/events`, 100 per request);
//! - batching: events per Meta request once the browse events of the collect load are flushed;
//! - purchase to platform: a signed purchase to the fake Meta's receipt, minus the merge window.
//!
//! `AR_BENCH_SECS` (8), `AR_BENCH_ROUNDS` (3), `AR_BENCH_CONNECTIONS` (16) size the runs.

// Measurements: counts and microseconds become floating-point figures (far below 2^52).
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::time::{Duration, Instant};

use ar_sandbox::bench_shots::{self, SECRET, rows, spread};
use ar_sandbox::harness::{Service, TempDir, Worker, free_port, repo_root, wait_http_ok};
use ar_sandbox::load::{self, Run};
use ar_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

const ADMIN: &str = "bench-admin-token-0123456789abcdef";
const MERGE_WINDOW_MS: f64 = 2000.0;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn floor() -> (Service, String, TempDir) {
    let state = TempDir::new("floor");
    let port = free_port();
    let mut cmd = std::process::Command::new("wrangler");
    cmd.current_dir(repo_root().join("bench/floor"))
        .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--inspector-port", &free_port().to_string(), "--persist-to"])
        .arg(&state.0)
        .env("CI", "1");
    let service = Service::spawn("floor", cmd);
    let url = format!("http://127.0.0.1:{port}");
    wait_http_ok(&format!("{url}/"), Duration::from_secs(90), &service);
    (service, url, state)
}

async fn get(url: &str) -> Value {
    let res = reqwest::Client::new()
        .get(url)
        .bearer_auth(ADMIN)
        .send()
        .await;
    match res {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn cron(base: &str) {
    let _ = reqwest::get(format!("{base}/__scheduled?cron=*/5+*+*+*+*")).await;
}

/// Alternating rounds of `shot` against the product and the floor.
/// A round with failed requests prints the last lines the product's `wrangler dev` printed, so a
/// worker that stopped answering says why.
async fn race<F>(name: &str, ours: (&str, &Service), floor: &str, make: F) -> (Vec<Run>, Vec<Run>)
where
    F: Fn(String, u64) -> load::Shot + Send + Sync + Copy + 'static,
{
    let (secs, rounds, conns) = (
        env("AR_BENCH_SECS", 8),
        env("AR_BENCH_ROUNDS", 3),
        env("AR_BENCH_CONNECTIONS", 16),
    );
    let conns = usize::try_from(conns).unwrap_or(16);
    let (ours, log) = ours;
    let (mut o, mut f) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        for (target, url, out) in [("floor", floor, &mut f), ("ours", ours, &mut o)] {
            let tag = format!("{name}-{target}-{r}");
            let run = load::run(url, conns, Duration::from_secs(secs), move |n| {
                make(tag.clone(), n)
            })
            .await;
            eprintln!(
                "bench: {name} {target} round {r}: {} ok, {} failed",
                run.ok, run.failed
            );
            if run.failed > 0 && target == "ours" {
                let lines = log.output();
                let tail = &lines[lines.len().saturating_sub(30)..];
                eprintln!(
                    "bench: {name} round {r}: first failure {:?}; the worker's last lines:\n{}",
                    run.first_failure,
                    tail.join("\n")
                );
            }
            out.push(run);
        }
    }
    (o, f)
}

/// The product's Meta rows by status.
async fn meta_rows(base: &str) -> (u64, u64) {
    let d = get(&format!("{base}/_ar/health")).await["delivery"]["meta"].clone();
    let n = |k: &str| d[k].as_u64().unwrap_or(0);
    let total: u64 = d
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    (total, n("pending") + n("sending"))
}

/// Waits (bounded) until at least `rows` Meta rows are stored — the Queue consumer has written
/// the browse events — without running the cron, then runs the cron (the 5-minute flush) until
/// none is left to send. `false` when either did not happen within 4 minutes.
async fn settle(base: &str, rows: u64) -> bool {
    let deadline = Instant::now() + Duration::from_mins(4);
    while meta_rows(base).await.0 < rows {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    loop {
        cron(base).await;
        if meta_rows(base).await.1 == 0 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Events per accepted Meta request carrying `event_name`.
async fn batch_sizes(sandbox: &str, event_name: &str) -> Vec<f64> {
    let requests = get(&format!(
        "{sandbox}/_sandbox/requests?platform=meta&verdict=accepted"
    ))
    .await;
    requests
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["body"]["data"][0]["event_name"] == event_name)
        .map(|r| r["events"].as_f64().unwrap_or(0.0))
        .collect()
}

/// Purchase to the fake Meta's receipt minus the merge window, for `n` purchases, 3 at a time.
async fn purchase_latency(base: &str, sandbox: &str, n: u64) -> Vec<f64> {
    let mut sent = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(3) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let base = base.to_owned();
            tasks.push(tokio::spawn(async move {
                let shot = bench_shots::events("latency", i, 1);
                let at = ar_sandbox::clock::real_now_ms();
                let res = reqwest::Client::new()
                    .post(format!("{base}{}", shot.path))
                    .headers(shot.headers)
                    .body(shot.body)
                    .send()
                    .await
                    .ok()?;
                let report: Value = res.json().await.ok()?;
                Some((report["results"][0]["event_id"].as_str()?.to_owned(), at))
            }));
        }
        for t in tasks {
            if let Ok(Some(s)) = t.await {
                sent.push(s);
            }
        }
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut out = Vec::new();
    for (id, at) in sent {
        loop {
            let found = get(&format!(
                "{sandbox}/_sandbox/requests?platform=meta&event_id={id}"
            ))
            .await;
            if let Some(got) = found[0]["received_at_ms"].as_i64() {
                out.push((got - at) as f64 - MERGE_WINDOW_MS);
                break;
            }
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    out
}

/// What one stored event takes in D1 (record JSON plus its outbox rows' text; the database's page and
/// index overhead is not counted), for docs/capacity.md.
fn storage_row(worker: &Worker) -> String {
    let events = worker.d1("SELECT COUNT(*) AS n, SUM(LENGTH(record)) AS b FROM events");
    let outbox = worker.d1(
        "SELECT COUNT(*) AS n, SUM(LENGTH(event_id) + LENGTH(platform) + LENGTH(status) \
         + COALESCE(LENGTH(last_error), 0) + COALESCE(LENGTH(trace_id), 0) + 40) AS b FROM outbox",
    );
    let f = |rows: &[Value], k: &str| rows.first().and_then(|r| r[k].as_f64()).unwrap_or(0.0);
    let (n, record) = (f(&events, "n"), f(&events, "b"));
    if n == 0.0 {
        return "| D1 storage per stored event | not measured: no event stored | — | — |".into();
    }
    let total = record + f(&outbox, "b");
    format!(
        "| D1 bytes per stored event ({n:.0} events, {:.1} outbox rows each; pages and indexes not counted) | {:.0} B | the record JSON alone: {:.0} B | {:.2}× the record |",
        f(&outbox, "n") / n,
        total / n,
        record / n,
        total / record.max(1.0)
    )
}

#[tokio::main]
async fn main() {
    let Ok(sb) = Sandbox::start_local(SandboxConfig::default()).await else {
        eprintln!("bench: the sandbox did not start");
        std::process::exit(1);
    };
    let url = sb.platform_url.clone();
    let worker = Worker::start(&[
        ("META_BASE_URL", url.as_str()),
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("AR_SERVER_SECRET", SECRET),
        ("ADMIN_TOKEN", ADMIN),
        ("GEO_OVERRIDE", "US"),
    ]);
    let (_floor, floor_url, _state) = floor();
    let ours = worker.base_url.clone();
    let mut table = Vec::new();

    let (ours_runs, floor_runs) = race("collect", (&ours, &worker.process), &floor_url, |t, n| {
        bench_shots::collect(&t, n)
    })
    .await;
    table.extend(rows(
        "`/_ar/collect` (1 pixel event)",
        &ours_runs,
        &floor_runs,
    ));
    let accepted: u64 = ours_runs.iter().map(|r| r.ok).sum();
    if settle(&ours, accepted).await {
        let (median, text) = spread(batch_sizes(&url, "ViewContent").await, "events", 0);
        table.push(format!("| batching: events per Meta request after the browse load | {text} | Meta's limit: 1000 | {:.2}× the limit |", median / 1000.0));
    } else {
        table.push("| batching: events per Meta request | not measured: the flush did not settle within 4 min | — | — |".into());
    }
    // After the flush, so the queue's and cron's work on the accepted load does not overlap it.
    let (refused_runs, floor_runs) = race(
        "collect-refused",
        (&ours, &worker.process),
        &floor_url,
        |t, n| bench_shots::collect_refused(&t, n),
    )
    .await;
    table.extend(rows(
        "`/_ar/collect` refused at validation (400: nothing stored, no queue)",
        &refused_runs,
        &floor_runs,
    ));
    let _ = reqwest::Client::new()
        .post(format!("{url}/_sandbox/reset"))
        .send()
        .await;

    let (ours_runs, floor_runs) = race("events1", (&ours, &worker.process), &floor_url, |t, n| {
        bench_shots::events(&t, n, 1)
    })
    .await;
    table.extend(rows("`/_ar/events` (1 purchase)", &ours_runs, &floor_runs));
    let (ours_runs, floor_runs) =
        race("events100", (&ours, &worker.process), &floor_url, |t, n| {
            bench_shots::events(&t, n, 100)
        })
        .await;
    table.extend(rows(
        "`/_ar/events` (100 purchases)",
        &ours_runs,
        &floor_runs,
    ));
    let (stored, text) = spread(
        ours_runs.iter().map(|r| r.throughput() * 100.0).collect(),
        "events/s",
        0,
    );
    table.push(format!("| D1 writes: events stored per second (local D1, 100 per request) | {text} | — (the floor stores nothing) | {stored:.0} events/s |"));

    settle(&ours, 0).await;
    let lat = purchase_latency(&ours, &url, 30).await;
    let probe = Run {
        ok: lat.len() as u64,
        latencies_us: {
            let mut v: Vec<u64> = lat.iter().map(|ms| (ms.max(0.0) * 1000.0) as u64).collect();
            v.sort_unstable();
            v
        },
        ..Run::default()
    };
    table.push(format!("| purchase to platform, minus the {MERGE_WINDOW_MS:.0} ms merge window ({} purchases) | p50 {:.0} ms, p99 {:.0} ms | the merge window: {MERGE_WINDOW_MS:.0} ms | p99 {:.2}× the window (aim ≤ 300 ms over it) |",
        probe.ok, probe.percentile_ms(50.0), probe.percentile_ms(99.0), probe.percentile_ms(99.0) / MERGE_WINDOW_MS));
    table.push(storage_row(&worker));
    table.push("| workerd CPU time per event | not measurable here: local workerd reports no CPU time | — | — |".into());
    for row in table {
        println!("{row}");
    }
}
