use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::connection::tasks::client::mark;

/// What `pump` makes of `input` (written, then the writer closed), with `max` bytes a line.
async fn pumped(input: &[u8], max: usize) -> Vec<u8> {
    let (mut server, from) = tokio::io::duplex(1024);
    let (to, mut out) = tokio::io::duplex(1024);
    let pumping = tokio::spawn(pump(from, to, mark, max));
    let input = input.to_vec();
    let writing = tokio::spawn(async move {
        server.write_all(&input).await.unwrap();
        server.shutdown().await.unwrap();
    });
    let mut read = Vec::new();
    out.read_to_end(&mut read).await.unwrap();
    writing.await.unwrap();
    pumping.await.unwrap();
    read
}

#[tokio::test]
async fn a_task_augmented_request_is_marked_and_the_rest_passes_unchanged() {
    let task = r#"{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{"messages":[],"maxTokens":5,"task":{"ttl":60000}}}"#;
    let plain = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"a \"task\""}}"#;
    let input = format!("{plain}\r\n{task}\n\n{plain}");
    let out = String::from_utf8(pumped(input.as_bytes(), 1 << 20).await).unwrap();
    let lines: Vec<&str> = out.split('\n').collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[0], plain,
        "a line ending is normalised, the line kept"
    );
    let marked: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(marked["params"]["_meta"]["dev.latch/task"]["ttl"], 60000);
    assert!(marked["params"].get("task").is_none(), "{marked}");
    assert_eq!(lines[2], "", "an empty line stays");
    assert_eq!(
        lines[3], plain,
        "a last line without a newline is passed on"
    );
}

#[tokio::test]
async fn a_line_over_the_limit_passes_untouched_and_the_next_is_marked_again() {
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{{"task":{{}},"pad":"{}"}}}}"#,
        "x".repeat(3000)
    );
    let short = r#"{"jsonrpc":"2.0","id":2,"method":"elicitation/create","params":{"task":{}}}"#;
    let input = format!("{long}\n{short}\n");
    let out = String::from_utf8(pumped(input.as_bytes(), 1000).await).unwrap();
    let (first, second) = out.split_once('\n').unwrap();
    assert_eq!(first, long, "too long to rewrite: passed on as it came");
    assert!(second.contains("dev.latch/task"), "{second}");
}

#[tokio::test]
async fn bytes_that_are_not_utf8_pass_unchanged() {
    let input = b"\xff\xfe \"task\"\n";
    assert_eq!(pumped(input, 1 << 20).await, input);
}

#[cfg(unix)]
#[tokio::test]
async fn closing_ends_a_child_that_exits_when_its_stdin_closes() {
    let (mut transport, _) = ChildTransport::spawn(Command::new("cat"), mark).unwrap();
    transport.close().await.unwrap();
    assert!(transport.child.is_none(), "reaped");
}

#[cfg(unix)]
#[tokio::test]
async fn closing_sends_sigterm_to_a_child_that_ignores_its_stdin_closing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("term");
    let script = format!(
        "trap 'echo term > \"{}\"; exit 0' TERM; while :; do sleep 0.1; done",
        marker.display()
    );
    let mut command = Command::new("sh");
    command.args(["-c", &script]);
    let (mut transport, _) = ChildTransport::spawn(command, mark).unwrap();
    transport.close().await.unwrap();
    assert!(transport.child.is_none(), "reaped");
    assert!(marker.exists(), "it was sent SIGTERM before a kill");
}
