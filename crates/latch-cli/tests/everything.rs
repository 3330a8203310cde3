//! The `latch` CLI against the real `@modelcontextprotocol/server-everything`, over
//! Streamable HTTP, the legacy SSE transport and stdio: list its tools, call them, and check
//! images, structured content, progress, cancellation and both kinds of argument errors.

mod common;

use std::path::Path;

use common::{Everything, Mode, latch_fails, latch_json, latch_ok, latch_run};
use serde_json::Value;

/// The tools server-everything always lists (more appear with roots/elicitation/sampling).
const ALWAYS_LISTED: [&str; 12] = [
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
];

fn tool_names(tools: &Value) -> Vec<String> {
    tools
        .as_array()
        .expect("a list of tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_lists_all(home: &Path, name: &str) {
    let names = tool_names(&latch_json(home, &["tools", name, "--json"]));
    for tool in ALWAYS_LISTED {
        assert!(
            names.iter().any(|n| n == tool),
            "{tool} missing from {names:?}"
        );
    }
}

#[test]
fn streamable_http_lists_and_calls() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = common::latch_home();
    let home = home.path();
    latch_ok(home, &["servers", "add", "everything", &server.url()]);

    assert_lists_all(home, "everything");

    let sum = latch_json(
        home,
        &["call", "everything", "get-sum", "a=2", "b=3", "--json"],
    );
    assert_eq!(sum["isError"], false);
    let text = sum["content"][0]["text"].as_str().unwrap();
    assert!(text.contains('5'), "{text}");

    let echo = latch_run(home, &["call", "everything", "echo", "message=hello latch"]);
    assert!(echo.status.success());
    assert!(String::from_utf8_lossy(&echo.stdout).contains("hello latch"));

    let status = latch_json(home, &["status", "--json"]);
    assert_eq!(status["servers"][0]["state"]["state"], "connected");
    assert_eq!(
        status["servers"][0]["state"]["transport"],
        "streamable-http"
    );
    assert_eq!(status["servers"][0]["signIn"], Value::Null);
    assert_eq!(status["tokenStore"], "file");
}

#[test]
fn sse_transport_explicit_and_auto_fallback() {
    let server = Everything::start(Mode::Sse);
    let home = common::latch_home();
    let home = home.path();
    assert!(
        latch_run(
            home,
            &["servers", "add", "old", &server.url(), "--transport", "sse"]
        )
        .status
        .success()
    );
    assert!(
        latch_run(home, &["servers", "add", "guess", &server.url()])
            .status
            .success()
    );

    assert_lists_all(home, "old");
    assert_lists_all(home, "guess");
    let sum = latch_json(home, &["call", "guess", "get-sum", "a=2", "b=3", "--json"]);
    assert!(sum["content"][0]["text"].as_str().unwrap().contains('5'));

    let status = latch_json(home, &["status", "guess", "--json"]);
    assert_eq!(
        status["servers"][0]["state"]["transport"], "sse",
        "auto fell back to SSE: {status}"
    );
}

#[test]
fn command_server_over_stdio() {
    let (node, args) = common::everything_stdio_command();
    let home = common::latch_home();
    let home = home.path();
    let mut add = vec!["servers", "add", "local", "--command", node.as_str()];
    add.extend(args.iter().map(String::as_str));
    latch_ok(home, &add);

    assert_lists_all(home, "local");
    let sum = latch_json(home, &["call", "local", "get-sum", "a=2", "b=3", "--json"]);
    assert!(sum["content"][0]["text"].as_str().unwrap().contains('5'));
}

