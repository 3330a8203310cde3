//! `latch bridge NAME` as agents run it: a real MCP client (the TypeScript SDK's `Client` over
//! `StdioClientTransport`, `tests/peers/bridge-client.mjs`; and the Python SDK's stdio client,
//! `tests/peers/bridge_client.py`) spawns `target/debug/latch bridge NAME` and talks to
//! server-everything or to the oidc peer's protected server through it.
//!
//! What must hold: every part of the remote server reaches the agent (tools with progress and
//! cancellation, resources, prompts, completion, logging, and the server's sampling, roots and
//! elicitation requests answered by the agent); many calls across token expiries succeed with
//! one refresh per expiry while a `latch call` runs at the same time, and the grant survives;
//! a server that needs sign-in gets the agent a clear error and opens no browser — unless
//! `--login-if-needed`, which opens it exactly once.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use common::{
    Everything, Mode, assert_ok, latch_command, latch_home, node, oidc::OidcPeer, peers_dir,
};
use serde_json::Value;

fn latch_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_latch"))
}

fn latch(home: &Path, args: &[&str]) -> Output {
    latch_command(home).args(args).output().expect("latch runs")
}

/// Run the driver in `mode` with `args`; its one JSON line.
fn driver(home: &Path, mode: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let script = peers_dir().join("bridge-client.mjs");
    let mut command = Command::new(node());
    command
        .arg(&script)
        .arg(mode)
        .arg("--latch")
        .arg(latch_bin())
        .args(args)
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .current_dir(peers_dir());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("node runs the bridge client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let summary: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "bridge-client.mjs {mode} printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(
        output.status.success() && summary.get("fatal").is_none(),
        "bridge-client.mjs {mode} failed: {summary:#}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    summary
}

/// A directory with a fake `xdg-open` that records each URL it is given (and, when `follow`,
/// signs in like a person would: it follows the redirects with a cookie jar to the loopback
/// callback). Put first on PATH so Latch's system-browser opener finds it.
fn fake_browser(follow: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("opened.txt");
    let jar = dir.path().join("cookies.txt");
    let follow_line = if follow {
        format!(
            "(curl -s -L --max-redirs 20 -c '{jar}' -b '{jar}' -o /dev/null \"$1\" &)\n",
            jar = jar.display()
        )
    } else {
        String::new()
    };
    let script = format!(
        "#!/bin/sh\necho \"$1\" >> '{}'\n{follow_line}exit 0\n",
        record.display()
    );
    let path = dir.path().join("xdg-open");
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (dir, record)
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn an_agent_reaches_every_part_of_the_remote_server_through_the_bridge() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    let s = driver(home.path(), "suite", &["--target", &server.url()], &[]);
    let calls = &s["calls"];
    assert_eq!(s["errors"], serde_json::json!({}), "{s:#}");

    // initialize carried the remote server's own identity, capabilities and instructions.
    assert_eq!(
        s["serverVersion"]["name"], "mcp-servers/everything",
        "{s:#}"
    );
    assert_eq!(s["capabilities"]["resources"]["subscribe"], true);
    assert!(s["capabilities"]["completions"].is_object());
    assert!(
        s["instructions"]
            .as_str()
            .unwrap()
            .contains("Everything Server"),
        "{s:#}"
    );
    // The remote server saw the agent's capabilities: it offers the tools that need them.
    let tools: Vec<&str> = s["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tool in [
        "echo",
        "get-sum",
        "get-tiny-image",
        "trigger-long-running-operation",
        "trigger-sampling-request",
        "trigger-elicitation-request",
        "get-roots-list",
    ] {
        assert!(tools.contains(&tool), "{tool} missing from {tools:?}");
    }

    assert_eq!(calls["echo"], "Echo: hello bridge");
    assert!(
        calls["get-sum"].as_str().unwrap().contains('5'),
        "{}",
        calls["get-sum"]
    );
    let image = &calls["get-tiny-image"];
    assert_eq!(image["mimeType"], "image/png");
    assert_eq!(image["png"], "89504e470d0a1a0a", "PNG signature");
    assert!(image["bytes"].as_u64().unwrap() > 100);

    // Progress came back under the agent's own token, every step.
    let long = &calls["trigger-long-running-operation"];
    assert!(
        long["text"].as_str().unwrap().contains("completed"),
        "{long}"
    );
    let progress = long["progress"].as_array().unwrap();
    assert_eq!(progress.len(), 4, "{long}");
    assert_eq!(progress[3]["progress"], 4);
    assert_eq!(progress[3]["total"], 4);

    // The agent's cancellation reached the remote server as notifications/cancelled for the
    // bridge's own request id, well before the 30-second operation would have ended.
    let cancelled = &calls["cancelled"];
    assert!(
        cancelled["outcome"]
            .as_str()
            .unwrap()
            .starts_with("rejected"),
        "{cancelled}"
    );
    assert_eq!(cancelled["cancelledUpstream"], true, "{s:#}");
    assert!(cancelled["elapsedMs"].as_f64().unwrap() < 10_000.0);

    // The server's requests to its client were answered by the agent.
    assert_eq!(
        s["requestsFromServer"],
        serde_json::json!({"sampling": 1, "elicitation": 1, "roots": 1})
    );
    assert!(
        calls["trigger-sampling-request"]
            .as_str()
            .unwrap()
            .contains("canned answer to 1 message(s)")
    );
    assert!(
        calls["trigger-elicitation-request"]
            .as_str()
            .unwrap()
            .contains("Bridge Tester")
    );
    assert!(
        calls["get-roots-list"]
            .as_str()
            .unwrap()
            .contains("file:///tmp/bridge-root")
    );
    assert!(calls["get-structured-content"]["conditions"].is_string());
    assert_eq!(
        calls["gzip-file-as-resource"],
        serde_json::json!(["resource"])
    );
    assert_eq!(calls["get-resource-links"], 2);

    // Resources, prompts, completion.
    assert!(s["resources"].as_u64().unwrap() > 0);
    assert_eq!(s["resourceTemplates"].as_array().unwrap().len(), 2);
    assert_eq!(calls["readResource"]["hasText"], true);
    assert!(
        s["prompts"]
            .as_array()
            .unwrap()
            .contains(&"simple-prompt".into())
    );
    assert_eq!(calls["getPrompt"], 1);
    assert_eq!(calls["complete"], serde_json::json!(["Engineering"]));

    // Notifications from the server reached the agent: log lines and resource updates.
    assert!(s["logs"].as_u64().unwrap() >= 1, "{s:#}");
    assert_eq!(s["resourceUpdates"].as_array().unwrap().len(), 1, "{s:#}");

    // Closing stdin ends the bridge by itself (exit 0), and it ends the remote session.
    assert_eq!(s["exit"]["code"], 0, "{s:#}");
    assert_eq!(s["deleteSent"], true, "{s:#}");
    // The bridge logs to stderr only, warnings by default: nothing but the cancelled call.
    let stderr = s["stderr"].as_str().unwrap();
    assert!(!stderr.contains("ERROR"), "{stderr}");
}

fn refreshes(peer: &OidcPeer) -> (u64, u64) {
    let stats = peer.stats();
    (
        stats["tokenSuccesses"]["refresh_token"]
            .as_u64()
            .unwrap_or(0),
        stats["tokenRequests"]["refresh_token"]
            .as_u64()
            .unwrap_or(0),
    )
}

#[test]
fn many_calls_across_token_expiries_while_the_cli_runs_too() {
    const TTL: u64 = 3;
    const SECONDS: u64 = 10;
    let peer = OidcPeer::start(TTL);
    let home = latch_home();
    let home_path = home.path().to_path_buf();
    assert_ok(&latch(
        &home_path,
        &["servers", "add", "oidc", &peer.mcp_url],
    ));
    assert_ok(&latch(
        &home_path,
        &["login", "oidc", "--browser", "headless"],
    ));
    peer.reset_stats();

    // A `latch call` process after another for as long as the agent works.
    let done = Arc::new(AtomicBool::new(false));
    let cli_calls = Arc::new(AtomicU32::new(0));
    let cli = {
        let (done, cli_calls, home) = (done.clone(), cli_calls.clone(), home_path.clone());
        thread::spawn(move || {
            let mut failures = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let output = latch(&home, &["call", "oidc", "add", "a=20", "b=22"]);
                if output.status.success() && String::from_utf8_lossy(&output.stdout).contains("42")
                {
                    cli_calls.fetch_add(1, Ordering::SeqCst);
                } else {
                    failures.push(String::from_utf8_lossy(&output.stderr).into_owned());
                }
                thread::sleep(Duration::from_millis(200));
            }
            failures
        })
    };
    let started = Instant::now();
    let agent = {
        let home = home_path.clone();
        thread::spawn(move || {
            driver(
                &home,
                "calls",
                &["--server", "oidc", "--seconds", &SECONDS.to_string()],
                &[("RUST_LOG", "debug")],
            )
        })
    };
    // When each refresh happened (polled every 100 ms), to tell one refresh per expiry from
    // two processes refreshing the same expiry one after the other.
    let mut refreshed_at: Vec<f64> = Vec::new();
    let mut seen = 0;
    while !agent.is_finished() {
        let (now, _) = refreshes(&peer);
        for _ in seen..now {
            refreshed_at.push(started.elapsed().as_secs_f64());
        }
        seen = seen.max(now);
        thread::sleep(Duration::from_millis(100));
    }
    let s = agent.join().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    let cli_failures = cli.join().unwrap();

    let stats = peer.stats();
    let (refreshed, asked) = refreshes(&peer);
    eprintln!(
        "bridge: {} calls ok in {elapsed:.1} s, `latch call` {} times; {refreshed} refreshes with {TTL}-second tokens; {stats}",
        s["ok"],
        cli_calls.load(Ordering::SeqCst)
    );
    assert_eq!(s["failures"], serde_json::json!([]), "{s:#}");
    assert!(s["ok"].as_u64().unwrap() >= 40, "{s:#}");
    assert!(cli_failures.is_empty(), "{cli_failures:#?}");
    assert!(cli_calls.load(Ordering::SeqCst) >= 3);

    // One refresh per expiry, by whichever process comes first, under the shared lock. rmcp
    // refreshes in a token's last second, counted in whole seconds from when it was received,
    // so a 3-second token is used for 1 to 2 s: refreshes are at least ~1 s apart, never two
    // for one expiry (the second process would find a fresh token). When several calls meet
    // one expiry, every in-flight request gets a 401 and rmcp alone would refresh once per
    // 401 (2–4 refreshes within 0.1 s); connection/http/refresh_once.rs makes them share one.
    let gaps: Vec<f64> = refreshed_at.windows(2).map(|p| p[1] - p[0]).collect();
    eprintln!("refreshes at {refreshed_at:.1?} s (gaps {gaps:.1?})");
    assert!(
        refreshed >= (elapsed / TTL as f64).floor() as u64 - 1,
        "{refreshed} refreshes in {elapsed:.1} s: {stats}"
    );
    assert!(
        refreshed as f64 <= elapsed.ceil() + 1.0,
        "{refreshed} refreshes in {elapsed:.1} s: {stats}"
    );
    assert!(
        gaps.iter().all(|gap| *gap >= 0.5),
        "two refreshes for one expiry: at {refreshed_at:.2?} s"
    );
    assert_eq!(refreshed, asked, "no refused refresh: {stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
    assert_eq!(stats["grantsRevoked"], 0, "{stats}");
    assert_eq!(stats["tokenErrors"], serde_json::json!({}), "{stats}");

    // The grant survives: a new command works without signing in.
    let after = latch(&home_path, &["call", "oidc", "add", "a=1", "b=1"]);
    assert!(assert_ok(&after).contains('2'));

    // Never a token in the bridge's log, even at debug level (the peer's tokens are JWTs).
    let stderr = s["stderr"].as_str().unwrap();
    assert!(!stderr.contains("eyJ"), "a token reached the log");
    assert!(!stderr.to_ascii_lowercase().contains("bearer "), "{stderr}");
}

#[test]
fn without_a_sign_in_the_agent_is_told_to_sign_in_and_no_browser_opens() {
    let peer = OidcPeer::start(60);
    let home = latch_home();
    assert_ok(&latch(
        home.path(),
        &["servers", "add", "oidc", &peer.mcp_url],
    ));
    let (browser_dir, opened) = fake_browser(false);
    let path = path_with(browser_dir.path());
    let s = driver(
        home.path(),
        "signin",
        &["--server", "oidc"],
        &[("PATH", &path)],
    );
    let expected = "Latch: sign in to oidc — open Latch or run `latch login oidc`";
    for request in ["listTools", "callTool"] {
        let message = s[request]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{request}: {s:#}");
        assert_eq!(s[request]["code"], -32001, "{s:#}");
    }
    assert!(s["instructions"].as_str().unwrap().contains(expected));
    assert_eq!(s["exit"]["code"], 0, "{s:#}");
    assert!(!opened.exists(), "a browser was opened");
    let stats = peer.stats();
    assert_eq!(
        stats["authorizations"], 0,
        "no sign-in was started: {stats}"
    );
    assert_eq!(stats["registrations"], 0, "{stats}");
}

#[test]
fn login_if_needed_opens_the_browser_once_then_serves() {
    let peer = OidcPeer::start(60);
    let home = latch_home();
    assert_ok(&latch(
        home.path(),
        &["servers", "add", "oidc", &peer.mcp_url],
    ));
    let (browser_dir, opened) = fake_browser(true);
    let path = path_with(browser_dir.path());
    let s = driver(
        home.path(),
        "calls",
        &[
            "--server",
            "oidc",
            "--seconds",
            "1",
            "--bridge-args",
            "--login-if-needed",
        ],
        &[("PATH", &path)],
    );
    assert_eq!(s["failures"], serde_json::json!([]), "{s:#}");
    assert!(s["ok"].as_u64().unwrap() >= 4, "{s:#}");
    let urls = std::fs::read_to_string(&opened).expect("the browser was opened");
    assert_eq!(urls.lines().count(), 1, "{urls}");
    assert!(urls.starts_with(&peer.issuer), "{urls}");
    // The sign-in was stored: the CLI works too.
    assert!(assert_ok(&latch(home.path(), &["call", "oidc", "add", "a=1", "b=2"])).contains('3'));
}

/// Python 3.10+ with the `mcp` SDK (pinned in tests/peers/requirements.txt) in a venv under
/// target/, or `None` with the reason when that cannot be had here.
fn python_with_mcp() -> Result<PathBuf, String> {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args([
                    "-c",
                    "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)",
                ])
                .status()
                .is_ok_and(|s| s.success())
        })
        .ok_or("no Python 3.10+ on PATH")?;
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bridge-python-venv");
    let bin = venv.join("bin").join("python");
    let requirements = peers_dir().join("requirements.txt");
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| e.to_string())?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && bin.is_file() {
        return Ok(bin);
    }
    let run = |command: &mut Command| -> Result<(), String> {
        let output = command.output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    };
    run(Command::new(python).args(["-m", "venv"]).arg(&venv))
        .map_err(|e| format!("python -m venv failed: {e}"))?;
    run(Command::new(&bin)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))
    .map_err(|e| format!("pip install -r {} failed: {e}", requirements.display()))?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(bin)
}

