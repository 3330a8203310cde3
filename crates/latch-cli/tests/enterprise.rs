//! Enterprise-managed authorization end to end against a real company identity provider:
//! `tests/peers/oidc/company-idp.mjs` runs oidc-provider (pinned) as the IdP — browser sign-in
//! with PKCE, ID and refresh tokens, and RFC 8693 token exchange for an ID-JAG registered as a
//! custom grant — plus an MCP server whose authorization server takes the ID-JAG with the
//! `jwt-bearer` grant. `latch org add`, `latch login --org` (the headless person at the IdP),
//! two servers signed in with no browser each, a revoked MCP token exchanged again on its own,
//! the IdP session ending (one "sign in to your company again" message), and `latch org
//! remove` refusing while servers use it. No secret or token may appear in any output.

mod common;

use std::{
    fs::File,
    path::Path,
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use common::{
    first_line_then_log, latch_quiet, node,
    oidc::{http_get, http_request},
    peers_dir,
};
use serde_json::{Value, json};

/// A running `company-idp.mjs`, killed when dropped (it also exits when our stdin pipe closes).
struct CompanyPeer {
    info: Value,
    child: Child,
    _stdin: Option<ChildStdin>,
    _logs: tempfile::TempDir,
}

impl CompanyPeer {
    fn start() -> Self {
        let peers = peers_dir();
        let logs = tempfile::tempdir().expect("a temp dir for the peer's log");
        let log = File::create(logs.path().join("company-idp.log")).expect("the log file");
        let mut child = Command::new(node())
            .arg("--require")
            .arg(peers.join("bind-localhost.cjs"))
            .arg(peers.join("oidc").join("company-idp.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("the log file, again"))
            .spawn()
            .expect("node runs company-idp.mjs");
        let stdin = child.stdin.take();
        let rx = first_line_then_log(child.stdout.take().expect("stdout"), log);
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(logs.path().join("company-idp.log"));
                panic!("company-idp.mjs did not start: {log:?}");
            }
        };
        Self {
            info: serde_json::from_str(&line).expect("the peer's JSON line"),
            child,
            _stdin: stdin,
            _logs: logs,
        }
    }

    fn field(&self, name: &str) -> String {
        self.info[name].as_str().expect(name).to_owned()
    }

    fn stats(&self) -> Value {
        http_get(&format!("{}/stats", self.field("adminUrl"))).json()
    }

    fn admin(&self, path: &str) {
        let response = http_request(
            "POST",
            &format!("{}{path}", self.field("adminUrl")),
            &[],
            None,
        );
        assert_eq!(response.status, 200, "{path}: {}", response.body);
    }
}

impl Drop for CompanyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SECRETS: [&str; 2] = ["latch-idp-secret", "latch-mcp-secret"];

/// `latch ARGS` with the MCP client's secret in the environment (the servers file names it
/// with `${env:…}`); asserts nothing secret is printed, returns (success, stdout, stderr).
fn latch(home: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let output = latch_quiet(home)
        .env("COMPANY_MCP_SECRET", "latch-mcp-secret")
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("latch runs");
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    for secret in SECRETS {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{args:?} printed a secret:\n{out}\n{err}"
        );
    }
    (output.status.success(), out, err)
}

