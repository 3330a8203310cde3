//! Where a grant's DPoP key is kept: next to the grant in the secret store (the keychain, or
//! the private file), under the grant's key with a `dpop-` prefix, as PKCS#8 — never exported
//! and deleted with the grant. The key is made under a cross-process lock named after it (the
//! same `flock` the grant's refresh lock uses), so the bridge, the keeper and the CLI never race
//! two keys into existence. Grants kept only in memory (tests, the conformance adapter) keep
//! their key in memory too.
//!
//! Reading the store costs a keychain call, and every MCP request asks whether its grant has a
//! key: the answer is reused for [`RECHECK`] (and until told otherwise, when a key is held).

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

/// What a look at the slot found, and until when it stands.
type Seen = (Option<Arc<DpopKey>>, Instant);

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
        if let Some((key, until)) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
            && (key.is_some() || Instant::now() < until)
        {
            return Ok(key);
        }
        let key = match self.read().await? {
            Some(pkcs8) => Some(Arc::new(
                DpopKey::from_pkcs8(&pkcs8).map_err(DpopError::KeyStore)?,
            )),
            None => None,
        };
        self.remember(key.clone());
        Ok(key)
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
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((key, Instant::now() + RECHECK));
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
}
