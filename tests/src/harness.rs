//! Test harness: starts the real worker under `wrangler dev` (workerd with local D1, Queues, KV)
//! and ChromeDriver, each on a free loopback port, and stops them (with their children) on drop.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository root (where `wrangler.toml` is).
pub fn repo_root() -> PathBuf {
    // Read at run time (cargo sets it for tests): the build cache is shared by every clone, so a
    // path baked in at compile time could name another clone.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("..")
}

/// A free TCP port on 127.0.0.1, picked at random below the kernel's ephemeral range.
///
/// A port the kernel hands out for `bind(0)` is released before the service binds it again, and
/// in between any connection's source port or any other `bind(0)` on the machine can take it (seen
/// in CI: `wrangler dev` failing with "Address already in use" while many tests ran at once).
/// Below the ephemeral range only another explicit choice can collide, and [`Worker::start`]
/// retries that rare case on a new port.
///
/// # Panics
/// When no port can be bound (the machine is out of ports).
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let (low, high) = (10_000u16, ephemeral_from.max(20_000));
    for attempt in 0..200u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(attempt);
        let port = low + u16::try_from(h.finish() % u64::from(high - low)).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    #[allow(clippy::expect_used)] // test harness: failing loudly is the point
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// A child process started in its own process group, with its output captured line by line.
pub struct Service {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Spawns `command` with stdout and stderr captured.
    ///
    /// # Panics
    /// When the program cannot be started.
    pub fn spawn(name: &'static str, mut command: Command) -> Self {
        use std::os::unix::process::CommandExt;
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        command.process_group(0);
        #[allow(clippy::expect_used)]
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        for stream in [stdout, stderr].into_iter().flatten() {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("AR_TEST_VERBOSE").is_some() {
                        eprintln!("[{name}] {line}");
                    }
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                    }
                }
            });
        }
        Self { name, child, lines }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until a printed line contains `needle`; returns that line.
    ///
    /// # Panics
    /// After `timeout`, with the process's output in the message.
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.output().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "{} never printed {needle:?}; output:\n{}",
                self.name,
                self.output().join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // wrangler runs workerd as a child: stop the whole process group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Polls `url` until it answers 2xx.
///
/// # Panics
/// After `timeout`.
pub fn wait_http_ok(url: &str, timeout: Duration, service: &Service) {
    if let Err(PortTaken) = wait_ready(url, timeout, service) {
        panic!(
            "{url}: the port was taken; {} output:\n{}",
            service.name,
            service.output().join("\n")
        );
    }
}

/// The service printed that its port is in use: start it again elsewhere.
#[derive(Debug)]
pub struct PortTaken;

