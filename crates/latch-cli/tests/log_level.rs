//! The log level a person chooses in the app for a server's own log messages outlives the
//! connection: against a real server-everything (MCP 2025-11-25 over Streamable HTTP, which
//! forgets a session's level when the session ends), a level set, then a reconnect, and the
//! new session is told the level again — the server still filters its simulated log messages
//! at that level. On the 2026-07-28 wire (no sessions), the level rides in every request's
//! `_meta`, after a reconnect too (a real TypeScript SDK 2.x server).

mod common;

use std::time::Duration;

use common::{
    Everything, Mode, latch_at,
    sdk2::{Sdk2, Sdk2Server},
};
use latch_core::{
    app::ServerEntryInput,
    connection::tap::{Direction, EntryKind, ProtocolEntry},
};
use serde_json::json;

/// The chosen level, and the ones below it that must not arrive.
const LEVEL: &str = "warning";
const BELOW: &[&str] = &["debug", "info", "notice"];
/// Log messages at or above the level to see before counting.
const WANTED: usize = 3;

fn sent(entry: &ProtocolEntry, method: &str) -> bool {
    entry.kind == EntryKind::Message
        && entry.direction == Direction::Sent
        && entry.summary == method
}

/// The level of a received `notifications/message`.
fn log_level_of(entry: &ProtocolEntry) -> Option<String> {
    (entry.kind == EntryKind::Message
        && entry.direction == Direction::Received
        && entry.summary == "notifications/message")
        .then(|| {
            entry
                .message
                .as_ref()?
                .pointer("/params/level")?
                .as_str()
                .map(str::to_owned)
        })
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chosen_level_is_sent_again_after_a_reconnect() {
    let everything = Everything::start(Mode::StreamableHttp);
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    let input = ServerEntryInput {
        url: Some(everything.url()),
        ..ServerEntryInput::default()
    };
    latch.add_server("leveled", input).await.unwrap();
    latch.connect("leveled").await.unwrap();
    latch.set_log_level("leveled", LEVEL).await.unwrap();

    // A new connection: a new session, which starts at the server's default level.
    latch.disconnect("leveled").await.unwrap();
    latch.connect("leveled").await.unwrap();
    let entries = latch.protocol_log("leveled");
    let initializes: Vec<u64> = entries
        .iter()
        .filter(|e| sent(e, "initialize"))
        .map(|e| e.seq)
        .collect();
    assert_eq!(initializes.len(), 2, "two sessions: {entries:#?}");
    let again = entries
        .iter()
        .find(|e| sent(e, "logging/setLevel") && e.seq > initializes[1])
        .unwrap_or_else(|| panic!("the new session is told the level: {entries:#?}"));
    assert_eq!(
        again.message.as_ref().unwrap().pointer("/params/level"),
        Some(&json!(LEVEL))
    );
    assert_eq!(latch.log_level("leveled").as_deref(), Some(LEVEL));

    // The server sends a log message of a random level now and every 5 s, unless below the
    // session's level: only those at or above it arrive.
    let started = latch
        .call_tool("leveled", "toggle-simulated-logging", json!({}), "t1")
        .await
        .unwrap();
    assert!(started.result.is_some(), "{started:?}");
    let after = latch.protocol_log("leveled").last().unwrap().seq;
    let levels = loop {
        let levels: Vec<String> = latch
            .protocol_log("leveled")
            .iter()
            .filter(|e| e.seq > after)
            .filter_map(log_level_of)
            .collect();
        if levels.len() >= WANTED {
            break levels;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let below = levels
        .iter()
        .filter(|l| BELOW.contains(&l.as_str()))
        .count();
    assert_eq!(below, 0, "messages below {LEVEL}: {levels:?}");
    latch.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_2026_wire_the_level_rides_in_each_request_after_a_reconnect_too() {
    const META: &str = "/params/_meta/io.modelcontextprotocol~1logLevel";
    let server = Sdk2Server::start(Sdk2::TsModernOnly);
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    let input = ServerEntryInput {
        url: Some(server.url.clone()),
        ..ServerEntryInput::default()
    };
    latch.add_server("modern", input).await.unwrap();
    latch.connect("modern").await.unwrap();
    latch.set_log_level("modern", "error").await.unwrap();
    latch.disconnect("modern").await.unwrap();
    let before = latch.protocol_log("modern").last().unwrap().seq;
    latch.connect("modern").await.unwrap();
    latch.list_tools("modern").await.unwrap();

    // Every request of the new connection that carries the 2026 client context.
    let entries = latch.protocol_log("modern");
    let requests: Vec<&ProtocolEntry> = entries
        .iter()
        .filter(|e| e.seq > before && e.direction == Direction::Sent && e.id.is_some())
        .filter(|e| {
            e.message
                .as_ref()
                .and_then(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion"))
                .is_some()
        })
        .collect();
    assert!(
        requests.iter().any(|e| e.summary == "tools/list"),
        "{entries:#?}"
    );
    for entry in requests {
        assert_eq!(
            entry.message.as_ref().unwrap().pointer(META),
            Some(&json!("error")),
            "{entry:#?}"
        );
    }
    assert!(
        !entries.iter().any(|e| sent(e, "logging/setLevel")),
        "no setLevel on the 2026 wire"
    );
    latch.shutdown().await;
}
