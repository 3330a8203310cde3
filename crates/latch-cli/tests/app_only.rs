//! Tools only a server's app may call (MCP Apps, SEP-1865: `_meta.ui.visibility: ["app"]`)
//! are no one else's: against `tests/peers/hostile-app-server.mjs` (its `report` tool is
//! app-only), `latch tools` and `latch tools --json` leave `report` out, `latch call` refuses
//! it in one line without reaching the server, and `latch bridge` keeps it out of its agent's
//! `tools/list` and refuses the agent's call to it — while the server's other tools stay
//! listed and callable.

mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
};

use common::{latch_fails, latch_home, latch_json, latch_ok, node, peers_dir};
use serde_json::{Value, json};

/// The hostile app server on an ephemeral 127.0.0.1 port; stopped when dropped.
struct AppServer {
    child: Child,
    url: String,
    port: u16,
    /// Kept open so the server never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl AppServer {
    fn start() -> AppServer {
        let mut child = Command::new(node())
            .arg(peers_dir().join("hostile-app-server.mjs"))
            .args(["--port", "0"])
            .current_dir(peers_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the hostile app server");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the server says where it listens");
        let url = line
            .trim()
            .strip_prefix("hostile-app-server listening ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        let port = url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/mcp")
            .parse()
            .expect("a port");
        AppServer {
            child,
            url,
            port,
            _stdout: stdout,
        }
    }

    /// What the server's `GET /state` says (`findings` is set only when `report` ran).
    fn state(&self) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the server answers");
        write!(stream, "GET /state HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn add_hostile(home: &Path, server: &AppServer) {
    latch_ok(home, &["servers", "add", "hostile", &server.url]);
}

#[test]
fn latch_tools_leaves_app_only_tools_out_and_latch_call_refuses_them() {
    let server = AppServer::start();
    let home = latch_home();
    add_hostile(home.path(), &server);

    let table = latch_ok(home.path(), &["tools", "hostile"]);
    assert!(table.contains("hostile-app"), "{table}");
    assert!(table.contains("wipe"), "{table}");
    assert!(
        !table.contains("report"),
        "the app-only tool is listed:\n{table}"
    );
    assert!(table.contains("\n2 tools."), "{table}");

    let listed = latch_json(home.path(), &["tools", "hostile", "--json"]);
    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hostile-app", "wipe"], "{listed:#}");

    let refused = latch_fails(home.path(), &["call", "hostile", "report", "findings=x"]);
    assert_eq!(
        refused.trim(),
        "latch: report is a tool for the app of hostile only (MCP Apps); latch call cannot \
         call it.",
        "one plain line"
    );
    let refused_json = latch_fails(home.path(), &["call", "hostile", "report", "--json"]);
    assert!(
        refused_json.contains("for the app of hostile only"),
        "{refused_json}"
    );
    assert_eq!(
        server.state()["findings"],
        Value::Null,
        "the server never ran it"
    );

    // The server's other tools are called as ever.
    let shown = latch_ok(home.path(), &["call", "hostile", "hostile-app"]);
    assert!(shown.contains("The hostile app is shown below."), "{shown}");
}

/// Send one JSON-RPC line to the bridge.
fn send(stdin: &mut impl Write, message: Value) {
    writeln!(stdin, "{message}").expect("the bridge reads its stdin");
}

/// Read lines until the answer to `id` (notifications in between are skipped).
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

#[test]
fn the_bridge_keeps_app_only_tools_from_the_agent() {
    let server = AppServer::start();
    let home = latch_home();
    add_hostile(home.path(), &server);
    let mut bridge = Command::new(env!("CARGO_BIN_EXE_latch"))
        .args(["bridge", "hostile"])
        .env("LATCH_HOME", home.path())
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("latch bridge starts");
    let mut stdin = bridge.stdin.take().expect("stdin is piped");
    let mut lines = BufReader::new(bridge.stdout.take().expect("stdout is piped")).lines();

    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "app-only-agent", "version": "0"}}}),
    );
    let init = answer(&mut lines, 1);
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init:#}"
    );
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );

    // Called before any tools/list: the bridge still knows `report` is the app's.
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "report", "arguments": {"findings": "{\"from\": \"agent\"}"}}}),
    );
    let refused = answer(&mut lines, 2);
    assert_eq!(refused["error"]["code"], -32602, "{refused:#}");
    assert_eq!(
        refused["error"]["message"],
        "Latch bridge to hostile: report is a tool for the app of hostile only (MCP Apps); \
         an agent cannot call it.",
        "{refused:#}"
    );

    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}),
    );
    let listed = answer(&mut lines, 3);
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed:#}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hostile-app", "wipe"], "{listed:#}");

    // After the list, too (its cached list answers), and other tools are called as ever.
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "report", "arguments": {"findings": "null"}}}),
    );
    assert_eq!(answer(&mut lines, 4)["error"]["code"], -32602);
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
            "name": "hostile-app", "arguments": {}}}),
    );
    let shown = answer(&mut lines, 5);
    assert_eq!(
        shown["result"]["content"][0]["text"], "The hostile app is shown below.",
        "{shown:#}"
    );
    assert_eq!(
        server.state()["findings"],
        Value::Null,
        "the server never ran report"
    );

    drop(stdin);
    let status = bridge.wait().expect("the bridge exits");
    assert!(status.success(), "{status}");
}
