//! The keeper (the tray's background refresher) end to end against a real authorization
//! server (`oidc-provider`, short-lived tokens): signed in through `latch login --browser
//! headless` with the file token store, then a `Keeper` in this process on the same store.
//! It refreshes before expiry so a later `latch` command needs no refresh of its own; it
//! refreshes once per lifetime, not in a storm; it steps back when the CLI refreshed first; a
//! refused refresh token means "needs sign-in" once, with no retries; an unreachable sign-in
//! server means back-off with the old grant kept; and a client-credentials server is
//! exchanged again ahead of expiry, until its secret is rotated.

mod common;

use std::{
    path::Path,
    process::Output,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use common::{assert_ok, oidc::OidcPeer};
use latch_core::{
    Event, EventBus,
    auth::{AuthSettings, NamedCredentials, SharedCredentialStore},
    config::RemoteServer,
    keeper::{Keeper, KeeperState, KeeperStatus, KeeperTarget},
    secrets::{GrantStore, SecretStore, TokenMetadata, credential_key},
};
use tokio::sync::broadcast;

/// `latch ARGS`, off the async workers.
async fn latch(home: &Path, args: &[&str]) -> Output {
    common::latch_async(home, args).await
}

/// A peer with tokens living `ttl` seconds, server `oidc` added and signed in.
async fn signed_in(ttl: u64) -> (OidcPeer, tempfile::TempDir) {
    let peer = tokio::task::spawn_blocking(move || OidcPeer::start(ttl))
        .await
        .unwrap();
    let home = common::latch_home();
    assert_ok(&latch(home.path(), &["servers", "add", "oidc", &peer.mcp_url]).await);
    assert_ok(&latch(home.path(), &["login", "oidc", "--browser", "headless"]).await);
    (peer, home)
}

fn grant(home: &Path) -> GrantStore {
    GrantStore::for_grant(SecretStore::file(home), "oidc", "", "default")
}

fn metadata(home: &Path) -> TokenMetadata {
    grant(home).metadata().unwrap().expect("a stored grant")
}

/// A keeper watching `oidc` on the CLI's store, and a listener to its events.
fn keeper_for(peer: &OidcPeer, home: &Path) -> (Keeper, broadcast::Receiver<Event>) {
    let events = EventBus::new();
    let listener = events.subscribe();
    let keeper = Keeper::start(events);
    let secrets = SecretStore::file(home);
    keeper.watch(
        "oidc",
        KeeperTarget::new(
            peer.mcp_url.clone(),
            AuthSettings::default(),
            SharedCredentialStore::new(grant(home)),
            Arc::new(secrets),
        ),
    );
    (keeper, listener)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Sleep until unix time `at` (seconds, fractional).
async fn sleep_until_unix(at: f64) {
    let wait = at - now();
    if wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
}

/// The keeper's status of `oidc` once it has looked at the store.
async fn settled_status(keeper: &Keeper) -> KeeperStatus {
    for _ in 0..500 {
        if let Some(status) = keeper.status().into_iter().next()
            && !matches!(status.state, KeeperState::Looking | KeeperState::Refreshing)
        {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the keeper never settled: {:?}", keeper.status());
}

fn refreshes(peer: &OidcPeer) -> u64 {
    peer.stats()["tokenSuccesses"]["refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

fn refresh_requests(peer: &OidcPeer) -> u64 {
    peer.stats()["tokenRequests"]["refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_before_expiry_so_the_cli_needs_no_refresh_of_its_own() {
    // Ten seconds: the refresh lands at 7 s, and a command right after the original expiry
    // (10 s) finds 7 s left on the new token — more than rmcp's own refresh margin (half the
    // lifetime for short tokens), so the command itself cannot be what refreshed.
    let (peer, home) = signed_in(10).await;
    let home = home.path();
    let original = metadata(home);
    let expiry = original.expires_at.expect("the token says when it expires");
    let (keeper, mut listener) = keeper_for(&peer, home);

    let status = settled_status(&keeper).await;
    assert_eq!(status.state, KeeperState::Waiting, "{status:?}");
    let next = status.next_refresh_at.expect("a refresh is scheduled");
    assert_eq!(next, expiry - 10 + 7, "at 75 % of the lifetime: {status:?}");
    assert_eq!(status.expires_at, Some(expiry));

    let event = common::next_keeper_event(&mut listener, Duration::from_secs(15)).await;
    let refreshed_at = now();
    let Event::TokenRefreshed { server, expires_at } = event else {
        panic!("expected a refresh, got {event:?}");
    };
    assert_eq!(server, "oidc");
    assert!(
        refreshed_at < expiry as f64,
        "refreshed before expiry ({refreshed_at} vs {expiry})"
    );
    let new_expiry = expires_at.expect("the new expiry");
    assert!(new_expiry > expiry, "the expiry moved forward");
    assert_eq!(metadata(home).expires_at, Some(new_expiry), "stored");
    assert_eq!(refreshes(&peer), 1);

    let status = settled_status(&keeper).await;
    assert_eq!(status.state, KeeperState::Waiting);
    assert_eq!(status.expires_at, Some(new_expiry));
    assert!(status.last_refreshed_at.is_some());

    // Right after the original token expired: the CLI just uses the refreshed one.
    sleep_until_unix(expiry as f64 + 0.3).await;
    let tools = latch(home, &["tools", "oidc"]).await;
    let out = assert_ok(&tools);
    assert!(out.contains("whoami"), "{out}");
    let stats = peer.stats();
    assert_eq!(
        stats["tokenSuccesses"]["refresh_token"], 1,
        "the CLI did not refresh: {stats}"
    );
    assert_eq!(stats["mcp"]["expiredToken"], 0, "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_per_lifetime_over_several_lifetimes() {
    const TTL: u64 = 4;
    const LIFETIMES: u64 = 4;
    let (peer, home) = signed_in(TTL).await;
    let home = home.path();
    let started = now();
    let (keeper, mut listener) = keeper_for(&peer, home);

    let mut expiries = vec![metadata(home).expires_at.unwrap()];
    let window = (TTL * LIFETIMES) as f64;
    while now() < started + window {
        let left = (started + window - now()).max(0.0);
        match tokio::time::timeout(
            Duration::from_secs_f64(left),
            common::next_keeper_event(&mut listener, Duration::from_secs(TTL * 2)),
        )
        .await
        {
            Ok(Event::TokenRefreshed { expires_at, .. }) => expiries.push(expires_at.unwrap()),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    let elapsed = now() - started;
    let count = (expiries.len() - 1) as u64;
    let stats = peer.stats();
    eprintln!(
        "keeper: {count} refreshes in {elapsed:.1} s with {TTL}-second tokens (each token refreshed once, gaps {:?} s), {} wake-ups",
        expiries.windows(2).map(|p| p[1] - p[0]).collect::<Vec<_>>(),
        keeper.wake_ups()
    );
    // Every refresh the server saw is one the keeper announced: no hidden retries.
    assert_eq!(
        stats["tokenSuccesses"]["refresh_token"], count,
        "one request per refresh: {stats}"
    );
    assert_eq!(stats["tokenRequests"]["refresh_token"], count, "{stats}");
    assert_eq!(stats["tokenErrors"], serde_json::json!({}), "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
    // At three quarters of each lifetime: 3 s apart, never a token left to expire.
    for pair in expiries.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (2..=TTL).contains(&gap),
            "refreshes {gap} s apart: {expiries:?}"
        );
    }
    let expected = elapsed / (TTL as f64 * 0.75);
    assert!(
        (count as f64) >= expected.floor() - 1.0 && (count as f64) <= expected.ceil() + 1.0,
        "{count} refreshes in {elapsed:.1} s: {expiries:?}"
    );
    assert!(
        metadata(home).expires_at.unwrap() as f64 > now(),
        "still fresh"
    );
    // Sleeping between deadlines: a watch, its look, then a timer and a finished refresh per
    // refresh (plus at most one timer that fired as the window closed).
    assert!(
        keeper.wake_ups() <= 2 + 2 * count + 2,
        "{} wake-ups for {count} refreshes",
        keeper.wake_ups()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_cli_refreshed_first_the_keeper_only_reschedules() {
    // Sixteen seconds: the CLI refreshes from 9 s on (rmcp's margin is half the lifetime),
    // the keeper's timer is at 12 s.
    let (peer, home) = signed_in(16).await;
    let home = home.path();
    let received = metadata(home).expires_at.unwrap() - 16;
    let (keeper, mut listener) = keeper_for(&peer, home);
    assert_eq!(
        settled_status(&keeper).await.next_refresh_at,
        Some(received + 12)
    );

    sleep_until_unix(received as f64 + 9.2).await;
    assert!(assert_ok(&latch(home, &["call", "oidc", "whoami"]).await).contains("alice"));
    assert_eq!(refreshes(&peer), 1, "the CLI refreshed");
    let cli_received = metadata(home).expires_at.unwrap() - 16;
    assert!(cli_received > received);

    // Past the keeper's first deadline: it saw the newer token and sent nothing.
    sleep_until_unix(received as f64 + 13.5).await;
    assert_eq!(refreshes(&peer), 1, "{}", peer.stats());
    let status = settled_status(&keeper).await;
    assert_eq!(status.state, KeeperState::Waiting);
    assert_eq!(
        status.next_refresh_at,
        Some(cli_received + 12),
        "rescheduled from the CLI's token"
    );
    assert!(listener.try_recv().is_err(), "nothing to announce");

    // And it refreshes that token on time.
    match common::next_keeper_event(&mut listener, Duration::from_secs(12)).await {
        Event::TokenRefreshed { .. } => {}
        other => panic!("expected a refresh, got {other:?}"),
    }
    let stats = peer.stats();
    assert_eq!(stats["tokenSuccesses"]["refresh_token"], 2, "{stats}");
    assert_eq!(stats["refreshTokenReuse"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_token_means_needs_sign_in_once_and_no_retries() {
    let (peer, home) = signed_in(4).await;
    let home = home.path();
    let client_id = grant(home).load_blocking().unwrap().unwrap().client_id;
    // Keep the first refresh token, let the CLI rotate it, then put the old one back: the
    // keeper's refresh replays it and the authorization server ends the grant.
    let stale = std::fs::read(home.join("secrets.json")).unwrap();
    let received = metadata(home).expires_at.unwrap() - 4;
    sleep_until_unix(received as f64 + 3.2).await;
    assert_ok(&latch(home, &["call", "oidc", "whoami"]).await);
    assert_eq!(refreshes(&peer), 1);
    std::fs::write(home.join("secrets.json"), stale).unwrap();

    // The restored token is past 75 % of its lifetime: the keeper refreshes at once.
    let (keeper, mut listener) = keeper_for(&peer, home);
    let event = common::next_keeper_event(&mut listener, Duration::from_secs(15)).await;
    let Event::NeedsSignIn { server, reason } = event else {
        panic!("expected needs sign-in, got {event:?}");
    };
    assert_eq!(server, "oidc");
    assert!(
        reason.contains("sign in again") && !reason.contains("invalid_grant"),
        "plain words: {reason}"
    );
    let stats = peer.stats();
    assert_eq!(
        stats["tokenErrors"]["refresh_token:invalid_grant"], 1,
        "{stats}"
    );
    let status = settled_status(&keeper).await;
    assert!(
        matches!(status.state, KeeperState::NeedsSignIn { .. }),
        "{status:?}"
    );
    assert_eq!(status.next_refresh_at, None);

    // The store's rule: tokens dropped, registration kept.
    let kept = grant(home)
        .load_blocking()
        .unwrap()
        .expect("the registration");
    assert!(kept.token_response.is_none());
    assert_eq!(kept.client_id, client_id);

    // No loop: longer than the first back-off, and "Refresh now" as well, send nothing and
    // announce nothing new.
    let requests = refresh_requests(&peer);
    common::quiet_keeper(&mut listener, Duration::from_secs(6)).await;
    keeper.refresh_now();
    common::quiet_keeper(&mut listener, Duration::from_secs(1)).await;
    assert_eq!(refresh_requests(&peer), requests, "{}", peer.stats());
    assert!(matches!(
        settled_status(&keeper).await.state,
        KeeperState::NeedsSignIn { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_sign_in_server_means_back_off_and_the_grant_is_kept() {
    let (peer, home) = signed_in(4).await;
    let home = home.path();
    let before = grant(home).load_blocking().unwrap().unwrap();
    let before_meta = metadata(home);
    let (keeper, mut listener) = keeper_for(&peer, home);
    assert_eq!(settled_status(&keeper).await.state, KeeperState::Waiting);
    drop(peer); // killed: connections are refused from now on

    let mut retries = Vec::new();
    let mut at = Vec::new();
    for _ in 0..2 {
        match common::next_keeper_event(&mut listener, Duration::from_secs(20)).await {
            Event::RefreshFailed {
                server,
                reason,
                retry_in_secs,
            } => {
                assert_eq!(server, "oidc");
                assert_eq!(reason, "could not reach the sign-in server");
                retries.push(retry_in_secs);
                at.push(now());
            }
            other => panic!("expected a failed refresh, got {other:?}"),
        }
    }
    eprintln!("back-off: retry in {retries:?} s");
    assert!((4..=6).contains(&retries[0]), "5 s ± 20 %: {retries:?}");
    assert!((8..=12).contains(&retries[1]), "10 s ± 20 %: {retries:?}");
    let waited = at[1] - at[0];
    assert!(
        waited >= retries[0] as f64 - 1.0 && waited <= retries[0] as f64 + 2.0,
        "the second try waited {waited:.1} s"
    );
    let status = keeper.status().remove(0);
    assert!(
        matches!(status.state, KeeperState::BackingOff { attempt: 2, .. }),
        "{status:?}"
    );
    assert!(status.next_refresh_at.is_some());

    // The old grant is untouched: same tokens, same expiry, refresh token still there.
    let after = grant(home).load_blocking().unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
    assert_eq!(metadata(home), before_meta);
    assert!(before_meta.has_refresh_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_are_exchanged_again_ahead_of_expiry_until_the_secret_is_rotated() {
    let peer = tokio::task::spawn_blocking(|| OidcPeer::start(4))
        .await
        .unwrap();
    let basic = peer.clients()["client_secret_basic"].clone();
    let client_id = basic["client_id"].as_str().unwrap().to_owned();
    let home = common::latch_home();
    let home = home.path();
    let secrets = SecretStore::file(home);
    let credentials =
        NamedCredentials::with_secret(&client_id, basic["client_secret"].as_str().unwrap())
            .unwrap();
    secrets
        .put(&credential_key("m2m"), credentials.to_json().as_bytes())
        .unwrap();
    let auth = serde_json::json!({ "type": "client_credentials", "credentials": "m2m" });
    std::fs::write(
        home.join("servers.json"),
        serde_json::json!({ "mcpServers": { "oidc": { "url": peer.mcp_url, "auth": auth } } })
            .to_string(),
    )
    .unwrap();
    // The first call exchanges the credentials; the grant has no refresh token.
    assert!(assert_ok(&latch(home, &["call", "oidc", "whoami"]).await).contains(&client_id));
    assert!(!metadata(home).has_refresh_token);
    let exchanges = |peer: &OidcPeer| {
        peer.stats()["tokenRequests"]["client_credentials"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(exchanges(&peer), 1);

    let events = EventBus::new();
    let mut listener = events.subscribe();
    let keeper = Keeper::start(events);
    let server = RemoteServer {
        url: peer.mcp_url.clone(),
        auth: Some(auth),
        ..RemoteServer::default()
    };
    let target = KeeperTarget::for_server(
        "oidc",
        &server,
        SharedCredentialStore::new(grant(home)),
        Arc::new(secrets.clone()),
    )
    .unwrap();
    keeper.watch("oidc", target);
    let first = metadata(home).expires_at.unwrap();
    for round in 1..=2 {
        match common::next_keeper_event(&mut listener, Duration::from_secs(10)).await {
            Event::TokenRefreshed { expires_at, .. } => {
                assert!(expires_at.unwrap() > first, "round {round}");
            }
            other => panic!("round {round}: expected a refresh, got {other:?}"),
        }
    }
    assert_eq!(exchanges(&peer), 3, "one exchange per lifetime");

    // The secret is rotated at the authorization server: the next exchange is refused, and
    // the keeper says what to do — once.
    let rotated = peer.rotate_secret(&client_id);
    let event = common::next_keeper_event(&mut listener, Duration::from_secs(10)).await;
    let Event::NeedsSignIn { reason, .. } = event else {
        panic!("expected needs sign-in, got {event:?}");
    };
    assert!(
        reason.contains("latch credentials set m2m") && !reason.contains(&rotated),
        "{reason}"
    );
    let requests = exchanges(&peer);
    common::quiet_keeper(&mut listener, Duration::from_secs(6)).await;
    assert_eq!(exchanges(&peer), requests, "no retries: {}", peer.stats());
    // The last token is still stored (it was good until it expired).
    assert!(metadata(home).has_access_token);
}
