//! Tasks against the real `@modelcontextprotocol/server-everything` over Streamable HTTP (it
//! speaks the 2025-11-25 `tasks` capability): a tool that runs only as a task (`simulate-research-query`) is followed through `tasks/get` to its result, its
//! statuses shown as the call's progress; a task that asks for input mid-way gets the
//! person's answer; and Ctrl-C on a running task cancels it on the server (`tasks/cancel`).
//! The other way round: Latch runs the server's sampling and elicitation requests as tasks
//! (`tasks.requests`), so all 19 tools are offered and the two `-async` ones go through the
//! task path (a task created, polled, its result fetched).

mod common;

use std::path::Path;

use common::{Everything, Mode, latch_home, latch_json, latch_ok};
#[cfg(unix)]
use common::{interrupt::latch_until, terminal::at_a_terminal};

fn with_everything(test: impl FnOnce(&Path, &Everything)) {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    latch_ok(
        home.path(),
        &["servers", "add", "everything", &server.url()],
    );
    test(home.path(), &server);
    drop(server);
}

#[test]
fn all_19_tools_are_listed_with_those_needing_task_augmented_answers() {
    with_everything(|home, _| {
        let tools = latch_json(home, &["tools", "everything", "--json"]);
        let names: Vec<&str> = tools
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        // Latch announces `tasks.requests` (it runs sampling and elicitation as tasks), so
        // the server offers these two as well: all 19.
        for tool in [
            "simulate-research-query",
            "trigger-sampling-request-async",
            "trigger-elicitation-request-async",
        ] {
            assert!(names.contains(&tool), "{tool} not listed: {names:?}");
        }
        assert_eq!(names.len(), 19, "{names:?}");
    });
}

#[cfg(unix)]
#[test]
fn a_sampling_request_run_as_a_task_gets_the_persons_reply() {
    with_everything(|home, _| {
        // The model reply: one line, then an empty line to end it.
        let screen = at_a_terminal(
            home,
            "call everything trigger-sampling-request-async 'prompt=Say hi'",
            "Hi from the person\n\n",
        );
        assert!(
            screen.contains("Say hi"),
            "the question was shown: {screen}"
        );
        // The server went through the task path (a task created, polled, its result
        // fetched), not the plain answer it marks "[SYNC]".
        assert!(!screen.contains("[SYNC]"), "{screen}");
        assert!(
            screen.contains("[COMPLETED] Async sampling completed!"),
            "{screen}"
        );
        assert!(screen.contains("Task created: latch-"), "{screen}");
        assert!(screen.contains("Hi from the person"), "{screen}");
        assert!(!screen.contains("dev.latch/task"), "{screen}");
    });
}

#[test]
fn an_elicitation_run_as_a_task_is_declined_with_no_input() {
    with_everything(|home, _| {
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
    with_everything(|home, _| {
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
    with_everything(|home, _| {
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
    with_everything(|home, _| {
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
