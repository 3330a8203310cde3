//! The client side of 2025-11-25 tasks (`tasks.requests`: Latch runs the server's sampling
//! and elicitation requests as tasks) over every transport, against the real
//! `@modelcontextprotocol/server-everything`: over Streamable HTTP, stdio (a command server)
//! and the legacy SSE transport it lists all 19 tools, and the `-async` ones go through the task
//! path (a task created, polled, its result fetched), not the plain answer.

mod common;

use std::path::Path;

use common::{Mode, tool_names, with_everything};

fn lists_all_19(home: &Path) {
    let names = tool_names(home, "everything");
    for tool in [
        "simulate-research-query",
        "trigger-sampling-request",
        "trigger-elicitation-request",
        "get-roots-list",
        "trigger-sampling-request-async",
        "trigger-elicitation-request-async",
    ] {
        assert!(
            names.iter().any(|n| n == tool),
            "{tool} not listed: {names:?}"
        );
    }
    assert_eq!(names.len(), 19, "{names:?}");
}

#[test]
fn over_streamable_http_all_19_tools_are_listed() {
    with_everything(Some(Mode::StreamableHttp), lists_all_19);
}

#[test]
fn over_stdio_all_19_tools_are_listed() {
    with_everything(None, lists_all_19);
}

#[test]
fn over_sse_all_19_tools_are_listed() {
    with_everything(Some(Mode::Sse), lists_all_19);
}

/// `trigger-sampling-request-async` answered at a terminal: the server created a task on
/// Latch, polled it and fetched the person's reply.
#[cfg(unix)]
fn sampling_runs_as_a_task(home: &Path) {
    let screen = common::terminal::at_a_terminal(
        home,
        "call everything trigger-sampling-request-async 'prompt=Say hi'",
        "Hi from the person\n\n",
    );
    assert!(
        screen.contains("Say hi"),
        "the question was shown: {screen}"
    );
    assert!(!screen.contains("[SYNC]"), "{screen}");
    assert!(
        screen.contains("[COMPLETED] Async sampling completed!"),
        "{screen}"
    );
    assert!(screen.contains("Task created: latch-"), "{screen}");
    assert!(screen.contains("Hi from the person"), "{screen}");
    assert!(!screen.contains("dev.latch/task"), "{screen}");
}

#[cfg(unix)]
#[test]
fn over_streamable_http_a_sampling_request_runs_as_a_task() {
    with_everything(Some(Mode::StreamableHttp), sampling_runs_as_a_task);
}

#[cfg(unix)]
#[test]
fn over_stdio_a_sampling_request_runs_as_a_task() {
    with_everything(None, sampling_runs_as_a_task);
}

#[cfg(unix)]
#[test]
fn over_sse_a_sampling_request_runs_as_a_task() {
    with_everything(Some(Mode::Sse), sampling_runs_as_a_task);
}

#[test]
fn over_stdio_an_elicitation_run_as_a_task_is_declined_with_no_input() {
    with_everything(None, |home| {
        let output = common::latch_run(
            home,
            &[
                "call",
                "everything",
                "trigger-elicitation-request-async",
                "--no-input",
            ],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}{stderr}");
        assert!(!stdout.contains("[SYNC]"), "{stdout}");
        assert!(stdout.contains("Task created: latch-"), "{stdout}");
        assert!(stdout.contains("[DECLINED]"), "{stdout}");
    });
}
