//! Tasks against the real `@modelcontextprotocol/server-everything` over Streamable HTTP (it
//! speaks the 2025-11-25 `tasks` capability): a tool that runs only as a task (`simulate-research-query`) is followed through `tasks/get` to its result, its
//! statuses shown as the call's progress; a task that asks for input mid-way gets the
//! person's answer; and Ctrl-C on a running task cancels it on the server (`tasks/cancel`).
//! The other way round (Latch running the server's requests as tasks, all 19 tools) is in
//! `tasks_transports.rs`, over every transport.

mod common;

use common::{Mode, with_everything};
#[cfg(unix)]
use common::{interrupt::latch_until, terminal::at_a_terminal};

#[test]
fn an_elicitation_run_as_a_task_is_declined_with_no_input() {
    with_everything(Some(Mode::StreamableHttp), |home| {
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

#[test]
fn a_task_tool_is_followed_to_its_result() {
    with_everything(Some(Mode::StreamableHttp), |home| {
        let output = common::latch_run(
            home,
            &[
                "call",
                "everything",
                "simulate-research-query",
                "topic=rust tasks",
                "--json",
            ],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        let result: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(result["isError"], false, "{result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("# Research Report: rust tasks"), "{text}");
        assert!(text.contains("Stage 4: Generating report"), "{text}");
    });
}

#[cfg(unix)]
#[test]
fn a_task_that_needs_input_gets_the_persons_answer() {
    with_everything(Some(Mode::StreamableHttp), |home| {
        // The ambiguous query asks which interpretation is meant (choice 2: historical).
        let screen = at_a_terminal(
            home,
            "call everything simulate-research-query 'topic=the web' ambiguous=true",
            "2\n",
        );
        // The task's statuses show on the progress line while it runs.
        assert!(screen.contains("working: Gathering sources"), "{screen}");
        assert!(
            screen.contains("could have multiple interpretations"),
            "{screen}"
        );
        assert!(
            screen.contains("Research Report: the web (historical)"),
            "{screen}"
        );
    });
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_a_running_task_on_the_server() {
    with_everything(Some(Mode::StreamableHttp), |home| {
        // Once Latch follows the task, interrupt it.
        let mut latch = latch_until(
            home,
            &[
                "call",
                "everything",
                "simulate-research-query",
                "topic=to be cancelled",
            ],
            "info",
            "runs as a task on the server",
        );
        let (status, stderr) = latch.interrupt();
        assert!(!status.success(), "{stderr}");
        // The server answered `tasks/cancel` with the task, now cancelled.
        assert!(
            stderr.contains("status=\"cancelled\"") || stderr.contains("status=cancelled"),
            "{stderr}"
        );
        assert!(
            stderr.contains("cancelled; the server was told to stop"),
            "{stderr}"
        );
    });
}
