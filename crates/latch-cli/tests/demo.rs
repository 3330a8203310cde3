//! The bundled demo server (`latch demo`, crate `latch-demo`) signed in to by Latch's real
//! client: `latch demo --json` as a process, discovery → registration → headless consent →
//! tokens, every tool listed and called (sum, image, progress, cancellation), refresh across an
//! expiry (also by several processes at the same moment, never replaying a refresh token),
//! a taken port reported plainly, and sign-out revoking the grant at the server.
//! Needs nothing but the `latch` binary: the demo runs offline on 127.0.0.1.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use base64::Engine;
use common::{assert_ok, demo::signed_in_demo, latch_command};
use latch_core::{
    CallOptions, ConnectOptions, Connection,
    auth::{BrowserMode, SharedCredentialStore},
    config::ServerConfig,
    secrets::{GrantStore, SecretStore},
    tools::Progress,
};
use latch_demo::{DemoOptions, DemoServer};
use serde_json::{Map, Value, json};

/// Every tool the demo offers.
const TOOLS: [&str; 8] = [
    "add",
    "create_event",
    "delete_note",
    "echo",
    "image",
    "list_notes",
    "long_task",
    "make_report",
];

/// `latch demo --port 0 --json [EXTRA]…` running; killed when dropped.
struct DemoProcess {
    child: Child,
    url: String,
}

