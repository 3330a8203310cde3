//! `latch bridge NAME` serves agents of both protocol eras, whatever era the remote server
//! speaks. Agents on the TypeScript SDK 2.x (`@modelcontextprotocol/client`, in each of its
//! `versionNegotiation` modes: `legacy`, `auto`, `pin` 2026-07-28) and on the 1.x SDK
//! (`tests/peers/bridge-client-2x.mjs`) spawn the bridge over stdio, in front of a server that
//! speaks only 2026-07-28 (`tests/peers/sdk2/server.mjs --legacy reject`) and in front of
//! server-everything (2025-11-25).
//!
//! What must hold for every pair: the agent gets the era it asked for; every tool is listed and
//! called; the server's input requests reach the agent and its answers reach the server — as
//! ordinary `elicitation/create` / `sampling/createMessage` / `roots/list` requests for a
//! 2025-era agent in front of a 2026 server, and as `input_required` results for a 2026-era
//! agent in front of a 2025 server; progress arrives under the agent's token; a cancelled call
//! is rejected and the bridge keeps serving; parallel calls each get their own answer; resource
//! updates and list changes reach the agent (on its `subscriptions/listen` on 2026-07-28); a
//! `requestState` the bridge never made is refused. And at the wire: `server/discover` names
//! both eras and the server's capabilities, and an unknown protocol version gets `-32022` with
//! the supported versions.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use common::{
    Everything, Mode, assert_ok, latch_command, latch_home, node, peers_dir,
    sdk2::{Sdk2, Sdk2Server},
};
use serde_json::{Value, json};

fn latch_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_latch"))
}

/// Which remote server the bridge forwards to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Remote {
    /// tests/peers/sdk2/server.mjs --legacy reject: 2026-07-28 only.
    ModernOnly,
    /// server-everything over Streamable HTTP: 2025-11-25.
    Everything,
}

/// A started remote server (stopped when dropped) and its URL.
enum Started {
    Modern(Sdk2Server),
    Everything(Everything),
}

impl Started {
    fn start(remote: Remote) -> Started {
        match remote {
            Remote::ModernOnly => Started::Modern(Sdk2Server::start(Sdk2::TsModernOnly)),
            Remote::Everything => Started::Everything(Everything::start(Mode::StreamableHttp)),
        }
    }

    fn url(&self) -> String {
        match self {
            Started::Modern(server) => server.url.clone(),
            Started::Everything(server) => server.url(),
        }
    }
}

