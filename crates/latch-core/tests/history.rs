//! The call history on disk: records survive a reopen, come back newest first, stay bounded,
//! never keep a secret argument (by name at any depth, or by schema), never keep a huge image,
//! survive a damaged line, and can be cleared — with the folder and files private to the user.

use latch_core::{
    ContentView, ToolResult,
    history::{CallRecord, CallStatus, History, KEEP, MAX_RECORD_BYTES, REDACTED},
};
use serde_json::{Value, json};

fn record(server: &str, n: u64) -> CallRecord {
    CallRecord {
        id: format!("call-{n}"),
        server: server.to_owned(),
        tool: "add".to_owned(),
        arguments: json!({ "a": n, "b": 1 }),
        started_at: 1_700_000_000_000 + n * 1000,
        duration_ms: 12,
        status: CallStatus::Ok,
        result: Some(ToolResult {
            content: vec![ContentView::Text {
                text: (n + 1).to_string(),
            }],
            structured_content: None,
            is_error: false,
        }),
        error: None,
    }
}

fn ids(records: &[CallRecord]) -> Vec<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

#[test]
fn records_survive_a_reopen_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path().join("history"));
    assert!(history.list("demo").unwrap().is_empty(), "no file yet");
    for n in 0..3 {
        history.record(&record("demo", n), None).unwrap();
    }
    let mut failed = record("demo", 3);
    failed.status = CallStatus::Failed;
    failed.result = None;
    failed.error = Some("the server went away".into());
    history.record(&failed, None).unwrap();
    history.record(&record("other", 9), None).unwrap();

    let reopened = History::open(dir.path().join("history"));
    let records = reopened.list("demo").unwrap();
    assert_eq!(ids(&records), ["call-3", "call-2", "call-1", "call-0"]);
    assert_eq!(records[0], failed, "round trip");
    assert_eq!(records[1], record("demo", 2), "round trip");
    assert_eq!(ids(&reopened.list("other").unwrap()), ["call-9"]);

    // Newest by start time, even when a long call finished (was written) last.
    let mut slow = record("demo", 0);
    slow.id = "slow".into();
    slow.started_at = 1;
    reopened.record(&slow, None).unwrap();
    assert_eq!(reopened.list("demo").unwrap().last().unwrap().id, "slow");

    // The wire form the UI reads.
    let wire = serde_json::to_value(&records[0]).unwrap();
    assert_eq!(wire["status"], "failed");
    assert_eq!(wire["startedAt"], 1_700_000_003_000u64);
    assert_eq!(wire["durationMs"], 12);
}

#[cfg(unix)]
#[test]
fn the_folder_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path().join("history"));
    history.record(&record("demo", 0), None).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(history.dir()), 0o700);
    assert_eq!(mode(&history.path("demo")), 0o600);
    assert_eq!(
        history.path("demo"),
        dir.path().join("history").join("demo.jsonl")
    );
    // A name with a slash stays inside the folder.
    history.record(&record("../escape", 1), None).unwrap();
    assert!(history.path("../escape").starts_with(history.dir()));
    assert!(!dir.path().join("escape.jsonl").exists());
}

