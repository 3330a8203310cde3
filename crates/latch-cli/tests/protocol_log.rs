//! The protocol log (`Latch::protocol_log`, what the app's Log view shows) against a real
//! server-everything over Streamable HTTP and over stdio: a connect and a tool call record
//! each request with its response and latency, the HTTP exchanges with their statuses, a
//! configured header's value never appears, and export, clear and the log level work.

mod common;

use common::{Everything, Mode, everything_stdio_command, latch_at};
use latch_core::{
    app::{AppEvent, HeaderInput, ServerEntryInput},
    connection::tap::{Direction, EntryKind, ProtocolEntry},
};
use serde_json::json;

/// A configured header's value: plain words, so only its being configured hides it.
const TENANT: &str = "acme-tenant-value-never-shown";

/// The received response to the sent request `method`, whose id it carries.
fn response_to<'a>(entries: &'a [ProtocolEntry], method: &str) -> &'a ProtocolEntry {
    let request = entries
        .iter()
        .find(|e| {
            e.kind == EntryKind::Message
                && e.direction == Direction::Sent
                && e.summary == method
                && e.id.is_some()
        })
        .unwrap_or_else(|| panic!("{method} was sent: {entries:#?}"));
    entries
        .iter()
        .find(|e| {
            e.kind == EntryKind::Message && e.direction == Direction::Received && e.id == request.id
        })
        .unwrap_or_else(|| panic!("the response to {method}: {entries:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_http_records_messages_and_exchanges_without_secrets() {
    let everything = Everything::start(Mode::StreamableHttp);
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    let mut events = latch.subscribe();
    let input = ServerEntryInput {
        url: Some(everything.url()),
        headers: vec![HeaderInput {
            name: "X-Tenant".into(),
            value: TENANT.into(),
        }],
        ..ServerEntryInput::default()
    };
    latch.add_server("logged-http", input).await.unwrap();
    latch.list_tools("logged-http").await.unwrap();
    let record = latch
        .call_tool("logged-http", "echo", json!({"message": "hello log"}), "c1")
        .await
        .unwrap();
    assert!(record.result.is_some(), "{record:?}");

    let entries = latch.protocol_log("logged-http");
    for method in ["tools/list", "tools/call"] {
        let response = response_to(&entries, method);
        assert_eq!(response.method.as_deref(), Some(method));
        assert!(response.latency_ms.is_some(), "{response:?}");
        assert!(response.size > 0);
    }
    let call = response_to(&entries, "tools/call");
    assert!(
        call.message
            .as_ref()
            .unwrap()
            .to_string()
            .contains("hello log"),
        "the response as the server sent it: {call:?}"
    );
    // The handshake of whichever era the server speaks.
    assert!(
        entries
            .iter()
            .any(|e| e.summary == "initialize" || e.summary == "server/discover"),
        "{entries:#?}"
    );

    let posts: Vec<_> = entries
        .iter()
        .filter_map(|e| e.http.as_ref())
        .filter(|h| h.method == "POST")
        .collect();
    assert!(
        posts.iter().any(|h| h.status == Some(200)),
        "answered POSTs: {posts:#?}"
    );
    assert!(posts.iter().all(|h| h.url == everything.url()));
    let tenant = posts[0]
        .request_headers
        .iter()
        .find(|h| h.name == "x-tenant")
        .expect("the configured header is listed");
    assert_eq!(tenant.value, "[redacted]");

    // Nowhere: not in an entry, not in an event, not in the export.
    let everything_kept = serde_json::to_string(&entries).unwrap();
    assert!(!everything_kept.contains(TENANT));
    // Every entry is forwarded live, in order, up to the last one kept.
    let last = entries.last().unwrap().seq;
    loop {
        match events.recv().await {
            Ok(AppEvent::ProtocolEntry { server, entry }) if server == "logged-http" => {
                assert!(!serde_json::to_string(&entry).unwrap().contains(TENANT));
                if entry.seq == last {
                    break;
                }
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(error) => panic!("the live feed ended: {error}"),
        }
    }
    let file = home.path().join("log.json");
    let count = latch
        .export_protocol_log("logged-http", &file)
        .await
        .unwrap();
    let exported: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(exported.len(), count);
    assert!(count >= entries.len());

    // server-everything sends log messages: the level is set on its session.
    latch.set_log_level("logged-http", "error").await.unwrap();
    assert_eq!(latch.log_level("logged-http").as_deref(), Some("error"));
    let after = latch.protocol_log("logged-http");
    assert!(
        after.iter().any(|e| e.summary == "logging/setLevel")
            || after.iter().any(|e| e.message.as_ref().is_some_and(|m| m
                .pointer("/params/_meta/io.modelcontextprotocol~1logLevel")
                .is_some())),
        "{after:#?}"
    );
    let refused = latch
        .set_log_level("logged-http", "loud")
        .await
        .unwrap_err();
    assert!(refused.message.contains("not a log level"), "{refused}");

    latch.clear_protocol_log("logged-http");
    assert!(latch.protocol_log("logged-http").is_empty());
    latch.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_server_s_messages_are_recorded_too() {
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    let (command, args) = everything_stdio_command();
    let input = ServerEntryInput {
        command: Some(command),
        args,
        ..ServerEntryInput::default()
    };
    latch.add_server("logged-stdio", input).await.unwrap();
    latch.list_tools("logged-stdio").await.unwrap();
    let entries = latch.protocol_log("logged-stdio");
    let response = response_to(&entries, "tools/list");
    assert!(response.latency_ms.is_some());
    assert!(
        entries.iter().all(|e| e.http.is_none()),
        "no HTTP under stdio"
    );
    latch.shutdown().await;
}