/// Run the agent script in `mode` against the bridge to `server`; its summary line.
fn agent(home: &Path, mode: &str, server: &str) -> Value {
    let output = Command::new(node())
        .arg(peers_dir().join("bridge-client-2x.mjs"))
        .arg(mode)
        .arg("--latch")
        .arg(latch_bin())
        .args(["--server", server])
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .current_dir(peers_dir())
        .output()
        .expect("node runs the agent");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line.get("summary").is_some())
        .unwrap_or_else(|| {
            panic!(
                "bridge-client-2x.mjs {mode} printed no summary:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    assert!(
        output.status.success() && summary.get("fatal").is_none(),
        "bridge-client-2x.mjs {mode} failed: {summary:#}\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    summary
}

/// Tools of server-everything whose own result is an error whoever calls them: one needs task
/// augmentation (`taskSupport: "required"`), one fetches its `data` URL, which this sandbox's
/// Node cannot. The bridge forwards both answers as they are.
const EVERYTHING_FAILS_ITSELF: [&str; 2] = ["simulate-research-query", "gzip-file-as-resource"];

/// The whole check for one agent mode in front of one remote server.
fn agent_through_bridge(remote: Remote, mode: &str) {
    let server = Started::start(remote);
    let home = latch_home();
    assert_ok(
        &latch_command(home.path())
            .args(["servers", "add", "remote", &server.url()])
            .output()
            .unwrap(),
    );
    let s = agent(home.path(), mode, "remote");
    let modern_agent = mode == "auto" || mode == "pin";

    // The era the agent asked for (the 1.x SDK does not say which version it settled on).
    match mode {
        "legacy" => assert_eq!(s["protocol"], "2025-11-25", "{s:#}"),
        "auto" | "pin" => {
            assert_eq!(s["protocol"], "2026-07-28", "{s:#}");
            assert_eq!(s["era"], "modern", "{s:#}");
        }
        _ => {}
    }
    let name = match remote {
        Remote::ModernOnly => "latch-sdk2-ts",
        Remote::Everything => "mcp-servers/everything",
    };
    assert_eq!(
        s["server"], name,
        "the server's own identity reaches the agent: {s:#}"
    );

    // Every tool listed was called, and none failed on the way.
    assert_eq!(s["errors"], json!({}), "{s:#}");
    let listed: Vec<&str> = s["listed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let long = ["slow", "trigger-long-running-operation"];
    for tool in listed.iter().filter(|t| !long.contains(t)) {
        let outcome = &s["tools"][tool];
        assert!(outcome.is_object(), "{tool} was not called: {s:#}");
        if !EVERYTHING_FAILS_ITSELF.contains(tool) {
            assert_eq!(outcome["isError"], false, "{tool}: {outcome:#}");
        }
    }

    // The server's input requests, answered by the agent in its own era's way.
    match remote {
        Remote::ModernOnly => {
            let tools = ["echo", "add", "count", "slow", "ask", "grow"];
            for tool in tools {
                assert!(listed.contains(&tool), "{tool} not listed: {s:#}");
            }
            let ask = &s["tools"]["ask"];
            assert_eq!(
                ask["asked"],
                json!({ "elicitation": 1, "sampling": 1, "roots": 1 }),
                "{ask:#}"
            );
            let text = ask["text"].as_str().unwrap();
            assert!(text.starts_with("ask: name=Bridge Tester"), "{text}");
            assert!(
                text.contains("sample=canned answer to 1 message(s)"),
                "{text}"
            );
            assert!(text.contains("roots=1 file:///tmp/bridge-root"), "{text}");
            // Three calls asking at once: three different answers, each back in its own call.
            let names: std::collections::BTreeSet<String> = s["parallelAsk"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let r = r.as_str().unwrap();
                    assert!(r.starts_with("ask: name=Bridge Tester "), "{s:#}");
                    r.split(" colour=").next().unwrap().to_owned()
                })
                .collect();
            assert_eq!(names.len(), 3, "{s:#}");
            // `grow` announced a new tool: the change reached the agent (on its listen, on
            // 2026-07-28).
            assert!(s["toolListChanges"].as_u64() >= Some(1), "{s:#}");
        }
        Remote::Everything => {
            let elicited = &s["tools"]["trigger-elicitation-request"];
            assert_eq!(elicited["asked"]["elicitation"], 1, "{elicited:#}");
            assert!(
                elicited["text"]
                    .as_str()
                    .unwrap()
                    .contains("Name: Bridge Tester"),
                "{elicited:#}"
            );
            let sampled = &s["tools"]["trigger-sampling-request"];
            assert_eq!(sampled["asked"]["sampling"], 1, "{sampled:#}");
            assert!(
                sampled["text"].as_str().unwrap().contains("canned answer"),
                "{sampled:#}"
            );
            let roots = &s["tools"]["get-roots-list"];
            assert!(
                roots["text"]
                    .as_str()
                    .unwrap()
                    .contains("file:///tmp/bridge-root"),
                "{roots:#}"
            );
            // Resource updates: on the agent's listen (2026) or after its subscribe (2025).
            let watched = s["watched"].as_str().expect("a subscribable resource");
            assert!(
                s["resourceUpdates"]
                    .as_array()
                    .is_some_and(|uris| uris.contains(&json!(watched))),
                "{s:#}"
            );
        }
    }
    if modern_agent {
        // The bridge answered the agent's subscriptions/listen with what the server offers.
        assert_eq!(s["listenAccepted"]["toolsListChanged"], true, "{s:#}");
    }

    // Progress: every report, under the agent's own token.
    assert_eq!(s["progress"]["reports"], json!([1, 2, 3]), "{s:#}");
    // Cancellation: the call is rejected, and the bridge goes on serving.
    let cancelled = &s["cancelled"];
    assert!(
        cancelled["outcome"]
            .as_str()
            .unwrap()
            .starts_with("rejected"),
        "{cancelled:#}"
    );
    assert!(
        cancelled["after"]
            .as_str()
            .unwrap()
            .contains("hello bridge"),
        "{cancelled:#}"
    );
    // Parallel calls: each its own answer.
    let parallel: Vec<&str> = s["parallel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (i, result) in parallel.iter().enumerate() {
        assert!(result.contains(&format!("is {}", 101 + i)), "{parallel:?}");
    }
    // A made-up requestState is refused in words.
    if modern_agent {
        let refused = &s["madeUpState"];
        assert_eq!(refused["code"], -32602, "{refused:#}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("requestState is unknown"),
            "{refused:#}"
        );
    }
}

#[test]
fn a_2x_legacy_agent_reaches_a_modern_only_server() {
    agent_through_bridge(Remote::ModernOnly, "legacy");
}

#[test]
fn a_2x_auto_agent_reaches_a_modern_only_server() {
    agent_through_bridge(Remote::ModernOnly, "auto");
}

#[test]
fn a_2x_pinned_agent_reaches_a_modern_only_server() {
    agent_through_bridge(Remote::ModernOnly, "pin");
}

#[test]
fn a_1x_agent_reaches_a_modern_only_server() {
    agent_through_bridge(Remote::ModernOnly, "v1");
}

#[test]
fn a_2x_legacy_agent_reaches_server_everything() {
    agent_through_bridge(Remote::Everything, "legacy");
}

#[test]
fn a_2x_auto_agent_reaches_server_everything() {
    agent_through_bridge(Remote::Everything, "auto");
}

#[test]
fn a_2x_pinned_agent_reaches_server_everything() {
    agent_through_bridge(Remote::Everything, "pin");
}

#[test]
fn a_1x_agent_reaches_server_everything() {
    agent_through_bridge(Remote::Everything, "v1");
}

/// `latch bridge` as a child, spoken to line by line.
struct Bridge {
    child: std::process::Child,
    lines: mpsc::Receiver<Value>,
}

impl Bridge {
    fn start(home: &Path, server: &str) -> Bridge {
        let mut child = Command::new(latch_bin())
            .args(["bridge", server])
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("latch bridge starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    let _ = tx.send(value);
                }
            }
        });
        Bridge { child, lines }
    }

    /// Send one request and return the answer with its id (notifications are skipped).
    fn ask(&mut self, request: Value) -> Value {
        let id = request["id"].clone();
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        loop {
            // A guard against a hang, not a timing assertion.
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .expect("the bridge answers");
            if line["id"] == id && line.get("method").is_none() {
                return line;
            }
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn modern_meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": { "elicitation": { "form": {} } },
        "io.modelcontextprotocol/clientInfo": { "name": "raw-agent", "version": "1.0.0" },
    })
}

