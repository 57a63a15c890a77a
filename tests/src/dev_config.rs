//! `make dev`'s worker configuration, read from `scripts/dev.sh` itself (its `--var "NAME:VALUE"`
//! lines and the shell variables they use), so a test can run the worker exactly as `make dev`
//! does, with the platform and storefront addresses of its own sandbox.

use std::collections::HashMap;

use crate::harness::repo_root;

/// Expands `$NAME` and `${NAME:-default}` in `text` from `vars`.
fn expand(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(inner) = rest.strip_prefix('{') {
            let end = inner.find('}').unwrap_or(inner.len());
            let (name, default) = inner[..end]
                .split_once(":-")
                .map_or((&inner[..end], ""), |(n, d)| (n, d));
            out.push_str(vars.get(name).map_or(default, String::as_str));
            rest = &inner[(end + 1).min(inner.len())..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(vars.get(&rest[..end]).map_or("", String::as_str));
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// The `--var` settings `scripts/dev.sh` starts the worker with, with `PLATFORMS` (the fake
/// platforms' base URL) and `ORIGIN` (the storefront) as given.
///
/// # Panics
/// When `scripts/dev.sh` cannot be read.
#[allow(clippy::expect_used)] // test harness: failing loudly is the point
pub fn dev_vars(platforms: &str, origin: &str) -> Vec<(String, String)> {
    let script =
        std::fs::read_to_string(repo_root().join("scripts/dev.sh")).expect("read scripts/dev.sh");
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("PLATFORMS".into(), platforms.into());
    vars.insert("ORIGIN".into(), origin.into());
    let mut settings = Vec::new();
    for line in script.lines().map(str::trim) {
        // Plain assignments the --var lines use (`ACTIONS="…"`, `ADMIN_TOKEN=${ADMIN_TOKEN:-…}`);
        // the two addresses given stay as given.
        let assignment = line.strip_prefix("export ").unwrap_or(line);
        if let Some((name, value)) = assignment.split_once('=')
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        {
            if name != "PLATFORMS" && name != "ORIGIN" {
                let value = value.split(" #").next().unwrap_or_default().trim();
                let expanded = expand(value.trim_matches('"'), &vars);
                vars.insert(name.to_owned(), expanded);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("--var \"")
            && let Some(end) = rest.find('"')
            && let Some((name, value)) = rest[..end].split_once(':')
        {
            settings.push((name.to_owned(), expand(value, &vars)));
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_variables_expand_with_their_defaults() {
        let mut vars = HashMap::new();
        vars.insert("A".to_owned(), "x".to_owned());
        assert_eq!(expand("$A/b ${C:-d} ${A:-z}", &vars), "x/b d x");
    }

    #[test]
    fn make_devs_settings_are_read_from_its_script() {
        let vars = dev_vars("http://p", "http://o");
        let get = |n: &str| {
            vars.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        assert_eq!(get("META_BASE_URL"), "http://p");
        assert_eq!(get("ORIGIN_URL"), "http://o");
        assert!(get("GOOGLE_CONVERSION_ACTIONS").starts_with("transaction.purchase=2001:webpage"));
        assert!(get("GOOGLE_CONVERSION_ACTIONS").contains(",cart.added=1004:upload_clicks"));
        assert!(get("ADMIN_TOKEN").len() >= 24);
        assert_eq!(get("META_TAG_URL"), "http://p/_sandbox/tags/fbevents.js");
    }
}
