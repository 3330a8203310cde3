//! Faults, injected for real: the server restarting under a bridge session, the token endpoint
//! failing (HTTP 500) during a refresh, the disk refusing a write in the middle of saving the
//! config or a sign-in (a file size limit: the process killed, or its write failing), several
//! processes editing the config or signing in at once, and no keychain running. Each time: a
//! clear error where one is due, nothing silently repeated, nothing lost, no token written
//! anywhere without consent.

mod common;
mod hostile_peer;

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use common::{assert_ok, latch_command};
use hostile_peer::HostilePeer;
use serde_json::{Value, json};

fn latch(home: &Path, args: &[&str]) -> std::process::Output {
    latch_command(home).args(args).output().expect("latch runs")
}

/// Runs `latch` once per argument list, all at the same time (file token store), and checks
/// that every one of them succeeded.
fn latch_all_at_once(home: &Path, runs: &[Vec<String>]) {
    let children: Vec<Child> = runs
        .iter()
        .map(|args| {
            Command::new(env!("CARGO_BIN_EXE_latch"))
                .args(args)
                .env("LATCH_HOME", home)
                .env("LATCH_TOKEN_STORE", "file")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_refresh_answered_with_500_keeps_the_grant_and_a_later_one_recovers() {
    let home = common::latch_home();
    let home = home.path();
    let peer = HostilePeer::start("refresh-500", &[("HOSTILE_TTL", "2")]);
    assert_ok(&latch(home, &["servers", "add", "hostile", &peer.url]));
    peer.set_refresh("ok");
    assert_ok(&latch(home, &["login", "hostile", "--browser", "headless"]));
    let store = home.join(latch_core::secrets::FILE_NAME);
    let before = std::fs::read(&store).expect("the file token store");

    // Expired; the token endpoint fails: a clear error, the stored grant untouched.
    thread::sleep(Duration::from_secs(3));
    peer.set_refresh("500");
    let failed = latch(home, &["call", "hostile", "echo", "message=x"]);
    assert!(!failed.status.success(), "the call cannot succeed");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "a failed refresh changed the stored grant: {stderr}"
    );
    let refreshes = |peer: &HostilePeer| {
        peer.requests()
            .iter()
            .filter(|(_, _, grant)| grant.as_deref() == Some("refresh_token"))
            .count()
    };
    let tried = refreshes(&peer);
    assert!(tried >= 1, "a refresh was tried");
    assert!(tried <= 3, "the refresh was not retried in a loop: {tried}");

    // The token endpoint is back: the next command refreshes with the kept refresh token.
    peer.set_refresh("ok");
    let recovered = latch(home, &["call", "hostile", "echo", "message=back"]);
    assert!(
        assert_ok(&recovered).contains("back"),
        "{}",
        String::from_utf8_lossy(&recovered.stdout)
    );
    assert_ne!(
        std::fs::read(&store).unwrap(),
        before,
        "the new grant was saved"
    );
}

/// A config big enough that a save of it outgrows a small file size limit.
fn add_twenty_servers(home: &Path) {
    for i in 0..20 {
        let url = format!("http://127.0.0.1:{}/mcp", 40_000 + i);
        assert_ok(&latch(
            home,
            &["servers", "add", &format!("server-{i}"), &url],
        ));
    }
}

#[test]
fn a_save_cut_off_by_a_full_disk_leaves_the_config_intact() {
    let home = common::latch_home();
    let home = home.path();
    add_twenty_servers(home);
    let config = home.join("servers.json");
    let before = std::fs::read(&config).unwrap();
    assert!(
        before.len() > 1024,
        "big enough to pass the file size limit"
    );

    // RLIMIT_FSIZE of 1 KiB: the temp file (or the backup) cannot be written whole — the
    // process gets EFBIG or is killed by SIGXFSZ in the middle of saving.
    let status = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -f 1; exec "$0" servers add one-more http://127.0.0.1:1/mcp"#)
        .arg(env!("CARGO_BIN_EXE_latch"))
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .output()
        .unwrap();
    assert!(!status.status.success(), "the save cannot have succeeded");
    assert_eq!(
        std::fs::read(&config).unwrap(),
        before,
        "the config changed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let list = assert_ok(&latch(home, &["servers", "list"]));
    assert!(
        list.contains("server-19") && !list.contains("one-more"),
        "{list}"
    );
    // And it still saves once the disk has room again, clearing the killed save's temp file.
    assert_ok(&latch(
        home,
        &["servers", "add", "one-more", "http://127.0.0.1:1/mcp"],
    ));
    assert!(assert_ok(&latch(home, &["servers", "list"])).contains("one-more"));
    let left: Vec<String> = files_in(home)
        .into_iter()
        .filter(|f| f.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
}

#[test]
fn concurrent_config_edits_lose_no_server() {
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(
        home,
        &["servers", "add", "first", "http://127.0.0.1:1/mcp"],
    ));
    let runs: Vec<Vec<String>> = (0..8)
        .map(|i| {
            vec![
                "servers".into(),
                "add".into(),
                format!("parallel-{i}"),
                format!("http://127.0.0.1:{}/mcp", 41_000 + i),
            ]
        })
        .collect();
    latch_all_at_once(home, &runs);
    let list = assert_ok(&latch(home, &["servers", "list", "--json"]));
    let missing: Vec<String> = (0..8)
        .map(|i| format!("parallel-{i}"))
        .chain(["first".to_owned()])
        .filter(|name| !list.contains(&format!("\"{name}\"")))
        .collect();
    assert!(missing.is_empty(), "lost updates: {missing:?}\n{list}");
}

/// `latch ARGS` on a "full disk": every file it writes is capped at 1 KiB (RLIMIT_FSIZE, set by
/// `ulimit -f 1`) and SIGXFSZ is ignored (`trap '' XFSZ` survives the `exec`), so a write past
/// the cap fails with EFBIG, "File too large" — what a full disk or a quota looks like to the
/// process, and, unlike chmod, it works when the tests run as root.
fn latch_on_a_full_disk(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 1; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_latch"))
        .args(args)
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .output()
        .unwrap()
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_save_refused_by_a_full_disk_fails_clearly_and_leaves_the_config_intact() {
    let home = common::latch_home();
    let home = home.path();
    add_twenty_servers(home);
    let config = home.join("servers.json");
    let before = std::fs::read(&config).unwrap();
    let backup = std::fs::read(home.join("servers.json.bak")).unwrap();
    let files = files_in(home);
    assert!(before.len() > 1024, "big enough to pass the size limit");

    let failed = latch_on_a_full_disk(
        home,
        &["servers", "add", "one-more", "http://127.0.0.1:1/mcp"],
    );
    let stderr = String::from_utf8_lossy(&failed.stderr);
    eprintln!("latch said: {}", stderr.trim_end());
    assert_eq!(
        failed.status.code(),
        Some(1),
        "a clean failure, not a signal: {stderr}"
    );
    assert!(
        stderr.contains("could not save")
            && stderr.contains("servers.json")
            && stderr.contains("File too large")
            && stderr.contains("nothing was changed")
            && stderr.contains("free some disk space"),
        "a clear error that says what to do: {stderr}"
    );
    assert_eq!(
        std::fs::read(&config).unwrap(),
        before,
        "servers.json is byte-identical"
    );
    assert_eq!(
        std::fs::read(home.join("servers.json.bak")).unwrap(),
        backup,
        "the backup is untouched"
    );
    assert_eq!(files_in(home), files, "no temp file left behind");

    // Once there is room again, the same command works.
    assert_ok(&latch(
        home,
        &["servers", "add", "one-more", "http://127.0.0.1:1/mcp"],
    ));
    assert!(assert_ok(&latch(home, &["servers", "list"])).contains("one-more"));
}

/// JWTs (the oidc peer's access tokens) start with this.
const JWT_PREFIX: &str = "eyJ";

#[test]
fn a_sign_in_that_cannot_be_saved_keeps_the_previous_one() {
    let peer = common::oidc::OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    let store = home.join(latch_core::secrets::FILE_NAME);
    let before = std::fs::read(&store).unwrap();
    assert!(before.len() > 1024, "big enough to pass the size limit");

    // Signing in again on a full disk: the new grant cannot be written.
    let failed = latch_on_a_full_disk(home, &["login", "oidc", "--browser", "headless"]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    eprintln!("latch said: {}", stderr.trim_end());
    assert_eq!(failed.status.code(), Some(1), "a clean failure: {stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(
        stderr.contains("disk space"),
        "the error says what to do: {stderr}"
    );
    assert!(
        !stderr.contains(JWT_PREFIX),
        "no token in the error: {stderr}"
    );
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "the stored grant is byte-identical"
    );
    assert!(
        !files_in(home).iter().any(|f| f.ends_with(".tmp")),
        "no temp file left: {:?}",
        files_in(home)
    );

    // The previous sign-in still loads and works.
    let tools = assert_ok(&latch(home, &["tools", "oidc"]));
    assert!(tools.contains("add"), "{tools}");
}

#[test]
fn a_refresh_that_cannot_be_saved_keeps_the_previous_grant() {
    // Without refresh-token rotation the kept refresh token stays valid at the server; with
    // rotation no client can keep a grant it could not save (see the issue-6 report).
    let peer = common::oidc::OidcPeer::start_with(2, &[("OIDC_ROTATE_REFRESH", "0")]);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    let store = home.join(latch_core::secrets::FILE_NAME);
    let before = std::fs::read(&store).unwrap();

    // Expired: the next command refreshes, and the refreshed grant cannot be written.
    thread::sleep(Duration::from_secs(3));
    let full = latch_on_a_full_disk(home, &["call", "oidc", "add", "a=1", "b=2"]);
    let stderr = String::from_utf8_lossy(&full.stderr);
    eprintln!("latch said: {}", stderr.trim_end());
    assert_eq!(full.status.code(), Some(1), "a clean failure: {stderr}");
    assert!(
        stderr.contains("the token store failed")
            && stderr.contains("File too large")
            && stderr.contains("disk space"),
        "a clear error that says what to do: {stderr}"
    );
    assert!(
        !stderr.contains(JWT_PREFIX),
        "no token in the output: {stderr}"
    );
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "the stored grant is byte-identical: {stderr}"
    );

    // With room again, the kept grant refreshes and works, and the new one is saved.
    let call = assert_ok(&latch(home, &["call", "oidc", "add", "a=2", "b=3"]));
    assert!(call.contains('5'), "{call}");
    assert_ne!(
        std::fs::read(&store).unwrap(),
        before,
        "the new grant was saved"
    );
}

#[test]
fn concurrent_sign_ins_keep_every_account() {
    let home = common::latch_home();
    let home = home.path();
    let peer = HostilePeer::start("auth", &[]);
    assert_ok(&latch(home, &["servers", "add", "hostile", &peer.url]));
    let runs: Vec<Vec<String>> = (0..6)
        .map(|i| {
            ["login", "hostile", "--browser", "headless", "--account"]
                .map(String::from)
                .into_iter()
                .chain([format!("acct-{i}")])
                .collect()
        })
        .collect();
    latch_all_at_once(home, &runs);
    let store = latch_core::secrets::SecretStore::file(home);
    let mut accounts = latch_core::secrets::list_accounts(&store, "hostile").unwrap();
    accounts.sort();
    let expected: Vec<String> = (0..6).map(|i| format!("acct-{i}")).collect();
    assert_eq!(accounts, expected, "every account label was kept");
}

#[test]
fn without_a_keychain_login_asks_for_consent_and_writes_no_token() {
    let peer = common::oidc::OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    // No Secret Service (the session bus points nowhere) and no LATCH_TOKEN_STORE.
    let no_keychain = |args: &[&str]| {
        latch_command(home)
            .env_remove("LATCH_TOKEN_STORE")
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/latch-test-bus",
            )
            .env("HOME", home)
            .args(args)
            .output()
            .unwrap()
    };
    let refused = no_keychain(&["login", "oidc", "--browser", "headless"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    eprintln!("latch said: {}", stderr.trim_end());
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no keychain is running")
            && stderr.contains("LATCH_TOKEN_STORE=file")
            && stderr.contains("start one"),
        "the error says what to do: {stderr}"
    );
    assert_eq!(
        files_in(home),
        ["logs", "servers.json", "servers.json.lock"],
        "no token file was created"
    );
    // Refused before the sign-in started: no client registered, no token asked for.
    let stats = peer.stats();
    assert_eq!(stats["registrations"].as_u64(), Some(0), "{stats}");
    assert!(
        stats["tokenRequests"]
            .as_object()
            .is_none_or(|m| m.values().all(|v| v == 0)),
        "{stats}"
    );

    // The status says why, and how to fix it.
    let status = no_keychain(&["status", "--json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let warning = status["tokenStoreWarning"].as_str().unwrap_or_default();
    assert!(warning.contains("LATCH_TOKEN_STORE=file"), "{status}");

    // With consent, the same login works and the file is private.
    let consented = latch(home, &["login", "oidc", "--browser", "headless"]);
    assert_ok(&consented);
    let store = home.join(latch_core::secrets::FILE_NAME);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "secrets.json is readable by its owner only");
    }
    // From then on the file the person chose is used, also without the setting.
    let tools = assert_ok(&no_keychain(&["tools", "oidc"]));
    assert!(tools.contains("add"), "{tools}");
}

/// server-everything (Streamable HTTP) on a fixed port.
fn everything_on(port: u16) -> Child {
    let (node, args) = common::everything_stdio_command();
    let child = Command::new(node)
        .arg("--require")
        .arg(common::peers_dir().join("bind-localhost.cjs"))
        .arg(&args[0])
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server-everything did not listen"
        );
        thread::sleep(Duration::from_millis(100));
    }
    child
}

/// A child process killed (and reaped) when dropped, so a failing test leaves none behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `latch bridge` spoken to line by line, keeping count of what it answered.
struct Bridge {
    child: Killed,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// The id of every response read so far, in order.
    answered: Vec<Value>,
    /// The method of every notification read so far, in order.
    notified: Vec<String>,
}

impl Bridge {
    fn start(home: &Path, name: &str) -> Bridge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
            .args(["bridge", name])
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Bridge {
            child: Killed(child),
            stdin: Some(stdin),
            lines,
            answered: Vec::new(),
            notified: Vec::new(),
        }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin.as_mut().unwrap(), "{message}").unwrap();
    }

    /// Read one message, noting what it is; `None` once `wait` has passed.
    fn read(&mut self, wait: Duration) -> Option<Value> {
        let line = self.lines.recv_timeout(wait).ok()?;
        let message: Value = serde_json::from_str(&line).unwrap();
        if message.get("result").is_some() || message.get("error").is_some() {
            self.answered.push(message["id"].clone());
        } else if message.get("id").is_none()
            && let Some(method) = message["method"].as_str()
        {
            self.notified.push(method.to_owned());
        }
        Some(message)
    }

    /// The response to request `id` within `wait` (other messages are skipped).
    fn response_within(&mut self, id: u64, wait: Duration) -> Value {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .read(left)
                .unwrap_or_else(|| panic!("no response to request {id} within {wait:?}"));
            if message["id"] == id {
                return message;
            }
        }
    }

    /// The response to request `id` (other messages are skipped).
    fn response(&mut self, id: u64) -> Value {
        self.response_within(id, Duration::from_secs(60))
    }

    fn call(&mut self, id: u64, a: i64, b: i64) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "get-sum", "arguments": {"a": a, "b": b}}}));
        self.response(id)
    }

    /// Close stdin, read what is left, and wait for the bridge to exit.
    fn close(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.0.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the bridge exits when stdin closes"
            );
            thread::sleep(Duration::from_millis(100));
        }
        while self.read(Duration::from_millis(200)).is_some() {}
    }
}

