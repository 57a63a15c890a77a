//! Native run of the bench's Meta path for a profiler (`valgrind --tool=callgrind`): 1000-event
//! bodies, `AR_PROFILE_ROUNDS` times (default 3).

fn main() {
    let purchase = include_str!("../../purchase.json");
    let rounds: usize = std::env::var("AR_PROFILE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut bytes = 0;
    for _ in 0..rounds {
        bytes += ar_bench_wasm::meta_body(purchase, 1000).len();
    }
    println!("{bytes} bytes");
}
