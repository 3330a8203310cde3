//! Client credentials end to end against a real authorization server (`oidc-provider`, with an
//! MCP server in front that checks the JWT's issuer and audience): `latch credentials set`
//! keeps a client id and secret under a name, two servers share them, an expired token is
//! exchanged again without a person, `private_key_jwt` works, and a secret rotated at the
//! authorization server gives the "paste the new one" message until `latch credentials set`
//! stores the new one. Every command runs at `RUST_LOG=trace`, and no secret, key or token may
//! appear in what it prints.

mod common;

use common::assert_ok;

use std::{path::Path, process::Output, sync::Arc, time::Duration};

use assert_cmd::Command;
use base64::Engine;
use common::oidc::OidcPeer;
use latch_core::{
    ConnectOptions, Connection,
    auth::{BrowserMode, NamedCredentials, SharedCredentialStore},
    config::{RemoteServer, ServerConfig},
    secrets::{GrantStore, SecretStore, credential_key},
};
use serde_json::{Value, json};

fn latch(home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::cargo_bin("latch").unwrap();
    command
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env("RUST_LOG", "trace")
        .args(args);
    if let Some(stdin) = stdin {
        command.write_stdin(stdin.to_owned());
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The servers file with these `(name, auth)` entries, all pointing at the peer's MCP server.
fn write_servers(home: &Path, url: &str, servers: &[(&str, Value)]) {
    let entries: serde_json::Map<String, Value> = servers
        .iter()
        .map(|(name, auth)| ((*name).to_owned(), json!({ "url": url, "auth": auth })))
        .collect();
    std::fs::write(
        home.join("servers.json"),
        serde_json::to_string_pretty(&json!({ "mcpServers": entries })).unwrap(),
    )
    .unwrap();
}

/// `latch call NAME whoami --json` → the token's claims the MCP server saw.
fn whoami(home: &Path, server: &str) -> (Output, Value) {
    let output = latch(home, &["call", server, "whoami", "--json"], None);
    let result: Value = serde_json::from_str(&assert_ok(&output)).unwrap();
    let claims = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    (output, claims)
}

/// The access tokens stored for these servers.
fn stored_tokens(home: &Path, servers: &[&str]) -> Vec<String> {
    servers
        .iter()
        .filter_map(|server| {
            let grant = GrantStore::for_grant(SecretStore::file(home), server, "", "default");
            let credentials = grant.load_blocking().unwrap()?;
            let json = serde_json::to_value(&credentials).unwrap();
            json["token_response"]["access_token"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// No secret (nor the Basic header made from it) in anything these commands printed.
fn assert_no_secret_in(outputs: &[&Output], secrets: &[String]) {
    for output in outputs {
        let printed = text(output);
        for secret in secrets {
            let piece = &secret[..secret.len().min(24)];
            assert!(
                !printed.contains(piece),
                "a secret appeared in the output:\n{printed}"
            );
        }
    }
}

fn basic_header(client_id: &str, secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"))
}

fn stat(peer: &OidcPeer, path: &str) -> u64 {
    peer.stats()
        .pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

#[test]
fn named_credentials_serve_two_servers_and_are_exchanged_again_after_expiry() {
    let peer = OidcPeer::start(3);
    let clients = peer.clients();
    let client_id = clients["client_secret_basic"]["client_id"]
        .as_str()
        .unwrap();
    let secret = clients["client_secret_basic"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let home = common::latch_home();
    let home = home.path();
    let auth = json!({ "type": "client_credentials", "credentials": "m2m" });
    write_servers(
        home,
        &peer.mcp_url,
        &[("madgicx-fb", auth.clone()), ("madgicx-google", auth)],
    );

    let set = latch(
        home,
        &["credentials", "set", "m2m", "--client-id", client_id],
        Some(&format!("{secret}\n")),
    );
    let out = assert_ok(&set);
    assert!(
        out.contains("Stored the client secret for m2m") && out.contains("madgicx-fb"),
        "{out}"
    );

    // Both servers sign in with the one pair, each with its own grant; no `latch login`.
    let (fb, claims) = whoami(home, "madgicx-fb");
    assert_eq!(claims["sub"], client_id, "{claims}");
    assert_eq!(claims["aud"], peer.resource.as_str(), "{claims}");
    let (google, claims) = whoami(home, "madgicx-google");
    assert_eq!(claims["sub"], client_id, "{claims}");
    assert_eq!(stat(&peer, "/tokenSuccesses/client_credentials"), 2);
    assert_eq!(
        stat(&peer, "/tokenRequestsWithoutResource/client_credentials"),
        0
    );
    let mut secrets = stored_tokens(home, &["madgicx-fb", "madgicx-google"]);
    assert_eq!(secrets.len(), 2, "a grant per server");

    // A second call within the lifetime uses the stored token.
    let again = latch(home, &["call", "madgicx-fb", "add", "a=2", "b=3"], None);
    assert!(assert_ok(&again).contains('5'));
    assert_eq!(stat(&peer, "/tokenSuccesses/client_credentials"), 2);

    // Past the 3 s lifetime (no refresh token): the next call exchanges again, by itself.
    std::thread::sleep(Duration::from_secs(4));
    let (later, claims) = whoami(home, "madgicx-fb");
    assert_eq!(claims["sub"], client_id);
    assert_eq!(stat(&peer, "/tokenSuccesses/client_credentials"), 3);
    secrets.extend(stored_tokens(home, &["madgicx-fb"]));

    let status = latch(home, &["status", "madgicx-google", "--json"], None);
    let status_json: Value = serde_json::from_str(&assert_ok(&status)).unwrap();
    assert_eq!(
        status_json["servers"][0]["state"]["state"], "connected",
        "{status_json}"
    );
    secrets.extend(stored_tokens(home, &["madgicx-google"]));

    secrets.push(secret.clone());
    secrets.push(basic_header(client_id, &secret));
    assert_no_secret_in(&[&set, &fb, &google, &again, &later, &status], &secrets);
}

#[test]
fn a_rotated_secret_says_to_paste_the_new_one_and_credentials_set_fixes_it() {
    let peer = OidcPeer::start(3);
    let clients = peer.clients();
    let client_id = clients["client_secret_basic"]["client_id"]
        .as_str()
        .unwrap();
    let old_secret = clients["client_secret_basic"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let home = common::latch_home();
    let home = home.path();
    write_servers(
        home,
        &peer.mcp_url,
        &[(
            "ads",
            json!({ "type": "client_credentials", "credentials": "madgicx" }),
        )],
    );
    let set = latch(
        home,
        &["credentials", "set", "madgicx", "--client-id", client_id],
        Some(&old_secret),
    );
    assert_ok(&set);
    let (first, _) = whoami(home, "ads");

    // The secret is rotated at the authorization server; once the token expires, the next
    // exchange is refused, and the message says what to do.
    let new_secret = peer.rotate_secret(client_id);
    std::thread::sleep(Duration::from_secs(4));
    let refused = latch(home, &["call", "ads", "whoami"], None);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "the client secret for madgicx was rejected — paste the new one with `latch credentials set madgicx`"
        ),
        "{stderr}"
    );
    assert!(stat(&peer, "/tokenErrors/client_credentials:invalid_client") >= 1);

    // The person pastes the new secret (the stored client id is kept) and it works again.
    let reset = latch(
        home,
        &["credentials", "set", "madgicx", "--json"],
        Some(&format!("  {new_secret}\n")),
    );
    let reset_json: Value = serde_json::from_str(&assert_ok(&reset)).unwrap();
    assert_eq!(reset_json["clientId"], client_id);
    assert_eq!(reset_json["usedBy"], json!(["ads"]));
    let (fixed, claims) = whoami(home, "ads");
    assert_eq!(claims["sub"], client_id);

    let mut secrets = vec![
        old_secret.clone(),
        new_secret.clone(),
        basic_header(client_id, &old_secret),
        basic_header(client_id, &new_secret),
    ];
    secrets.extend(stored_tokens(home, &["ads"]));
    assert_no_secret_in(&[&set, &first, &refused, &reset, &fixed], &secrets);

    // Removed credentials: a plain message, again naming the command.
    let removed = latch(home, &["credentials", "remove", "madgicx"], None);
    assert!(assert_ok(&removed).contains("Deleted the credentials named madgicx"));
    std::thread::sleep(Duration::from_secs(4));
    let missing = latch(home, &["call", "ads", "whoami"], None);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains(
            "no credentials named madgicx are stored — run `latch credentials set madgicx`"
        ),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[test]
fn private_key_jwt_and_inline_client_secret_post_sign_in() {
    let peer = OidcPeer::start(3600);
    let clients = peer.clients();
    let jwt = &clients["private_key_jwt"];
    let jwt_id = jwt["client_id"].as_str().unwrap();
    let home = common::latch_home();
    let home = home.path();
    let post = &clients["client_secret_post"];
    let post_secret = post["client_secret"].as_str().unwrap();
    write_servers(
        home,
        &peer.mcp_url,
        &[
            (
                "es",
                json!({ "type": "client_credentials", "credentials": "jwt-es" }),
            ),
            // `credentials` alone means client credentials too.
            ("rs", json!({ "credentials": "jwt-rs" })),
            (
                "inline",
                json!({
                    "type": "client_credentials",
                    "clientId": post["client_id"],
                    "clientSecret": post_secret,
                    "scopes": ["mcp:read"],
                }),
            ),
        ],
    );

    let mut outputs = Vec::new();
    let mut keys = Vec::new();
    for (name, key) in [("jwt-es", &jwt["keys"][0]), ("jwt-rs", &jwt["keys"][1])] {
        let pem = key["private_key_pem"].as_str().unwrap();
        let alg = key["alg"].as_str().unwrap();
        let path = home.join(format!("{name}.pem"));
        std::fs::write(&path, pem).unwrap();
        let set = latch(
            home,
            &[
                "credentials",
                "set",
                name,
                "--client-id",
                jwt_id,
                "--private-key-file",
                path.to_str().unwrap(),
                "--alg",
                alg,
            ],
            None,
        );
        assert!(assert_ok(&set).contains(&format!("Stored the private key for {name}")));
        outputs.push(set);
        // The base64 body of the key (its first line after the header).
        keys.push(pem.lines().nth(1).unwrap().to_owned());
    }
    let (es, claims) = whoami(home, "es");
    assert_eq!(claims["sub"], jwt_id, "{claims}");
    let (rs, claims) = whoami(home, "rs");
    assert_eq!(claims["sub"], jwt_id, "{claims}");

    // Inline settings, signed in ahead with `latch login` (the secret goes in the body: the
    // server advertises client_secret_post too).
    let login = latch(home, &["login", "inline", "--json"], None);
    let login_json: Value = serde_json::from_str(&assert_ok(&login)).unwrap();
    assert_eq!(
        login_json["issuer"].as_str().unwrap().trim_end_matches('/'),
        peer.issuer
    );
    let (inline, claims) = whoami(home, "inline");
    assert_eq!(claims["sub"], post["client_id"], "{claims}");
    assert_eq!(claims["scope"], "mcp:read", "{claims}");
    assert_eq!(stat(&peer, "/tokenSuccesses/client_credentials"), 3);

    keys.push(post_secret.to_owned());
    keys.extend(stored_tokens(home, &["es", "rs", "inline"]));
    outputs.extend([es, rs, login, inline]);
    assert_no_secret_in(&outputs.iter().collect::<Vec<_>>(), &keys);
}

#[test]
fn credentials_set_refuses_what_it_cannot_use() {
    let home = common::latch_home();
    let home = home.path();
    // No client id, nothing stored to reuse.
    let no_id = latch(home, &["credentials", "set", "x"], Some("s"));
    assert!(!no_id.status.success());
    assert!(String::from_utf8_lossy(&no_id.stderr).contains("--client-id"));
    // Empty standard input.
    let empty = latch(
        home,
        &["credentials", "set", "x", "--client-id", "a"],
        Some(" \n"),
    );
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no client secret"));
    // Not a key.
    let path = home.join("not-a-key.pem");
    std::fs::write(&path, "hello").unwrap();
    let bad_key = latch(
        home,
        &[
            "credentials",
            "set",
            "x",
            "--client-id",
            "a",
            "--private-key-file",
            path.to_str().unwrap(),
            "--alg",
            "ES256",
        ],
        None,
    );
    assert!(!bad_key.status.success());
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("not a PEM private key"));
    // A bad name.
    let bad_name = latch(
        home,
        &["credentials", "set", "a/b", "--client-id", "a"],
        Some("s"),
    );
    assert!(!bad_name.status.success());
    // Removing what is not there is fine.
    let removed = latch(home, &["credentials", "remove", "x", "--json"], None);
    let removed: Value = serde_json::from_str(&assert_ok(&removed)).unwrap();
    assert_eq!(removed["existed"], false);
}

/// A long-lived connection (the app, the bridge): twenty calls at once after the token
/// expired all succeed, with one new exchange between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_across_an_expiry_share_one_exchange() {
    let peer = OidcPeer::start(3);
    let clients = peer.clients();
    let basic = &clients["client_secret_basic"];
    let home = common::latch_home();
    let secrets = SecretStore::file(home.path());
    let credentials = NamedCredentials::with_secret(
        basic["client_id"].as_str().unwrap(),
        basic["client_secret"].as_str().unwrap(),
    )
    .unwrap();
    secrets
        .put(&credential_key("m2m"), credentials.to_json().as_bytes())
        .unwrap();
    let server = ServerConfig::Remote(RemoteServer {
        url: peer.mcp_url.clone(),
        auth: Some(json!({ "type": "client_credentials", "credentials": "m2m" })),
        ..RemoteServer::default()
    });
    let options = ConnectOptions {
        secrets: Arc::new(secrets.clone()),
        credentials: Some(SharedCredentialStore::new(GrantStore::for_grant(
            secrets.clone(),
            "m2m-server",
            "",
            "default",
        ))),
        sign_in: Some(BrowserMode::Print),
        ..ConnectOptions::default()
    };
    let connection = Arc::new(
        Connection::connect("m2m-server", &server, options)
            .await
            .expect("connects"),
    );
    assert_eq!(stat(&peer, "/tokenSuccesses/client_credentials"), 1);

    tokio::time::sleep(Duration::from_secs(4)).await;
    common::add_concurrently(&connection, 20).await;
    let stats = peer.stats();
    assert_eq!(
        stats["tokenSuccesses"]["client_credentials"], 2,
        "one exchange after the expiry: {stats}"
    );
    assert_eq!(stats["tokenErrors"], json!({}), "{stats}");
    match Arc::try_unwrap(connection) {
        Ok(connection) => connection.close().await,
        Err(_) => panic!("calls still hold the connection"),
    }
}
