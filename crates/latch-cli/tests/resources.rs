//! `latch resources`, `latch read`, `latch prompts`, `latch prompt` and `latch complete`
//! against the real `@modelcontextprotocol/server-everything` over Streamable HTTP (MCP
//! 2025-11-25), and against the TypeScript SDK 2.x server of `tests/peers/sdk2/` (MCP
//! 2026-07-28 only): text and binary resources, a prompt with arguments, completions narrowed
//! by another argument, one-line errors for a URI or prompt the server does not have — and
//! `latch tools` listing what server-everything offers a client that answers sampling, roots
//! and elicitation (forms and pages).

mod common;

use std::path::Path;

use common::{
    Mode, latch_fails, latch_json, latch_ok, latch_run,
    sdk2::{Sdk2, Sdk2Server},
    with_everything,
};
use serde_json::Value;

/// `latch ARGS` failed with exit code 1 and one line on stderr; that line.
fn fails_in_one_line(home: &Path, args: &[&str]) -> String {
    let output = latch_run(home, args);
    assert_eq!(output.status.code(), Some(1), "`latch {}`", args.join(" "));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("latch: "), "{stderr}");
    stderr
}

#[test]
fn resources_are_listed_and_read_as_text_or_to_a_file() {
    with_everything(Some(Mode::StreamableHttp), |home| {
        let table = latch_ok(home, &["resources", "everything"]);
        assert!(
            table.contains("demo://resource/static/document/features.md"),
            "{table}"
        );
        assert!(
            table.contains("demo://resource/dynamic/blob/{resourceId}"),
            "{table}"
        );
        let listed = latch_json(home, &["resources", "everything", "--json"]);
        let resources = listed["resources"].as_array().expect("resources");
        assert_eq!(resources.len(), 7, "{listed}");
        assert!(resources.iter().all(|r| r["mimeType"] == "text/markdown"));
        let templates: Vec<&str> = listed["templates"]
            .as_array()
            .expect("templates")
            .iter()
            .map(|t| t["uriTemplate"].as_str().unwrap())
            .collect();
        assert_eq!(
            templates,
            [
                "demo://resource/dynamic/text/{resourceId}",
                "demo://resource/dynamic/blob/{resourceId}"
            ]
        );

        let doc = latch_ok(
            home,
            &[
                "read",
                "everything",
                "demo://resource/static/document/features.md",
            ],
        );
        assert!(doc.starts_with("# Everything Server - Features"), "{doc}");
        let text = latch_ok(
            home,
            &["read", "everything", "demo://resource/dynamic/text/3"],
        );
        assert!(
            text.starts_with("Resource 3: This is a plaintext resource created at"),
            "{text}"
        );

        // A blob is named, never printed; --output writes its bytes.
        let blob_uri = "demo://resource/dynamic/blob/2";
        let summary = latch_ok(home, &["read", "everything", blob_uri]);
        assert!(summary.starts_with("[binary, text/plain, "), "{summary}");
        assert!(summary.contains("--output FILE"), "{summary}");
        assert!(!summary.contains("Resource 2"), "{summary}");
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("blob.bin");
        latch_ok(
            home,
            &[
                "read",
                "everything",
                blob_uri,
                "--output",
                file.to_str().unwrap(),
            ],
        );
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            bytes.starts_with(b"Resource 2: This is a base64 blob created at"),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let raw = latch_json(home, &["read", "everything", blob_uri, "--json"]);
        assert_eq!(raw["contents"][0]["uri"], blob_uri);
        assert!(raw["contents"][0]["blob"].is_string(), "{raw}");

        let missing = fails_in_one_line(home, &["read", "everything", "demo://nope"]);
        assert!(
            missing.contains("everything has no resource demo://nope"),
            "{missing}"
        );
        assert!(missing.contains("latch resources everything"), "{missing}");
    });
}