#[test]
fn images_structured_content_and_errors() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = common::latch_home();
    let home = home.path();
    assert!(
        latch_run(home, &["servers", "add", "everything", &server.url()])
            .status
            .success()
    );

    // The image is decoded and saved; the printed path holds a real PNG.
    let out_dir = tempfile::tempdir().unwrap();
    let stdout = latch_ok(
        home,
        &[
            "call",
            "everything",
            "get-tiny-image",
            "--save-dir",
            out_dir.path().to_str().unwrap(),
        ],
    );
    let path = stdout
        .lines()
        .find_map(|l| l.split(" saved to ").nth(1))
        .unwrap_or_else(|| panic!("no saved path in {stdout}"));
    let bytes = std::fs::read(path.trim()).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    // Structured content comes through as JSON.
    let weather = latch_json(
        home,
        &[
            "call",
            "everything",
            "get-structured-content",
            "location=Chicago",
            "--json",
        ],
    );
    assert!(
        weather["structuredContent"]["temperature"].is_number(),
        "{weather}"
    );

    // Resource links and embedded resources are modelled, not flattened to text.
    let links = latch_json(
        home,
        &[
            "call",
            "everything",
            "get-resource-links",
            "count=2",
            "--json",
        ],
    );
    let kinds: Vec<&str> = links["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "resourceLink").count(),
        2,
        "{links}"
    );
    let reference = latch_json(
        home,
        &["call", "everything", "get-resource-reference", "--json"],
    );
    assert!(
        reference["content"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "resource" && c["resource"]["uri"].is_string()),
        "{reference}"
    );

    // A value outside the enum is caught before sending, with its path.
    let stderr = latch_fails(
        home,
        &[
            "call",
            "everything",
            "get-structured-content",
            "location=Paris",
        ],
    );
    assert!(
        stderr.contains("/location") && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");

    // Sent anyway, the server answers with a clean isError result, not a crash.
    let server_side = latch_run(
        home,
        &[
            "call",
            "everything",
            "get-structured-content",
            "location=Paris",
            "--no-validate",
            "--json",
        ],
    );
    assert!(!server_side.status.success());
    let result: Value = serde_json::from_slice(&server_side.stdout).unwrap();
    assert_eq!(result["isError"], true, "{result}");

    // A bad argument type fails in the coercion step, naming the word.
    assert!(
        latch_fails(home, &["call", "everything", "get-sum", "a=two", "b=3"]).contains("a=two")
    );

    // A missing required argument is a schema error listing the path.
    assert!(
        latch_fails(home, &["call", "everything", "get-sum", "a=1"])
            .contains("\"b\" is a required property")
    );

    // An unknown tool names the server and the way out.
    let unknown = latch_run(home, &["call", "everything", "no-such-tool"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("latch tools everything"));
}

#[test]
fn failures_are_one_clear_line() {
    let home = common::latch_home();
    let home = home.path();
    // Nothing listens on port 9 of loopback.
    assert!(
        latch_run(home, &["servers", "add", "gone", "http://127.0.0.1:9/mcp"])
            .status
            .success()
    );
    let stderr = latch_fails(home, &["tools", "gone"]);
    assert!(
        stderr.contains("could not reach") && stderr.contains("127.0.0.1:9"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let unknown = latch_run(home, &["tools", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("latch servers list"));

    let missing = latch_run(
        home,
        &[
            "servers",
            "add",
            "x",
            "--command",
            "/nonexistent/latch-test-binary",
        ],
    );
    assert!(missing.status.success());
    let spawn = latch_run(home, &["tools", "x"]);
    assert!(String::from_utf8_lossy(&spawn.stderr).contains("could not start"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_a_running_call() {
    use std::{
        io::Read,
        process::Stdio,
        time::{Duration, Instant},
    };

    let server = Everything::start(Mode::StreamableHttp);
    let home = common::latch_home();
    assert!(
        latch_run(
            home.path(),
            &["servers", "add", "everything", &server.url()]
        )
        .status
        .success()
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("latch"))
        .env("LATCH_HOME", home.path())
        .env("LATCH_TOKEN_STORE", "file")
        .env("RUST_LOG", "info")
        .args([
            "call",
            "everything",
            "trigger-long-running-operation",
            "duration=20",
            "steps=20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let started = Instant::now();
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the call stopped promptly"
    );
    assert!(!status.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("cancelled"), "{stderr}");
}
