//! Workload identity end to end against a real peer (`tests/peers/workload-as.mjs`: an
//! authorization server that takes only the jwt-bearer grant and verifies the platform token's
//! signature, issuer, audience and expiry, in front of an MCP server from the SDK that takes
//! only its tokens). The platform's token comes from a file (rotated between calls, and re-read),
//! a command and an environment variable; an expired or misdirected token gives one plain line
//! naming what is wrong after exactly one token request; `latch doctor` explains each step.
//! Every command runs at `RUST_LOG=trace`, and no platform or access token may appear in what
//! it prints.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use common::{announced::Announced, oidc::http_request};
use latch_core::{
    Event, EventBus,
    auth::SharedCredentialStore,
    config::RemoteServer,
    keeper::{Keeper, KeeperTarget},
    secrets::{GrantStore, SecretStore},
};
use serde_json::{Value, json};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct Peer(Announced);

impl Peer {
    fn start() -> Peer {
        Peer::start_with_ttl(3600)
    }

    /// A peer whose access tokens last `ttl` seconds.
    fn start_with_ttl(ttl: u64) -> Peer {
        let mut command = std::process::Command::new(common::node());
        command
            .env("WORKLOAD_ACCESS_TTL", ttl.to_string())
            .arg("--require")
            .arg(common::peers_dir().join("bind-localhost.cjs"))
            .arg(common::peers_dir().join("workload-as.mjs"));
        Peer(Announced::start(
            "the workload peer",
            &mut command,
            Duration::from_secs(60),
        ))
    }

    fn mcp_url(&self) -> String {
        format!("{}/mcp", self.0.url)
    }

    /// A platform token for `sub`, signed by the peer's platform key.
    fn mint(&self, claims: Value) -> String {
        let body = claims.to_string();
        let response = http_request(
            "POST",
            &format!("{}/__test/mint", self.0.url),
            &[("Content-Type", "application/json")],
            Some(body.as_bytes()),
        );
        response.json()["token"].as_str().unwrap().to_owned()
    }

    fn revoke_access_tokens(&self) {
        let response = http_request("POST", &format!("{}/__test/revoke", self.0.url), &[], None);
        assert_eq!(response.status, 200);
    }

    /// The token requests the authorization server received.
    fn token_requests(&self) -> Vec<Value> {
        let response = http_request("GET", &format!("{}/__test/stats", self.0.url), &[], None);
        response.json()["tokenRequests"].as_array().unwrap().clone()
    }
}

fn write_servers(home: &Path, url: &str, auth: Value) {
    let servers = json!({ "mcpServers": { "ci": { "url": url, "auth": auth } } });
    std::fs::write(home.join("servers.json"), servers.to_string()).unwrap();
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_nothing_secret(outputs: &[&Output], secrets: &[&str]) {
    for output in outputs {
        let printed = text(output);
        for secret in secrets {
            assert!(
                !printed.contains(secret),
                "a token appeared in the output:\n{printed}"
            );
        }
        assert!(
            !printed.contains("wat-"),
            "an access token appeared:\n{printed}"
        );
    }
}

/// `latch call ci whoami --json` at trace level → (the output, the subject the server saw).
fn whoami(home: &Path) -> (Output, String) {
    let output = common::latch_traced(home, &["call", "ci", "whoami", "--json"]);
    let result: Value = serde_json::from_str(&common::assert_ok(&output)).unwrap();
    let said: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    (output, said["sub"].as_str().unwrap().to_owned())
}

fn token_file(home: &Path, token: &str) -> PathBuf {
    let path = home.join("platform-token");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    path
}

#[test]
fn a_token_file_signs_in_and_is_read_again_after_the_platform_rotates_it() {
    let peer = Peer::start();
    let home = common::latch_home();
    let home = home.path();
    let first = peer.mint(json!({"sub": "system:serviceaccount:ci:first"}));
    let file = token_file(home, &first);
    write_servers(
        home,
        &peer.mcp_url(),
        json!({"type": "workload", "tokenFile": file}),
    );

    let tools = common::latch_traced(home, &["tools", "ci"]);
    let listed = common::assert_ok(&tools);
    assert!(
        listed.contains("whoami") && listed.contains("add"),
        "{listed}"
    );
    let (call, sub) = whoami(home);
    assert_eq!(sub, "system:serviceaccount:ci:first");
    // The second command used the stored grant: one exchange so far, made as SEP-1933 says.
    let requests = peer.token_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["grantType"], JWT_BEARER);
    assert_eq!(requests[0]["hasAssertion"], true);
    assert_eq!(requests[0]["resource"], peer.mcp_url());
    assert_eq!(requests[0]["scope"], "mcp:tools");
    assert_eq!(requests[0]["outcome"], "ok");

    // The platform writes a new token and the access token ends: the next command signs in
    // again with the token now in the file.
    let second = peer.mint(json!({"sub": "system:serviceaccount:ci:second"}));
    token_file(home, &second);
    peer.revoke_access_tokens();
    let (again, sub) = whoami(home);
    assert_eq!(sub, "system:serviceaccount:ci:second");
    assert_eq!(peer.token_requests().len(), 2);
    assert_nothing_secret(&[&tools, &call, &again], &[&first, &second]);
}

