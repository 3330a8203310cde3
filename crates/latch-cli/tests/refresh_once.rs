//! One refresh per expiry, however many requests and connections meet it, against the oidc
//! peer (3-second access tokens, rotating refresh tokens). Two connections on one grant stand
//! for two programs (the app, the CLI, the bridge): each has its own rmcp `AuthorizationManager`,
//! so only the grant's refresh lock and the "compare under the lock" rule keep them from
//! refreshing one after the other.
//!
//! - The server's expiry before Latch's estimate (the stored lifetime made longer than the
//!   server's): every request in flight gets a 401. Each 401 used to cost one refresh.
//! - Both connections past the expiry (rmcp's proactive refresh): each used to refresh once.

mod common;

use std::{sync::Arc, time::Duration};

use common::oidc::OidcPeer;
use latch_core::{
    ConnectOptions, Connection,
    auth::{BrowserMode, SharedCredentialStore},
    config::ServerConfig,
    secrets::{GrantStore, SecretStore},
};

/// The grant of the test's one server, as a fresh store over the same file.
fn grant(secrets: &SecretStore) -> GrantStore {
    GrantStore::for_grant(secrets.clone(), "oidc", "", "default")
}

/// Two connections to the peer on one grant: the first signs in (headless), the second uses
/// the stored grant.
async fn two_connections(peer: &OidcPeer, secrets: &SecretStore) -> [Arc<Connection>; 2] {
    let server = ServerConfig::remote(peer.mcp_url.clone());
    let connect = |sign_in| {
        let options = ConnectOptions {
            credentials: Some(SharedCredentialStore::new(grant(secrets))),
            sign_in,
            ..ConnectOptions::default()
        };
        let server = server.clone();
        async move {
            Arc::new(
                Connection::connect("oidc", &server, options)
                    .await
                    .expect("connects"),
            )
        }
    };
    let first = connect(Some(BrowserMode::Headless)).await;
    let second = connect(None).await;
    assert_eq!(peer.stats()["tokenSuccesses"]["authorization_code"], 1);
    [first, second]
}