#[test]
fn prompts_are_listed_got_with_arguments_and_completed() {
    with_everything(Some(Mode::StreamableHttp), |home| {
        let table = latch_ok(home, &["prompts", "everything"]);
        let args_row = table
            .lines()
            .find(|l| l.starts_with("args-prompt"))
            .unwrap_or_else(|| panic!("no args-prompt in {table}"));
        assert!(args_row.contains("city [state]"), "{args_row}");
        let listed = latch_json(home, &["prompts", "everything", "--json"]);
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "simple-prompt",
                "args-prompt",
                "completable-prompt",
                "resource-prompt"
            ]
        );

        let got = latch_ok(
            home,
            &[
                "prompt",
                "everything",
                "args-prompt",
                "city=Paris",
                "state=Texas",
            ],
        );
        assert_eq!(got.trim(), "user:\nWhat's weather in Paris, Texas?");
        let raw = latch_json(
            home,
            &["prompt", "everything", "args-prompt", "city=Oslo", "--json"],
        );
        assert_eq!(raw["messages"][0]["role"], "user");
        assert_eq!(
            raw["messages"][0]["content"]["text"],
            "What's weather in Oslo?"
        );
        // An embedded resource is shown with its URI and text.
        let embedded = latch_ok(
            home,
            &[
                "prompt",
                "everything",
                "resource-prompt",
                "resourceType=Text",
                "resourceId=5",
            ],
        );
        assert!(
            embedded.contains("[resource demo://resource/dynamic/text/5]\nResource 5:"),
            "{embedded}"
        );

        let departments = latch_ok(
            home,
            &[
                "complete",
                "everything",
                "--prompt",
                "completable-prompt",
                "department",
                "S",
            ],
        );
        assert_eq!(
            departments.lines().collect::<Vec<_>>(),
            ["Sales", "Support"]
        );
        // The other argument's value narrows this one's.
        let people = latch_ok(
            home,
            &[
                "complete",
                "everything",
                "--prompt",
                "completable-prompt",
                "name",
                "",
                "--with",
                "department=Marketing",
            ],
        );
        assert_eq!(
            people.lines().collect::<Vec<_>>(),
            ["Grace", "Henry", "Iris"]
        );
        let ids = latch_json(
            home,
            &[
                "complete",
                "everything",
                "--template",
                "demo://resource/dynamic/text/{resourceId}",
                "resourceId",
                "42",
                "--json",
            ],
        );
        assert_eq!(ids["values"], serde_json::json!(["42"]));

        let missing = fails_in_one_line(home, &["prompt", "everything", "nope"]);
        assert!(
            missing.contains("everything has no prompt `nope`"),
            "{missing}"
        );
        let unknown = fails_in_one_line(
            home,
            &["complete", "everything", "--prompt", "nope", "x", "a"],
        );
        assert!(
            unknown.contains("everything could not complete `x`") && unknown.contains("nope"),
            "{unknown}"
        );
        let no_target = latch_fails(home, &["complete", "everything", "name", "A"]);
        assert!(no_target.contains("--prompt"), "{no_target}");
    });
}

#[test]
fn tools_lists_what_a_client_answering_sampling_roots_and_elicitation_gets() {
    with_everything(Some(Mode::StreamableHttp), |home| {
        let names = common::tool_names(home, "everything");
        for conditional in [
            "get-roots-list",
            "trigger-elicitation-request",
            "trigger-url-elicitation",
            "trigger-sampling-request",
            "simulate-research-query",
            "trigger-sampling-request-async",
            "trigger-elicitation-request-async",
        ] {
            assert!(
                names.iter().any(|n| n == conditional),
                "{conditional} in {names:?}"
            );
        }
        // 12 always and those 7 (the last two need the client to run sampling and
        // elicitation as tasks, `tasks.requests`, which Latch announces).
        assert_eq!(names.len(), 19, "{names:?}");
    });
}

#[test]
fn a_2026_server_has_resources_and_prompts_too() {
    let server = Sdk2Server::start(Sdk2::TsModernOnly);
    let home = common::latch_home();
    let home = home.path();
    latch_ok(home, &["servers", "add", "modern", &server.url]);

    let listed = latch_json(home, &["resources", "modern", "--json"]);
    assert_eq!(listed["resources"][0]["uri"], "sdk2://about", "{listed}");
    assert_eq!(listed["templates"][0]["uriTemplate"], "sdk2://items/{id}");
    assert_eq!(
        latch_ok(home, &["read", "modern", "sdk2://items/7"]).trim(),
        "item 7"
    );
    let missing = fails_in_one_line(home, &["read", "modern", "sdk2://nope"]);
    assert!(
        missing.contains("modern has no resource sdk2://nope"),
        "{missing}"
    );

    let prompts = latch_json(home, &["prompts", "modern", "--json"]);
    assert_eq!(prompts[0]["name"], "greet");
    assert_eq!(prompts[0]["arguments"][0]["required"], Value::Bool(true));
    let got = latch_ok(
        home,
        &["prompt", "modern", "greet", "name=Ada", "style=warm"],
    );
    assert_eq!(got.trim(), "user:\nGreet Ada in a warm way.");

    let status = latch_json(home, &["status", "modern", "--json"]);
    assert_eq!(
        status["servers"][0]["server"]["protocolVersion"], "2026-07-28",
        "{status}"
    );
    drop(server);
}