fn json_of(home: &Path, args: &[&str]) -> Value {
    let (ok, out, err) = latch(home, args, "");
    assert!(ok, "{args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

#[test]
fn one_company_sign_in_signs_in_every_server_of_the_organisation() {
    let peer = CompanyPeer::start();
    let home = common::latch_home();
    let home = home.path();

    let issuer = peer.field("issuer");
    let (ok, _, err) = latch(
        home,
        &[
            "org",
            "add",
            "acme",
            "--issuer",
            &issuer,
            "--client-id",
            "latch-idp",
            "--client-secret-stdin",
        ],
        "latch-idp-secret\n",
    );
    assert!(ok, "org add: {err}");
    // The secret is in the token store, the servers file names it.
    let servers_file = home.join("servers.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&servers_file).unwrap()).unwrap();
    assert_eq!(
        config["organizations"]["acme"]["clientSecret"],
        "${secret:org-acme}"
    );
    let listed = json_of(home, &["org", "list", "--json"]);
    assert_eq!(listed[0]["name"], "acme");
    assert_eq!(listed[0]["signedIn"], false);

    // Two servers of the organisation, each with its own client at the MCP server's AS.
    let server = json!({"url": peer.field("mcpUrl"), "auth": {"org": "acme",
        "clientId": peer.field("mcpClientId"), "clientSecret": "${env:COMPANY_MCP_SECRET}"}});
    config["mcpServers"]["wiki"] = server.clone();
    config["mcpServers"]["crm"] = server;
    std::fs::write(
        &servers_file,
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();

    // Before the company sign-in, a server says what to do.
    let (ok, _, err) = latch(home, &["call", "wiki", "whoami"], "");
    assert!(!ok);
    assert!(
        err.contains("sign in to your company (acme) first: `latch login --org acme`"),
        "{err}"
    );

    // The person signs in once at the company (headless browser at oidc-provider)…
    let login = json_of(
        home,
        &["login", "--org", "acme", "--browser", "headless", "--json"],
    );
    assert_eq!(login["signedIn"], true);
    assert_eq!(
        login["renewable"], true,
        "offline_access gave a refresh token"
    );
    let servers: Vec<(&str, bool)> = login["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["server"].as_str().unwrap(),
                s["signedIn"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(servers, [("crm", true), ("wiki", true)], "{login}");
    // …and both servers were signed in by exchange: two ID-JAGs, two jwt-bearer grants.
    let stats = peer.stats();
    assert_eq!(stats["tokenExchanges"], 2, "{stats}");
    assert_eq!(stats["jwtBearer"], 2, "{stats}");

    let listed = json_of(home, &["org", "list", "--json"]);
    assert_eq!(listed[0]["signedIn"], true);
    assert_eq!(listed[0]["servers"], json!(["crm", "wiki"]));
    assert!(listed[0]["expiresAt"].as_u64().is_some(), "{listed}");
    let stored = std::fs::read_to_string(home.join("servers.json")).unwrap();
    assert!(!stored.contains("eyJ"), "no token in the servers file");

    let (ok, out, err) = latch(home, &["call", "wiki", "whoami"], "");
    assert!(ok && out.contains("alice"), "{out}{err}");

    // The MCP server forgets every token: the next call exchanges again, no browser.
    peer.admin("/revoke-access");
    let (ok, out, err) = latch(home, &["call", "crm", "whoami"], "");
    assert!(ok && out.contains("alice"), "{out}{err}");
    assert_eq!(peer.stats()["tokenExchanges"], 3);

    // The company ends the session: one message, naming the organisation and the fix.
    peer.admin("/end-session");
    peer.admin("/revoke-access");
    let (ok, _, err) = latch(home, &["call", "wiki", "whoami"], "");
    assert!(!ok);
    assert!(
        err.contains("sign in to your company (acme) again: `latch login --org acme`")
            && err.lines().count() == 1,
        "{err}"
    );

    // Removing is refused while servers use it, naming them; then it forgets the sign-in.
    let (ok, _, err) = latch(home, &["org", "remove", "acme"], "");
    assert!(!ok);
    assert!(err.contains("used by crm, wiki"), "{err}");
    for name in ["wiki", "crm"] {
        let (ok, _, err) = latch(home, &["servers", "remove", name], "");
        assert!(ok, "{err}");
    }
    let removed = json_of(home, &["org", "remove", "acme", "--json"]);
    assert_eq!(removed["signedOut"], true);
    assert_eq!(json_of(home, &["org", "list", "--json"]), json!([]));
    let (ok, _, err) = latch(
        home,
        &["login", "--org", "acme", "--browser", "headless"],
        "",
    );
    assert!(!ok && err.contains("no organisation named acme"), "{err}");
}
