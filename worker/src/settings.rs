//! Reads `ar_shared::settings::Settings` from the worker's vars and secrets.

use ar_shared::settings::{SettingProblem, Settings};
use worker::Env;

/// Every setting, or every problem with them (each naming its var or secret).
pub fn load(env: &Env) -> Result<Settings, Vec<SettingProblem>> {
    Settings::from_lookup(&|name| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}
