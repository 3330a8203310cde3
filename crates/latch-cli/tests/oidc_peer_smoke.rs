//! Checks the oidc test peer itself (`tests/common/oidc.rs`, `tests/peers/oidc/start.mjs`): both
//! discovery documents, the MCP server's 401 challenge and protected resource metadata, the admin
//! endpoints, a device code approved and one refused through the provider's device page, the
//! listeners on 127.0.0.1 only, and the process gone once dropped.

mod common;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream},
    path::Path,
    process::Command,
    thread,
    time::{Duration, Instant},
};

use common::oidc::{OidcPeer, http_get, http_post_form, http_request};
use serde_json::Value;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn accepts(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok()
}

/// The machine's non-loopback addresses (`hostname -I`); empty if there are none.
fn non_loopback_addresses() -> Vec<IpAddr> {
    let Ok(output) = Command::new("hostname").arg("-I").output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|word| word.parse::<IpAddr>().ok())
        .filter(|ip| !ip.is_loopback())
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn oidc_peer_serves_discovery_prm_and_a_401_on_loopback_only_and_stops_on_drop() {
    let peer = OidcPeer::start(3600);
    assert!(
        peer.issuer.starts_with("http://127.0.0.1:"),
        "{}",
        peer.issuer
    );
    assert!(!peer.issuer.ends_with('/'), "{}", peer.issuer);
    assert!(
        peer.mcp_url.starts_with("http://127.0.0.1:") && peer.mcp_url.ends_with("/mcp"),
        "{}",
        peer.mcp_url
    );
    assert_eq!(peer.resource, peer.mcp_url);
    assert_eq!(peer.admin_url, format!("{}/__test", peer.issuer));

    // Both discovery paths, the same document.
    let oidc = http_get(&format!("{}/.well-known/openid-configuration", peer.issuer));
    let rfc8414 = http_get(&format!(
        "{}/.well-known/oauth-authorization-server",
        peer.issuer
    ));
    assert_eq!(oidc.status, 200, "{}", oidc.body);
    assert_eq!(rfc8414.status, 200, "{}", rfc8414.body);
    for doc in [oidc.json(), rfc8414.json()] {
        assert_eq!(doc["issuer"], peer.issuer.as_str());
        let endpoint = |name: &str| doc[name].as_str().unwrap_or_default().to_owned();
        assert!(
            endpoint("registration_endpoint").starts_with(&peer.issuer),
            "{doc}"
        );
        assert!(
            endpoint("device_authorization_endpoint").starts_with(&peer.issuer),
            "{doc}"
        );
        assert!(
            endpoint("token_endpoint").starts_with(&peer.issuer),
            "{doc}"
        );
        assert!(
            strings(&doc["code_challenge_methods_supported"]).contains(&"S256"),
            "{doc}"
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    }
    assert_eq!(oidc.json(), rfc8414.json());

    // The MCP server without a token: 401 and where to find its metadata.
    let unauthorized = http_get(&peer.mcp_url);
    assert_eq!(unauthorized.status, 401, "{}", unauthorized.body);
    let challenge = unauthorized
        .header("www-authenticate")
        .expect("a WWW-Authenticate header")
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");
    assert!(
        challenge.contains("scope=\"mcp:read mcp:write\""),
        "{challenge}"
    );
    let prm_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a quoted resource_metadata URL");
    let prm = http_get(prm_url);
    assert_eq!(prm.status, 200, "{}", prm.body);
    let prm = prm.json();
    assert_eq!(prm["resource"], peer.mcp_url.as_str());
    assert_eq!(
        strings(&prm["authorization_servers"]),
        [peer.issuer.as_str()]
    );
    let origin = peer.mcp_url.trim_end_matches("/mcp");
    let root_prm = http_get(&format!("{origin}/.well-known/oauth-protected-resource"));
    assert_eq!(root_prm.json()["resource"], peer.mcp_url.as_str());

    // A bad token is `invalid_token`.
    let bad = http_request(
        "POST",
        &peer.mcp_url,
        &[("Authorization", "Bearer not-a-jwt")],
        Some(b"{}".as_slice()),
    );
    assert_eq!(bad.status, 401);
    assert!(
        bad.header("www-authenticate")
            .is_some_and(|c| c.contains("error=\"invalid_token\"")),
        "{:?}",
        bad.headers
    );

    // The admin endpoints.
    let clients = peer.clients();
    assert_eq!(clients["client_secret_basic"]["client_id"], "latch-m2m");
    assert_eq!(
        clients["client_secret_basic"]["client_secret"],
        "latch-m2m-secret"
    );
    assert!(
        clients["private_key_jwt"]["private_key_pem"]
            .as_str()
            .is_some_and(|pem| pem.starts_with("-----BEGIN PRIVATE KEY-----")),
        "{clients}"
    );
    let stats = peer.stats();
    assert_eq!(stats["mcp"]["missingToken"], 1, "{stats}");
    assert_eq!(stats["mcp"]["invalidToken"], 1, "{stats}");
    assert_eq!(stats["tokenRequests"]["refresh_token"], 0, "{stats}");

    // Listening on 127.0.0.1 only.
    let ports = [peer.issuer_port(), peer.mcp_port()];
    let others = non_loopback_addresses();
    if others.is_empty() {
        eprintln!("no non-loopback address (hostname -I): skipping the exposure check");
    }
    for ip in others {
        for port in ports {
            let address = SocketAddr::new(ip, port);
            assert!(
                !accepts(address),
                "{address} must refuse: the peer listens on all interfaces"
            );
        }
    }

    // Drop stops the process and frees both ports.
    let pid = peer.pid();
    drop(peer);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} is gone after drop"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    for port in ports {
        while accepts(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) {
            assert!(
                Instant::now() < deadline,
                "127.0.0.1:{port} still accepts after drop"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn oidc_peer_device_codes_are_approved_and_refused_through_the_device_page() {
    let peer = OidcPeer::start(60);
    let discovery = http_get(&format!("{}/.well-known/openid-configuration", peer.issuer)).json();
    let device_endpoint = discovery["device_authorization_endpoint"]
        .as_str()
        .expect("a device authorization endpoint");
    let token_endpoint = discovery["token_endpoint"]
        .as_str()
        .expect("a token endpoint");
    let client_id = peer.clients()["public_native"]["client_id"]
        .as_str()
        .expect("the public client")
        .to_owned();
    let start = || {
        let answer = http_post_form(
            device_endpoint,
            &[
                ("client_id", &client_id),
                ("scope", "mcp:read mcp:write"),
                ("resource", &peer.resource),
            ],
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    };
    let poll = |device_code: &str| {
        http_post_form(
            token_endpoint,
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", &client_id),
                ("resource", &peer.resource),
            ],
        )
    };

    let approved = start();
    assert_eq!(approved["interval"], 1, "{approved}");
    let user_code = approved["user_code"].as_str().expect("a user code");
    assert!(peer.approve_device(user_code), "{}", peer.log());
    let tokens = poll(approved["device_code"].as_str().unwrap());
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(tokens["refresh_token"].is_string(), "{tokens}");

    let refused = start();
    assert!(peer.deny_device(refused["user_code"].as_str().unwrap()));
    let answer = poll(refused["device_code"].as_str().unwrap());
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"], "access_denied");

    assert!(
        !peer.approve_device("BCDF-GHJK"),
        "an unknown code is not approved"
    );

    let stats = peer.stats();
    assert_eq!(stats["tokenRequests"]["device_code"], 2, "{stats}");
    assert_eq!(stats["devicesApproved"], 1, "{stats}");
    assert_eq!(stats["devicesDenied"], 1, "{stats}");
}
