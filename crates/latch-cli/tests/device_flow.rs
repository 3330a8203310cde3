//! The device authorization grant (RFC 8628) end to end against a real authorization server
//! (`oidc-provider`, with an MCP server in front that checks the JWT's issuer and audience):
//! `latch login NAME --flow device` prints a user code, the test enters it on the provider's
//! device page as a person would (`approve-device.mjs`), the login finishes and later commands
//! use — and refresh — the grant. Also: a refused code, `slow_down` honoured, the registration
//! reused. An expired code is covered by the core's unit tests only: this peer's device codes
//! always live 10 minutes.

mod common;

use common::{assert_ok, latch_traced as latch};

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command as StdCommand, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use common::oidc::OidcPeer;
use latch_core::secrets::{GrantStore, SecretStore};
use serde_json::Value;

/// How long a login may take from the approval to its exit.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the user code may take to appear.
const CODE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `latch login`, its stderr read line by line as it comes.
struct Login {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
    stdout: thread::JoinHandle<String>,
}

impl Login {
    fn start(home: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Login {
        let mut command = StdCommand::new(assert_cmd::cargo::cargo_bin("latch"));
        command
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .env("RUST_LOG", "trace")
            .args(["login", name])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("latch login starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout = child.stdout.take().unwrap();
        let stdout = thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        Login {
            child,
            lines,
            stderr: Vec::new(),
            stdout,
        }
    }

    /// The user code, from the lines `… enter the code:`, ``, `    CODE`.
    fn user_code(&mut self) -> String {
        let deadline = Instant::now() + CODE_TIMEOUT;
        let mut asked = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let code = line
                        .strip_prefix("    ")
                        .map(|c| c.trim().to_owned())
                        .unwrap_or_default();
                    let is_code = !code.is_empty()
                        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                    let found = asked && is_code;
                    asked |= line.contains("enter the code:");
                    self.stderr.push(line);
                    if found {
                        return code;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    self.drain();
                    panic!(
                        "no user code within {CODE_TIMEOUT:?}; stderr:\n{}",
                        self.stderr.join("\n")
                    );
                }
            }
        }
    }

    /// Wait for the login to exit: its status, stdout and stderr.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + LOGIN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.drain();
                panic!(
                    "latch login did not finish within {LOGIN_TIMEOUT:?}; stderr:\n{}",
                    self.stderr.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(50));
        };
        self.drain();
        let stdout = self.stdout.join().unwrap_or_default();
        (status, stdout, self.stderr.join("\n"))
    }

    fn drain(&mut self) {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.stderr.push(line);
        }
    }
}

/// Set the `auth` entry of server `name` in the servers file.
fn set_auth(home: &Path, name: &str, auth: Value) {
    let path = home.join("servers.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["mcpServers"][name]["auth"] = auth;
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
}

/// The tokens of the stored grant of `name`.
fn stored_tokens(home: &Path, name: &str) -> (Value, Vec<String>) {
    let grant = GrantStore::for_grant(SecretStore::file(home), name, "", "default");
    let credentials = grant.load_blocking().unwrap().expect("a stored grant");
    let json = serde_json::to_value(&credentials).unwrap();
    let tokens = ["access_token", "refresh_token"]
        .iter()
        .filter_map(|field| json["token_response"][field].as_str().map(str::to_owned))
        .collect::<Vec<_>>();
    assert!(!tokens.is_empty(), "the grant holds tokens");
    (json, tokens)
}

fn assert_no_token_in(texts: &[&str], tokens: &[String]) {
    for text in texts {
        for token in tokens {
            let piece = &token[..token.len().min(24)];
            assert!(!text.contains(piece), "a token appeared in the output");
        }
    }
}

#[test]
fn an_approved_code_signs_in_and_the_grant_is_used_and_refreshed() {
    // Access tokens live 3 s, so the test crosses an expiry.
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));

    let mut login = Login::start(home, "oidc", &["--flow", "device"], &[]);
    let code = login.user_code();
    assert!(
        login
            .stderr
            .iter()
            .any(|l| l.contains(&format!("open {}/device", peer.issuer))),
        "the verification URI is shown: {:?}",
        login.stderr
    );
    assert!(peer.approve_device(&code), "the provider took the code");
    let (status, stdout, stderr) = login.finish();
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("Signed in to oidc") && stdout.contains("3 tools"),
        "{stdout}"
    );

    let stats = peer.stats();
    // Latch registered itself for the device grant (no pre-registered client, no DCR help).
    assert_eq!(stats["registrations"], 1, "{stats}");
    assert_eq!(stats["deviceAuthorizations"], 1, "{stats}");
    assert_eq!(stats["devicesApproved"], 1, "{stats}");
    assert_eq!(stats["tokenSuccesses"]["device_code"], 1, "{stats}");
    assert_eq!(
        stats["deviceSlowDowns"], 0,
        "polls kept the interval: {stats}"
    );
    assert_eq!(
        stats["tokenRequestsWithoutResource"]["device_code"].as_u64(),
        None,
        "every poll named the resource: {stats}"
    );

    // Stored as the browser flow stores it: issuer, scopes, when the token came.
    let (stored, tokens) = stored_tokens(home, "oidc");
    assert_eq!(stored["issuer"].as_str(), Some(peer.issuer.as_str()));
    assert!(stored["token_received_at"].is_u64(), "{stored}");
    assert!(
        stored["granted_scopes"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "mcp:read")),
        "{stored}"
    );
    assert!(stored["token_response"]["refresh_token"].is_string());

    let whoami = latch(home, &["call", "oidc", "whoami", "--json"]);
    let result: Value = serde_json::from_str(&assert_ok(&whoami)).unwrap();
    let who = result["content"][0]["text"].as_str().unwrap();
    assert!(who.contains("alice"), "{who}");
    assert!(
        who.contains(&peer.resource),
        "the token is for the MCP server: {who}"
    );

    // Past the 3 s lifetime: rmcp's AuthClient refreshes the device grant like any other.
    thread::sleep(Duration::from_secs(4));
    let later = latch(home, &["call", "oidc", "add", "a=2", "b=3"]);
    assert!(assert_ok(&later).contains('5'));
    let stats = peer.stats();
    assert_eq!(stats["tokenSuccesses"]["refresh_token"], 1, "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");

    assert_no_token_in(
        &[
            &stdout,
            &stderr,
            &String::from_utf8_lossy(&whoami.stderr),
            &String::from_utf8_lossy(&later.stderr),
        ],
        &tokens,
    );

    // Signing in again reuses the registration made the first time.
    let mut again = Login::start(home, "oidc", &["--flow", "device"], &[]);
    let code = again.user_code();
    assert!(peer.approve_device(&code));
    let (status, _, stderr) = again.finish();
    assert!(status.success(), "{stderr}");
    let stats = peer.stats();
    assert_eq!(stats["registrations"], 1, "no second registration: {stats}");
    assert_eq!(stats["tokenSuccesses"]["device_code"], 2, "{stats}");
}

