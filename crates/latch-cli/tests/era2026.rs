//! The `latch` CLI against servers written for MCP 2026-07-28 on the official SDKs 2.x
//! (`tests/peers/sdk2/`): the TypeScript SDK's modern-only endpoint (`legacy: "reject"`, which
//! refuses the 2025 handshake), its default endpoint (both eras), and the Python SDK 2.x, over
//! Streamable HTTP and over stdio.
//!
//! What must hold against each: `latch tools` lists the tools; `latch call` with arguments
//! answers in text and `--json`; progress reaches the call's progress bar; the tool that asks for
//! input (a form, a sample, the roots — `input_required` on the 2026 wire) is answered by the
//! CLI's host with the form's defaults, and `--no-input` declines it; a tool added by `grow` can
//! be called at once; Ctrl-C cancels a slow call on the server too; `latch status --json` says
//! the server speaks `2026-07-28`.

mod common;

use std::{
    io::Read,
    path::Path,
    process::Stdio,
    thread,
    time::{Duration, Instant},
};

use common::{
    latch_fails, latch_json, latch_ok, latch_run,
    sdk2::{Sdk2, Sdk2Server},
};
use serde_json::Value;

/// Every tool the peers list before `grow` adds more.
const TOOLS: [&str; 6] = ["echo", "add", "count", "slow", "ask", "grow"];

fn add_server(home: &Path, name: &str, url: &str) {
    latch_ok(home, &["servers", "add", name, url]);
}

fn add_command_server(home: &Path, name: &str, program: &str, args: &[String]) {
    let mut add = vec!["servers", "add", name, "--command", program];
    add.extend(args.iter().map(String::as_str));
    latch_ok(home, &add);
}

fn tool_names(home: &Path, name: &str) -> Vec<String> {
    latch_json(home, &["tools", name, "--json"])
        .as_array()
        .expect("a list of tools")
        .iter()
        .map(|t| t["name"].as_str().expect("a tool name").to_owned())
        .collect()
}

/// The text of a `--json` call result's first content block.
fn first_text(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a text result: {result}"))
}

/// Lists, calls with arguments (text and `--json`), the input-asking tool with defaults and
/// with `--no-input`, and a tool added by `grow`, against the server `name` in `home`.
fn lists_calls_asks_and_grows(home: &Path, name: &str, grows: bool, context: &dyn Fn() -> String) {
    let names = tool_names(home, name);
    for tool in TOOLS {
        assert!(
            names.iter().any(|n| n == tool),
            "{tool} missing from {names:?}; server log:\n{}",
            context()
        );
    }
    let listed = latch_ok(home, &["tools", name]);
    assert!(
        listed.contains("echo") && listed.contains("count"),
        "{listed}"
    );

    let sum = latch_json(home, &["call", name, "add", "a=2", "b=3", "--json"]);
    assert_eq!(sum["isError"], Value::Bool(false), "{sum}");
    assert_eq!(first_text(&sum), "The sum of 2 and 3 is 5.");
    let echo = latch_ok(home, &["call", name, "echo", "text=hello 2026"]);
    assert_eq!(first_line(&echo), "echo: hello 2026");

    // No person at the terminal: the form is answered with its defaults.
    let asked = latch_ok(home, &["call", name, "ask"]);
    assert!(
        asked.contains("ask: name=Ada colour=green"),
        "{asked}; server log:\n{}",
        context()
    );
    let asked = latch_json(home, &["call", name, "ask", "--json"]);
    assert!(
        first_text(&asked).starts_with("ask: name=Ada colour=green"),
        "{asked}"
    );

    // A tool added while running is listed and callable by the next command (over HTTP: over
    // stdio every command starts its own server, which starts with the first six tools).
    if !grows {
        return;
    }
    let grown = latch_ok(home, &["call", name, "grow"]);
    let added = first_line(&grown)
        .strip_prefix("added ")
        .unwrap_or_else(|| panic!("{grown}"))
        .to_owned();
    assert!(tool_names(home, name).contains(&added), "{added} listed");
    assert_eq!(first_line(&latch_ok(home, &["call", name, &added])), added);
}

/// `--no-input` declines what the server asks, and the server ends the call its own way.
fn no_input_declines(home: &Path, name: &str) {
    let declined = latch_ok(home, &["call", name, "ask", "--no-input"]);
    assert_eq!(first_line(&declined), "ask: declined, nothing done");
    let declined = latch_json(home, &["call", name, "ask", "--no-input", "--json"]);
    assert_eq!(first_text(&declined), "ask: declined, nothing done");
}

/// The first line of a text result (the Python SDK adds its structured content after it).
fn first_line(stdout: &str) -> &str {
    stdout.lines().next().unwrap_or_default().trim()
}

fn assert_speaks_2026(home: &Path, name: &str) {
    let status = latch_json(home, &["status", name, "--json"]);
    let server = &status["servers"][0];
    assert_eq!(server["state"]["state"], "connected", "{status}");
    assert_eq!(
        server["server"]["protocolVersion"], "2026-07-28",
        "{status}"
    );
}

