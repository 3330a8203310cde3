//! Faults, injected for real: the server restarting under a bridge session, the token endpoint
//! failing (HTTP 500) during a refresh, the disk refusing a write in the middle of saving the
//! config, and several processes editing the config at once. Each time: a clear error where
//! one is due, nothing silently repeated, nothing lost.

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

#[test]
fn a_save_cut_off_by_a_full_disk_leaves_the_config_intact() {
    let home = common::latch_home();
    let home = home.path();
    for i in 0..20 {
        let url = format!("http://127.0.0.1:{}/mcp", 40_000 + i);
        assert_ok(&latch(
            home,
            &["servers", "add", &format!("server-{i}"), &url],
        ));
    }
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
    // And it still saves once the disk has room again.
    assert_ok(&latch(
        home,
        &["servers", "add", "one-more", "http://127.0.0.1:1/mcp"],
    ));
    assert!(assert_ok(&latch(home, &["servers", "list"])).contains("one-more"));
}

#[test]
#[ignore = "lost updates today: `servers add` loads, edits and saves servers.json without a lock \
            (6 of 8 parallel adds lost); needs a locked read-modify-write in config::ConfigFile"]
fn concurrent_config_edits_lose_no_server() {
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(
        home,
        &["servers", "add", "first", "http://127.0.0.1:1/mcp"],
    ));
    let children: Vec<Child> = (0..8)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_latch"))
                .args([
                    "servers",
                    "add",
                    &format!("parallel-{i}"),
                    &format!("http://127.0.0.1:{}/mcp", 41_000 + i),
                ])
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
    let list = assert_ok(&latch(home, &["servers", "list", "--json"]));
    let missing: Vec<String> = (0..8)
        .map(|i| format!("parallel-{i}"))
        .chain(["first".to_owned()])
        .filter(|name| !list.contains(&format!("\"{name}\"")))
        .collect();
    assert!(missing.is_empty(), "lost updates: {missing:?}\n{list}");
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

/// A `latch bridge` spoken to line by line.
struct Bridge {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
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
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
    }

    /// The response to request `id` (other messages are skipped).
    fn response(&mut self, id: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no response to request {id}"));
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }

    fn call(&mut self, id: u64, a: i64, b: i64) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "get-sum", "arguments": {"a": a, "b": b}}}));
        self.response(id)
    }
}

#[test]
#[ignore = "hangs today: after server-everything restarts, `latch bridge` never answers the next \
            tools/call (no response in 150 s, no error); see the issue-6 report"]
fn a_server_restart_mid_session_is_reported_and_the_next_call_works() {
    let home = common::latch_home();
    let home = home.path();
    let port = common::free_port();
    let mut server = everything_on(port);
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

    // The server restarts on the same port: its sessions are gone.
    let _ = server.kill();
    let _ = server.wait();
    let mut server = everything_on(port);
    let during = bridge.call(3, 4, 5);
    // Either Latch re-initialized and the call ran once, or it reports the lost session; it
    // never answers twice nor hangs.
    let text = during.to_string();
    assert!(
        text.contains('9') || during.get("error").is_some() || text.contains("isError"),
        "{during}"
    );
    let after = bridge.call(4, 10, 20);
    assert!(
        after.to_string().contains("30"),
        "the next call works: {after}"
    );

    drop(bridge.stdin);
    let deadline = Instant::now() + Duration::from_secs(20);
    while bridge.child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the bridge exits when stdin closes"
        );
        thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
}