#[test]
fn a_refused_code_ends_the_login_with_the_refusal() {
    let peer = OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    // The pre-registered public client, and the device flow as the server's configured flow.
    let client_id = peer.clients()["public_native"]["client_id"]
        .as_str()
        .expect("the pre-registered public client")
        .to_owned();
    set_auth(
        home,
        "oidc",
        serde_json::json!({"type": "device", "clientId": client_id}),
    );

    let mut login = Login::start(home, "oidc", &[], &[]);
    let code = login.user_code();
    assert!(peer.deny_device(&code), "the provider took the refusal");
    let (status, stdout, stderr) = login.finish();
    assert!(!status.success(), "{stdout}");
    assert!(
        stderr.contains("sign-in was refused on the device page"),
        "{stderr}"
    );
    let stats = peer.stats();
    assert_eq!(stats["devicesDenied"], 1, "{stats}");
    assert_eq!(
        stats["registrations"], 0,
        "the pre-registered client: {stats}"
    );
    assert_eq!(
        stats["tokenErrors"]["device_code:access_denied"], 1,
        "{stats}"
    );

    // Nothing was stored: the server still needs a sign-in.
    let tools = latch(home, &["tools", "oidc"]);
    assert!(!tools.status.success());
}

#[test]
fn slow_down_makes_the_polls_five_seconds_slower() {
    let peer = OidcPeer::start_with(3600, &[("OIDC_DEVICE_INTERVAL", "1")]);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));

    // The test hook sends the second poll at once; the peer answers slow_down to it.
    let mut login = Login::start(
        home,
        "oidc",
        &["--flow", "device"],
        &[("LATCH_TEST_DEVICE_EARLY_POLL", "1")],
    );
    let code = login.user_code();
    assert!(peer.approve_device(&code));
    let (status, stdout, stderr) = login.finish();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("Signed in to oidc"), "{stdout}");
    let stats = peer.stats();
    // One slow_down, and no other: every poll after it waited the longer interval (6 s). A
    // client that kept polling every second would have been told again at each poll.
    assert_eq!(stats["deviceSlowDowns"], 1, "{stats}");
    assert_eq!(stats["tokenSuccesses"]["device_code"], 1, "{stats}");
}

#[test]
fn a_registration_without_the_device_grant_is_replaced_once() {
    let peer = OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    // A browser sign-in first: rmcp registers a client for the authorization-code grant only.
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    assert_eq!(peer.stats()["registrations"], 1);

    // The device flow tries that client, the provider refuses it the grant, Latch registers one
    // that may use it, once, and goes on.
    let mut login = Login::start(home, "oidc", &["--flow", "device"], &[]);
    let code = login.user_code();
    assert!(peer.approve_device(&code));
    let (status, _, stderr) = login.finish();
    assert!(status.success(), "{stderr}");
    let stats = peer.stats();
    assert_eq!(stats["registrations"], 2, "{stats}");
    assert_eq!(stats["deviceAuthorizations"], 1, "{stats}");
    assert_eq!(stats["tokenSuccesses"]["device_code"], 1, "{stats}");
    let whoami = latch(home, &["call", "oidc", "whoami"]);
    assert!(assert_ok(&whoami).contains("alice"));
}