/// Polls `url` until it answers 2xx, or until `service` prints "Address already in use".
///
/// # Panics
/// After `timeout`.
fn wait_ready(url: &str, timeout: Duration, service: &Service) -> Result<(), PortTaken> {
    let deadline = Instant::now() + timeout;
    loop {
        let ok = std::process::Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "--max-time", "2", url])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(());
        }
        if service
            .output()
            .iter()
            .any(|l| l.contains("Address already in use"))
        {
            return Err(PortTaken);
        }
        assert!(
            Instant::now() < deadline,
            "{url} did not answer within {timeout:?}; {} output:\n{}",
            service.name,
            service.output().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The worker running under `wrangler dev` with fresh local state.
pub struct Worker {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    /// The `wrangler dev` process (its output holds the worker's log lines).
    pub process: Service,
    state: TempDir,
}

impl Worker {
    /// Starts `wrangler dev` on a fresh local state directory holding a copy of the migrated
    /// local D1 (`migrated_state`). Expects the worker to be built already (`make test` builds it
    /// first).
    ///
    /// A port found taken (see [`free_port`]) is given up for a new one.
    ///
    /// # Panics
    /// When wrangler cannot apply migrations or does not come up within 90 s.
    pub fn start(extra_vars: &[(&str, &str)]) -> Self {
        for _ in 0..3 {
            if let Ok(worker) = Self::try_start_on(free_port(), extra_vars) {
                return worker;
            }
        }
        panic!("wrangler dev found its port taken three times");
    }

    /// Like [`Worker::start`], on a given port (for a sandbox shop that must know the worker's
    /// URL before the worker starts). A port found taken is tried again, then given up.
    ///
    /// # Panics
    /// When wrangler cannot apply migrations or does not come up within 90 s.
    pub fn start_on(port: u16, extra_vars: &[(&str, &str)]) -> Self {
        for _ in 0..3 {
            if let Ok(worker) = Self::try_start_on(port, extra_vars) {
                return worker;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        panic!("port {port} stayed taken");
    }

    fn try_start_on(port: u16, extra_vars: &[(&str, &str)]) -> Result<Self, PortTaken> {
        let state = TempDir::new("wrangler");
        let root = repo_root();
        #[allow(clippy::expect_used)]
        copy_tree(&migrated_state(), &state.0).expect("copy the migrated D1 state");
        let mut cmd = Command::new("wrangler");
        cmd.current_dir(&root)
            .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--inspector-port",
                &free_port().to_string(),
                "--test-scheduled",
            ])
            .arg("--persist-to")
            .arg(&state.0)
            .env("AR_SKIP_BUILD", "1")
            .env("CI", "1")
            // Each worker keeps its own dev registry: in the shared one every test's worker
            // registers under the same name with its queue consumers, and every other test's
            // `wrangler dev` coming or going rewrites that entry, which this one watches (it has
            // queues) and reloads its configuration on, mid-test.
            .env("WRANGLER_REGISTRY_PATH", state.0.join("dev-registry"));
        for (k, v) in extra_vars {
            cmd.args(["--var", &format!("{k}:{v}")]);
        }
        let process = Service::spawn("wrangler", cmd);
        let base_url = format!("http://127.0.0.1:{port}");
        wait_ready(
            &format!("{base_url}/_ar/pixel.js"),
            Duration::from_secs(90),
            &process,
        )?;
        Ok(Self {
            base_url,
            process,
            state,
        })
    }
}

/// A local D1 with every migration applied, made once per set of migrations and copied into
/// each worker's state: `wrangler d1 migrations apply` costs several seconds of CPU per start
/// (about 8 s under `make test`'s load), and a copy a few milliseconds. The template is keyed
/// by the migrations, `wrangler.toml` (which names the database file) and `package-lock.json`
/// (the wrangler version, which lays the files out), so a change to any makes a new one.
fn migrated_state() -> PathBuf {
    use sha2::{Digest, Sha256};
    let root = repo_root();
    let dir = root.join("migrations");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    names.sort();
    let mut key = Sha256::new();
    let config = [root.join("wrangler.toml"), root.join("package-lock.json")];
    for path in names.iter().chain(&config) {
        key.update(
            path.file_name()
                .map(std::ffi::OsStr::as_encoded_bytes)
                .unwrap_or_default(),
        );
        key.update(std::fs::read(path).unwrap_or_default());
    }
    let digest = key.finalize();
    let key = format!(
        "{:016x}",
        u64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
    );
    let template = std::env::temp_dir().join(format!("ar-d1-migrated-{key}"));
    if template.join("ready").exists() {
        return template;
    }
    // Made beside it, then renamed into place: a test running at the same moment either sees
    // no template (and makes its own) or a complete one.
    let making = TempDir::new("d1-migrating");
    let status = Command::new("wrangler")
        .current_dir(&root)
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(&making.0)
        .env("AR_SKIP_BUILD", "1")
        .stdout(Stdio::null())
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "wrangler d1 migrations apply failed"
    );
    #[allow(clippy::expect_used)]
    std::fs::write(making.0.join("ready"), key).expect("mark the migrated state");
    // Losing the race to another test's rename is fine: its template is as good.
    let _ = std::fs::rename(&making.0, &template);
    assert!(
        template.join("ready").exists(),
        "could not keep the migrated D1 state at {}",
        template.display()
    );
    template
}

/// Copies the directory tree `from` into `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

impl Worker {
    /// The directory holding this worker's local D1, Queue and KV state (`--persist-to`), for
    /// `wrangler d1 execute DB --local --persist-to <dir>`.
    pub fn state_dir(&self) -> &Path {
        &self.state.0
    }

