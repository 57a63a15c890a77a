//! README "Deploy", walked through: every command of the guide is marked `# offline` or
//! `# (account)`; each offline one runs here exactly as written (local state in a temporary
//! directory), the route snippet deploys in a dry run, and what the guide creates and sets is what
//! `wrangler.toml` binds and what the worker reads as secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use ar_sandbox::harness::{TempDir, repo_root};

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).unwrap()
}

/// The "## Deploy" section.
fn guide() -> String {
    let readme = readme();
    let start = readme
        .find("\n## Deploy\n")
        .expect("README has a Deploy section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// The lines of the guide's fenced blocks of `lang`, trimmed.
fn block_lines(guide: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in guide.lines().map(str::trim) {
        if let Some(l) = line.strip_prefix("```") {
            inside = !inside && l == lang;
            continue;
        }
        if inside && !line.is_empty() {
            out.push(line.to_owned());
        }
    }
    out
}

/// `(command, offline)` for every shell line.
fn commands() -> Vec<(String, bool)> {
    block_lines(&guide(), "sh")
        .into_iter()
        .map(|line| {
            let (command, mark) = line.split_once('#').unwrap_or((&line, ""));
            let mark = mark.trim();
            assert!(
                mark == "offline" || mark == "(account)",
                "README Deploy: mark {line:?} `# offline` or `# (account)`"
            );
            (command.trim().to_owned(), mark == "offline")
        })
        .collect()
}

fn run(command: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(command)
        .current_dir(repo_root())
        .env("AR_SKIP_BUILD", "1")
        .env("CI", "1")
        .env("WRANGLER_SEND_METRICS", "false")
        .output()
        .expect("run bash");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{command} failed:\n{text}");
    text
}

#[test]
fn every_offline_step_of_the_deploy_guide_runs_as_written() {
    let state = TempDir::new("deploy-guide");
    let offline: Vec<String> = commands()
        .into_iter()
        .filter(|(_, offline)| *offline)
        .map(|(c, _)| c)
        .collect();
    assert!(offline.len() >= 3, "{offline:?}");
    for command in offline {
        // Local state goes to a temporary directory; a dry run's bundle too.
        let mut command = command.clone();
        if command.contains("--local") {
            command = format!("{command} --persist-to {}", state.0.display());
        }
        if command.contains("--dry-run") {
            command = format!("{command} --outdir {}", state.0.join("bundle").display());
        }
        let out = run(&command);
        if command.contains("deploy --dry-run") {
            for binding in [
                "env.DB",
                "env.KV",
                "env.EVENTS",
                "env.ASSETS",
                "env.COLLECT_LIMIT",
            ] {
                assert!(out.contains(binding), "{binding} missing:\n{out}");
            }
        }
    }
    // The migrations made the tables the console's connections need.
    let out = run(&format!(
        "npx wrangler d1 execute DB --local --json --persist-to {} --command \"SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name\"",
        state.0.display()
    ));
    for table in [
        "connect_flows",
        "connections",
        "credential_refusals",
        "events",
        "outbox",
    ] {
        assert!(
            out.contains(&format!("\"{table}\"")),
            "{table} missing:\n{out}"
        );
    }
}

#[test]
fn the_guides_route_on_the_shops_own_host_deploys_in_a_dry_run() {
    let root = repo_root();
    let routes = block_lines(&guide(), "toml");
    assert!(
        routes.iter().any(|l| l.starts_with("routes = ")),
        "the guide shows the route: {routes:?}"
    );
    // wrangler.toml with the guide's route, paths made absolute, no build step (the worker is
    // built already).
    let original = std::fs::read_to_string(root.join("wrangler.toml")).unwrap();
    let mut config = String::new();
    let mut skip = false;
    for line in original.lines() {
        if line.starts_with('[') {
            skip = line == "[build]";
        }
        if skip {
            continue;
        }
        let line = line
            .replace(
                "\"worker/build/index.js\"",
                &format!("{:?}", root.join("worker/build/index.js")),
            )
            .replace(
                "\"build/pixel\"",
                &format!("{:?}", root.join("build/pixel")),
            )
            .replace("\"migrations\"", &format!("{:?}", root.join("migrations")));
        config.push_str(&line);
        config.push('\n');
        if line.starts_with("compatibility_date") {
            for r in &routes {
                config.push_str(r);
                config.push('\n');
            }
        }
    }
    let dir = TempDir::new("deploy-guide-route");
    let path = dir.0.join("wrangler.toml");
    std::fs::write(&path, config).unwrap();
    let out = run(&format!(
        "npx wrangler deploy --dry-run -c {} --outdir {}",
        path.display(),
        dir.0.join("bundle").display()
    ));
    assert!(out.contains("--dry-run: exiting now"), "{out}");
}

#[test]
fn the_guide_creates_what_wrangler_toml_binds_and_sets_every_secret_the_worker_needs() {
    let toml = std::fs::read_to_string(repo_root().join("wrangler.toml")).unwrap();
    let commands: Vec<String> = commands().into_iter().map(|(c, _)| c).collect();
    let created = |what: &str| -> Vec<String> {
        commands
            .iter()
            .filter_map(|c| c.strip_prefix(&format!("npx wrangler {what} create ")))
            .map(|n| n.trim().to_owned())
            .collect()
    };
    assert!(toml.contains(&format!("database_name = \"{}\"", created("d1")[0])));
    for queue in created("queues") {
        assert!(toml.contains(&format!("queue = \"{queue}\"")), "{queue}");
    }
    assert_eq!(created("kv namespace").len(), 1);
    let secrets: Vec<String> = commands
        .iter()
        .filter_map(|c| c.split("wrangler secret put ").nth(1))
        .map(|n| n.trim().to_owned())
        .collect();
    for needed in [
        "AR_SERVER_SECRET",
        "ADMIN_TOKEN",
        "CREDENTIALS_KEY",
        "GOOGLE_CLIENT_SECRET",
        "META_APP_SECRET",
    ] {
        assert!(
            secrets.iter().any(|s| s == needed),
            "the guide sets {needed}: {secrets:?}"
        );
    }
    // Each is refused in wrangler.toml by check-config and starred (secret) in README's table.
    let check = std::fs::read_to_string(repo_root().join("scripts/check-config.sh")).unwrap();
    let readme = readme();
    for s in &secrets {
        if s != "GOOGLE_CLIENT_ID" {
            assert!(
                check.contains(s.as_str()),
                "scripts/check-config.sh refuses {s}"
            );
        }
        assert!(
            readme.contains(&format!("`{s}`*")),
            "README Configuration marks {s} as a secret"
        );
    }
}
