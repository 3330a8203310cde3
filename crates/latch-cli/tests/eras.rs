//! Which protocol era Latch speaks, against real servers of each: server-everything (the
//! TypeScript SDK 1.x, 2025-11-25 only, over Streamable HTTP and stdio) and the TypeScript SDK
//! 2.x server (both eras by default). `"protocol": "auto"` finds the era and remembers it, a
//! remembered era the server no longer speaks is found out again, and a pinned era is the only
//! one spoken — refused in one plain line when the server does not speak it.

mod common;

use std::{fs, path::Path};

use common::{
    Everything, Mode, everything_stdio_command, latch_fails, latch_json, latch_ok,
    sdk2::{Sdk2, Sdk2Server},
};
use serde_json::{Value, json};

/// `server` (what the server said about itself) of `name` in `latch status NAME --json`.
fn server_info(home: &Path, name: &str) -> Value {
    let status = latch_json(home, &["status", name, "--json"]);
    let entry = status["servers"]
        .as_array()
        .and_then(|servers| servers.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("{name} in {status}"))
        .clone();
    assert_eq!(entry["state"]["state"], "connected", "{entry}");
    entry["server"].clone()
}

fn remembered(home: &Path) -> Value {
    fs::read_to_string(home.join("state/eras.json"))
        .map(|text| serde_json::from_str(&text).expect("eras.json is JSON"))
        .unwrap_or(Value::Null)
}

#[test]
fn auto_finds_a_2025_server_over_http_and_stdio_and_remembers_it() {
    let home = common::latch_home();
    let home = home.path();
    let everything = Everything::start(Mode::StreamableHttp);
    latch_ok(home, &["servers", "add", "http", &everything.url()]);
    let (program, args) = everything_stdio_command();
    let mut add = vec!["servers", "add", "stdio", "--command", &program];
    add.extend(args.iter().map(String::as_str));
    latch_ok(home, &add);

    for name in ["http", "stdio"] {
        let info = server_info(home, name);
        assert_eq!(info["protocolVersion"], "2025-11-25", "{name}: {info}");
        assert_eq!(info["stateless"], false, "{name}: {info}");
        assert_eq!(remembered(home)[name]["era"], "2025-11-25", "{name}");
    }
    let text = latch_ok(home, &["status", "http"]);
    assert!(text.contains("(MCP 2025-11-25, session)"), "{text}");
    // Remembered: the next process goes straight to the handshake, and still works.
    assert!(latch_ok(home, &["tools", "http"]).contains("echo"));
    assert!(latch_ok(home, &["tools", "stdio"]).contains("echo"));
}

#[test]
fn a_remembered_era_the_server_refuses_is_found_out_again() {
    let home = common::latch_home();
    let home = home.path();
    let everything = Everything::start(Mode::StreamableHttp);
    let url = everything.url();
    latch_ok(home, &["servers", "add", "old", &url]);
    // As if the server spoke 2026-07-28 last time, and has since been replaced by a 2025 one.
    fs::create_dir_all(home.join("state")).unwrap();
    fs::write(
        home.join("state/eras.json"),
        json!({"old": {"target": url, "era": "2026-07-28"}}).to_string(),
    )
    .unwrap();
    assert!(latch_ok(home, &["tools", "old"]).contains("echo"));
    assert_eq!(remembered(home)["old"]["era"], "2025-11-25");
}

#[test]
fn a_server_of_both_eras_gets_the_2026_wire_unless_pinned_to_2025() {
    let home = common::latch_home();
    let home = home.path();
    let server = Sdk2Server::start(Sdk2::TsDefault);
    latch_ok(home, &["servers", "add", "auto", &server.url]);
    latch_ok(
        home,
        &[
            "servers",
            "add",
            "pinned",
            &server.url,
            "--protocol",
            "2025-11-25",
        ],
    );
    let servers: Value =
        serde_json::from_str(&fs::read_to_string(home.join("servers.json")).expect("servers.json"))
            .unwrap();
    assert_eq!(servers["mcpServers"]["pinned"]["protocol"], "2025-11-25");
    assert!(servers["mcpServers"]["auto"].get("protocol").is_none());

    let info = server_info(home, "auto");
    assert_eq!(info["protocolVersion"], "2026-07-28", "{info}");
    assert_eq!(info["stateless"], true, "{info}");
    let info = server_info(home, "pinned");
    assert_eq!(info["protocolVersion"], "2025-11-25", "{info}");
    assert_eq!(info["stateless"], false, "{info}");
    // A pinned entry is not a guess: nothing is remembered for it.
    assert!(remembered(home).get("pinned").is_none());
    assert_eq!(remembered(home)["auto"]["era"], "2026-07-28");
}

#[test]
fn a_2025_server_pinned_to_2026_is_refused_in_one_line_that_says_what_to_do() {
    let home = common::latch_home();
    let home = home.path();
    let everything = Everything::start(Mode::StreamableHttp);
    latch_ok(
        home,
        &[
            "servers",
            "add",
            "old",
            &everything.url(),
            "--protocol",
            "2026-07-28",
        ],
    );
    let stderr = latch_fails(home, &["tools", "old"]);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&everything.url()), "{stderr}");
    assert!(
        stderr.contains("\"protocol\": \"2026-07-28\"") && stderr.contains("\"auto\""),
        "{stderr}"
    );
}

#[test]
fn an_unknown_protocol_is_refused_with_the_choices() {
    let home = common::latch_home();
    let home = home.path();
    let stderr = latch_fails(
        home,
        &[
            "servers",
            "add",
            "x",
            "http://127.0.0.1:9/mcp",
            "--protocol",
            "2027-01-01",
        ],
    );
    assert!(
        stderr.contains("auto, or one of 2026-07-28, 2025-11-25"),
        "{stderr}"
    );
    // In the file, the same words, naming the entry.
    fs::write(
        home.join("servers.json"),
        r#"{"mcpServers": {"x": {"url": "http://127.0.0.1:9/mcp", "protocol": "2025"}}}"#,
    )
    .unwrap();
    let stderr = latch_fails(home, &["servers", "list"]);
    assert!(
        stderr.contains("protocol") && stderr.contains("2026-07-28"),
        "{stderr}"
    );
}
