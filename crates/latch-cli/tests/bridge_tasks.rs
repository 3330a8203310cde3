//! Tasks through `latch bridge` (the `io.modelcontextprotocol/tasks` extension, SEP-2663): an
//! agent on 2026-07-28 that declares the extension calls the bundled demo server's
//! `make_report` through the bridge, gets a task handle back, follows it with `tasks/get`,
//! answers the question the task asks half-way with `tasks/update`, and gets the report; a
//! second task is stopped with `tasks/cancel`, which the server counts. An agent that did not
//! declare the extension never gets a task: the call is an ordinary one.
//!
//! The agent is raw JSON-RPC on the bridge's stdin/stdout, so the test sees the wire as the
//! agent does; the demo server runs in-process on 127.0.0.1 and is stopped at the end.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use common::{Everything, Mode, demo::with_demo, latch_home, latch_ok};
use serde_json::{Value, json};

const TASKS: &str = "io.modelcontextprotocol/tasks";

/// `latch bridge` as a child, spoken to line by line.
struct Bridge {
    child: std::process::Child,
    lines: mpsc::Receiver<Value>,
    next_id: u64,
    /// The `_meta` each request carries (2026-07-28 has no `initialize`).
    meta: Value,
}

impl Bridge {
    fn start(home: &Path, server: &str, meta: Value) -> Bridge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
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
        Bridge {
            child,
            lines,
            next_id: 1,
            meta,
        }
    }

    /// Send `method` with `params` (and the agent's `_meta`); the whole answer.
    fn ask(&mut self, method: &str, mut params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        if !self.meta.is_null() {
            params["_meta"] = self.meta.clone();
        }
        let request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        loop {
            // A guard against a hang, not a timing assertion.
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the bridge answers {method}"));
            if line["id"] == id && line.get("method").is_none() {
                return line;
            }
        }
    }

    /// `tasks/get` until the task's status is not `working`; the task.
    fn poll(&mut self, task_id: &str) -> Value {
        loop {
            let got = self.ask("tasks/get", json!({ "taskId": task_id }));
            let task = got.get("result").cloned().unwrap_or_else(|| {
                panic!("tasks/get through the bridge: {got:#}");
            });
            assert_eq!(task["taskId"], task_id, "{got:#}");
            if task["status"] != "working" {
                return task;
            }
            let interval = task["pollIntervalMs"].as_u64().unwrap_or(100);
            thread::sleep(Duration::from_millis(interval.min(500)));
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The 2026-07-28 `_meta` of an agent that can answer forms, with or without the tasks
/// extension.
fn agent_meta(tasks: bool) -> Value {
    let mut capabilities = json!({ "elicitation": { "form": {} } });
    if tasks {
        capabilities["extensions"] = json!({ TASKS: {} });
    }
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": { "name": "raw-agent", "version": "1.0.0" },
    })
}

fn make_report(bridge: &mut Bridge, seconds: u32) -> Value {
    bridge.ask(
        "tools/call",
        json!({ "name": "make_report", "arguments": { "seconds": seconds } }),
    )
}