#[test]
fn the_python_sdk_lists_tools_and_calls_get_sum_through_the_bridge() {
    let python = match python_with_mcp() {
        Ok(python) => python,
        Err(reason) => {
            eprintln!("SKIPPED: the Python MCP SDK is not available here: {reason}");
            return;
        }
    };
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    assert_ok(&latch(
        home.path(),
        &["servers", "add", "everything", &server.url()],
    ));
    let output = Command::new(python)
        .arg(peers_dir().join("bridge_client.py"))
        .arg(latch_bin())
        .arg("everything")
        .env("LATCH_HOME", home.path())
        .env("LATCH_TOKEN_STORE", "file")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let s: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(s["serverName"], "mcp-servers/everything", "{s}");
    assert!(
        s["tools"].as_array().unwrap().contains(&"get-sum".into()),
        "{s}"
    );
    assert!(s["sum"].as_str().unwrap().contains('5'), "{s}");
}

/// Send one JSON-RPC line to the bridge.
fn send(stdin: &mut impl std::io::Write, message: Value) {
    writeln!(stdin, "{message}").expect("the bridge reads its stdin");
}

/// Read lines until the answer to `id` (log lines and notifications in between are skipped).
fn answer(lines: &mut impl Iterator<Item = std::io::Result<String>>, id: u64) -> Value {
    for line in lines {
        let line = line.expect("the bridge's output is text");
        if let Ok(message) = serde_json::from_str::<Value>(&line)
            && message["id"] == id
        {
            return message;
        }
    }
    panic!("the bridge ended before answering request {id}");
}