#[test]
fn a_token_command_or_an_environment_variable_gives_the_token() {
    let peer = Peer::start();
    let home = common::latch_home();
    let home = home.path();
    let token = peer.mint(json!({"sub": "repo:acme/app:ref:refs/heads/main"}));
    let file = token_file(home, &token);
    write_servers(
        home,
        &peer.mcp_url(),
        json!({"type": "workload", "tokenCommand": ["cat", file], "clientId": "ci-bot"}),
    );
    let call = common::latch_traced(home, &["call", "ci", "add", "a=2", "b=3", "--json"]);
    let result: Value = serde_json::from_str(&common::assert_ok(&call)).unwrap();
    assert_eq!(result["content"][0]["text"], "5");
    assert_eq!(peer.token_requests()[0]["clientId"], "ci-bot");

    let home2 = common::latch_home();
    let home2 = home2.path();
    write_servers(
        home2,
        &peer.mcp_url(),
        json!({"type": "workload", "tokenEnv": "LATCH_TEST_PLATFORM_TOKEN"}),
    );
    let env = common::latch_command(home2)
        .env("RUST_LOG", "trace")
        .env("LATCH_TEST_PLATFORM_TOKEN", &token)
        .args(["call", "ci", "whoami", "--json"])
        .output()
        .unwrap();
    let result: Value = serde_json::from_str(&common::assert_ok(&env)).unwrap();
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("repo:acme/app")
    );
    assert_eq!(peer.token_requests().len(), 2);
    // Unset when a new token is needed: it is named, and nothing is sent.
    peer.revoke_access_tokens();
    let unset = common::latch_fails(home2, &["tools", "ci"]);
    assert!(
        unset.contains("could not read ci's platform token from the environment variable LATCH_TEST_PLATFORM_TOKEN: it is not set"),
        "{unset}"
    );
    assert_eq!(peer.token_requests().len(), 2);
    assert_nothing_secret(&[&call, &env], &[&token]);
}

#[test]
fn an_expired_or_misdirected_token_is_refused_once_in_plain_words() {
    let peer = Peer::start();
    let home = common::latch_home();
    let home = home.path();
    let expired = peer.mint(json!({"sub": "pod", "expiresIn": "-60s"}));
    let file = token_file(home, &expired);
    write_servers(
        home,
        &peer.mcp_url(),
        json!({"type": "workload", "tokenFile": file}),
    );
    let output = common::latch_traced(home, &["tools", "ci"]);
    assert!(!output.status.success());
    let shown =
        String::from_utf8_lossy(&common::latch_run(home, &["tools", "ci"]).stderr).into_owned();
    assert_eq!(shown.trim().lines().count(), 1, "{shown}");
    assert!(
        shown.contains(&format!(
            "refused the platform token from the file {}: it expired",
            file.display()
        )),
        "{shown}"
    );
    // One request per command: no retry, no other grant.
    let requests = peer.token_requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests.iter().all(|r| r["grantType"] == JWT_BEARER));
    assert!(requests.iter().all(|r| r["outcome"] == "invalid_grant"));

    let elsewhere = peer.mint(json!({"sub": "pod", "aud": "https://wrong.example"}));
    token_file(home, &elsewhere);
    let wrong = common::latch_fails(home, &["call", "ci", "whoami"]);
    assert!(
        wrong.contains("its audience is https://wrong.example, not the sign-in server"),
        "{wrong}"
    );
    assert_eq!(peer.token_requests().len(), 3);
    assert_nothing_secret(&[&output], &[&expired, &elsewhere]);
}

