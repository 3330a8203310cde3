//! DPoP-bound tokens (RFC 9449) end to end against a real authorization server with DPoP on
//! (`oidc-provider`) and a protected MCP server that checks every proof itself
//! (`tests/peers/oidc/dpop-mcp.mjs`): `latch login --browser headless`, `latch tools`,
//! `latch call`, a refresh across an expiry made with a proof, a nonce required at the token
//! endpoint and at the MCP server, a proof refused as replayed and recovered with a fresh one,
//! two processes across an expiry sharing one key,
//! `auth.dpop: false` refused by that server in plain words, and no token, proof or key in any
//! output at `RUST_LOG=trace`. Every test asserts the server's own counts, not only Latch's.

mod common;

use std::{
    fs::{self, File},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use common::{
    assert_ok, latch_traced as latch,
    oidc::{http_get, http_request},
};
use serde_json::Value;

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `tests/peers/oidc/dpop-mcp.mjs`; dropping it stops it (it also exits when our
/// stdin pipe closes, so a test that dies never leaks it).
struct DpopPeer {
    issuer: String,
    mcp_url: String,
    admin_url: String,
    child: Child,
    stdin: Option<ChildStdin>,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl DpopPeer {
    /// Starts the peer with `env` (`OIDC_ACCESS_TTL`, `DPOP_MODE`, `DPOP_AS_NONCE`,
    /// `DPOP_MCP_NONCE`, …; see the script's head) and waits for its JSON line.
    fn start(env: &[(&str, &str)]) -> DpopPeer {
        let peers = common::peers_dir();
        let script = peers.join("oidc").join("dpop-mcp.mjs");
        let logs = tempfile::Builder::new()
            .prefix("latch-dpop-peer-")
            .tempdir()
            .expect("a temp dir for the peer's log");
        let log_path = logs.path().join("dpop-peer.log");
        let log = File::create(&log_path).expect("the peer's log file");
        let mut command = Command::new(common::node());
        command
            .arg("--require")
            .arg(peers.join("bind-localhost.cjs"))
            .arg(&script)
            .env_remove("OIDC_PORT")
            .env_remove("MCP_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("the log file, again"));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let rx = common::first_line_then_log(child.stdout.take().expect("stdout"), log);
        let deadline = Instant::now() + START_TIMEOUT;
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Some(status) = child.try_wait().expect("the peer's status") {
                        panic!("the DPoP peer exited ({status}): {}", read(&log_path));
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the DPoP peer printed no JSON line: {}", read(&log_path));
                }
            }
        };
        let info: Value = serde_json::from_str(&line).expect("the peer's JSON line");
        let field = |name: &str| info[name].as_str().expect(name).to_owned();
        DpopPeer {
            issuer: field("issuer"),
            mcp_url: field("mcpUrl"),
            admin_url: field("adminUrl"),
            child,
            stdin,
            log_path,
            _logs: logs,
        }
    }

    /// `GET /__test/stats`: the token endpoint's and the MCP server's counts.
    fn stats(&self) -> Value {
        let answer = http_get(&format!("{}/stats", self.admin_url));
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// The MCP server refuses the next valid proof as replayed (401 `invalid_dpop_proof`).
    fn refuse_next_proof(&self) {
        let url = format!("{}/refuse-next-proof", self.admin_url);
        let answer = http_request("POST", &url, &[], None);
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    fn log(&self) -> String {
        read(&self.log_path)
    }
}

impl Drop for DpopPeer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// A `LATCH_HOME` with the peer's MCP server added as `dpop`; `auth` (if any) is written into
/// its entry in `servers.json`.
fn home_with_server(peer: &DpopPeer, auth: Option<Value>) -> tempfile::TempDir {
    let home = common::latch_home();
    assert_ok(&latch(
        home.path(),
        &["servers", "add", "dpop", &peer.mcp_url],
    ));
    if let Some(auth) = auth {
        let path = home.path().join("servers.json");
        let mut servers: Value = serde_json::from_str(&read(&path)).expect("servers.json");
        servers["mcpServers"]["dpop"]["auth"] = auth;
        fs::write(&path, serde_json::to_string_pretty(&servers).unwrap()).unwrap();
    }
    home
}

fn login(home: &Path) -> Output {
    let login = latch(home, &["login", "dpop", "--browser", "headless"]);
    let out = assert_ok(&login);
    assert!(out.contains("Signed in to dpop"), "{out}");
    login
}

/// Every long string kept in the token store (tokens, keys, whatever form they take there),
/// found by walking `secrets.json`, including values that are JSON in a string.
fn stored_secrets(home: &Path) -> Vec<String> {
    fn walk(key: &str, value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => {
                if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(s) {
                    walk(key, &inner, out);
                } else if s.len() >= 32
                    && !s.starts_with("http")
                    && !["client_id", "issuer", "scope", "resource"].contains(&key)
                {
                    out.push(s.clone());
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(key, v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(k, v, out)),
            _ => {}
        }
    }
    let file: Value =
        serde_json::from_str(&read(&home.join("secrets.json"))).expect("secrets.json");
    let mut out = Vec::new();
    walk("", &file, &mut out);
    assert!(!out.is_empty(), "the token store holds the grant: {file}");
    out
}

/// No stored secret (any 24-character piece of its end), no JWT (a DPoP proof or a token: they
/// all start `eyJ`) and no JWK in what `outputs` printed, stdout and stderr.
fn assert_nothing_secret_in(outputs: &[&Output], secrets: &[String]) {
    for output in outputs {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for secret in secrets {
            let piece = &secret[secret.len().saturating_sub(24)..];
            assert!(
                !text.contains(piece),
                "a stored secret appeared in the output"
            );
        }
        assert!(
            !text.contains("eyJ"),
            "a JWT (token or DPoP proof) appeared in the output"
        );
        assert!(
            !text.contains("\"crv\"") && !text.contains("\"kty\""),
            "a JWK appeared in the output"
        );
    }
}

fn count(stats: &Value, pointer: &str) -> u64 {
    stats.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// The MCP server never saw a bad proof, a replayed one, a key that is not the token's, or a
/// bearer token.
fn assert_clean_proofs(stats: &Value) {
    assert_eq!(
        stats["mcp"]["invalidProofs"],
        serde_json::json!({}),
        "{stats}"
    );
    assert_eq!(count(stats, "/mcp/replaysRefused"), 0, "{stats}");
    assert_eq!(count(stats, "/mcp/thumbprintMismatch"), 0, "{stats}");
    assert_eq!(count(stats, "/mcp/unboundToken"), 0, "{stats}");
    assert_eq!(count(stats, "/mcp/bearerRefused"), 0, "{stats}");
    assert_eq!(count(stats, "/bearerTokensIssued"), 0, "{stats}");
}

#[test]
fn dpop_sign_in_list_call_and_a_refresh_across_expiry_all_carry_proofs() {
    let peer = DpopPeer::start(&[("OIDC_ACCESS_TTL", "3")]);
    let discovery = http_get(&format!(
        "{}/.well-known/oauth-authorization-server",
        peer.issuer
    ));
    assert_eq!(
        discovery.json()["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    let home = home_with_server(&peer, None);
    let home = home.path();

    let login = login(home);
    let stats = peer.stats();
    assert_eq!(
        count(&stats, "/tokenSuccesses/authorization_code"),
        1,
        "{stats}"
    );
    assert_eq!(
        count(&stats, "/tokenRequestsWithProof/authorization_code"),
        count(&stats, "/tokenRequests/authorization_code"),
        "every code exchange carried a proof: {stats}"
    );
    assert!(count(&stats, "/dpopTokensIssued") >= 1, "{stats}");

    let tools = latch(home, &["tools", "dpop"]);
    let listed = assert_ok(&tools);
    for tool in ["echo", "whoami", "add"] {
        assert!(listed.contains(tool), "{listed}");
    }
    let whoami = latch(home, &["call", "dpop", "whoami", "--json"]);
    let result: Value = serde_json::from_str(&assert_ok(&whoami)).expect("--json");
    let claims: Value =
        serde_json::from_str(result["content"][0]["text"].as_str().expect("text")).unwrap();
    assert_eq!(claims["sub"], "alice", "{claims}");
    assert_eq!(claims["bound"], true, "the token is DPoP-bound: {claims}");
    let stats = peer.stats();
    assert_clean_proofs(&stats);
    assert!(count(&stats, "/mcp/accepted") >= 2, "{stats}");
    assert_eq!(count(&stats, "/mcp/toolCalls/whoami"), 1, "{stats}");
    // One key for the grant, used by every process.
    assert_eq!(count(&stats, "/mcp/distinctKeys"), 1, "{stats}");

    // Past the 3 s lifetime: the next command refreshes with a proof from the same key.
    std::thread::sleep(Duration::from_secs(4));
    let later = latch(home, &["call", "dpop", "add", "a=2", "b=3"]);
    assert!(assert_ok(&later).contains('5'));
    let stats = peer.stats();
    assert_eq!(count(&stats, "/tokenSuccesses/refresh_token"), 1, "{stats}");
    assert_eq!(
        count(&stats, "/tokenRequestsWithProof/refresh_token"),
        count(&stats, "/tokenRequests/refresh_token"),
        "{stats}"
    );
    assert_eq!(stats["tokenErrors"], serde_json::json!({}), "{stats}");
    assert_eq!(count(&stats, "/mcp/toolCalls/add"), 1, "{stats}");
    assert_eq!(count(&stats, "/mcp/distinctKeys"), 1, "{stats}");
    assert_clean_proofs(&stats);

    assert_nothing_secret_in(&[&login, &tools, &whoami, &later], &stored_secrets(home));
}

#[test]
fn two_processes_across_an_expiry_share_one_key_and_one_refresh() {
    let peer = DpopPeer::start(&[("OIDC_ACCESS_TTL", "3")]);
    let home = home_with_server(&peer, None);
    let home = home.path();
    login(home);
    std::thread::sleep(Duration::from_secs(4));

    let spawn = || {
        Command::new(assert_cmd::cargo::cargo_bin("latch"))
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .env_remove("RUST_LOG")
            .args(["call", "dpop", "whoami"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("latch starts")
    };
    let (first, second) = (spawn(), spawn());
    let mut outputs = Vec::new();
    for child in [first, second] {
        let output = child.wait_with_output().expect("latch runs");
        assert!(assert_ok(&output).contains("alice"));
        outputs.push(output);
    }
    let stats = peer.stats();
    // Both refreshed through one refresh (or one each, in turn): never a rotated refresh token
    // replayed, never a second key, every refresh with a proof.
    assert_eq!(stats["tokenErrors"], serde_json::json!({}), "{stats}");
    assert!(
        count(&stats, "/tokenSuccesses/refresh_token") >= 1,
        "{stats}"
    );
    assert_eq!(
        count(&stats, "/tokenRequestsWithProof/refresh_token"),
        count(&stats, "/tokenRequests/refresh_token"),
        "{stats}"
    );
    assert_eq!(count(&stats, "/mcp/distinctKeys"), 1, "{stats}");
    assert_eq!(count(&stats, "/mcp/toolCalls/whoami"), 2, "{stats}");
    assert_clean_proofs(&stats);
    let outputs: Vec<&Output> = outputs.iter().collect();
    assert_nothing_secret_in(&outputs, &stored_secrets(home));
}

#[test]
fn a_nonce_required_at_the_token_endpoint_and_the_mcp_server_is_used() {
    let peer = DpopPeer::start(&[("DPOP_AS_NONCE", "1"), ("DPOP_MCP_NONCE", "1")]);
    let home = home_with_server(&peer, None);
    let home = home.path();

    let login = login(home);
    let call = latch(home, &["call", "dpop", "echo", "message=nonce"]);
    assert!(assert_ok(&call).contains("nonce"));
    let stats = peer.stats();
    // The token endpoint asked for a nonce and the code exchange then succeeded, once.
    assert!(count(&stats, "/asNonceChallenges") >= 1, "{stats}");
    assert_eq!(
        count(&stats, "/tokenSuccesses/authorization_code"),
        1,
        "{stats}"
    );
    // The MCP server asked too, and was then answered with proofs carrying its nonce.
    assert!(count(&stats, "/mcp/nonceChallenges") >= 1, "{stats}");
    assert!(count(&stats, "/mcp/noncesHonored") >= 2, "{stats}");
    assert_eq!(
        count(&stats, "/mcp/noncesHonored"),
        count(&stats, "/mcp/accepted"),
        "{stats}"
    );
    assert_eq!(count(&stats, "/mcp/toolCalls/echo"), 1, "{stats}");
    assert_clean_proofs(&stats);
    assert_nothing_secret_in(&[&login, &call], &stored_secrets(home));
}

#[test]
fn a_proof_refused_as_replayed_is_recovered_with_a_fresh_one() {
    let peer = DpopPeer::start(&[]);
    let home = home_with_server(&peer, None);
    let home = home.path();
    let login = login(home);
    let accepted_before = count(&peer.stats(), "/mcp/accepted");

    peer.refuse_next_proof();
    let call = latch(home, &["call", "dpop", "echo", "message=again"]);
    assert!(
        assert_ok(&call).contains("again"),
        "the peer's log: {}",
        peer.log()
    );
    let stats = peer.stats();
    assert_eq!(count(&stats, "/mcp/injectedReplays"), 1, "{stats}");
    // Latch did not send that proof again (that would be a real replay), it made a new one.
    assert_eq!(count(&stats, "/mcp/replaysRefused"), 0, "{stats}");
    assert!(count(&stats, "/mcp/accepted") > accepted_before, "{stats}");
    assert_eq!(count(&stats, "/mcp/toolCalls/echo"), 1, "{stats}");
    // No new sign-in for it.
    assert_eq!(
        count(&stats, "/tokenRequests/authorization_code"),
        1,
        "{stats}"
    );
    assert_clean_proofs(&stats);
    assert_nothing_secret_in(&[&login, &call], &stored_secrets(home));
}

#[test]
fn auth_dpop_false_gets_a_bearer_token_the_dpop_server_refuses_in_plain_words() {
    let peer = DpopPeer::start(&[]);
    let home = home_with_server(&peer, Some(serde_json::json!({"dpop": false})));
    let home = home.path();

    // Signing in works (the authorization server issues bearer tokens to clients without a
    // proof); using the token does not, wherever Latch first uses it. Without RUST_LOG, so
    // stderr holds only what a person sees.
    let login = common::latch_run(home, &["login", "dpop", "--browser", "headless"]);
    let call = common::latch_run(home, &["call", "dpop", "whoami"]);
    assert!(!call.status.success(), "a bearer token was accepted");
    let stats = peer.stats();
    assert!(count(&stats, "/bearerTokensIssued") >= 1, "{stats}");
    assert_eq!(count(&stats, "/dpopTokensIssued"), 0, "{stats}");
    assert_eq!(
        stats["tokenRequestsWithProof"],
        serde_json::json!({}),
        "{stats}"
    );
    assert!(count(&stats, "/mcp/bearerRefused") >= 1, "{stats}");
    assert_eq!(count(&stats, "/mcp/accepted"), 0, "{stats}");
    assert_eq!(count(&stats, "/mcp/proofsChecked"), 0, "{stats}");

    for output in [&login, &call] {
        if output.status.success() {
            continue;
        }
        // Plain words: names the server (or its URL) and says DPoP (signing in again cannot
        // help: the server wants DPoP-bound tokens and `auth.dpop` is false); no type names.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr.trim();
        assert!(
            (said.contains("dpop") || said.contains(&peer.mcp_url)) && said.contains("DPoP"),
            "names the server and says DPoP: {said}"
        );
        assert!(!said.contains("::") && !said.contains(" { "), "{said}");
        assert!(said.lines().count() <= 2, "{said}");
    }
    if home.join("secrets.json").is_file() {
        assert_nothing_secret_in(&[&login, &call], &stored_secrets(home));
    }
}

#[test]
fn where_dpop_is_not_offered_latch_sends_plain_bearer_tokens() {
    let peer = DpopPeer::start(&[("DPOP_MODE", "bearer")]);
    let discovery = http_get(&format!(
        "{}/.well-known/oauth-authorization-server",
        peer.issuer
    ));
    assert!(discovery.json()["dpop_signing_alg_values_supported"].is_null());
    let home = home_with_server(&peer, None);
    let home = home.path();
    let login = login(home);
    let call = latch(home, &["call", "dpop", "add", "a=1", "b=1"]);
    assert!(assert_ok(&call).contains('2'));
    let stats = peer.stats();
    assert_eq!(count(&stats, "/dpopTokensIssued"), 0, "{stats}");
    assert_eq!(count(&stats, "/mcp/dpopRefused"), 0, "{stats}");
    assert_eq!(
        stats["tokenRequestsWithProof"],
        serde_json::json!({}),
        "{stats}"
    );
    assert_eq!(count(&stats, "/mcp/toolCalls/add"), 1, "{stats}");
    assert_nothing_secret_in(&[&login, &call], &stored_secrets(home));
}