    /// Runs one SQL statement against this worker's local D1 and returns its result rows.
    ///
    /// The statement goes straight to the database file with the `sqlite3` shell (which
    /// `scripts/bootstrap.sh` installs): local D1 is one `SQLite` file in WAL mode that `workerd`
    /// shares with other processes (`wrangler d1 execute` opens it from a second workerd the same
    /// way), so a read sees every committed write at once and a write is seen by the worker. A
    /// `wrangler d1 execute` costs about two seconds of CPU per call, the shell a few
    /// milliseconds; tests poll D1 while they wait. Without `sqlite3`, `wrangler d1 execute`.
    ///
    /// # Panics
    /// When the statement fails or the answer is not JSON rows.
    #[allow(clippy::expect_used)] // test harness: failing loudly is the point
    pub fn d1(&self, sql: &str) -> Vec<serde_json::Value> {
        if let Some(file) = self.d1_file()
            && let Ok(out) = Command::new("sqlite3")
                .args(["-bail", "-json", "-cmd", ".timeout 10000"])
                .arg(&file)
                .arg(sql)
                .output()
        {
            assert!(
                out.status.success(),
                "sqlite3 {sql:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // One JSON array per statement that returns rows (nothing for none).
            return serde_json::Deserializer::from_slice(&out.stdout)
                .into_iter::<serde_json::Value>()
                .next()
                .map(|rows| rows.expect("sqlite3 prints JSON rows"))
                .and_then(|rows| rows.as_array().cloned())
                .unwrap_or_default();
        }
        local_d1(self.state_dir(), &["--command", sql])
    }

    /// The local D1 database file under `--persist-to`, once the worker has created it.
    fn d1_file(&self) -> Option<PathBuf> {
        let dir = self.state_dir().join("v3/d1/miniflare-D1DatabaseObject");
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| Some(e.ok()?.path()))
            .find(|p| {
                p.extension().is_some_and(|e| e == "sqlite")
                    && p.file_stem().is_some_and(|n| n != "metadata")
            })
    }
}

/// Runs `wrangler d1 execute DB --local --json` with `args` against the local state in `state`;
/// returns the result rows of the last statement.
///
/// # Panics
/// When wrangler fails or prints something that is not its JSON result.
pub fn local_d1(state: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    local_d1_each(state, args).pop().unwrap_or_default()
}

/// [`local_d1`] with the result rows of every statement, in order: several queries for one
/// wrangler start (about two seconds of CPU each).
///
/// # Panics
/// When wrangler fails or prints something that is not its JSON result.
#[allow(clippy::expect_used)] // test harness: failing loudly is the point
pub fn local_d1_each(state: &Path, args: &[&str]) -> Vec<Vec<serde_json::Value>> {
    let out = Command::new("wrangler")
        .current_dir(repo_root())
        .args(["d1", "execute", "DB", "--local", "--json", "--persist-to"])
        .arg(state)
        .args(args)
        .env("AR_SKIP_BUILD", "1")
        .output()
        .expect("run wrangler d1 execute");
    assert!(
        out.status.success(),
        "wrangler d1 execute {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("wrangler prints JSON");
    json.as_array()
        .map(|all| {
            all.iter()
                .map(|r| r["results"].as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Applies the migrations numbered `from..below` (`migrations/NNNN_*.sql`) to the local D1 in
/// `state`, in order, as one file (one wrangler start), for tests of a migration on old rows.
///
/// # Panics
/// When the migrations cannot be read or wrangler fails.
#[allow(clippy::expect_used)] // test harness: failing loudly is the point
pub fn migrate_local(state: &Path, from: u32, below: u32) {
    let dir = repo_root().join("migrations");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("read migrations/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut all = String::new();
    for name in files {
        let n: u32 = name.get(..4).and_then(|n| n.parse().ok()).unwrap_or(0);
        if (from..below).contains(&n) {
            all.push_str(&std::fs::read_to_string(dir.join(&name)).expect("read a migration"));
            all.push('\n');
        }
    }
    let file = state.join(format!("migrations-{from}-{below}.sql"));
    std::fs::write(&file, all).expect("write the migrations file");
    local_d1(state, &["--file", &file.to_string_lossy()]);
}

/// ChromeDriver driving headless Debian Chromium.
pub struct ChromeDriver {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    _process: Service,
}

impl ChromeDriver {
    /// Starts ChromeDriver (`$CHROMEDRIVER`, default `/usr/bin/chromedriver`).
    ///
    /// # Panics
    /// When it does not come up within 30 s.
    pub fn start() -> Self {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--port={port}"));
        let process = Service::spawn("chromedriver", cmd);
        let url = format!("http://127.0.0.1:{port}");
        wait_http_ok(&format!("{url}/status"), Duration::from_secs(30), &process);
        Self {
            url,
            _process: process,
        }
    }

    /// W3C capabilities for headless Chromium on this machine (no network but loopback).
    pub fn capabilities() -> serde_json::Map<String, serde_json::Value> {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--disable-quic"]
            }
        });
        match caps {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    ///
    /// # Panics
    /// When the directory cannot be created.
    pub fn new(prefix: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ar-{prefix}-{}-{n}", std::process::id()));
        #[allow(clippy::expect_used)]
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
