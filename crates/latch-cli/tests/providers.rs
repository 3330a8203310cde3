//! Real providers as they behave (issue 14): the `latch` binary against an authorization server
//! on django-oauth-toolkit and MCP servers on the Python `mcp` SDK that check tokens by
//! introspection (`common::providers`). Notion-like: metadata, dynamic registration, browser
//! sign-in, and `logout` then `login` reusing the registration. Madgicx-like: no metadata, the
//! token endpoint at `/o/token/` on another port, client credentials with `auth.tokenUrl` (and
//! one plain line naming the URL without it), browser sign-in with configured endpoints. Calls
//! started every 100 ms around an access token's end, with zero failures. A provider that forgot
//! Latch's registration: "needs sign-in", no more refresh attempts, a new registration on login.
//!
//! Commands run without `RUST_LOG`, as a person runs them: a failing one must print exactly one
//! plain line on stderr.

mod common;

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use common::providers::Providers;
use serde_json::{Value, json};

/// `latch ARGS` with a throwaway `LATCH_HOME`, the file token store, no `RUST_LOG`.
fn latch_cmd(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latch"));
    command
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .args(args)
        .stdin(Stdio::null());
    command
}

fn latch(home: &Path, args: &[&str]) -> Output {
    latch_cmd(home, args).output().expect("latch runs")
}

/// `latch ARGS 2>file`, as a person redirects it: stderr is a file, not a terminal.
fn latch_stderr_to_file(home: &Path, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("stderr.txt");
    let file = std::fs::File::create(&path).expect("the stderr file");
    let mut output = latch_cmd(home, args)
        .stderr(file)
        .output()
        .expect("latch runs");
    output.stderr = std::fs::read(&path).expect("the stderr file, again");
    output
}

fn latch_with_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_latch"));
    command
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .args(args)
        .write_stdin(stdin.to_owned());
    command.output().expect("latch runs")
}

/// The command succeeded (else fail with its output and the servers' logs); its stdout.
fn ok(output: &Output, peers: &Providers, what: &str) -> String {
    assert!(
        output.status.success(),
        "`latch {what}` failed ({}):\nstdout: {}\nstderr: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        peers.log()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command failed with exactly one plain line on stderr (no escape codes, no Rust type
/// name); that line.
fn one_line_failure(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "`latch {what}` should have failed; stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "`latch {what}` should print exactly one line on stderr, printed:\n{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "escape codes on stderr: {stderr:?}"
    );
    assert!(!stderr.contains("::"), "a Rust path on stderr: {stderr}");
    stderr.trim_end().to_owned()
}

fn write_servers(home: &Path, servers: &[(&str, Value)]) {
    let entries: serde_json::Map<String, Value> = servers
        .iter()
        .map(|(name, entry)| ((*name).to_owned(), entry.clone()))
        .collect();
    std::fs::write(
        home.join("servers.json"),
        serde_json::to_string_pretty(&json!({ "mcpServers": entries })).unwrap(),
    )
    .unwrap();
}

/// `latch call NAME whoami --json` → what the MCP server learned from introspection:
/// `client_id`, `scopes`, `expires_at`.
fn whoami(home: &Path, peers: &Providers, server: &str) -> Value {
    let output = latch(home, &["call", server, "whoami", "--json"]);
    let result: Value = serde_json::from_str(&ok(&output, peers, "call whoami")).unwrap();
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("whoami answered {result}"));
    serde_json::from_str(text).unwrap()
}

fn echo(home: &Path, peers: &Providers, server: &str, message: &str) {
    let arg = format!("message={message}");
    let output = latch(home, &["call", server, "echo", &arg]);
    let out = ok(&output, peers, &format!("call {server} echo"));
    assert!(out.contains(message), "echo answered {out}");
}

fn no_secret_in(outputs: &[&Output], secret: &str) {
    let piece = &secret[..secret.len().min(24)];
    for output in outputs {
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!printed.contains(piece), "a secret appeared:\n{printed}");
    }
}

/// `http://127.0.0.1:P` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..]
        .find('/')
        .map_or(url, |i| &url[..after_scheme + i])
}

