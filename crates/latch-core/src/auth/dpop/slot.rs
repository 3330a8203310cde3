//! Where a grant's DPoP key is kept: next to the grant in the secret store (the keychain, or
//! the private file), under the grant's key with a `dpop-` prefix, as PKCS#8 — never exported
//! and deleted with the grant. The key is made under a cross-process lock named after it (the
//! same `flock` the grant's refresh lock uses), so the bridge, the keeper and the CLI never race
//! two keys into existence. Grants kept only in memory (tests, the conformance adapter) keep
//! their key in memory too.
//!
//! Reading the store costs a keychain call, and every MCP request asks whether its grant has a
//! key. A request asks for its token ([`KeySlot::load_for`]): the answer stands while the
//! requests carry that token — a token is bound to one key, or to none, for its whole life — so
//! the slot is read again only when the token changes (a refresh, a sign-in here or in another
//! program), a sign-in here resets it, or a server refuses a proof. Other looks reuse the last
//! answer for [`RECHECK`] (and until told otherwise, when a key is held).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;
use zeroize::Zeroizing;

use super::{DpopError, key::DpopKey};
use crate::secrets::SecretStore;

/// How long a connection trusts its last look at the key slot.
const RECHECK: Duration = Duration::from_secs(5);

/// One grant's key slot. Clones share the slot and what was read from it.
#[derive(Clone)]
pub(crate) struct KeySlot {
    place: Place,
    /// The last look: the key (or that there is none), and until when it stands.
    seen: Arc<Mutex<Option<Seen>>>,
}

/// What a look at the slot found, until when it stands, and the token (its SHA-256) of the
/// requests it stands for while they carry that token.
#[derive(Clone)]
struct Seen {
    key: Option<Arc<DpopKey>>,
    until: Instant,
    token: Option<[u8; 32]>,
}

/// The SHA-256 of a token: what the slot remembers of it.
fn digest(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Clone)]
enum Place {
    Memory(Arc<Mutex<Option<Zeroizing<Vec<u8>>>>>),
    Secrets { store: SecretStore, name: String },
}

impl std::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.place {
            Place::Memory(_) => f.write_str("KeySlot(memory)"),
            Place::Secrets { name, .. } => write!(f, "KeySlot({name})"),
        }
    }
}

/// The secret-store key of the DPoP key of the grant stored under `grant_key`.
pub(crate) fn key_name(grant_key: &str) -> String {
    format!("dpop-{grant_key}")
}

impl KeySlot {
    /// A slot that lives as long as the process.
    pub(crate) fn memory() -> Self {
        Self::at(Place::Memory(Arc::default()))
    }

    /// The slot of the grant kept under `grant_key` in `store`.
    pub(crate) fn for_grant(store: SecretStore, grant_key: &str) -> Self {
        Self::at(Place::Secrets {
            store,
            name: key_name(grant_key),
        })
    }

    fn at(place: Place) -> Self {
        Self {
            place,
            seen: Arc::default(),
        }
    }

    /// The grant's key, if it has one.
    pub(crate) async fn load(&self) -> Result<Option<Arc<DpopKey>>, DpopError> {
        if let Some(seen) = self.seen()
            && (seen.key.is_some() || Instant::now() < seen.until)
        {
            return Ok(seen.key);
        }
        let key = self.read_key().await?;
        self.remember(key.clone());
        Ok(key)
    }

