//! The sign-in settings a person writes: `latch servers add … --client-credentials NAME
//! --token-url URL --scope S` (Madgicx's agent setup without editing the file), the endpoint
//! keys checked before anything is saved, and keys Latch does not know named in warnings — with
//! the nearest known key — while the file keeps them as written.

mod common;

use std::path::Path;

use common::{assert_ok, latch_command};
use serde_json::Value;

fn latch(home: &Path, args: &[&str]) -> std::process::Output {
    latch_command(home).args(args).output().expect("latch runs")
}

fn servers_file(home: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.join("servers.json")).unwrap()).unwrap()
}

#[test]
fn servers_add_sets_client_credentials_a_token_url_and_scopes() {
    let home = common::latch_home();
    let home = home.path();
    let out = assert_ok(&latch(
        home,
        &[
            "servers",
            "add",
            "madgicx-facebook",
            "https://mcp.madgicx.com/mcp",
            "--client-credentials",
            "madgicx",
            "--token-url",
            "https://auth.madgicx.example/o/token/",
            "--scope",
            "ads:read",
            "--scope",
            "ads:write",
        ],
    ));
    assert!(out.contains("latch credentials set madgicx"), "{out}");
    let auth = &servers_file(home)["mcpServers"]["madgicx-facebook"]["auth"];
    assert_eq!(
        *auth,
        serde_json::json!({
            "type": "client_credentials",
            "credentials": "madgicx",
            "tokenUrl": "https://auth.madgicx.example/o/token/",
            "scopes": ["ads:read", "ads:write"],
        })
    );

    // A token URL that is not one: one line naming the key, and nothing saved.
    let before = std::fs::read_to_string(home.join("servers.json")).unwrap();
    let bad = latch(
        home,
        &[
            "servers",
            "add",
            "other",
            "https://mcp.example.com/mcp",
            "--token-url",
            "file:///etc/passwd",
        ],
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`auth.tokenUrl`"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(home.join("servers.json")).unwrap(),
        before
    );
}

#[test]
fn unknown_keys_are_kept_and_named_with_the_nearest_known_one() {
    let home = common::latch_home();
    let home = home.path();
    let text = r#"{"mcpServers": {"madgicx": {
        "url": "https://mcp.madgicx.com/mcp",
        "auth": {"type": "client_credentials", "credentials": "madgicx",
                 "token_url": "https://auth.madgicx.example/o/token/"},
        "hedaers": {"X-A": "1"}
    }}}"#;
    std::fs::write(home.join("servers.json"), text).unwrap();

    let list = assert_ok(&latch(home, &["servers", "list"]));
    assert!(
        list.contains("warning: server `madgicx`: Latch does not know the key `auth.token_url` and ignores it — did you mean `auth.tokenUrl`?"),
        "{list}"
    );
    assert!(
        list.contains("`hedaers`") && list.contains("`headers`?"),
        "{list}"
    );

    let json: Value =
        serde_json::from_str(&assert_ok(&latch(home, &["servers", "list", "--json"]))).unwrap();
    let warnings = json[0]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{json}");

    // `status` says so too (the server itself is not reachable here; that is not the point).
    let status = latch(home, &["status", "--json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["warnings"].as_array().unwrap().len(), 2, "{status}");

    // Nothing was rewritten.
    assert_eq!(
        std::fs::read_to_string(home.join("servers.json")).unwrap(),
        text
    );
}