#[test]
fn discover_names_both_eras_and_an_unknown_version_is_refused_with_the_supported_ones() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    assert_ok(
        &latch_command(home.path())
            .args(["servers", "add", "everything", &server.url()])
            .output()
            .unwrap(),
    );
    let mut bridge = Bridge::start(home.path(), "everything");

    let discovered = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 1, "method": "server/discover",
        "params": { "_meta": modern_meta("2026-07-28") },
    }));
    let result = &discovered["result"];
    let versions = result["supportedVersions"].as_array().expect("versions");
    assert!(versions.contains(&json!("2026-07-28")), "{discovered:#}");
    assert!(versions.contains(&json!("2025-11-25")), "{discovered:#}");
    assert!(
        result["capabilities"]["tools"].is_object(),
        "{discovered:#}"
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "mcp-servers/everything",
        "the remote server's own identity: {discovered:#}"
    );

    let refused = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/list",
        "params": { "_meta": modern_meta("2099-01-01") },
    }));
    assert_eq!(refused["error"]["code"], -32022, "{refused:#}");
    let supported = refused["error"]["data"]["supported"]
        .as_array()
        .unwrap_or_else(|| panic!("the supported versions in data: {refused:#}"));
    assert!(supported.contains(&json!("2026-07-28")), "{refused:#}");

    // The same bridge then serves the stateless wire: a tools/list with its _meta.
    let listed = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/list",
        "params": { "_meta": modern_meta("2026-07-28") },
    }));
    assert_eq!(listed["result"]["resultType"], "complete", "{listed:#}");
    assert!(
        listed["result"]["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["name"] == "echo")),
        "{listed:#}"
    );

    // A later request without the required _meta is refused, naming what is missing.
    let bare = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {},
    }));
    assert_eq!(bare["error"]["code"], -32602, "{bare:#}");
    assert!(
        bare["error"]["message"]
            .as_str()
            .unwrap()
            .contains("io.modelcontextprotocol/protocolVersion"),
        "{bare:#}"
    );
}

