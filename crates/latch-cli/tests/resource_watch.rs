//! `latch read NAME URI --watch` against a TypeScript SDK server (MCP 2025-11-25, stdio,
//! `tests/peers/resource-updates-server.mjs`) whose `demo://counter` goes up while a client
//! follows it: the first read is printed, then each update the server announces is read and
//! printed again; with `--json`, one JSON line per read. And a server that announces no
//! updates (the TypeScript SDK 2.x server on MCP 2026-07-28) is refused in one line naming it.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use common::{
    latch_ok, latch_run,
    sdk2::{Sdk2, Sdk2Server},
};

/// `counter`: the resource-updates server as a stdio command server.
fn add_counter(home: &Path) {
    let script = common::peers_dir().join("resource-updates-server.mjs");
    let node = common::node();
    latch_ok(
        home,
        &[
            "servers",
            "add",
            "counter",
            "--command",
            &node,
            script.to_str().unwrap(),
        ],
    );
}

/// `latch ARGS` running in the background, its stdout piped.
fn latch_spawn(home: &Path, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("latch"))
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("latch runs")
}

/// The first `n` lines `child` prints (it is stopped afterwards).
fn first_lines(mut child: Child, n: usize) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(n)
        .map(|l| l.expect("a line"))
        .collect();
    child.kill().expect("latch stops");
    child.wait().expect("latch is reaped");
    lines
}

#[test]
fn a_watched_resource_is_printed_again_after_each_update() {
    let home = common::latch_home();
    add_counter(home.path());

    let child = latch_spawn(
        home.path(),
        &["read", "counter", "demo://counter", "--watch"],
    );
    let lines = first_lines(child, 3);
    assert_eq!(lines[0], "count 0", "the first read: {lines:?}");
    // Each update is read again: the count went up each time.
    let counts: Vec<u32> = lines
        .iter()
        .map(|l| {
            l.strip_prefix("count ")
                .unwrap_or_else(|| panic!("{l}"))
                .parse()
                .unwrap()
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");

    let child = latch_spawn(
        home.path(),
        &["read", "counter", "demo://counter", "--watch", "--json"],
    );
    for line in first_lines(child, 2) {
        let read: serde_json::Value = serde_json::from_str(&line).expect("one JSON per line");
        assert_eq!(read["contents"][0]["uri"], "demo://counter", "{read}");
        assert!(
            read["contents"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("count "),
            "{read}"
        );
    }
}

/// The TypeScript SDK 2.x server (MCP 2026-07-28 only) has resources but announces no updates.
#[test]
fn a_server_without_updates_is_refused_in_one_line() {
    let server = Sdk2Server::start(Sdk2::TsModernOnly);
    let home = common::latch_home();
    latch_ok(home.path(), &["servers", "add", "modern", &server.url]);
    let output = latch_run(home.path(), &["read", "modern", "sdk2://about", "--watch"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("modern does not announce updates of its resources")
            && stderr.contains("sdk2://about"),
        "{stderr}"
    );
}