    /// The key to sign a request carrying `token` with, if the grant has one: what the last
    /// look for the same token found, without reading the slot again. A look that was not
    /// for a token and still stands is taken for this one.
    pub(crate) async fn load_for(&self, token: &str) -> Result<Option<Arc<DpopKey>>, DpopError> {
        let token = digest(token);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(seen) = seen.as_mut() {
                match seen.token {
                    Some(seen_for) if seen_for == token => return Ok(seen.key.clone()),
                    None if seen.key.is_some() || Instant::now() < seen.until => {
                        seen.token = Some(token);
                        return Ok(seen.key.clone());
                    }
                    _ => {}
                }
            }
        }
        let key = self.read_key().await?;
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(Seen {
            key: key.clone(),
            until: Instant::now() + RECHECK,
            token: Some(token),
        });
        Ok(key)
    }

    fn seen(&self) -> Option<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key in the slot, read now.
    async fn read_key(&self) -> Result<Option<Arc<DpopKey>>, DpopError> {
        match self.read().await? {
            Some(pkcs8) => Ok(Some(Arc::new(
                DpopKey::from_pkcs8(&pkcs8).map_err(DpopError::KeyStore)?,
            ))),
            None => Ok(None),
        }
    }

    /// The grant's key, made and kept first when it has none — under the lock, so two
    /// programs signing in or refreshing at once end up with one key.
    pub(crate) async fn get_or_create(&self) -> Result<Arc<DpopKey>, DpopError> {
        let _guard = match &self.place {
            Place::Memory(_) => None,
            Place::Secrets { store, name } => Some(
                crate::secrets::refresh_lock::acquire(store.refresh_lock_dir(), name)
                    .await
                    .map_err(|e| DpopError::KeyStore(e.to_string()))?,
            ),
        };
        self.forget_seen();
        if let Some(key) = self.load().await? {
            return Ok(key);
        }
        let (key, pkcs8) = DpopKey::generate().map_err(DpopError::KeyStore)?;
        self.write(Some(pkcs8)).await?;
        let key = Arc::new(key);
        self.remember(Some(key.clone()));
        tracing::debug!(
            thumbprint = key.thumbprint(),
            "made a DPoP key for the grant"
        );
        Ok(key)
    }

    /// Delete the key (sign-out, or a sign-in whose tokens are not bound).
    pub(crate) async fn clear(&self) -> Result<(), DpopError> {
        self.write(None).await?;
        self.remember(None);
        Ok(())
    }

    /// Read the slot again next time (a server refused a proof: the key may have changed).
    pub(crate) fn forget_seen(&self) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn remember(&self, key: Option<Arc<DpopKey>>) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(Seen {
            key,
            until: Instant::now() + RECHECK,
            token: None,
        });
    }

    async fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, DpopError> {
        match &self.place {
            Place::Memory(kept) => Ok(kept.lock().unwrap_or_else(|e| e.into_inner()).clone()),
            Place::Secrets { store, name } => {
                let (store, name) = (store.clone(), name.clone());
                blocking(move || {
                    store
                        .get(&name)
                        .map(|found| found.map(|s| Zeroizing::new(s.expose_bytes().to_vec())))
                })
                .await
            }
        }
    }

    async fn write(&self, pkcs8: Option<Zeroizing<Vec<u8>>>) -> Result<(), DpopError> {
        match &self.place {
            Place::Memory(kept) => {
                *kept.lock().unwrap_or_else(|e| e.into_inner()) = pkcs8;
                Ok(())
            }
            Place::Secrets { store, name } => {
                let (store, name) = (store.clone(), name.clone());
                blocking(move || match pkcs8 {
                    Some(pkcs8) => store.put(&name, &pkcs8),
                    None => store.delete(&name),
                })
                .await
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::secrets::SecretsError> + Send + 'static,
) -> Result<T, DpopError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| DpopError::KeyStore("the key store task stopped".into()))?
        .map_err(|e| DpopError::KeyStore(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_key_per_grant_kept_next_to_it_and_deleted_with_it() {
        let store = SecretStore::memory();
        let slot = KeySlot::for_grant(store.clone(), "grant:demo::default");
        assert!(slot.load().await.unwrap().is_none());
        // Two programs at once (two slots on one store): one key.
        let other = KeySlot::for_grant(store.clone(), "grant:demo::default");
        let (a, b) = tokio::join!(slot.get_or_create(), other.get_or_create());
        assert_eq!(a.unwrap().thumbprint(), b.unwrap().thumbprint());
        assert!(store.get("dpop-grant:demo::default").unwrap().is_some());
        slot.clear().await.unwrap();
        assert!(store.get("dpop-grant:demo::default").unwrap().is_none());
        other.forget_seen();
        assert!(other.load().await.unwrap().is_none());
    }

    /// Requests ask the slot for their token's key: over many requests the store is read once
    /// per token (each read is a keychain call), never per request — however far apart the
    /// requests are — and a new key (a sign-in here, or in another program that shares the
    /// store) is used from the first request that carries its token.
    #[tokio::test(start_paused = true)]
    async fn the_store_is_read_once_per_token_not_per_request() {
        let (store, reads) = SecretStore::memory_counting_reads();
        let name = key_name("grant:demo::default");
        let read = || reads.lock().unwrap().get(&name).copied().unwrap_or(0);
        let slot = KeySlot::for_grant(store.clone(), "grant:demo::default");
        let requests = |token: &'static str| {
            let slot = slot.clone();
            async move {
                let mut keys = Vec::new();
                for _ in 0..20 {
                    keys.push(slot.load_for(token).await.unwrap());
                    tokio::time::advance(RECHECK * 2).await;
                }
                keys
            }
        };

        // A bearer grant: no key, and one read for 20 requests a minute and more apart.
        let keys = requests("bearer-1").await;
        assert!(keys.iter().all(Option::is_none));
        assert_eq!(read(), 1);

        // Another program signs in with DPoP (a new key in the shared store, a new token).
        let other = KeySlot::for_grant(store.clone(), "grant:demo::default");
        let made = other.get_or_create().await.unwrap();
        let before = read();
        let keys = requests("bound-2").await;
        assert_eq!(read(), before + 1, "one read for the new token");
        assert!(
            keys.iter()
                .all(|k| k.as_ref().unwrap().thumbprint() == made.thumbprint()),
            "its key signs from the first request"
        );

        // A sign-in here makes a new key: the next request uses it, with no further read.
        slot.clear().await.unwrap();
        let remade = slot.get_or_create().await.unwrap();
        assert_ne!(remade.thumbprint(), made.thumbprint());
        let before = read();
        let keys = requests("bound-3").await;
        assert_eq!(read(), before);
        assert!(
            keys.iter()
                .all(|k| k.as_ref().unwrap().thumbprint() == remade.thumbprint())
        );

        // A refused proof: the slot is read again, once.
        slot.forget_seen();
        let before = read();
        requests("bound-3").await;
        assert_eq!(read(), before + 1);
    }
}