#[test]
fn notion_like_registers_signs_in_in_the_browser_and_login_after_logout_reuses_it() {
    let peers = Providers::start(3600);
    let home = common::latch_home();
    let home = home.path();
    ok(
        &latch(home, &["servers", "add", "notion", &peers.notion_url]),
        &peers,
        "servers add",
    );
    let login = latch(home, &["login", "notion", "--browser", "headless"]);
    let out = ok(&login, &peers, "login notion");
    assert!(out.contains("Signed in to notion"), "{out}");
    assert_eq!(peers.stat("/registrations"), 1, "{}", peers.stats());
    let registered = peers.registered_client_ids();

    let tools = ok(&latch(home, &["tools", "notion"]), &peers, "tools notion");
    assert!(
        tools.contains("whoami") && tools.contains("echo"),
        "{tools}"
    );
    echo(home, &peers, "notion", "hello-notion");
    let claims = whoami(home, &peers, "notion");
    assert_eq!(claims["client_id"], registered[0].as_str(), "{claims}");
    assert!(peers.stat("/introspections") >= 2, "{}", peers.stats());

    ok(&latch(home, &["logout", "notion"]), &peers, "logout notion");
    let login = latch(home, &["login", "notion", "--browser", "headless"]);
    ok(&login, &peers, "login notion (again)");
    echo(home, &peers, "notion", "hello-again");
    // Why 5: a new sign-in after a logout keeps the registration it already has.
    assert_eq!(
        peers.stat("/registrations"),
        1,
        "`latch login` after `latch logout` registered a new client: {}",
        peers.stats()
    );
}

#[test]
fn madgicx_like_client_credentials_with_token_url_and_one_line_without_it() {
    let peers = Providers::start(3600);
    let (client_id, secret) = peers.create_client_credentials();
    let home = common::latch_home();
    let home = home.path();
    let auth = json!({
        "type": "client_credentials",
        "credentials": "madgicx",
        "tokenUrl": peers.token_url,
    });
    write_servers(
        home,
        &[
            ("madgicx", json!({ "url": peers.madgicx_url, "auth": auth })),
            (
                "no-token-url",
                json!({
                    "url": peers.madgicx_url,
                    "auth": { "type": "client_credentials", "credentials": "madgicx" },
                }),
            ),
        ],
    );
    let set = latch_with_stdin(
        home,
        &["credentials", "set", "madgicx", "--client-id", &client_id],
        &format!("{secret}\n"),
    );
    ok(&set, &peers, "credentials set");

    let tools = latch(home, &["tools", "madgicx"]);
    let listed = ok(&tools, &peers, "tools madgicx");
    assert!(
        listed.contains("whoami") && listed.contains("echo"),
        "{listed}"
    );
    let claims = whoami(home, &peers, "madgicx");
    assert_eq!(claims["client_id"], client_id.as_str(), "{claims}");
    assert_eq!(
        peers.stat("/tokenRequestsByGrant/client_credentials"),
        1,
        "{}",
        peers.stats()
    );

    // Without `tokenUrl` there is nothing to discover: one line naming the URL tried.
    let before = peers.stat("/tokenRequests");
    let failed = latch_stderr_to_file(home, &["call", "no-token-url", "echo", "message=x"]);
    let line = one_line_failure(&failed, "call no-token-url echo 2>file");
    assert!(
        line.contains(origin(&peers.madgicx_url)),
        "the error should name the URL it tried ({}…): {line}",
        origin(&peers.madgicx_url)
    );
    assert_eq!(peers.stat("/tokenRequests"), before, "{}", peers.stats());
    no_secret_in(&[&set, &tools, &failed], &secret);
}