#[test]
fn the_doctor_explains_each_step_of_a_workload_sign_in() {
    let peer = Peer::start();
    let home = common::latch_home();
    let home = home.path();
    let token = peer.mint(json!({"sub": "system:serviceaccount:ci:doctor"}));
    let file = token_file(home, &token);
    write_servers(
        home,
        &peer.mcp_url(),
        json!({"type": "workload", "tokenFile": file}),
    );
    let healthy = common::latch_traced(home, &["doctor", "ci"]);
    let report = common::assert_ok(&healthy);
    assert!(!report.contains("Warning"), "{report}");
    for expected in [
        format!(
            "✓ Read the platform token: Read from the file {}",
            file.display()
        ),
        "subject system:serviceaccount:ci:doctor".to_owned(),
        format!("audience {}", peer.0.url),
        "✓ Read the token's claims: Issuer https://platform.test".to_owned(),
        "it lists the jwt-bearer grant".to_owned(),
        "✓ Match the token's audience".to_owned(),
        "✓ Exchange the platform token: The sign-in server gave an access token for mcp:tools"
            .to_owned(),
        "✓ List the tools: 2 tools.".to_owned(),
    ] {
        assert!(report.contains(&expected), "no {expected:?} in:\n{report}");
    }

    let expired =
        peer.mint(json!({"sub": "pod", "expiresIn": "-60s", "aud": "https://wrong.example"}));
    token_file(home, &expired);
    let sick = common::latch_traced(home, &["doctor", "ci"]);
    assert!(!sick.status.success());
    let report = String::from_utf8_lossy(&sick.stdout);
    for expected in [
        "✗ Read the token's claims: Issuer https://platform.test",
        " s ago (decoded, not verified)",
        "✗ Match the token's audience: The token is meant for https://wrong.example",
        "✗ Exchange the platform token:",
        "and its audience is https://wrong.example, not the sign-in server",
        "- Reach the server: Not tried",
    ] {
        assert!(report.contains(expected), "no {expected:?} in:\n{report}");
    }
    std::fs::remove_file(&file).unwrap();
    let missing = common::latch_run(home, &["doctor", "ci"]);
    let report = String::from_utf8_lossy(&missing.stdout);
    assert!(
        report.contains(
            "✗ Read the platform token: could not read ci's platform token from the file"
        ) && report.contains("it does not exist"),
        "{report}"
    );
    assert_nothing_secret(&[&healthy, &sick, &missing], &[&token, &expired]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_signs_in_again_ahead_of_expiry_with_the_platforms_current_token() {
    let peer = tokio::task::spawn_blocking(|| Peer::start_with_ttl(4))
        .await
        .unwrap();
    let home = common::latch_home();
    let home = home.path();
    let first = peer.mint(json!({"sub": "pod-first"}));
    let file = token_file(home, &first);
    let auth = json!({"type": "workload", "tokenFile": file});
    write_servers(home, &peer.mcp_url(), auth.clone());
    let call = common::latch_async(home, &["call", "ci", "whoami"]).await;
    assert!(common::assert_ok(&call).contains("pod-first"));
    let grant = || GrantStore::for_grant(SecretStore::file(home), "ci", "", "default");
    assert!(!grant().metadata().unwrap().unwrap().has_refresh_token);

    let events = EventBus::new();
    let mut listener = events.subscribe();
    let keeper = Keeper::start(events);
    let server = RemoteServer {
        url: peer.mcp_url(),
        auth: Some(auth),
        ..RemoteServer::default()
    };
    let target = KeeperTarget::for_server(
        "ci",
        &server,
        SharedCredentialStore::new(grant()),
        std::sync::Arc::new(SecretStore::file(home)),
    )
    .unwrap();
    // The platform rotates its token before the access token ends: the keeper's exchange
    // reads the new one.
    let second = peer.mint(json!({"sub": "pod-second"}));
    token_file(home, &second);
    keeper.watch("ci", target);
    match common::next_keeper_event(&mut listener, Duration::from_secs(10)).await {
        Event::TokenRefreshed { .. } => {}
        other => panic!("expected a refresh, got {other:?}"),
    }
    let requests = peer.token_requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1]["sub"], "pod-second");

    // The platform's token is no longer good: the keeper says what is wrong, once, and does
    // not ask again.
    let expired = peer.mint(json!({"sub": "pod", "expiresIn": "-60s"}));
    token_file(home, &expired);
    let event = common::next_keeper_event(&mut listener, Duration::from_secs(10)).await;
    let Event::NeedsSignIn { reason, .. } = event else {
        panic!("expected needs sign-in, got {event:?}");
    };
    assert!(
        reason.contains("it expired") && !reason.contains(&expired),
        "{reason}"
    );
    let asked = peer.token_requests().len();
    assert_eq!(asked, 3);
    common::quiet_keeper(&mut listener, Duration::from_secs(6)).await;
    assert_eq!(peer.token_requests().len(), asked, "no retries");
    assert_nothing_secret(&[&call], &[&first]);
}