/// An answer that fits an elicitation's requested schema.
fn form_answer(request: &Value) -> Value {
    let mut content = serde_json::Map::new();
    let properties = request["params"]["requestedSchema"]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, schema) in properties {
        let value = match (schema.get("enum"), schema["type"].as_str()) {
            (Some(Value::Array(values)), _) if !values.is_empty() => values[0].clone(),
            (_, Some("boolean")) => json!(true),
            (_, Some("number" | "integer")) => json!(1),
            _ => json!("Raw Agent"),
        };
        content.insert(name, value);
    }
    json!({ "action": "accept", "content": content })
}

#[test]
fn a_2026_agent_gets_a_2025_servers_elicitation_as_input_required_and_answers_it_by_retrying() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    assert_ok(
        &latch_command(home.path())
            .args(["servers", "add", "everything", &server.url()])
            .output()
            .unwrap(),
    );
    let mut bridge = Bridge::start(home.path(), "everything");
    let call = |id: u64, extra: Value| {
        let mut params = json!({
            "name": "trigger-elicitation-request",
            "arguments": {},
            "_meta": modern_meta("2026-07-28"),
        });
        params
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params })
    };

    // The server's elicitation/create comes back as the call's input_required result.
    let first = bridge.ask(call(1, json!({})));
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first:#}");
    let requests = result["inputRequests"].as_object().expect("inputRequests");
    assert_eq!(requests.len(), 1, "{first:#}");
    let (key, request) = requests.iter().next().unwrap();
    assert_eq!(request["method"], "elicitation/create", "{first:#}");
    let state = result["requestState"].as_str().expect("a requestState");

    // Tampered with: refused, and the call still waits for the real one.
    let tampered = bridge.ask(call(
        2,
        json!({ "requestState": format!("{state}0"), "inputResponses": { key: form_answer(request) } }),
    ));
    assert_eq!(tampered["error"]["code"], -32602, "{tampered:#}");
    assert!(
        tampered["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requestState"),
        "{tampered:#}"
    );

    // The retry (a new id, the answer, the state echoed) reaches the server; its result comes.
    let retried = bridge.ask(call(
        3,
        json!({ "requestState": state, "inputResponses": { key: form_answer(request) } }),
    ));
    let result = &retried["result"];
    assert_eq!(result["resultType"], "complete", "{retried:#}");
    let text: String = result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert!(
        text.contains("Name: Raw Agent"),
        "the server got the agent's answer: {retried:#}"
    );

    // The state was used: a second retry with it is refused.
    let again = bridge.ask(call(
        4,
        json!({ "requestState": state, "inputResponses": { key: form_answer(request) } }),
    ));
    assert_eq!(again["error"]["code"], -32602, "{again:#}");
}

#[test]
fn a_2025_agents_log_level_reaches_a_2026_server_in_each_requests_meta() {
    let server = Sdk2Server::start(Sdk2::TsModernOnly);
    let home = latch_home();
    assert_ok(
        &latch_command(home.path())
            .args(["servers", "add", "modern", &server.url])
            .output()
            .unwrap(),
    );
    let mut bridge = Bridge::start(home.path(), "modern");
    let initialized = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "raw-agent", "version": "1.0.0" },
        },
    }));
    assert_eq!(
        initialized["result"]["protocolVersion"], "2025-11-25",
        "{initialized:#}"
    );
    let stdin = bridge.child.stdin.as_mut().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();

    let before = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "envelope", "arguments": {} },
    }));
    let envelope = before["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !envelope.contains("warning"),
        "no level set yet: {before:#}"
    );

    // The 2026 server has no logging/setLevel: the bridge answers it and carries the level.
    let set = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 3, "method": "logging/setLevel",
        "params": { "level": "warning" },
    }));
    assert!(set.get("error").is_none(), "{set:#}");
    let after = bridge.ask(json!({
        "jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": { "name": "envelope", "arguments": {} },
    }));
    let envelope: Value = serde_json::from_str(
        after["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("the envelope as JSON ({e}): {after:#}"));
    assert!(
        envelope.to_string().contains("\"warning\""),
        "the log level in the request's _meta: {envelope:#}"
    );
}