#[test]
fn servers_add_attaches_client_credentials_and_a_token_url() {
    let peers = Providers::start(3600);
    let (client_id, secret) = peers.create_client_credentials();
    let home = common::latch_home();
    let home = home.path();
    let set = latch_with_stdin(
        home,
        &["credentials", "set", "madgicx", "--client-id", &client_id],
        &format!("{secret}\n"),
    );
    ok(&set, &peers, "credentials set");
    let add = latch(
        home,
        &[
            "servers",
            "add",
            "ads",
            &peers.madgicx_url,
            "--client-credentials",
            "madgicx",
            "--token-url",
            &peers.token_url,
            "--scope",
            "mcp:read",
        ],
    );
    ok(&add, &peers, "servers add --client-credentials --token-url");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("servers.json")).unwrap()).unwrap();
    let auth = &file["mcpServers"]["ads"]["auth"];
    assert_eq!(auth["credentials"], "madgicx", "{file:#}");
    assert_eq!(auth["tokenUrl"], peers.token_url.as_str(), "{file:#}");
    let claims = whoami(home, &peers, "ads");
    assert_eq!(claims["client_id"], client_id.as_str(), "{claims}");
    assert_eq!(claims["scopes"], json!(["mcp:read"]), "{claims}");
    no_secret_in(&[&set, &add], &secret);
}

#[test]
fn madgicx_like_browser_sign_in_with_configured_endpoints() {
    let peers = Providers::start(3600);
    let client_id = peers.create_public_client();
    let home = common::latch_home();
    let home = home.path();
    write_servers(
        home,
        &[(
            "madgicx-team",
            json!({
                "url": peers.madgicx_url,
                "auth": {
                    "type": "oauth",
                    "clientId": client_id,
                    "authorizationUrl": peers.authorization_url,
                    "tokenUrl": peers.token_url,
                    "revocationUrl": peers.revocation_url,
                },
            }),
        )],
    );
    let login = latch(home, &["login", "madgicx-team", "--browser", "headless"]);
    ok(&login, &peers, "login madgicx-team");
    assert_eq!(
        peers.stat("/tokenRequestsByGrant/authorization_code"),
        1,
        "{}",
        peers.stats()
    );
    assert_eq!(peers.stat("/registrations"), 0, "{}", peers.stats());
    let claims = whoami(home, &peers, "madgicx-team");
    assert_eq!(claims["client_id"], client_id.as_str(), "{claims}");
    echo(home, &peers, "madgicx-team", "hello-team");
    ok(
        &latch(home, &["logout", "madgicx-team"]),
        &peers,
        "logout madgicx-team",
    );
    assert!(peers.stat("/revocations") >= 1, "{}", peers.stats());
    assert_eq!(peers.stat("/revocationErrors"), 0, "{}", peers.stats());
}

/// Access tokens live this long in the near-expiry test: long enough that, after the call that
/// gets a fresh token returns, its end is still more than 2.5 s away on a busy machine.
const NEAR_EXPIRY_TTL: u64 = 6;
const ROUNDS: usize = 3;
/// Calls per round: one every 100 ms from 2.5 s before the end to 0.5 s after.
const CALLS_PER_ROUND: u32 = 31;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn sleep_until(at: f64) {
    let wait = at - unix_now();
    if wait > 0.0 {
        thread::sleep(Duration::from_secs_f64(wait));
    }
}

/// The end of the access token the next command uses: `whoami` returns the AS's `exp`, whole
/// seconds rounded down, so the end lies within [exp, exp + 1): take the middle.
fn token_end(home: &Path, peers: &Providers) -> f64 {
    let claims = whoami(home, peers, "notion");
    claims["expires_at"]
        .as_f64()
        .unwrap_or_else(|| panic!("whoami gave no expires_at: {claims}"))
        + 0.5
}

