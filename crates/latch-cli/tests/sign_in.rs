//! Sign-in end to end against a real authorization server (`oidc-provider`, with an MCP server
//! in front that checks the JWT's issuer and audience): `latch login --browser headless`,
//! tokens kept in the token store and used by later commands, refresh across expiry with no
//! replayed refresh token, concurrent calls sharing one refresh, sign-out, and no token in any
//! log line at `RUST_LOG=trace`.

mod common;

use common::{assert_ok, latch_traced as latch};

use std::{path::Path, process::Output, sync::Arc, time::Duration};

use common::oidc::OidcPeer;
use latch_core::{
    ConnectOptions, Connection,
    auth::SharedCredentialStore,
    config::ServerConfig,
    secrets::{GrantStore, SecretStore},
};
use serde_json::Value;

/// Every string in the stored grant that looks like a token (long values of token fields).
fn stored_secrets(home: &Path) -> Vec<String> {
    let store = SecretStore::file(home);
    let grant = GrantStore::for_grant(store, "oidc", "", "default");
    let credentials = grant.load_blocking().unwrap().expect("a stored grant");
    let json = serde_json::to_value(&credentials).unwrap();
    let mut out = Vec::new();
    for field in ["access_token", "refresh_token", "id_token"] {
        if let Some(token) = json["token_response"][field].as_str() {
            out.push(token.to_owned());
        }
    }
    assert!(!out.is_empty(), "the grant holds tokens");
    out
}

fn assert_no_secret_in(outputs: &[&Output], secrets: &[String]) {
    for output in outputs {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for secret in secrets {
            // Tokens are long; any 24-character piece of one is enough to leak it.
            let piece = &secret[..secret.len().min(24)];
            assert!(!text.contains(piece), "a token appeared in the output");
        }
    }
}

#[test]
fn login_then_use_refresh_across_expiry_and_logout() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));

    // Before signing in: a clear way out, no crash.
    let before = latch(home, &["tools", "oidc"]);
    assert!(!before.status.success());
    assert!(String::from_utf8_lossy(&before.stderr).contains("latch login oidc"));

    let login = latch(home, &["login", "oidc", "--browser", "headless"]);
    let out = assert_ok(&login);
    assert!(
        out.contains("Signed in to oidc") && out.contains("3 tools"),
        "{out}"
    );
    let secrets = stored_secrets(home);

    let status = latch(home, &["status", "oidc", "--json"]);
    let status_json: Value = serde_json::from_str(&assert_ok(&status)).unwrap();
    let sign_in = &status_json["servers"][0]["signIn"];
    assert_eq!(
        sign_in["issuer"].as_str().unwrap().trim_end_matches('/'),
        peer.issuer
    );
    assert_eq!(sign_in["hasRefreshToken"], true);
    assert_eq!(status_json["tokenStore"], "file");

    let whoami = latch(home, &["call", "oidc", "whoami", "--json"]);
    let result: Value = serde_json::from_str(&assert_ok(&whoami)).unwrap();
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("alice")
    );

    // Past the 3 s lifetime: the next command refreshes (once) and succeeds.
    std::thread::sleep(Duration::from_secs(4));
    let later = latch(home, &["call", "oidc", "add", "a=2", "b=3"]);
    assert!(assert_ok(&later).contains('5'));
    let stats = peer.stats();
    assert_eq!(stats["tokenSuccesses"]["refresh_token"], 1, "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
    assert_eq!(stats["grantsRevoked"], 0, "{stats}");

    assert_no_secret_in(&[&login, &status, &whoami, &later], &secrets);
    assert_no_secret_in(&[&later], &stored_secrets(home));

    let logout = latch(home, &["logout", "oidc"]);
    assert!(
        assert_ok(&logout).contains("revoked the grant"),
        "{}",
        String::from_utf8_lossy(&logout.stdout)
    );
    let stats = peer.stats();
    assert_eq!(stats["revocationSuccesses"], 1, "{stats}");
    let after = latch(home, &["tools", "oidc"]);
    assert!(!after.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_across_an_expiry_share_one_refresh() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let secrets = SecretStore::file(home.path());
    let store = SharedCredentialStore::new(GrantStore::for_grant(
        secrets.clone(),
        "oidc",
        "",
        "default",
    ));
    let server = ServerConfig::remote(peer.mcp_url.clone());
    let options = ConnectOptions {
        credentials: Some(store),
        sign_in: Some(latch_core::auth::BrowserMode::Headless),
        ..ConnectOptions::default()
    };
    // The 401 on connect starts the (headless) sign-in; then the session is up.
    let connection = Arc::new(
        Connection::connect("oidc", &server, options)
            .await
            .expect("connects"),
    );
    assert_eq!(peer.stats()["tokenSuccesses"]["authorization_code"], 1);

    tokio::time::sleep(Duration::from_secs(4)).await;
    common::add_concurrently(&connection, 50).await;
    let stats = peer.stats();
    assert_eq!(
        stats["tokenSuccesses"]["refresh_token"], 1,
        "one refresh: {stats}"
    );
    assert_eq!(
        stats["tokenErrors"],
        serde_json::json!({}),
        "no invalid_grant: {stats}"
    );
    assert_eq!(stats["refreshTokenReuse"], 0);
    match Arc::try_unwrap(connection) {
        Ok(connection) => connection.close().await,
        Err(_) => panic!("calls still hold the connection"),
    }
}

#[test]
fn two_processes_across_an_expiry_both_succeed_and_the_grant_survives() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    std::thread::sleep(Duration::from_secs(4));

    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("latch"))
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .args(["call", "oidc", "whoami"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(assert_ok(&output).contains("alice"));
    }
    let stats = peer.stats();
    assert_eq!(
        stats["refreshTokenReuse"], 0,
        "no refresh token replayed: {stats}"
    );
    assert_eq!(stats["grantsRevoked"], 0, "{stats}");
    assert!(stats["tokenSuccesses"]["refresh_token"].as_u64().unwrap() >= 1);
    // And the grant still works afterwards.
    assert!(assert_ok(&latch(home, &["call", "oidc", "whoami"])).contains("alice"));
}

