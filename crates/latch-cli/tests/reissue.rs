//! A broken response stream on a 2026-07-28 connection: the spec has no resumable streams and
//! says the client MUST send the request again with a new JSON-RPC id. Against
//! `tests/peers/broken-stream-server.mjs` (a 2026-only server whose first attempt at a tool call
//! gets one progress event and then a closed stream): the call succeeds once, under the caller's
//! id, with the second attempt's id different and the first attempt ended on the server; the
//! progress of both attempts reaches the caller; a caller that cancels closes the attempt in
//! flight; when every attempt breaks the caller gets one plain error. A 2025 session
//! (server-everything) still calls as before.

mod common;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::{Everything, Mode, announced::Announced};
use latch_core::{
    CallError, CallOptions, ConnectOptions, Connection, config::ServerConfig, tools::Progress,
};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

/// A running `broken-stream-server.mjs` on 127.0.0.1; dropping it kills the process.
struct Broken(Announced);

impl std::ops::Deref for Broken {
    type Target = Announced;

    fn deref(&self) -> &Announced {
        &self.0
    }
}

impl Broken {
    fn start() -> Broken {
        let mut command = Command::new(common::node());
        command
            .arg(common::peers_dir().join("broken-stream-server.mjs"))
            .args(["--port", "0"]);
        Broken(Announced::start(
            "the broken-stream server",
            &mut command,
            Duration::from_secs(60),
        ))
    }

    /// The attempts at `tool` the server logged (`attempt {json}` lines), in order.
    fn attempts(&self, tool: &str) -> Vec<Value> {
        self.log()
            .lines()
            .filter_map(|line| line.strip_prefix("attempt "))
            .filter_map(|json| serde_json::from_str::<Value>(json).ok())
            .filter(|attempt| attempt["tool"] == tool)
            .collect()
    }

    /// Waits (bounded) until the server logged `n` attempts at `tool`.
    async fn wait_for_attempts(&self, tool: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let attempts = self.attempts(tool);
            if attempts.len() >= n {
                return attempts;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {n} attempts at {tool}; the server's log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn connect(name: &str, url: &str) -> Connection {
    Connection::connect(name, &ServerConfig::remote(url), ConnectOptions::default())
        .await
        .unwrap_or_else(|e| panic!("connects to {url}: {e}"))
}

/// `tool` called with a progress channel: its result and the progress messages seen.
async fn call(
    connection: &Connection,
    tool: &str,
    arguments: Map<String, Value>,
) -> (Result<String, CallError>, Vec<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    let options = CallOptions {
        progress: Some(tx),
        ..CallOptions::default()
    };
    let result = connection.call_tool(tool, arguments, options).await;
    let mut messages = Vec::new();
    while let Ok(progress) = rx.try_recv() {
        messages.push(progress.message.unwrap_or_default());
    }
    (result.map(|r| r.text()), messages)
}

#[tokio::test]
async fn a_broken_stream_is_reissued_with_a_new_id_and_answered_once() {
    let server = Broken::start();
    let connection = connect("broken", &server.url).await;
    let info = connection.server_info();
    assert_eq!(info.protocol_version, "2026-07-28", "{info:?}");
    assert!(info.stateless);

    let (result, progress) = call(&connection, "flaky", Map::new()).await;
    let text = result.unwrap_or_else(|e| panic!("the call succeeds: {e}\n{}", server.log()));
    assert_eq!(text, "flaky: answered attempt 2");
    // Both attempts' progress reached the caller: the progress token stayed the caller's.
    assert_eq!(progress, ["flaky attempt 1", "flaky attempt 2"]);

    let attempts = server.wait_for_attempts("flaky", 2).await;
    assert_eq!(attempts.len(), 2, "one re-issue: {attempts:?}");
    let (first, second) = (&attempts[0], &attempts[1]);
    assert_ne!(first["id"], second["id"], "the re-issue has a new id");
    assert_eq!(first["progressToken"], second["progressToken"]);
    assert!(!first["progressToken"].is_null());
    // The first attempt ended with its stream (cancelled on the server), unanswered.
    assert_eq!(first["outcome"], "stream closed by the server");
    assert_eq!(second["outcome"], "answered");

    // The connection goes on: the next call is answered (the server's third attempt).
    let (again, _) = call(&connection, "flaky", Map::new()).await;
    assert_eq!(again.expect("answered"), "flaky: answered attempt 3");
    connection.close().await;
}

#[tokio::test]
async fn when_every_attempt_breaks_the_caller_gets_one_plain_error() {
    let server = Broken::start();
    let connection = connect("broken", &server.url).await;
    let (result, progress) = call(&connection, "broken", Map::new()).await;
    let error = result.expect_err("no attempt was answered").to_string();
    assert!(
        error.contains("connection was lost"),
        "a lost connection, in words: {error}"
    );
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(!error.contains("Error"), "no type names: {error}");
    // The first attempt and two re-issues, each with its own id, all seen by the caller.
    let attempts = server.wait_for_attempts("broken", 3).await;
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    let ids: std::collections::BTreeSet<String> =
        attempts.iter().map(|a| a["id"].to_string()).collect();
    assert_eq!(ids.len(), 3, "every attempt has its own id: {ids:?}");
    assert_eq!(progress.len(), 3, "{progress:?}");
    connection.close().await;
}

#[tokio::test]
async fn cancelling_closes_the_attempt_in_flight() {
    let server = Broken::start();
    let connection = connect("broken", &server.url).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    let options = CallOptions {
        progress: Some(tx),
        ..CallOptions::default()
    };
    let cancel = options.cancel.clone();
    let call = connection.call_tool("stuck", Map::new(), options);
    let canceller = async {
        // Cancel once the re-issued attempt is running on the server.
        while let Some(progress) = rx.recv().await {
            if progress.message.as_deref() == Some("stuck attempt 2") {
                cancel.cancel();
            }
        }
    };
    let (result, ()) = tokio::join!(call, canceller);
    assert!(
        matches!(result, Err(CallError::Cancelled)),
        "cancelled: {result:?}"
    );
    let attempts = server.wait_for_attempts("stuck", 2).await;
    assert_eq!(attempts[0]["outcome"], "stream closed by the server");
    // The server heard the cancellation of the attempt in flight, under that attempt's id.
    assert_eq!(
        attempts[1]["outcome"], "cancelled: the client closed the stream",
        "{attempts:?}"
    );
    assert_ne!(attempts[0]["id"], attempts[1]["id"]);
    connection.close().await;
}

#[tokio::test]
async fn a_2025_session_is_unaffected() {
    let server = Everything::start(Mode::StreamableHttp);
    let connection = connect("everything", &server.url()).await;
    let info = connection.server_info();
    assert!(!info.stateless, "{info:?}");
    assert!(info.protocol_version.starts_with("2025-"), "{info:?}");
    let arguments = serde_json::json!({"duration": 1, "steps": 2});
    let (result, progress) = call(
        &connection,
        "trigger-long-running-operation",
        arguments.as_object().unwrap().clone(),
    )
    .await;
    let text = result.expect("the call completes");
    assert!(text.contains("completed"), "{text}");
    assert_eq!(progress.len(), 2, "{progress:?}");
    connection.close().await;
}