#[test]
fn bounded_to_the_newest_two_hundred() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path());
    let total = 2 * KEEP as u64 + 7;
    for n in 0..total {
        history.record(&record("busy", n), None).unwrap();
    }
    let records = history.list("busy").unwrap();
    assert_eq!(records.len(), KEEP);
    assert_eq!(records[0].id, format!("call-{}", total - 1), "newest kept");
    assert_eq!(
        records.last().unwrap().id,
        format!("call-{}", total - KEEP as u64),
        "the oldest dropped"
    );
    // The file itself is compacted, not just the listing.
    let lines = std::fs::read_to_string(history.path("busy"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines < latch_core::history::COMPACT_AT,
        "{lines} lines on disk"
    );
    // A second History on the same folder (another process) counts what is there.
    let other = History::open(dir.path());
    for n in total..total + 60 {
        other.record(&record("busy", n), None).unwrap();
    }
    let lines = std::fs::read_to_string(history.path("busy"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= latch_core::history::COMPACT_AT,
        "{lines} lines on disk"
    );
    assert_eq!(other.list("busy").unwrap().len(), KEEP);
}

#[test]
fn secrets_are_redacted_at_any_depth_and_by_schema() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path());
    let mut call = record("secrets", 1);
    call.arguments = json!({
        "query": "weather in Paris",
        "apiKey": "sk-live-123",
        "options": {
            "headers": [{ "Authorization": "Bearer abc.def", "Accept": "text/plain" }],
            "nested": { "deeper": { "refresh_token": "rt-456", "Cookie": "sid=1", "limit": 5 } },
            "api-key": "k", "API_KEY": "k2", "passwd": "p", "client_secret": { "any": "shape" }
        },
        "pin": "7319",
        "note": "keep me"
    });
    let schema = json!({
        "type": "object",
        "properties": {
            "pin": { "type": "string", "writeOnly": true },
            "note": { "type": "string" },
            "options": {
                "type": "object",
                "properties": { "nested": { "type": "object" } }
            }
        }
    });
    history.record(&call, Some(&schema)).unwrap();
    // A password-format field known only to the schema, in a list.
    let mut login = record("secrets", 2);
    login.arguments = json!({ "accounts": [{ "user": "alice", "code": "hunter2" }] });
    let login_schema = json!({
        "type": "object",
        "properties": { "accounts": { "type": "array", "items": {
            "type": "object",
            "properties": { "code": { "type": "string", "format": "password" } }
        } } }
    });
    history.record(&login, Some(&login_schema)).unwrap();

    let on_disk = std::fs::read_to_string(history.path("secrets")).unwrap();
    for secret in [
        "sk-live-123",
        "abc.def",
        "rt-456",
        "sid=1",
        "hunter2",
        "7319",
        "\"k\"",
        "\"k2\"",
        "\"p\"",
        "shape",
    ] {
        assert!(!on_disk.contains(secret), "{secret} reached the disk");
    }
    let records = history.list("secrets").unwrap();
    let stored = &records[1].arguments;
    assert_eq!(stored["query"], "weather in Paris");
    assert_eq!(stored["note"], "keep me");
    assert_eq!(stored["apiKey"], REDACTED);
    assert_eq!(stored["pin"], REDACTED);
    assert_eq!(stored["options"]["headers"][0]["Authorization"], REDACTED);
    assert_eq!(stored["options"]["headers"][0]["Accept"], "text/plain");
    assert_eq!(
        stored["options"]["nested"]["deeper"]["refresh_token"],
        REDACTED
    );
    assert_eq!(stored["options"]["nested"]["deeper"]["Cookie"], REDACTED);
    assert_eq!(stored["options"]["nested"]["deeper"]["limit"], 5);
    assert_eq!(stored["options"]["client_secret"], REDACTED);
    assert_eq!(
        records[0].arguments,
        json!({ "accounts": [{ "user": "alice", "code": REDACTED }] })
    );
    // The caller's record is left alone (it is what the UI shows for the live call).
    assert_eq!(call.arguments["apiKey"], "sk-live-123");
}

#[test]
fn a_huge_image_becomes_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path());
    let mut call = record("images", 1);
    let small = "iVBORw0KGgo".repeat(100);
    call.result = Some(ToolResult {
        content: vec![
            ContentView::Text {
                text: "here it is".into(),
            },
            ContentView::Image {
                data: "A".repeat(50 * 1024 * 1024),
                mime_type: "image/png".into(),
            },
        ],
        structured_content: None,
        is_error: false,
    });
    history.record(&call, None).unwrap();
    let mut small_call = record("images", 2);
    small_call.result = Some(ToolResult {
        content: vec![ContentView::Image {
            data: small.clone(),
            mime_type: "image/png".into(),
        }],
        structured_content: None,
        is_error: false,
    });
    history.record(&small_call, None).unwrap();

    let size = std::fs::metadata(history.path("images")).unwrap().len();
    assert!(size < 2 * MAX_RECORD_BYTES as u64, "{size} bytes on disk");
    let records = history.list("images").unwrap();
    let big = records[1].result.as_ref().unwrap();
    assert_eq!(
        big.content[0],
        ContentView::Text {
            text: "here it is".into()
        }
    );
    match &big.content[1] {
        ContentView::Text { text } => {
            assert!(
                text.contains("image (image/png)") && text.contains("MB not kept"),
                "{text}"
            )
        }
        other => panic!("expected a note, got {other:?}"),
    }
    // Small images are kept as they are.
    assert_eq!(records[0], small_call);
}

#[test]
fn a_damaged_line_loses_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path());
    history.record(&record("flaky", 1), None).unwrap();
    // A crash mid-write, or a person's editor, left a broken line.
    let path = history.path("flaky");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"id\":\"call-broken\",\"server\":\"fla\n");
    text.push_str("not json at all\n");
    text.push_str(&serde_json::to_string(&json!({ "id": "wrong shape" })).unwrap());
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    history.record(&record("flaky", 2), None).unwrap();
    assert_eq!(ids(&history.list("flaky").unwrap()), ["call-2", "call-1"]);
}

#[test]
fn clear_and_remove_forget_one_server_only() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path());
    history.record(&record("a", 1), None).unwrap();
    history.record(&record("b", 1), None).unwrap();
    history.clear("a").unwrap();
    assert!(history.list("a").unwrap().is_empty());
    assert_eq!(history.list("b").unwrap().len(), 1);
    history.record(&record("a", 2), None).unwrap();
    assert_eq!(ids(&history.list("a").unwrap()), ["call-2"]);
    history.remove_server("b").unwrap();
    assert!(!history.path("b").exists());
    history.clear("never-there").unwrap();
    let value: Value = serde_json::to_value(&history.list("a").unwrap()[0]).unwrap();
    assert_eq!(value["server"], "a");
}