impl DemoProcess {
    fn start(home: &Path, extra: &[&str]) -> DemoProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .args(["demo", "--port", "0", "--json"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("latch demo starts");
        let stdout = child.stdout.take().expect("its stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("latch demo printed nothing within 20 s");
            }
        };
        let json: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("latch demo --json printed {line:?}: {e}"));
        let url = json["url"].as_str().expect("a url").to_owned();
        DemoProcess { child, url }
    }

    fn port(&self) -> u16 {
        let rest = self
            .url
            .strip_prefix("http://127.0.0.1:")
            .expect("a loopback URL");
        rest.trim_end_matches("/mcp").parse().expect("a port")
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn latch(home: &Path, args: &[&str]) -> std::process::Output {
    latch_command(home).args(args).output().expect("latch runs")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_needs_sign_in(output: &std::process::Output) {
    assert!(!output.status.success(), "expected a failure");
    let text = stderr(output);
    assert!(
        text.contains("demo needs sign-in") && text.contains("latch login demo"),
        "{text}"
    );
}

fn stored_grant(home: &Path) -> GrantStore {
    GrantStore::for_grant(SecretStore::file(home), "demo", "", "default")
}

#[test]
fn latch_demo_prints_its_url_and_says_when_its_port_is_taken() {
    let home = common::latch_home();
    let demo = DemoProcess::start(home.path(), &[]);
    let port = demo.port();
    assert_eq!(demo.url, format!("http://127.0.0.1:{port}/mcp"));

    let port = port.to_string();
    let second = latch(home.path(), &["demo", "--port", &port]);
    assert!(!second.status.success());
    let text = stderr(&second);
    assert!(
        text.contains(&format!("port {port}")) && text.contains("taken") && text.contains("--port"),
        "{text}"
    );
    let zero_ttl = latch(home.path(), &["demo", "--port", "0", "--token-ttl", "0"]);
    assert!(
        stderr(&zero_ttl).contains("--token-ttl"),
        "{}",
        stderr(&zero_ttl)
    );
}

#[test]
fn sign_in_list_call_refresh_and_sign_out_through_the_cli() {
    let home = common::latch_home();
    let home = home.path();
    let demo = DemoProcess::start(home, &["--token-ttl", "2"]);
    assert_ok(&latch(home, &["servers", "add", "demo", &demo.url]));

    assert_needs_sign_in(&latch(home, &["tools", "demo"]));

    let login = assert_ok(&latch(home, &["login", "demo", "--browser", "headless"]));
    assert!(
        login.contains("Signed in to demo") && login.contains("8 tools"),
        "{login}"
    );

    let tools: Value =
        serde_json::from_str(&assert_ok(&latch(home, &["tools", "demo", "--json"]))).unwrap();
    let mut names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    let table = assert_ok(&latch(home, &["tools", "demo"]));
    assert!(table.contains("8 tools"), "{table}");

    let add = assert_ok(&latch(home, &["call", "demo", "add", "a=2", "b=3"]));
    assert!(add.contains("2 + 3 = 5"), "{add}");
    let add: Value = serde_json::from_str(&assert_ok(&latch(
        home,
        &["call", "demo", "add", "a=2", "b=3", "--json"],
    )))
    .unwrap();
    assert_eq!(add["structuredContent"], json!({ "sum": 5 }));
    assert_eq!(add["isError"], false);

    let image: Value = serde_json::from_str(&assert_ok(&latch(
        home,
        &["call", "demo", "image", "--json"],
    )))
    .unwrap();
    let block = image["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "image")
        .unwrap_or_else(|| panic!("an image block in {image}"));
    assert_eq!(block["mimeType"], "image/png");
    let png = base64::engine::general_purpose::STANDARD
        .decode(block["data"].as_str().unwrap())
        .expect("base64");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG signature");
    assert!(png.len() > 100, "{} bytes", png.len());

    let long = assert_ok(&latch(
        home,
        &["call", "demo", "long_task", "seconds=1", "steps=4"],
    ));
    assert_eq!(long.trim(), "done");

    let missing = latch(home, &["call", "demo", "delete_note", "id=nope"]);
    assert!(!missing.status.success(), "a tool error exits non-zero");
    let deleted = assert_ok(&latch(home, &["call", "demo", "delete_note", "id=note-2"]));
    assert!(deleted.contains("Deleted note-2"), "{deleted}");

    // Past the 2 s lifetime: the next command refreshes and succeeds.
    std::thread::sleep(Duration::from_secs(3));
    let echo = assert_ok(&latch(
        home,
        &["call", "demo", "echo", "message=still here"],
    ));
    assert_eq!(echo.trim(), "still here");

    let logout = assert_ok(&latch(home, &["logout", "demo"]));
    assert!(logout.contains("revoked the grant"), "{logout}");
    assert_needs_sign_in(&latch(home, &["tools", "demo"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_task_reports_progress_and_stops_when_cancelled() {
    let home = common::latch_home();
    let demo = DemoServer::start(DemoOptions {
        port: 0,
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    let store = SharedCredentialStore::new(stored_grant(home.path()));
    let options = ConnectOptions {
        credentials: Some(store),
        sign_in: Some(BrowserMode::Headless),
        ..ConnectOptions::default()
    };
    let server = ServerConfig::remote(demo.url());
    let connection = Arc::new(
        Connection::connect("demo", &server, options)
            .await
            .expect("connects, signing in on the 401"),
    );
    assert_eq!(demo.stats().code_exchanges, 1);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let mut args = Map::new();
    args.insert("seconds".into(), 1.into());
    args.insert("steps".into(), 4.into());
    let options = CallOptions {
        progress: Some(tx),
        ..CallOptions::default()
    };
    let result = connection
        .call_tool("long_task", args, options)
        .await
        .expect("long_task finishes");
    assert_eq!(result.text(), "done");
    // Reports travel ahead of the answer, but may be handed over just after it.
    let mut reports = Vec::new();
    while reports.len() < 4 {
        match tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            Ok(Some(report)) => reports.push((report.progress, report.total)),
            _ => break,
        }
    }
    assert_eq!(
        reports,
        [1.0, 2.0, 3.0, 4.0].map(|p| (p, Some(4.0))).to_vec()
    );

    // A 60 s task cancelled after half a second: the call ends now, and so does the task.
    let options = CallOptions::default();
    let cancel = options.cancel.clone();
    let mut args = Map::new();
    args.insert("seconds".into(), 60.into());
    let started = Instant::now();
    let call = {
        let connection = connection.clone();
        tokio::spawn(async move { connection.call_tool("long_task", args, options).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cancel.cancel();
    let outcome = call.await.unwrap();
    assert!(outcome.is_err(), "a cancelled call is no success");
    assert!(started.elapsed() < Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(5);
    while demo.stats().tasks_cancelled == 0 {
        assert!(
            Instant::now() < deadline,
            "the server never saw the cancellation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    demo.stop().await;
}

/// Three `latch call`s started together just after the access token expired: each succeeds
/// and no refresh token is ever presented twice (the demo ends a grant whose rotated refresh
/// token comes back, so a replay would make calls fail). How many refreshes happen depends on
/// timing: a process that starts when less than half of a 2 s token is left refreshes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_at_once_across_an_expiry_refresh_without_replay() {
    let home = common::latch_home();
    let demo = signed_in_demo(home.path(), Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let home = home.path().to_owned();
            tokio::task::spawn_blocking(move || {
                let a = format!("a={i}");
                assert_ok(&latch(&home, &["call", "demo", "add", &a, "b=10"]))
            })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        let out = call.await.unwrap();
        assert!(out.contains(&format!("= {}", i + 10)), "{out}");
    }
    let stats = demo.stats();
    assert_eq!(stats.refresh_reuses, 0, "{stats:?}");
    assert_eq!(stats.token_errors, 0, "{stats:?}");
    assert!((1..=3).contains(&stats.refreshes), "{stats:?}");
    assert_eq!(stats.code_exchanges, 1, "no new sign-in: {stats:?}");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_grant_at_the_server() {
    let home = common::latch_home();
    let demo = signed_in_demo(home.path(), Duration::from_secs(3600)).await;
    let grant = stored_grant(home.path());
    let kept = grant.load_blocking().unwrap().expect("a stored grant");

    let home_path = home.path().to_owned();
    let logout = tokio::task::spawn_blocking(move || latch(&home_path, &["logout", "demo"]))
        .await
        .unwrap();
    assert!(assert_ok(&logout).contains("revoked the grant"));
    assert_eq!(demo.stats().revocations, 1);
    let left = grant
        .load_blocking()
        .unwrap()
        .expect("the registration is kept");
    assert!(
        left.token_response.is_none(),
        "the tokens are deleted here too"
    );
    assert_eq!(left.client_id, kept.client_id);

    // Put the old tokens back: the server no longer takes them, nor refreshes them.
    grant.save_blocking(&kept).unwrap();
    let before = demo.stats();
    let home_path = home.path().to_owned();
    let tools = tokio::task::spawn_blocking(move || latch(&home_path, &["tools", "demo"]))
        .await
        .unwrap();
    assert_needs_sign_in(&tools);
    let after = demo.stats();
    assert!(
        after.bearer_rejections > before.bearer_rejections,
        "{after:?}"
    );
    assert_eq!(after.refreshes, before.refreshes, "{after:?}");
    demo.stop().await;
}