/// `latch call NAME count steps=N` under a pseudo-terminal (`script`), so its progress bar
/// draws; what the terminal showed.
fn call_in_a_terminal(home: &Path, name: &str, call: &str) -> String {
    let latch = assert_cmd::cargo::cargo_bin("latch");
    let line = format!("'{}' call {name} {call}", latch.display());
    let output = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) runs (util-linux)");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn progress_reaches_the_call(home: &Path, name: &str) {
    let screen = call_in_a_terminal(home, name, "count steps=5");
    assert!(screen.contains("counted to 5"), "{screen}");
    assert!(
        (1..=5).any(|i| screen.contains(&format!("step {i} of 5"))),
        "the progress bar showed the server's progress: {screen:?}"
    );
}

/// Waits (bounded) until `log()` contains `needle`.
fn wait_for_log(log: &dyn Fn() -> String, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !log().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the server log:\n{}",
            log()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
fn ctrl_c_cancels_slow(home: &Path, name: &str, server: &Sdk2Server) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("latch"))
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .args(["call", name, "slow", "seconds=120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("latch runs");
    wait_for_log(&|| server.log(), "slow started");
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill runs")
            .success()
    );
    let status = child.wait().expect("latch exits");
    assert!(!status.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    wait_for_log(&|| server.log(), "slow cancelled");
}

fn over_http(kind: Sdk2) {
    let server = Sdk2Server::start(kind);
    let home = common::latch_home();
    let home = home.path();
    add_server(home, "modern", &server.url);
    lists_calls_asks_and_grows(home, "modern", true, &|| server.log());
    progress_reaches_the_call(home, "modern");
    #[cfg(unix)]
    ctrl_c_cancels_slow(home, "modern", &server);
    assert_speaks_2026(home, "modern");
    no_input_declines(home, "modern");
}

#[test]
fn typescript_modern_only_over_http() {
    over_http(Sdk2::TsModernOnly);
}

#[test]
fn typescript_default_over_http() {
    over_http(Sdk2::TsDefault);
}

#[test]
fn python_over_http() {
    over_http(Sdk2::Python);
}

#[test]
fn typescript_modern_only_over_stdio() {
    let (node, args) = common::sdk2::sdk2_ts_stdio_command(true);
    let home = common::latch_home();
    let home = home.path();
    add_command_server(home, "local", &node, &args);
    lists_calls_asks_and_grows(home, "local", false, &|| "(stdio)".to_owned());
    progress_reaches_the_call(home, "local");
    assert_speaks_2026(home, "local");
    no_input_declines(home, "local");
}

#[test]
fn python_over_stdio() {
    let python = common::sdk2::sdk2_python();
    let script = common::sdk2::sdk2_dir().join("server.py");
    let home = common::latch_home();
    let home = home.path();
    let args = vec![script.to_string_lossy().into_owned(), "--stdio".to_owned()];
    add_command_server(home, "local", &python.to_string_lossy(), &args);
    lists_calls_asks_and_grows(home, "local", false, &|| "(stdio)".to_owned());
    assert_speaks_2026(home, "local");
    no_input_declines(home, "local");
}

/// `--protocol 2025-11-25` forces the 2025 handshake: the modern-only endpoint refuses it in one
/// plain line; the endpoints that serve both eras answer on it, and the Python SDK (a session)
/// still asks for input mid-call, while the TypeScript SDK's stateless 2025 fallback cannot.
#[test]
fn forcing_the_2025_handshake() {
    let modern_only = Sdk2Server::start(Sdk2::TsModernOnly);
    let both = Sdk2Server::start(Sdk2::TsDefault);
    let python = Sdk2Server::start(Sdk2::Python);
    let home = common::latch_home();
    let home = home.path();
    for (name, server) in [
        ("strict", &modern_only),
        ("both", &both),
        ("python", &python),
    ] {
        latch_ok(
            home,
            &[
                "servers",
                "add",
                name,
                &server.url,
                "--protocol",
                "2025-11-25",
            ],
        );
    }

    let stderr = latch_fails(home, &["tools", "strict"]);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&modern_only.url) || stderr.contains("strict"),
        "names the server: {stderr}"
    );
    assert!(
        stderr.contains("2025-11-25"),
        "says which version: {stderr}"
    );

    for name in ["both", "python"] {
        let status = latch_json(home, &["status", name, "--json"]);
        assert_eq!(
            status["servers"][0]["server"]["protocolVersion"], "2025-11-25",
            "{status}"
        );
        let sum = latch_json(home, &["call", name, "add", "a=2", "b=3", "--json"]);
        assert_eq!(first_text(&sum), "The sum of 2 and 3 is 5.");
    }
    let asked = latch_ok(home, &["call", "python", "ask"]);
    assert!(asked.contains("ask: name=Ada colour=green"), "{asked}");
    let failed = latch_run(home, &["call", "both", "ask", "--json"]);
    assert!(!failed.status.success(), "an isError result exits non-zero");
    let stateless: Value = serde_json::from_slice(&failed.stdout).expect("--json prints JSON");
    assert_eq!(stateless["isError"], Value::Bool(true), "{stateless}");
    assert!(
        first_text(&stateless).starts_with("ask: could not ask for input on a 2025-era"),
        "{stateless}"
    );
}
