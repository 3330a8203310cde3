//! The secret store's behaviour through its public API, on the memory and file stores (the
//! keychain has its own test, `secrets_keychain.rs`, run under a real Secret Service): values
//! round-trip (4 KB included), the file is 0600 and survives concurrent writers, split values
//! never read as a mix, nothing prints a value, and grants give metadata without tokens.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use latch_core::config::SecretSource;
use latch_core::secrets::{
    FILE_NAME, GrantStore, SecretStore, SecretsError, StoreKind, TokenMetadata, grant_key,
    secret_key,
};
use rmcp::transport::auth::{CredentialStore, OAuthTokenResponse, StoredCredentials};

const ACCESS_TOKEN_MARK: &str = "ACCESS-TOKEN-do-not-print";
const REFRESH_TOKEN_MARK: &str = "REFRESH-TOKEN-do-not-print";
const ID_TOKEN_MARK: &str = "ID-TOKEN-do-not-print";

/// A value of `len` bytes that is not just one repeated byte.
fn value(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_add((i % 97) as u8))
        .collect()
}

fn round_trip(store: &SecretStore) {
    assert!(store.get("missing").unwrap().is_none());
    store.delete("missing").unwrap();

    store.put("small", b"hunter2").unwrap();
    assert_eq!(
        store.get("small").unwrap().unwrap().expose_str().unwrap(),
        "hunter2"
    );

    let big = value(4096, 7);
    store.put("big", &big).unwrap();
    assert_eq!(store.get("big").unwrap().unwrap().expose_bytes(), big);

    let bigger = value(9000, 11);
    store.put("big", &bigger).unwrap();
    assert_eq!(store.get("big").unwrap().unwrap().expose_bytes(), bigger);

    store.put("big", b"").unwrap();
    assert!(store.get("big").unwrap().unwrap().is_empty());

    store.delete("big").unwrap();
    assert!(store.get("big").unwrap().is_none());
    assert_eq!(
        store.get("small").unwrap().unwrap().expose_bytes(),
        b"hunter2"
    );
}

#[test]
fn memory_store_round_trips() {
    let store = SecretStore::memory();
    assert_eq!(store.kind(), StoreKind::Memory);
    assert_eq!(store.fallback_warning(), None);
    round_trip(&store);
}

#[test]
fn split_memory_store_round_trips() {
    round_trip(&SecretStore::memory_with_chunk_limit(2000));
    round_trip(&SecretStore::memory_with_chunk_limit(64));
}

#[test]
fn file_store_round_trips_and_shares_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SecretStore::file(dir.path());
    assert_eq!(store.kind(), StoreKind::File);
    round_trip(&store);

    let other = SecretStore::file(dir.path());
    assert_eq!(
        other.get("small").unwrap().unwrap().expose_bytes(),
        b"hunter2"
    );
    other.put("from-other", b"x").unwrap();
    assert_eq!(
        store.get("from-other").unwrap().unwrap().expose_bytes(),
        b"x"
    );
}

#[test]
fn clones_share_the_store() {
    let store = SecretStore::memory();
    let clone = store.clone();
    clone.put("k", b"v").unwrap();
    assert_eq!(store.get("k").unwrap().unwrap().expose_bytes(), b"v");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn file_store_is_private_whatever_the_umask() {
    let parent = tempfile::tempdir().unwrap();
    // Make the parent world-readable, to see that Latch does not inherit loose permissions.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let dir = parent.path().join("latch").join("nested");
    let store = SecretStore::file(&dir);
    assert!(!dir.exists(), "nothing is created before the first write");
    store.put("k", b"v").unwrap();
    assert_eq!(mode(&dir.join(FILE_NAME)), 0o600);
    assert_eq!(mode(&dir.join("secrets.lock")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&parent.path().join("latch")), 0o700);

    // A file someone loosened is private again after the next write.
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(FILE_NAME);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.put("k2", b"v2").unwrap();
        assert_eq!(mode(&path), 0o600);
    }
    // No temporary files are left behind.
    let names: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([FILE_NAME.to_owned(), "secrets.lock".to_owned()])
    );
}

#[test]
fn damaged_file_is_reported_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    std::fs::write(
        &path,
        "{\"version\": 1, \"secrets\": {\"k\": \"dmFsdWU=\",\n oops",
    )
    .unwrap();
    let store = SecretStore::file(dir.path());
    let err = store.get("k").unwrap_err();
    assert!(
        matches!(err, SecretsError::FileDamaged { line: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("move it aside"), "{err}");
    assert!(store.put("k", b"new").is_err());
    assert!(std::fs::read_to_string(&path).unwrap().ends_with("oops"));
}

#[test]
fn threads_writing_different_keys_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let dir = dir.path();
            scope.spawn(move || {
                // Each thread its own store, like separate processes sharing the folder.
                let store = SecretStore::file(dir);
                for i in 0..25 {
                    store
                        .put(
                            &format!("t{thread}-{i}"),
                            format!("value {thread} {i}").as_bytes(),
                        )
                        .unwrap();
                }
            });
        }
    });
    let store = SecretStore::file(dir.path());
    for thread in 0..4 {
        for i in 0..25 {
            let got = store.get(&format!("t{thread}-{i}")).unwrap();
            assert_eq!(
                got.unwrap().expose_str().unwrap(),
                format!("value {thread} {i}")
            );
        }
    }
}

