//! Sending: real-time after the merge window, batched by the cron flush, retries and verdicts.

pub mod flush;
pub mod oauth;
pub mod realtime;
pub mod send;

use ar_shared::delivery_outcome::RetryPolicy;
use worker::Env;

/// The retry backoff; `RETRY_BASE_SECS` (dev/test only) shortens the first wait.
pub fn retry_policy(env: &Env) -> RetryPolicy {
    let var = env.var("RETRY_BASE_SECS").ok().map(|v| v.to_string());
    RetryPolicy::from_var(var.as_deref())
}
