//! Tasks as the 2026 extension defines them (`io.modelcontextprotocol/tasks`, SEP-2663),
//! against the bundled demo server, whose `make_report` runs on rmcp's server-side task runtime
//! (`TaskManager`): Latch declares the extension on the 2026-07-28 wire, the server answers the
//! call with a task, and Latch follows it with `tasks/get` (its statuses on the progress
//! line), answers the question the task asks half-way (`input_required`, answered with
//! `tasks/update`) at the terminal or, with `--no-input`, declines it, and on Ctrl-C sends
//! `tasks/cancel` — which the server counts.

mod common;

#[cfg(unix)]
use std::time::Duration;

use common::{demo::with_demo, latch_ok};
#[cfg(unix)]
use common::{interrupt::latch_until, terminal::at_a_terminal};

#[cfg(unix)]
#[test]
fn a_task_is_followed_and_its_question_answered_at_the_terminal() {
    with_demo(|home, _| {
        latch_ok(home, &["call", "demo", "delete_note", "id=note-2"]);
        let screen = at_a_terminal(home, "call demo make_report seconds=2", "y\n");
        // The task's statuses, in the wire's words, on the progress line.
        assert!(screen.contains("working: Counting notes"), "{screen}");
        assert!(
            screen.contains("input_required: Writing the report"),
            "{screen}"
        );
        // The question the task asked half-way, and the answer reaching the task.
        assert!(
            screen.contains("demo asks: Include the deleted notes too?"),
            "{screen}"
        );
        assert!(screen.contains("Report: 2 notes."), "{screen}");
        assert!(
            screen.contains("Call the dentist"),
            "the deleted note is listed: {screen}"
        );
        // A task shows no count or bar, only its status.
        assert!(!screen.contains("░"), "{screen}");
    });
}

#[test]
fn with_no_input_the_tasks_question_is_declined_and_the_task_still_ends() {
    with_demo(|home, _| {
        latch_ok(home, &["call", "demo", "delete_note", "id=note-2"]);
        let json = latch_ok(
            home,
            &[
                "call",
                "demo",
                "make_report",
                "seconds=1",
                "--no-input",
                "--json",
            ],
        );
        let result: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(result["isError"], false, "{json}");
        assert_eq!(result["structuredContent"]["notes"], 2, "{json}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("(1 deleted note left out.)"), "{json}");
    });
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_the_task_on_the_server() {
    with_demo(|home, demo| {
        // Once Latch follows the task, interrupt it.
        let mut latch = latch_until(
            home,
            &["call", "demo", "make_report", "seconds=60", "--no-input"],
            "latch_core=info",
            "the server runs the call as a task",
        );
        assert_eq!(demo.stats().reports_cancelled, 0);
        let (status, stderr) = latch.interrupt();
        assert!(!status.success(), "{stderr}");
        assert!(
            stderr.contains("the server was asked to cancel the task"),
            "{stderr}"
        );
        // The server stopped the work: cancellation is cooperative, so allow it a moment.
        let mut cancelled = demo.stats().reports_cancelled;
        for _ in 0..100 {
            if cancelled > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            cancelled = demo.stats().reports_cancelled;
        }
        assert_eq!(cancelled, 1, "{stderr}");
    });
}