#[cfg(unix)]
#[test]
fn killed_mid_refresh_twenty_times_the_store_is_never_corrupted() {
    let peer = OidcPeer::start(2);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    let grant = GrantStore::for_grant(SecretStore::file(home), "oidc", "", "default");
    for round in 0..20u64 {
        std::thread::sleep(Duration::from_millis(1200));
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("latch"))
            .env("LATCH_HOME", home)
            .env("LATCH_TOKEN_STORE", "file")
            .args(["call", "oidc", "whoami"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
        std::thread::sleep(Duration::from_millis((nanos + round * 37) % 400));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whole or not at all: the store always parses.
        grant
            .load_blocking()
            .unwrap_or_else(|e| panic!("round {round}: the store is damaged: {e}"));
    }
    // Signed in, or at worst a clean "needs sign-in" — never a crash or a damaged store.
    let last = latch(home, &["call", "oidc", "whoami"]);
    if !last.status.success() {
        let stderr = String::from_utf8_lossy(&last.stderr);
        assert!(
            stderr.contains("needs sign-in") || stderr.contains("latch login"),
            "{stderr}"
        );
        let relogin = latch(home, &["login", "oidc", "--browser", "headless"]);
        assert_ok(&relogin);
    }
}

#[test]
fn a_rejected_refresh_token_means_needs_sign_in_once_not_a_loop() {
    let peer = OidcPeer::start(2);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    let grant = GrantStore::for_grant(SecretStore::file(home), "oidc", "", "default");
    let client_id = grant.load_blocking().unwrap().unwrap().client_id;
    // Keep the first refresh token, let another client rotate it, then put the old one back:
    // the next refresh replays it and the authorization server ends the grant.
    let stale = std::fs::read(home.join("secrets.json")).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_ok(&latch(home, &["call", "oidc", "whoami"]));
    std::fs::write(home.join("secrets.json"), stale).unwrap();
    std::thread::sleep(Duration::from_millis(2500));

    let refused = latch(home, &["call", "oidc", "whoami"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("latch login oidc"));
    let refreshes = peer.stats()["tokenRequests"]["refresh_token"].clone();

    // No loop: the next command does not try the dead refresh token again.
    let again = latch(home, &["call", "oidc", "whoami"]);
    assert!(!again.status.success());
    assert_eq!(peer.stats()["tokenRequests"]["refresh_token"], refreshes);
    // The client registration is kept for the next sign-in.
    let kept = grant
        .load_blocking()
        .unwrap()
        .expect("the registration is kept");
    assert_eq!(kept.client_id, client_id);
    assert!(kept.token_response.is_none());
    let status = latch(home, &["status", "oidc", "--json"]);
    assert!(
        !status.status.success(),
        "status fails while a server needs sign-in"
    );
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["servers"][0]["state"]["state"], "needsSignIn");

    // Signing in again reuses the registration instead of registering another client.
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    assert_eq!(peer.stats()["registrations"], 1, "{}", peer.stats());
    assert_eq!(grant.load_blocking().unwrap().unwrap().client_id, client_id);
    assert!(assert_ok(&latch(home, &["call", "oidc", "whoami"])).contains("alice"));
}