/// The agent's error for a call the lost session took with it: the bridge's own, saying what
/// happened and that the call was not sent again.
fn assert_reported_lost(response: &Value) {
    let error = &response["error"];
    assert_eq!(error["code"], -32003, "{response}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("connection to everything was lost")
            && message.contains("not repeated")
            && message.contains("try again"),
        "{response}"
    );
}

#[test]
fn a_server_restart_mid_session_is_reported_and_the_next_call_works() {
    let home = common::latch_home();
    let home = home.path();
    let port = common::free_port();
    let mut server = Killed(everything_on(port));
    let url = format!("http://127.0.0.1:{port}/mcp");
    assert_ok(&latch(home, &["servers", "add", "everything", &url]));

    let mut bridge = Bridge::start(home, "everything");
    bridge.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "faults", "version": "1"}}}),
    );
    assert!(bridge.response(1)["result"].is_object());
    bridge.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let first = bridge.call(2, 2, 3);
    assert!(first.to_string().contains('5'), "{first}");

    // The server restarts on the same port between two calls: its sessions are gone.
    drop(server);
    server = Killed(everything_on(port));
    let during = bridge.call(3, 4, 5);
    // Either Latch saw the session end and opened a new one before sending (the call ran
    // once), or the call met the dead session and is reported; it never hangs.
    if during.get("error").is_some() {
        assert_reported_lost(&during);
    } else {
        assert!(during.to_string().contains('9'), "{during}");
    }
    let after = bridge.call(4, 10, 20);
    assert!(
        after.to_string().contains("30"),
        "the next call works: {after}"
    );
    // The new session may offer other tools: the agent is told.
    assert!(
        bridge
            .notified
            .iter()
            .any(|m| m == "notifications/tools/list_changed"),
        "{:?}",
        bridge.notified
    );

    // The server dies under a call in flight: the call is answered at once with what
    // happened, and not sent again.
    bridge.send(
        &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "trigger-long-running-operation", "arguments": {"duration": 30, "steps": 30},
        "_meta": {"progressToken": "slow"}}}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = bridge.read(left).expect("progress from the running call");
        assert_ne!(message["id"], 5, "the call ended early: {message}");
        if message["params"]["progressToken"] == "slow" {
            break;
        }
    }
    drop(server);
    let killed = Instant::now();
    let lost = bridge.response_within(5, Duration::from_secs(15));
    assert_reported_lost(&lost);
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "{:?}",
        killed.elapsed()
    );

    // While the server is down, a call gets a clear error promptly.
    let asked = Instant::now();
    let down = bridge.call(6, 1, 2);
    let message = down["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("could not connect to everything"),
        "{down}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );

    // Back up: the next calls work, once Latch's short back-off allows a new attempt.
    let server = Killed(everything_on(port));
    let mut id = 7;
    let back = loop {
        let answer = bridge.call(id, 1, 2);
        if answer.get("result").is_some() || id == 12 {
            break answer;
        }
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("could not connect to everything"),
            "{answer}"
        );
        thread::sleep(Duration::from_millis(500));
        id += 1;
    };
    assert!(back.to_string().contains('3'), "the server is back: {back}");
    let again = bridge.call(id + 1, 20, 22);
    assert!(again.to_string().contains("42"), "{again}");

    // Every request was answered exactly once.
    bridge.close();
    let mut ids: Vec<u64> = bridge
        .answered
        .iter()
        .map(|id| id.as_u64().expect("a numeric id"))
        .collect();
    let answered = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        answered,
        "a request answered twice: {:?}",
        bridge.answered
    );
    assert_eq!(
        ids,
        (1..=id + 1).collect::<Vec<u64>>(),
        "every request answered"
    );
    drop(server);
}