#[test]
fn an_agent_with_the_tasks_extension_follows_answers_and_cancels_tasks_through_the_bridge() {
    with_demo(|home, demo| {
        latch_ok(home, &["call", "demo", "delete_note", "id=note-2"]);
        let mut bridge = Bridge::start(home, "demo", agent_meta(true));

        // The bridge offers the extension because the server does.
        let discovered = bridge.ask("server/discover", json!({}));
        assert!(
            discovered["result"]["capabilities"]["extensions"][TASKS].is_object(),
            "{discovered:#}"
        );

        // The call comes back as a task handle at once.
        let created = make_report(&mut bridge, 2);
        let task = &created["result"];
        assert_eq!(task["resultType"], "task", "{created:#}");
        let task_id = task["taskId"].as_str().expect("a task id").to_owned();

        // Half-way the task asks its question in `inputRequests`; the answer goes back with
        // `tasks/update`, as the agent sent it.
        let asking = bridge.poll(&task_id);
        assert_eq!(asking["status"], "input_required", "{asking:#}");
        let question = &asking["inputRequests"]["include-deleted"];
        assert_eq!(question["method"], "elicitation/create", "{asking:#}");
        assert_eq!(
            question["params"]["message"], "Include the deleted notes too?",
            "{asking:#}"
        );
        let updated = bridge.ask(
            "tasks/update",
            json!({
                "taskId": task_id,
                "inputResponses": {
                    "include-deleted": {
                        "action": "accept",
                        "content": { "include_deleted": true },
                    },
                },
            }),
        );
        assert!(updated.get("result").is_some(), "{updated:#}");

        let done = bridge.poll(&task_id);
        assert_eq!(done["status"], "completed", "{done:#}");
        let report = &done["result"];
        assert_eq!(report["structuredContent"]["notes"], 2, "{done:#}");
        let text = report["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("Report: 2 notes."), "{done:#}");
        assert!(
            text.contains("Call the dentist"),
            "the deleted note is listed, as the agent answered: {done:#}"
        );

        // A second task, cancelled: the server stops the work.
        let created = make_report(&mut bridge, 60);
        let task_id = created["result"]["taskId"]
            .as_str()
            .unwrap_or_else(|| panic!("a task: {created:#}"))
            .to_owned();
        assert_eq!(demo.stats().reports_cancelled, 0);
        let cancelled = bridge.ask("tasks/cancel", json!({ "taskId": task_id }));
        assert!(cancelled.get("result").is_some(), "{cancelled:#}");
        let after = bridge.ask("tasks/get", json!({ "taskId": task_id }));
        assert_eq!(after["result"]["status"], "cancelled", "{after:#}");
        // Cancellation is cooperative: allow the work a moment to notice.
        let mut stopped = demo.stats().reports_cancelled;
        for _ in 0..100 {
            if stopped > 0 {
                break;
            }
            thread::sleep(Duration::from_millis(100));
            stopped = demo.stats().reports_cancelled;
        }
        assert_eq!(stopped, 1);

        // A task the server does not know is the agent's error, in plain words.
        let unknown = bridge.ask("tasks/get", json!({ "taskId": "no-such-task" }));
        assert_eq!(unknown["error"]["code"], -32602, "{unknown:#}");
        assert_eq!(
            unknown["error"]["message"], "unknown task: no-such-task",
            "{unknown:#}"
        );
    });
}

#[test]
fn an_agent_without_the_extension_gets_a_plain_result() {
    with_demo(|home, _| {
        // No elicitation either: the report is not asked about, and comes back whole.
        let meta = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { "name": "raw-agent", "version": "1.0.0" },
        });
        let mut bridge = Bridge::start(home, "demo", meta);
        let answer = make_report(&mut bridge, 1);
        let result = &answer["result"];
        assert_eq!(result["resultType"], "complete", "{answer:#}");
        assert!(result.get("taskId").is_none(), "{answer:#}");
        assert_eq!(result["isError"], false, "{answer:#}");
        assert_eq!(result["structuredContent"]["notes"], 3, "{answer:#}");

        // And it cannot reach a task: the server routes `tasks/*` only for clients that
        // declared the extension.
        let refused = bridge.ask("tasks/get", json!({ "taskId": "anything" }));
        assert_eq!(refused["error"]["code"], -32021, "{refused:#}");
        assert!(
            refused["error"]["data"]["requiredCapabilities"]["extensions"][TASKS].is_object(),
            "{refused:#}"
        );
    });
}

/// The 2025-11-25 `tasks` (SEP-1686) in front of server-everything: the bridge forwards a
/// 2025 agent's `tasks/list`, `tasks/get` and `tasks/result` and the server's answers reach
/// it, and the bridge offers no 2026 tasks extension the server does not have. (A 2025 agent
/// cannot start a task through the bridge yet: rmcp's `tools/call` has no `task` field, so the
/// augmentation is lost on the way in — see the report of issue 17 part 5.)
#[test]
fn a_2025_agents_task_requests_reach_server_everything() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    latch_ok(
        home.path(),
        &["servers", "add", "everything", &server.url()],
    );
    let mut bridge = Bridge::start(home.path(), "everything", Value::Null);
    let init = bridge.ask(
        "initialize",
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": { "tasks": { "list": {}, "cancel": {} } },
            "clientInfo": { "name": "raw-agent", "version": "1.0.0" },
        }),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init:#}");
    assert!(
        init["result"]["capabilities"]["extensions"][TASKS].is_null(),
        "the server has no tasks extension, so the bridge offers none: {init:#}"
    );
    let stdin = bridge.child.stdin.as_mut().unwrap();
    writeln!(
        stdin,
        "{}",
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
    )
    .unwrap();

    let list = bridge.ask("tasks/list", json!({}));
    assert_eq!(list["result"]["tasks"], json!([]), "{list:#}");
    let get = bridge.ask("tasks/get", json!({ "taskId": "nope" }));
    let message = get["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Task not found"), "{get:#}");
    let result = bridge.ask("tasks/result", json!({ "taskId": "nope" }));
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Task not found: nope"), "{result:#}");
}