/// An agent that hands the bridge one pipe for both stdout and stderr (as `2>&1` in a shell
/// does): the bridge keeps that pipe blocking, so its log lines cannot fail, and the protocol
/// still flows — debug logging on, so log lines and answers share the pipe.
#[test]
fn the_bridge_serves_an_agent_that_merges_its_stdout_and_stderr() {
    use std::io::{BufRead, BufReader};

    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    assert_ok(&latch(
        home.path(),
        &["servers", "add", "everything", &server.url()],
    ));
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let mut child = Command::new(latch_bin())
        .args(["bridge", "everything"])
        .env("LATCH_HOME", home.path())
        .env("LATCH_TOKEN_STORE", "file")
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::piped())
        .stdout(writer.try_clone().expect("a second handle"))
        .stderr(writer)
        .spawn()
        .expect("latch bridge starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut lines = BufReader::new(reader).lines();

    send(
        &mut stdin,
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "merged-agent", "version": "0"}}}),
    );
    let init = answer(&mut lines, 1);
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init:#}"
    );
    send(
        &mut stdin,
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    for id in 2..12 {
        send(
            &mut stdin,
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
                "name": "echo", "arguments": {"message": format!("merged {id}")}}}),
        );
        let call = answer(&mut lines, id);
        assert_eq!(
            call["result"]["content"][0]["text"],
            format!("Echo: merged {id}"),
            "{call:#}"
        );
    }
    drop(stdin);
    let status = child.wait().expect("the bridge exits");
    assert!(status.success(), "{status}");
}
