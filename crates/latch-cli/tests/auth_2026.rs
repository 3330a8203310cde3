//! Sign-in on the 2026-07-28 rules, end to end through the `latch` binary, against the MCP
//! conformance suite's own scenario servers (real peers: an MCP server and its authorization
//! servers, started by the suite on 127.0.0.1 and stopped when the scenario ends). The suite
//! runs a small script as "the client"; the script is what a person types — `latch servers
//! add`, `latch login --browser headless`, `latch tools` — so these tests prove the CLI, its
//! token store and the core together, and read the suite's own verdicts from `checks.json`.
//!
//! - Authorization-server migration (SEP-2352): the server's resource metadata starts naming
//!   another issuer. The grant that was working stays stored until the new sign-in replaced it;
//!   the new issuer gets a registration of its own and never sees the old client id.
//! - `latch login` asks for the scope of the server's own 401 challenge, found with a POST (a
//!   2026-07-28 server need not answer a GET), and registers as a native application (SEP-837).
//!   (The scope union of a step-up, SEP-2350, needs a connection that may sign in by itself —
//!   the app, the conformance adapter — and is proved by the suite's `auth/scope-step-up`.)

mod common;

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use latch_core::secrets::{GrantStore, SecretStore, TokenMetadata};
use serde_json::Value;

/// The script the suite runs as its client, with the server URL as `$1`. Each step's output
/// and exit code land in `$OUT`; `$OUT/after-tools` is `LATCH_HOME` as it was between the
/// failed use of the old grant and the new sign-in.
const MIGRATION_CLIENT: &str = r#"#!/bin/sh
url="$1"
"$LATCH_BIN" servers add conf "$url" >"$OUT/add.out" 2>&1
"$LATCH_BIN" login conf --browser headless >"$OUT/login1.out" 2>&1; echo $? >"$OUT/login1.rc"
"$LATCH_BIN" tools conf >"$OUT/tools1.out" 2>&1; echo $? >"$OUT/tools1.rc"
cp -R "$LATCH_HOME" "$OUT/after-tools"
"$LATCH_BIN" login conf --browser headless >"$OUT/login2.out" 2>&1; echo $? >"$OUT/login2.rc"
"$LATCH_BIN" tools conf >"$OUT/tools2.out" 2>&1; echo $? >"$OUT/tools2.rc"
"#;

/// Sign in, then call the server's tool, which wants a second scope (403 `insufficient_scope`).
const LOGIN_CLIENT: &str = r#"#!/bin/sh
url="$1"
"$LATCH_BIN" servers add conf "$url" >"$OUT/add.out" 2>&1
"$LATCH_BIN" login conf --browser headless >"$OUT/login.out" 2>&1; echo $? >"$OUT/login.rc"
"$LATCH_BIN" call conf test-tool >"$OUT/call.out" 2>&1; echo $? >"$OUT/call.rc"
"#;

/// One scenario run: the suite's runner with `script` as its client, on the 2026-07-28 wire.
struct Run {
    /// `$OUT`: what the script left.
    out: PathBuf,
    /// The suite's checks for the scenario.
    checks: Vec<Value>,
    _dir: tempfile::TempDir,
}

impl Run {
    fn scenario(scenario: &str, script: &str) -> Run {
        let dir = tempfile::Builder::new()
            .prefix("latch-auth-2026-")
            .tempdir()
            .expect("a temp dir");
        let out = dir.path().join("out");
        let home = dir.path().join("home");
        let results = dir.path().join("results");
        fs::create_dir_all(&out).unwrap();
        fs::create_dir_all(&home).unwrap();
        let client = dir.path().join("client.sh");
        fs::write(&client, script).unwrap();

        let peers = common::peers_dir();
        let runner = Command::new(common::node())
            .arg("--require")
            .arg(peers.join("bind-localhost.cjs"))
            .arg(peers.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"))
            .args(["client", "--scenario", scenario])
            .args(["--spec-version", "2026-07-28", "--timeout", "30000"])
            .arg("--command")
            .arg(format!("sh {}", client.display()))
            .arg("-o")
            .arg(&results)
            .env("LATCH_BIN", env!("CARGO_BIN_EXE_latch"))
            .env("LATCH_HOME", &home)
            .env("LATCH_TOKEN_STORE", "file")
            .env("OUT", &out)
            // To files, not pipes: a client process the runner gave up on cannot hold them.
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.path().join("runner.log")).unwrap())
            .stderr(fs::File::create(dir.path().join("runner.err")).unwrap())
            .status()
            .expect("the conformance runner starts");
        let checks = checks_json(&results).unwrap_or_else(|| {
            panic!(
                "the runner ({runner}) left no checks.json: {}",
                fs::read_to_string(dir.path().join("runner.err")).unwrap_or_default()
            )
        });
        Run {
            out,
            checks: serde_json::from_str::<Value>(&checks)
                .expect("checks.json is JSON")
                .as_array()
                .cloned()
                .expect("a list of checks"),
            _dir: dir,
        }
    }

    /// What the script's step `name` printed.
    fn output(&self, name: &str) -> String {
        fs::read_to_string(self.out.join(format!("{name}.out"))).unwrap_or_default()
    }

    /// The exit code of the script's step `name`.
    fn exit_code(&self, name: &str) -> i32 {
        fs::read_to_string(self.out.join(format!("{name}.rc")))
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(-1)
    }

    /// The status of the suite's check `id` (its last record).
    fn status(&self, id: &str) -> String {
        self.checks
            .iter()
            .rev()
            .find(|c| c["id"] == id)
            .and_then(|c| c["status"].as_str())
            .unwrap_or("MISSING")
            .to_owned()
    }

    /// The scope strings of the suite's authorization requests, in order.
    fn authorization_scopes(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c["id"] == "authorization-request")
            .map(|c| {
                c.pointer("/details/query/scope")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}

/// The text of the one `checks.json` under `results`.
fn checks_json(results: &Path) -> Option<String> {
    let mut dirs = vec![results.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "checks.json") {
                return fs::read_to_string(path).ok();
            }
        }
    }
    None
}

