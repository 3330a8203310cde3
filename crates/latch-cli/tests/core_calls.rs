//! latch-core's public API against the real server-everything: progress events for a long
//! call, cancellation midway (the server is told and the call ends), a per-call timeout that
//! progress keeps alive, and the tool-list cache refreshed by `list_changed`.

mod common;

use std::{sync::Arc, time::Duration};

use common::{Everything, Mode};
use latch_core::{
    CallError, CallOptions, ConnectOptions, Connection, Event, config::ServerConfig,
    tools::Progress,
};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

async fn connect(server: &Everything, options: ConnectOptions) -> Connection {
    let config = ServerConfig::remote(server.url());
    Connection::connect("everything", &config, options)
        .await
        .expect("connects")
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn progress_is_reported_then_a_call_is_cancelled_midway() {
    let server = Everything::start(Mode::StreamableHttp);
    let options = ConnectOptions::default();
    let mut events = options.events.subscribe();
    let connection = connect(&server, options).await;

    // A full run: every step reported, on the channel and on the event bus.
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    let result = connection
        .call_tool(
            "trigger-long-running-operation",
            args(json!({"duration": 1, "steps": 4})),
            CallOptions {
                progress: Some(tx),
                ..CallOptions::default()
            },
        )
        .await
        .expect("the call completes");
    assert!(result.text().contains("completed"), "{}", result.text());
    let mut steps = Vec::new();
    while let Ok(p) = rx.try_recv() {
        steps.push(p.progress);
        assert_eq!(p.total, Some(4.0));
    }
    assert_eq!(steps, vec![1.0, 2.0, 3.0, 4.0]);
    let mut bus_progress = 0;
    while let Ok(event) = events.try_recv() {
        if matches!(event, Event::Progress { .. }) {
            bus_progress += 1;
        }
    }
    assert_eq!(bus_progress, 4);

    // Cancelled after the second step: the call ends at once with Cancelled.
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    let options = CallOptions {
        progress: Some(tx),
        ..CallOptions::default()
    };
    let cancel = options.cancel.clone();
    let call = connection.call_tool(
        "trigger-long-running-operation",
        args(json!({"duration": 10, "steps": 10})),
        options,
    );
    let watcher = async {
        let mut seen = 0;
        while let Some(_p) = rx.recv().await {
            seen += 1;
            if seen == 2 {
                cancel.cancel();
                break;
            }
        }
        seen
    };
    let started = std::time::Instant::now();
    let (result, seen) = tokio::join!(call, watcher);
    assert_eq!(seen, 2);
    assert!(matches!(result, Err(CallError::Cancelled)), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cancelled midway, not run to the end"
    );

    // The session is still good after a cancellation.
    let sum = connection
        .call_tool(
            "get-sum",
            args(json!({"a": 2, "b": 3})),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert!(sum.text().contains('5'));
    connection.close().await;
}

#[tokio::test]
async fn timeout_is_reset_by_progress_but_fires_without_it() {
    let server = Everything::start(Mode::StreamableHttp);
    let connection = connect(&server, ConnectOptions::default()).await;
    // 3 s of work in 6 steps of 0.5 s with a 1.5 s timeout: progress keeps it alive.
    let ok = connection
        .call_tool(
            "trigger-long-running-operation",
            args(json!({"duration": 3, "steps": 6})),
            CallOptions {
                timeout: Duration::from_millis(1500),
                ..CallOptions::default()
            },
        )
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    // 4 s in 1 step with a 1 s timeout: nothing resets it.
    let late = connection
        .call_tool(
            "trigger-long-running-operation",
            args(json!({"duration": 4, "steps": 1})),
            CallOptions {
                timeout: Duration::from_secs(1),
                ..CallOptions::default()
            },
        )
        .await;
    assert!(matches!(late, Err(CallError::TimedOut { .. })), "{late:?}");
    connection.close().await;
}

#[tokio::test]
async fn tool_list_is_cached_until_the_server_says_it_changed() {
    // A TypeScript SDK server whose `grow` tool registers another tool, which makes the SDK
    // send notifications/tools/list_changed.
    let script = common::peers_dir().join("list-changed-server.mjs");
    let config = ServerConfig::command(common::node(), [script.to_string_lossy().into_owned()]);
    let options = ConnectOptions::default();
    let mut events = options.events.subscribe();
    let connection = Connection::connect("growing", &config, options)
        .await
        .expect("connects");

    let first = connection.list_tools().await.unwrap();
    let again = connection.list_tools().await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "served from the cache");
    assert_eq!(first.len(), 1);

    let grown = connection
        .call_tool("grow", Map::new(), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(grown.text(), "added extra-1");
    let changed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Event::ToolsChanged { server }) = events.recv().await {
                break server;
            }
        }
    })
    .await
    .expect("a tools/list_changed notification arrives");
    assert_eq!(changed, "growing");

    let after = connection.list_tools().await.unwrap();
    let names: Vec<&str> = after.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["grow", "extra-1"], "fetched again after the change");
    let extra = connection
        .call_tool("extra-1", Map::new(), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(extra.text(), "extra-1");
    connection.close().await;
}
