//! What `latch call` answers when the server asks its client for something mid-call, against
//! the real `@modelcontextprotocol/server-everything` (which offers its roots, sampling and
//! elicitation tools only to clients that announce them): `--root PATH` is what roots lists,
//! else the entry's saved `roots`;
//! without a terminal no sampling is announced; `--no-input` declines a form, and so does a
//! run without a terminal when a required field has no default. And at a terminal (a
//! pseudo-terminal from `script`), against the TypeScript SDK 2.x server that speaks only
//! 2026-07-28: one `input_required` round asks a form field by field, a model reply and the
//! roots, and the person's answers reach the server. The questions' details are unit-tested in
//! `src/ask`.

mod common;

use std::path::Path;

#[cfg(unix)]
use common::terminal::at_a_terminal;
use common::{
    Everything, Mode, latch_fails, latch_home, latch_ok,
    sdk2::{Sdk2, Sdk2Server},
};

fn with_everything(test: impl FnOnce(&Path)) {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    latch_ok(
        home.path(),
        &["servers", "add", "everything", &server.url()],
    );
    test(home.path());
    drop(server);
}

#[test]
fn roots_are_the_root_flags_else_the_folders_saved_for_the_server() {
    with_everything(|home| {
        let folder = tempfile::Builder::new()
            .prefix("latch-root-")
            .tempdir()
            .unwrap();
        let name = folder
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let listed = latch_ok(
            home,
            &[
                "call",
                "everything",
                "get-roots-list",
                "--root",
                &folder.path().to_string_lossy(),
            ],
        );
        assert!(listed.contains("(1 total)"), "{listed}");
        assert!(
            listed.contains(&format!("URI: file://{}", folder.path().display())),
            "{listed}"
        );
        assert!(listed.contains(&format!("1. {name}")), "{listed}");

        // Without --root Latch announces no roots, so the server does not offer the tool.
        let stderr = latch_fails(home, &["call", "everything", "get-roots-list"]);
        assert!(stderr.contains("has no tool `get-roots-list`"), "{stderr}");

        // The folders saved for the server (the app's Roots tab) are offered without --root.
        let file = home.join("servers.json");
        let mut servers: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        servers["mcpServers"]["everything"]["roots"] =
            serde_json::json!([folder.path().to_string_lossy()]);
        std::fs::write(&file, servers.to_string()).unwrap();
        let listed = latch_ok(home, &["call", "everything", "get-roots-list"]);
        assert!(listed.contains("(1 total)"), "{listed}");
        assert!(
            listed.contains(&format!("URI: file://{}", folder.path().display())),
            "{listed}"
        );
        let listed_servers = latch_ok(home, &["servers", "list"]);
        assert!(
            !listed_servers.contains("`roots`"),
            "roots is a key Latch knows: {listed_servers}"
        );
    });
}

#[test]
fn without_a_terminal_no_model_reply_is_offered() {
    with_everything(|home| {
        let stderr = latch_fails(
            home,
            &[
                "call",
                "everything",
                "trigger-sampling-request",
                "prompt=hi",
            ],
        );
        assert!(
            stderr.contains("has no tool `trigger-sampling-request`"),
            "sampling is announced only when a person can write the reply: {stderr}"
        );
    });
}

#[test]
fn no_input_declines_a_form_and_so_does_no_terminal_when_a_required_field_has_no_default() {
    with_everything(|home| {
        let declined = latch_ok(
            home,
            &[
                "call",
                "everything",
                "trigger-elicitation-request",
                "--no-input",
            ],
        );
        assert!(declined.contains("User declined"), "{declined}");
        assert!(declined.contains("\"action\": \"decline\""), "{declined}");

        // No terminal: the form's defaults would be taken, but `name` is required and has none.
        let declined = latch_ok(home, &["call", "everything", "trigger-elicitation-request"]);
        assert!(declined.contains("\"action\": \"decline\""), "{declined}");
    });
}

#[cfg(unix)]
#[test]
fn at_a_terminal_a_page_to_open_shows_its_url_and_host_and_no_declines() {
    let server = Everything::start(Mode::StreamableHttp);
    let home = latch_home();
    latch_ok(
        home.path(),
        &["servers", "add", "everything", &server.url()],
    );
    // The server offers its URL tool only to a client that announces URL mode: Latch does at
    // a terminal. "n" declines opening the page.
    let screen = at_a_terminal(
        home.path(),
        "call everything trigger-url-elicitation url=https://auth.example.com/connect?step=2",
        "n\n",
    );
    assert!(
        screen.contains("Page: https://auth.example.com/connect?step=2"),
        "{screen}"
    );
    assert!(screen.contains("Host: auth.example.com"), "{screen}");
    assert!(
        screen.contains("Open this page in your browser? [y/N]"),
        "{screen}"
    );
    assert!(screen.contains("User declined to open the URL"), "{screen}");
    drop(server);
}

#[cfg(unix)]
#[test]
fn at_a_terminal_the_person_answers_a_form_a_model_reply_and_gets_the_roots_sent() {
    let server = Sdk2Server::start(Sdk2::TsModernOnly);
    let home = latch_home();
    let folder = tempfile::Builder::new()
        .prefix("latch-root-")
        .tempdir()
        .unwrap();
    latch_ok(home.path(), &["servers", "add", "modern", &server.url]);
    // Name: Grace; colour: "x" (not a choice, asked again), then 3 (blue); the model reply:
    // one line, then an empty line to end it.
    let screen = at_a_terminal(
        home.path(),
        &format!("call modern ask --root '{}'", folder.path().display()),
        "Grace\nx\n3\nHello\n\n",
    );
    assert!(screen.contains("modern asks: Who is asking?"), "{screen}");
    assert!(screen.contains("Name *"), "required marked: {screen}");
    assert!(
        screen.contains("name (string) [Ada]"),
        "default shown: {screen}"
    );
    assert!(screen.contains("2. green"), "choices listed: {screen}");
    assert!(
        screen.contains("pick a number from 1 to 3; try again"),
        "{screen}"
    );
    assert!(screen.contains("[user] Say hello in one word."), "{screen}");
    assert!(
        screen.contains(&format!(
            "ask: name=Grace colour=blue; sample=Hello; roots=1 file://{}",
            folder.path().display()
        )),
        "the answers reached the server: {screen}\nserver log:\n{}",
        server.log()
    );
    drop(server);
}