const CHILD_ENV: &str = "LATCH_SECRETS_TEST_CHILD";

/// Not a test on its own: the body of `processes_writing_different_keys_lose_nothing`'s
/// child processes, which run this test binary with `CHILD_ENV` set.
#[test]
fn child_process_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (id, dir) = spec.split_once(':').unwrap();
    let store = SecretStore::file(Path::new(dir));
    for i in 0..20 {
        store
            .put(&format!("p{id}-{i}"), format!("{id}/{i}").as_bytes())
            .unwrap();
    }
}

#[test]
fn processes_writing_different_keys_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|id| {
            Command::new(&exe)
                .args(["child_process_writer", "--exact", "--nocapture"])
                .env(CHILD_ENV, format!("{id}:{}", dir.path().display()))
                // Captured, so the children's own "test result" lines stay out of the report.
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a writer process failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = SecretStore::file(dir.path());
    for id in 0..3 {
        for i in 0..20 {
            let got = store.get(&format!("p{id}-{i}")).unwrap();
            assert_eq!(
                got.expect("a write was lost").expose_str().unwrap(),
                format!("{id}/{i}")
            );
        }
    }
}

#[test]
fn readers_see_the_old_or_the_new_split_value_never_a_mix() {
    let store = SecretStore::memory_with_chunk_limit(100);
    let first = value(1000, 1);
    let second = value(1300, 2);
    store.put("k", &first).unwrap();
    std::thread::scope(|scope| {
        let writer = store.clone();
        let (a, b) = (first.clone(), second.clone());
        scope.spawn(move || {
            for i in 0..300 {
                writer.put("k", if i % 2 == 0 { &b } else { &a }).unwrap();
            }
        });
        for _ in 0..300 {
            let seen = store.get("k").unwrap().unwrap();
            let seen = seen.expose_bytes();
            assert!(
                seen == first.as_slice() || seen == second.as_slice(),
                "a mix"
            );
        }
    });
}

#[test]
fn nothing_prints_a_value() {
    let store = SecretStore::memory_with_chunk_limit(64);
    store.put("k", b"super-secret-value").unwrap();
    let secret = store.get("k").unwrap().unwrap();
    assert_eq!(format!("{secret:?}"), "[REDACTED 18 bytes]");
    let debug = format!("{store:?}");
    assert!(
        debug.contains("Memory") && !debug.contains("super-secret"),
        "{debug}"
    );

    let grant = GrantStore::new(store, "k");
    let debug = format!("{grant:?}");
    assert!(!debug.contains("super-secret"), "{debug}");
    assert!(debug.contains("\"k\""), "{debug}");
}

#[test]
fn secret_source_reads_secret_keys() {
    let store = SecretStore::memory();
    store.put(&secret_key("figma"), b"figd_123").unwrap();
    assert_eq!(store.secret("figma").as_deref(), Some("figd_123"));
    assert_eq!(store.secret("other"), None);
    store.put(&secret_key("binary"), &[0xff, 0x00]).unwrap();
    assert_eq!(store.secret("binary"), None);
}

/// Without LATCH_TOKEN_STORE: the keychain when one answers. When none does (as in most CI
/// runs), no file is written without consent — the store keeps nothing and says what to do —
/// unless the person already keeps a `secrets.json` there, which stays in use.
/// (`crates/latch-cli/tests/faults.rs` runs `latch login` with no Secret Service at all.)
#[test]
fn unset_setting_uses_a_keychain_and_never_a_new_file_without_consent() {
    let dir = tempfile::tempdir().unwrap();
    let store = SecretStore::open_with(None, dir.path()).unwrap();
    assert_eq!(
        store.kind(),
        StoreKind::Keychain,
        "never memory or a new file"
    );
    let Some(warning) = store.fallback_warning() else {
        assert!(store.writable().is_ok());
        return;
    };
    assert!(warning.starts_with("no keychain is running ("), "{warning}");
    assert!(warning.contains("LATCH_TOKEN_STORE=file"), "{warning}");
    let error = store.writable().unwrap_err();
    assert!(error.is_keychain_unavailable(), "{error}");
    assert_eq!(error.to_string(), warning);
    let error = store.put("grant:x", b"secret").unwrap_err();
    assert!(error.is_keychain_unavailable(), "{error}");
    assert!(store.get("grant:x").unwrap().is_none());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was written"
    );

    // A secrets.json the person already keeps is used, with the warning.
    SecretStore::file(dir.path())
        .put("grant:x", b"kept")
        .unwrap();
    let store = SecretStore::open_with(None, dir.path()).unwrap();
    assert_eq!(store.kind(), StoreKind::File);
    let warning = store.fallback_warning().expect("a fallback warning");
    assert!(warning.starts_with("no keychain is running ("), "{warning}");
    assert!(warning.contains(FILE_NAME), "{warning}");
    assert!(warning.ends_with("readable only by you"), "{warning}");
    assert!(store.writable().is_ok());
    assert_eq!(
        store.get("grant:x").unwrap().unwrap().expose_bytes(),
        b"kept"
    );
}