/// Ten calls at once on each connection, then: every call answered (checked by
/// `add_concurrently`), exactly one refresh, and nothing refused, reused or revoked.
async fn calls_cost_one_refresh(peer: &OidcPeer, connections: [Arc<Connection>; 2]) {
    peer.reset_stats();
    let [first, second] = &connections;
    tokio::join!(
        common::add_concurrently(first, 10),
        common::add_concurrently(second, 10)
    );
    let stats = peer.stats();
    assert_eq!(
        stats["tokenRequests"]["refresh_token"], 1,
        "one refresh for one expiry: {stats}"
    );
    assert_eq!(stats["tokenSuccesses"]["refresh_token"], 1, "{stats}");
    assert_eq!(stats["tokenErrors"], serde_json::json!({}), "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
    assert_eq!(stats["grantsRevoked"], 0, "{stats}");
    for connection in connections {
        match Arc::try_unwrap(connection) {
            Ok(connection) => connection.close().await,
            Err(_) => panic!("calls still hold the connection"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_401s_at_one_server_side_expiry_share_one_refresh() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let secrets = SecretStore::file(home.path());
    let connections = two_connections(&peer, &secrets).await;

    // Latch believes the token lives an hour; the server ends it after 3 s. So no proactive
    // refresh: every call goes out with the expired token and gets a 401.
    let store = grant(&secrets);
    let stored = store.load_blocking().unwrap().expect("a stored grant");
    let mut json = serde_json::to_value(&stored).unwrap();
    json["token_response"]["expires_in"] = 3600.into();
    store
        .save_blocking(&serde_json::from_value(json).unwrap())
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;

    calls_cost_one_refresh(&peer, connections).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_past_an_expiry_share_one_refresh() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let secrets = SecretStore::file(home.path());
    let connections = two_connections(&peer, &secrets).await;

    // Both find the token expired before sending anything (rmcp's proactive refresh).
    tokio::time::sleep(Duration::from_secs(4)).await;

    calls_cost_one_refresh(&peer, connections).await;
}

/// The grant's store, counting how often a connection reads it.
struct CountingStore {
    inner: GrantStore,
    loads: Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl rmcp::transport::auth::CredentialStore for CountingStore {
    async fn load(
        &self,
    ) -> Result<Option<rmcp::transport::auth::StoredCredentials>, rmcp::transport::auth::AuthError>
    {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.load().await
    }

    async fn save(
        &self,
        credentials: rmcp::transport::auth::StoredCredentials,
    ) -> Result<(), rmcp::transport::auth::AuthError> {
        self.inner.save(credentials).await
    }

    async fn clear(&self) -> Result<(), rmcp::transport::auth::AuthError> {
        self.inner.clear().await
    }

    async fn acquire_refresh_guard(
        &self,
    ) -> Result<
        Option<rmcp::transport::auth::CredentialRefreshGuard>,
        rmcp::transport::auth::AuthError,
    > {
        self.inner.acquire_refresh_guard().await
    }
}

/// A connection reads its grant once per few seconds, not once per request (a keychain call
/// each time, behind one lock), and still notices within those seconds that another program
/// signed out: the next request then says "sign in".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reads_its_grant_once_per_recheck_and_sees_a_sign_out_elsewhere() {
    let peer = OidcPeer::start(3600);
    let home = common::latch_home();
    let secrets = SecretStore::file(home.path());
    let server = ServerConfig::remote(peer.mcp_url.clone());
    // One connection signs in; the one under test uses the stored grant and may not sign in.
    let signing_in = ConnectOptions {
        credentials: Some(SharedCredentialStore::new(grant(&secrets))),
        sign_in: Some(BrowserMode::Headless),
        ..ConnectOptions::default()
    };
    Connection::connect("oidc", &server, signing_in)
        .await
        .expect("signs in")
        .close()
        .await;
    let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let options = ConnectOptions {
        credentials: Some(SharedCredentialStore::new(CountingStore {
            inner: grant(&secrets),
            loads: loads.clone(),
        })),
        ..ConnectOptions::default()
    };
    let connection = Arc::new(
        Connection::connect("oidc", &server, options)
            .await
            .expect("connects with the stored grant"),
    );

    let before = loads.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..5 {
        common::add_concurrently(&connection, 10).await;
    }
    let during = loads.load(std::sync::atomic::Ordering::SeqCst) - before;
    // 50 requests; at most one load per request that found the reused token stale at once
    // (the ten in flight when the few seconds end).
    assert!(during <= 11, "{during} store reads for 50 calls");

    // Another program signs out.
    grant(&secrets).clear_blocking().expect("clears the grant");
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let mut args = serde_json::Map::new();
    args.insert("a".into(), 1.into());
    args.insert("b".into(), 2.into());
    let error = connection
        .call_tool("add", args, latch_core::CallOptions::default())
        .await
        .expect_err("the grant is gone");
    assert!(
        matches!(error, latch_core::CallError::AuthRequired { .. }),
        "{error}"
    );
}

/// A command with a fresh token sends it straight away: no unauthenticated request to the MCP
/// server to find its sign-in server (rmcp's discovery probe), which every command used to
/// start with. Discovery waits until a refresh is due — and then works, past the expiry.
#[test]
fn a_fresh_token_needs_no_discovery_and_an_expired_one_still_refreshes() {
    let peer = OidcPeer::start(3);
    let home = common::latch_home();
    let home = home.path();
    common::assert_ok(&common::latch_traced(
        home,
        &["servers", "add", "oidc", &peer.mcp_url],
    ));
    common::assert_ok(&common::latch_traced(
        home,
        &["login", "oidc", "--browser", "headless"],
    ));
    peer.reset_stats();
    let call = common::latch_traced(home, &["call", "oidc", "add", "a=2", "b=3"]);
    assert!(common::assert_ok(&call).contains('5'));
    let stats = peer.stats();
    assert_eq!(
        stats["mcp"]["missingToken"], 0,
        "a request went out bare: {stats}"
    );
    assert_eq!(stats["tokenRequests"]["refresh_token"], 0, "{stats}");

    std::thread::sleep(Duration::from_secs(4));
    let later = common::latch_traced(home, &["call", "oidc", "add", "a=4", "b=3"]);
    assert!(common::assert_ok(&later).contains('7'));
    let stats = peer.stats();
    assert_eq!(stats["tokenSuccesses"]["refresh_token"], 1, "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
}