/// What may be said about the grant of `conf` kept in `home` (never a token).
fn grant(home: &Path) -> Option<TokenMetadata> {
    GrantStore::for_grant(SecretStore::file(home), "conf", "", "default")
        .metadata()
        .expect("the token store reads")
}

#[test]
fn a_server_that_moved_to_a_new_authorization_server_gets_a_new_registration_and_sign_in() {
    let run = Run::scenario("auth/authorization-server-migration", MIGRATION_CLIENT);

    // The suite's verdicts: a registration at the new issuer, the old client id never shown
    // to it.
    for check in [
        "sep-2352-reregister-on-as-change",
        "sep-2352-no-reuse-on-as-change",
        "sep-2352-no-cross-as-credential-reuse",
    ] {
        assert_eq!(run.status(check), "SUCCESS", "{check}");
    }

    // After the old grant stopped working (the server now names another issuer), it was still
    // stored: nothing deleted it before a new sign-in succeeded.
    let before = grant(&run.out.join("after-tools")).expect("the old grant was kept");
    assert!(before.has_access_token, "the old grant keeps its tokens");
    assert_eq!(before.client_id, "as1-client-id-LEAKED-IF-SEEN-AT-AS2");
    let old_issuer = before.issuer.clone().expect("the grant names its issuer");
    assert_ne!(run.exit_code("tools1"), 0, "{}", run.output("tools1"));

    // Signing in again registers with the new issuer, and the tools work again.
    assert_eq!(run.exit_code("login2"), 0, "{}", run.output("login2"));
    let after = grant(&run.out.parent().unwrap().join("home")).expect("the new grant");
    let new_issuer = after
        .issuer
        .clone()
        .expect("the new grant names its issuer");
    assert_ne!(new_issuer, old_issuer);
    assert!(
        run.output("login2").contains(&new_issuer),
        "{}",
        run.output("login2")
    );
    assert_eq!(after.client_id, "as2-client-id");
    // Using the old grant, the person was told in one plain line where the server moved.
    let tools1 = run.output("tools1");
    assert_eq!(tools1.trim().lines().count(), 1, "one line: {tools1}");
    assert!(
        tools1.contains(&format!(
            "conf moved to a new sign-in provider ({new_issuer}) and needs a new sign-in there"
        )) && tools1.contains("latch login conf"),
        "{tools1}"
    );
    assert!(!tools1.contains("as1-client-id"), "{tools1}");
    assert_eq!(run.exit_code("tools2"), 0, "{}", run.output("tools2"));
    assert!(run.output("tools2").contains("test-tool"));
}

#[test]
fn login_asks_for_the_scope_the_server_challenges_with() {
    // The server's resource metadata lists `mcp:profile`; its 401 challenge asks for
    // `mcp:basic`, and answers a GET of the MCP URL with 404 (no stream on the 2026 wire), so
    // only a POST finds the challenge.
    let run = Run::scenario("auth/scope-step-up", LOGIN_CLIENT);
    assert_eq!(run.exit_code("login"), 0, "{}", run.output("login"));
    let scopes = run.authorization_scopes();
    assert_eq!(scopes.len(), 1, "{scopes:?}");
    assert!(scopes[0].split(' ').any(|s| s == "mcp:basic"), "{scopes:?}");
    assert_eq!(run.status("scope-step-up-initial"), "SUCCESS");
    assert_eq!(run.status("sep-837-application-type-present"), "SUCCESS");
    // Its tool wants `mcp:write` too: the CLI does not sign in by itself, it says so plainly.
    assert_ne!(run.exit_code("call"), 0);
    let call = run.output("call");
    assert_eq!(call.trim().lines().count(), 1, "one line: {call}");
    assert!(
        call.contains("403") && call.contains("latch login"),
        "{call}"
    );
}
