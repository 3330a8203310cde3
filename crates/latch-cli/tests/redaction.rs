//! Redaction with real secrets in flight: every command a person or an agent runs — login,
//! tools, call, status, bridge, logout, and the failing paths (a refused refresh, a call that
//! times out) — at `RUST_LOG=trace` with `RUST_BACKTRACE=1`, against servers whose tokens,
//! authorization codes and client secrets are known. None of them may appear in any output,
//! nor in any file under `LATCH_HOME` except the token store itself (`secrets.json`).
//!
//! The hostile peer's secrets carry fixed prefixes (`hostile-code-`, `hostile-access-`,
//! `hostile-refresh-`), so even the authorization code, which only passes through Latch, is
//! looked for. The oidc peer (oidc-provider) gives real JWTs, refresh tokens and a client
//! secret.

mod common;
mod hostile_peer;

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
    thread,
    time::Duration,
};

use common::{assert_ok, latch_command, oidc::OidcPeer};
use hostile_peer::HostilePeer;
use latch_core::secrets::{GrantStore, SecretStore};

/// `latch ARGS` at trace level with backtraces, as a person debugging would run it.
fn traced(home: &Path, args: &[&str]) -> Output {
    latch_command(home)
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .output()
        .expect("latch runs")
}

/// `latch bridge NAME` with an agent's session on stdin: initialize, list, call, then EOF.
fn bridge(home: &Path, name: &str, tool: &str, arguments: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
        .args(["bridge", name])
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("latch bridge starts");
    let mut stdin = child.stdin.take().unwrap();
    let lines = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"redaction-test","version":"1"}}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.to_owned(),
        format!(
            r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#
        ),
    ];
    let writer = thread::spawn(move || {
        for line in lines {
            let _ = writeln!(stdin, "{line}");
            thread::sleep(Duration::from_millis(700));
        }
        thread::sleep(Duration::from_secs(2));
        drop(stdin);
    });
    let output = child.wait_with_output().expect("latch bridge ends");
    writer.join().unwrap();
    output
}

/// Every piece of every output, and every file under `home` but the token store.
fn everything_written(home: &Path, outputs: &[&Output]) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                format!("output #{i}"),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            )
        })
        .collect();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                dirs.push(path);
            } else if name != latch_core::secrets::FILE_NAME {
                let bytes = std::fs::read(&path).unwrap_or_default();
                texts.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    texts
}

/// No secret (nor any 24-character piece of its start) in any of `texts`.
fn assert_clean(texts: &[(String, String)], secrets: &[String]) {
    assert!(!secrets.is_empty());
    for (place, text) in texts {
        for secret in secrets {
            let piece = &secret[..secret.len().min(24)];
            assert!(
                !text.contains(piece),
                "a secret ({}…) appeared in {place}",
                &secret[..secret.len().min(8)]
            );
        }
    }
}

#[test]
fn hostile_peer_codes_and_tokens_never_reach_a_log_or_a_file() {
    let home = common::latch_home();
    let home = home.path();
    // Tokens live 2 s, so later commands refresh; the refresh fails once (HTTP 500).
    let peer = HostilePeer::start("auth", &[("HOSTILE_TTL", "2")]);
    assert_ok(&traced(home, &["servers", "add", "hostile", &peer.url]));
    let login = traced(home, &["login", "hostile", "--browser", "headless"]);
    assert_ok(&login);
    let tools = traced(home, &["tools", "hostile"]);
    let call = traced(home, &["call", "hostile", "echo", "message=hi"]);
    thread::sleep(Duration::from_secs(3));
    peer.set_refresh("500");
    let refused = traced(home, &["call", "hostile", "echo", "message=hi"]);
    peer.set_refresh("ok");
    let status = traced(home, &["status", "hostile", "--json"]);
    let bridged = bridge(home, "hostile", "echo", r#"{"message":"via bridge"}"#);
    let logout = traced(home, &["logout", "hostile"]);
    for (what, output) in [("tools", &tools), ("call", &call), ("logout", &logout)] {
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(
        String::from_utf8_lossy(&bridged.stdout).contains("via bridge"),
        "the bridge answered: {}",
        String::from_utf8_lossy(&bridged.stderr)
    );
    let trace = String::from_utf8_lossy(&login.stderr);
    assert!(
        trace.contains("TRACE") || trace.contains("DEBUG"),
        "trace logging is on"
    );
    let texts = everything_written(
        home,
        &[&login, &tools, &call, &refused, &status, &bridged, &logout],
    );
    // The prefixes alone identify them: no code, access or refresh token anywhere.
    assert_clean(
        &texts,
        &[
            "hostile-code-".into(),
            "hostile-access-".into(),
            "hostile-refresh-".into(),
        ],
    );
}

/// The tokens in the stored grant of `server`.
fn stored_tokens(home: &Path, server: &str) -> Vec<String> {
    let grant = GrantStore::for_grant(SecretStore::file(home), server, "", "default");
    let Some(credentials) = grant.load_blocking().unwrap() else {
        return Vec::new();
    };
    let json = serde_json::to_value(&credentials).unwrap();
    ["access_token", "refresh_token", "id_token"]
        .iter()
        .filter_map(|f| json["token_response"][f].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn oidc_tokens_and_client_secrets_never_reach_a_log_or_a_file() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let home = home.path();
    let clients = peer.clients();
    let client_id = clients["client_secret_basic"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_secret = clients["client_secret_basic"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_ok(&traced(home, &["servers", "add", "oidc", &peer.mcp_url]));
    let login = traced(home, &["login", "oidc", "--browser", "headless"]);
    assert_ok(&login);
    let mut secrets = stored_tokens(home, "oidc");
    let tools = traced(home, &["tools", "oidc"]);
    let call = traced(home, &["call", "oidc", "add", "a=2", "b=3"]);
    // Past the 3 s lifetime: the next commands refresh (new tokens, collected too).
    thread::sleep(Duration::from_secs(4));
    let bridged = bridge(home, "oidc", "add", r#"{"a":4,"b":5}"#);
    secrets.extend(stored_tokens(home, "oidc"));
    let status = traced(home, &["status", "oidc", "--json"]);

    // Client credentials: the secret goes in on stdin and must never come out.
    let config_path = home.join("servers.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["mcpServers"]["m2m"] = serde_json::json!({
        "url": peer.mcp_url,
        "auth": { "type": "client_credentials", "credentials": "m2m" }
    });
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut set = latch_command(home);
    set.env("RUST_LOG", "trace")
        .args(["credentials", "set", "m2m", "--client-id", &client_id])
        .write_stdin(format!("{client_secret}\n"));
    let set = set.output().unwrap();
    assert_ok(&set);
    let m2m = traced(home, &["call", "m2m", "add", "a=1", "b=1"]);
    assert_ok(&m2m);
    secrets.extend(stored_tokens(home, "m2m"));
    let logout = traced(home, &["logout", "oidc"]);

    for (what, output) in [("tools", &tools), ("call", &call), ("bridge", &bridged)] {
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    secrets.push(client_secret);
    assert!(
        secrets.len() >= 4,
        "tokens were collected: {}",
        secrets.len()
    );
    let texts = everything_written(
        home,
        &[
            &login, &tools, &call, &bridged, &status, &set, &m2m, &logout,
        ],
    );
    assert_clean(&texts, &secrets);
}
