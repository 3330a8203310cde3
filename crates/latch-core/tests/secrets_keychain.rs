//! The real platform keychain: a 4 KB value and a token set round-trip through
//! `SecretStore::keychain()` (split into entries under Windows' size limit, joined on read).
//! It needs a running, unlocked keychain, so it runs only with `LATCH_KEYCHAIN_TEST=1` — which
//! `scripts/with-keyring` sets after starting a private GNOME Keyring — and otherwise says it
//! was skipped and passes.

use latch_core::secrets::{GrantStore, SecretStore, StoreKind, TokenMetadata};
use rmcp::transport::auth::{CredentialStore, OAuthTokenResponse, StoredCredentials};

const ACCESS_TOKEN_MARK: &str = "ACCESS-TOKEN-do-not-print";
const REFRESH_TOKEN_MARK: &str = "REFRESH-TOKEN-do-not-print";

fn keychain_or_skip(test: &str) -> Option<SecretStore> {
    if std::env::var("LATCH_KEYCHAIN_TEST").as_deref() != Ok("1") {
        eprintln!(
            "{test}: skipped (set LATCH_KEYCHAIN_TEST=1 with a keychain running, e.g. \
             scripts/with-keyring cargo nextest run -p latch-core --test secrets_keychain)"
        );
        return None;
    }
    let store = SecretStore::keychain().expect("the keychain should answer");
    assert_eq!(store.kind(), StoreKind::Keychain);
    assert_eq!(store.fallback_warning(), None);
    Some(store)
}

/// A key no other run uses, so parallel or earlier runs cannot interfere.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{prefix}-{}-{nanos}", std::process::id())
}

#[test]
fn keychain_round_trips_a_4k_value() {
    let Some(store) = keychain_or_skip("keychain_round_trips_a_4k_value") else {
        return;
    };
    let key = unique("value");
    assert!(store.get(&key).unwrap().is_none());

    store.put(&key, b"small").unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().expose_bytes(), b"small");

    let big: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    store.put(&key, &big).unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().expose_bytes(), big);

    // A second store (another process, in real life) reads the same entries.
    let other = SecretStore::keychain().unwrap();
    assert_eq!(other.get(&key).unwrap().unwrap().expose_bytes(), big);

    let bigger: Vec<u8> = (0..6000u32).map(|i| (i % 13) as u8).collect();
    store.put(&key, &bigger).unwrap();
    assert_eq!(other.get(&key).unwrap().unwrap().expose_bytes(), bigger);

    store.delete(&key).unwrap();
    assert!(store.get(&key).unwrap().is_none());
    store.delete(&key).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keychain_round_trips_a_token_set() {
    let Some(store) = keychain_or_skip("keychain_round_trips_a_token_set") else {
        return;
    };
    let response: OAuthTokenResponse = serde_json::from_value(serde_json::json!({
        "access_token": format!("{ACCESS_TOKEN_MARK}.{}", "a".repeat(2800)),
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_token": format!("{REFRESH_TOKEN_MARK}.{}", "r".repeat(600)),
        "scope": "openid mcp",
        "id_token": "i".repeat(700),
    }))
    .unwrap();
    let credentials = StoredCredentials::new(
        "client-kc".to_owned(),
        Some(response),
        vec!["openid".to_owned(), "mcp".to_owned()],
        Some(1_800_000_000),
    )
    .with_issuer(Some("https://issuer.example".to_owned()));
    assert!(serde_json::to_vec(&credentials).unwrap().len() > 4000);

    let grant = GrantStore::for_grant(store, "server", "https://issuer.example", &unique("acct"));
    // Called from async code on purpose: the store must not block or panic inside tokio.
    grant.save(credentials.clone()).await.unwrap();
    let loaded = grant.load().await.unwrap().expect("saved credentials");
    assert_eq!(
        serde_json::to_value(&loaded).unwrap(),
        serde_json::to_value(&credentials).unwrap()
    );

    let metadata = grant.metadata().unwrap().unwrap();
    assert_eq!(
        metadata,
        TokenMetadata {
            expires_at: Some(1_800_000_900),
            scopes: vec!["openid".to_owned(), "mcp".to_owned()],
            issuer: Some("https://issuer.example".to_owned()),
            has_access_token: true,
            has_refresh_token: true,
            client_id: "client-kc".to_owned(),
            store: StoreKind::Keychain,
        }
    );
    let shown = format!("{} {grant:?}", serde_json::to_string(&metadata).unwrap());
    assert!(!shown.contains(ACCESS_TOKEN_MARK) && !shown.contains(REFRESH_TOKEN_MARK));

    grant.clear().await.unwrap();
    assert!(grant.load().await.unwrap().is_none());
}