#[test]
fn calls_started_every_100_ms_around_an_expiry_all_succeed() {
    let peers = Providers::start(NEAR_EXPIRY_TTL);
    let home = common::latch_home();
    let home = home.path();
    ok(
        &latch(home, &["servers", "add", "notion", &peers.notion_url]),
        &peers,
        "servers add",
    );
    ok(
        &latch(home, &["login", "notion", "--browser", "headless"]),
        &peers,
        "login notion",
    );
    let (mut calls, mut failures) = (0usize, Vec::new());
    let mut end = token_end(home, &peers);
    calls += 1;
    for round in 0..ROUNDS {
        // The window must lie ahead; if the machine was too slow, wait for the next token.
        while end - 2.5 < unix_now() {
            sleep_until(end + 0.6);
            end = token_end(home, &peers);
            calls += 1;
        }
        let mut running: Vec<(f64, Child)> = Vec::new();
        for k in 0..CALLS_PER_ROUND {
            let at = end - 2.5 + 0.1 * f64::from(k);
            sleep_until(at);
            let message = format!("message=round{round}-{k}");
            let child = latch_cmd(home, &["call", "notion", "echo", &message])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("latch starts");
            running.push((at - end, child));
        }
        for (offset, child) in running {
            let output = child.wait_with_output().expect("latch ends");
            calls += 1;
            if !output.status.success() {
                failures.push(format!(
                    "round {round}, {offset:+.1} s from the end: {}",
                    String::from_utf8_lossy(&output.stderr).trim_end()
                ));
            }
        }
        // The next round's token: the one the calls after this end got.
        sleep_until(end + 0.6);
        end = token_end(home, &peers);
        calls += 1;
    }
    println!("near-expiry: {calls} calls, {} failures", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {calls} calls failed:\n{}\n{}",
        failures.len(),
        failures.join("\n"),
        peers.stats()
    );
    assert_eq!(
        peers.stat("/tokenErrors/invalid_grant"),
        0,
        "{}",
        peers.stats()
    );
}

#[test]
fn a_forgotten_registration_needs_sign_in_stops_refreshing_and_login_registers_again() {
    let peers = Providers::start(3);
    let home = common::latch_home();
    let home = home.path();
    ok(
        &latch(home, &["servers", "add", "forgot", &peers.notion_url]),
        &peers,
        "servers add",
    );
    ok(
        &latch(home, &["login", "forgot", "--browser", "headless"]),
        &peers,
        "login forgot",
    );
    echo(home, &peers, "forgot", "before");
    let registered = peers.registered_client_ids();
    assert_eq!(registered.len(), 1, "{}", peers.stats());

    // The provider forgets the registration (and its tokens); the token's time runs out too.
    peers.delete_client(&registered[0]);
    thread::sleep(Duration::from_secs(4));

    // Every expectation is checked and the unmet ones are reported together.
    let mut unmet: Vec<String> = Vec::new();
    let failed = latch(home, &["call", "forgot", "echo", "message=after"]);
    let line = one_line_failure(&failed, "call forgot echo");
    let lower = line.to_lowercase();
    if !(lower.contains("sign in") || lower.contains("sign-in") || lower.contains("latch login")) {
        unmet.push(format!(
            "the error should say the server needs a sign-in: {line}"
        ));
    }
    if !(lower.contains("registration") || lower.contains("registered")) {
        unmet.push(format!(
            "the error should say the provider no longer knows Latch's registration: {line}"
        ));
    }
    if peers.stat("/tokenErrors/invalid_client") != 1 {
        unmet.push(format!(
            "exactly one refresh should have met invalid_client: {}",
            peers.stats()
        ));
    }
    let token_requests = peers.stat("/tokenRequests");

    let status = latch(home, &["status", "forgot", "--json"]);
    let json: Value = serde_json::from_slice(&status.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    });
    if json["servers"][0]["state"]["state"] != "needsSignIn" {
        unmet.push(format!(
            "`latch status --json` should show needsSignIn, shows {}",
            json["servers"][0]["state"]
        ));
    }
    let again = latch(home, &["call", "forgot", "echo", "message=again"]);
    one_line_failure(&again, "call forgot echo (again)");
    if peers.stat("/tokenRequests") != token_requests {
        unmet.push(format!(
            "`latch status` and a second call should make no token request until the next \
             sign-in: {} before, {}",
            token_requests,
            peers.stats()
        ));
    }

    ok(
        &latch(home, &["login", "forgot", "--browser", "headless"]),
        &peers,
        "login forgot (again)",
    );
    if peers.stat("/registrations") != 2 {
        unmet.push(format!(
            "`latch login` should register again: {}",
            peers.stats()
        ));
    }
    echo(home, &peers, "forgot", "registered-again");
    assert!(unmet.is_empty(), "{}", unmet.join("\n"));
}