/// A token set of about 4 KB, like one with a long JWT access token and an ID token.
fn token_set(received_at: u64) -> StoredCredentials {
    let access = format!("{ACCESS_TOKEN_MARK}.{}", "a".repeat(2600));
    let id_token = format!("{ID_TOKEN_MARK}.{}", "i".repeat(900));
    let response: OAuthTokenResponse = serde_json::from_value(serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": format!("{REFRESH_TOKEN_MARK}.{}", "r".repeat(300)),
        "scope": "mcp:read mcp:write",
        "id_token": id_token,
    }))
    .unwrap();
    StoredCredentials::new(
        "client-123".to_owned(),
        Some(response),
        vec!["mcp:read".to_owned(), "mcp:write".to_owned()],
        Some(received_at),
    )
    .with_issuer(Some("https://as.example.com".to_owned()))
}

fn json(credentials: &StoredCredentials) -> serde_json::Value {
    serde_json::to_value(credentials).unwrap()
}

async fn grant_round_trip(store: SecretStore) {
    let kind = store.kind();
    let grant = GrantStore::for_grant(store, "notion", "https://as.example.com", "me@example.com");
    assert_eq!(
        grant.key(),
        grant_key("notion", "https://as.example.com", "me@example.com")
    );
    assert!(grant.load().await.unwrap().is_none());
    assert!(grant.metadata().unwrap().is_none());

    let credentials = token_set(1_700_000_000);
    assert!(serde_json::to_vec(&credentials).unwrap().len() > 4000);
    grant.save(credentials.clone()).await.unwrap();
    let loaded = grant.load().await.unwrap().expect("saved credentials");
    assert_eq!(json(&loaded), json(&credentials));

    let metadata = grant.metadata().unwrap().expect("metadata");
    assert_eq!(
        metadata,
        TokenMetadata {
            expires_at: Some(1_700_003_600),
            scopes: vec!["mcp:read".to_owned(), "mcp:write".to_owned()],
            issuer: Some("https://as.example.com".to_owned()),
            has_access_token: true,
            has_refresh_token: true,
            client_id: "client-123".to_owned(),
            store: kind,
        }
    );
    assert_eq!(
        TokenMetadata::from_credentials(&credentials, kind),
        metadata
    );
    let shown = format!(
        "{} {metadata:?} {grant:?}",
        serde_json::to_string(&metadata).unwrap()
    );
    for mark in [ACCESS_TOKEN_MARK, REFRESH_TOKEN_MARK, ID_TOKEN_MARK] {
        assert!(!shown.contains(mark), "{mark} leaked: {shown}");
    }
    let serialized = serde_json::to_value(&metadata).unwrap();
    assert_eq!(serialized["expiresAt"], 1_700_003_600);
    assert_eq!(serialized["hasRefreshToken"], true);
    assert_eq!(serialized["store"], kind.as_str());

    grant.clear().await.unwrap();
    assert!(grant.load().await.unwrap().is_none());
    assert!(grant.metadata().unwrap().is_none());
}

#[tokio::test]
async fn grant_store_round_trips_in_memory() {
    grant_round_trip(SecretStore::memory()).await;
    grant_round_trip(SecretStore::memory_with_chunk_limit(2000)).await;
}

#[tokio::test]
async fn grant_store_round_trips_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    grant_round_trip(SecretStore::file(dir.path())).await;
}

#[test]
fn metadata_without_expiry_or_refresh_token() {
    let response: OAuthTokenResponse = serde_json::from_value(serde_json::json!({
        "access_token": ACCESS_TOKEN_MARK,
        "token_type": "bearer",
        "scope": "a b",
    }))
    .unwrap();
    let credentials = StoredCredentials::new("c".to_owned(), Some(response), vec![], None);
    let metadata = TokenMetadata::from_credentials(&credentials, StoreKind::Memory);
    assert_eq!(metadata.expires_at, None);
    assert!(!metadata.has_refresh_token);
    assert_eq!(
        metadata.scopes,
        ["a", "b"],
        "scopes from the token response"
    );
    assert_eq!(metadata.issuer, None);

    let registered_only = StoredCredentials::new("c".to_owned(), None, vec![], None);
    let metadata = TokenMetadata::from_credentials(&registered_only, StoreKind::File);
    assert!(!metadata.has_access_token);
}

#[test]
fn damaged_grant_json_is_reported_without_its_content() {
    let store = SecretStore::memory();
    store
        .put(
            "g",
            format!("{{\"client_id\": {ACCESS_TOKEN_MARK}").as_bytes(),
        )
        .unwrap();
    let grant = GrantStore::new(store, "g");
    let err = grant.load_blocking().unwrap_err();
    assert!(err.is_damaged());
    assert!(!err.to_string().contains(ACCESS_TOKEN_MARK), "{err}");
    let err = grant.metadata().unwrap_err();
    assert!(!err.to_string().contains(ACCESS_TOKEN_MARK), "{err}");
}
