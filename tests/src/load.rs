//! A load generator for `make bench`, loopback only: many simulated clients (each request from its
//! own client address, as shoppers behind one worker are), a fixed number of connections kept
//! busy for a fixed time, every latency kept so percentiles are exact.
//!
//! It refuses any target that is not on the loopback range: load is never sent anywhere else.

// Measurements: counts and microseconds become floating-point figures (far below 2^52).
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// One request to send: path, headers, body.
pub struct Shot {
    /// Path and query, e.g. `/_ar/collect`.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
    /// A status that counts as an answer besides 2xx (a request meant to be refused).
    pub also_answered: Option<u16>,
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Requests answered 2xx (or with the shot's `also_answered` status).
    pub ok: u64,
    /// Requests answered otherwise, or not at all.
    pub failed: u64,
    /// The first non-2xx status and body seen, for the report.
    pub first_failure: Option<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of every answer counted in `ok`, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl Run {
    /// 2xx answers per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile latency in milliseconds (`p` in 0..=100).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = (p / 100.0 * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank.min(self.latencies_us.len() - 1)] as f64 / 1000.0
    }
}

/// Whether `base_url` is on the loopback range (127.0.0.0/8, `localhost`, `[::1]`).
pub fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Keeps `connections` requests in flight against `base_url` for `duration`; `shot(n)` makes the
/// n-th request (unique ids, client addresses, signatures are the caller's).
///
/// # Panics
/// When `base_url` is not on the loopback range.
pub async fn run<F>(base_url: &str, connections: usize, duration: Duration, shot: F) -> Run
where
    F: Fn(u64) -> Shot + Send + Sync + 'static,
{
    assert!(
        is_loopback(base_url),
        "load goes to loopback only, not {base_url}"
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let shot = Arc::new(shot);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, shot, next) = (client.clone(), Arc::clone(&shot), Arc::clone(&next));
        let base = base_url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            while Instant::now() < deadline {
                let s = shot(next.fetch_add(1, Ordering::Relaxed));
                let also = s.also_answered;
                let sent = Instant::now();
                let res = client
                    .post(format!("{base}{}", s.path))
                    .headers(s.headers)
                    .body(s.body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() || Some(r.status().as_u16()) == also => {
                        let _ = r.bytes().await;
                        let us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                        run.ok += 1;
                        run.latencies_us.push(us);
                    }
                    Ok(r) => {
                        run.failed += 1;
                        if run.first_failure.is_none() {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            run.first_failure = Some(format!("{status} {text}"));
                        }
                    }
                    Err(e) => {
                        run.failed += 1;
                        run.first_failure.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            run
        }));
    }
    let mut total = Run::default();
    for t in tasks {
        if let Ok(r) = t.await {
            total.ok += r.ok;
            total.failed += r.failed;
            total.latencies_us.extend(r.latencies_us);
            if total.first_failure.is_none() {
                total.first_failure = r.first_failure;
            }
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        assert!(is_loopback("http://127.0.0.1:8787"));
        assert!(is_loopback("http://127.9.9.9/"));
        assert!(is_loopback("http://localhost:1"));
        assert!(is_loopback("http://[::1]:80"));
        assert!(!is_loopback("http://10.0.0.1:8787"));
        assert!(!is_loopback("http://192.168.1.1"));
        assert!(!is_loopback("http://example.com"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn percentiles_are_read_from_the_sorted_latencies() {
        let run = Run {
            ok: 100,
            latencies_us: (1..=100).map(|i| i * 1000).collect(),
            elapsed: Duration::from_secs(2),
            ..Run::default()
        };
        assert!((run.percentile_ms(50.0) - 51.0).abs() < 1e-9);
        assert!((run.percentile_ms(99.0) - 99.0).abs() < 1e-9);
        assert!((run.throughput() - 50.0).abs() < 1e-9);
    }
}
