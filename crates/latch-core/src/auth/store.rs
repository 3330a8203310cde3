//! A cloneable handle to wherever a server's grant is kept, in the shape rmcp's
//! `AuthorizationManager` wants (it takes its store by value). The keychain-backed store and
//! the in-memory one used by tests both sit behind it. A grant's DPoP key slot travels with
//! it ([`super::dpop::KeySlot`]): next to the grant in the secret store, or in memory.

use std::sync::Arc;

use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, InMemoryCredentialStore, StoredCredentials,
};

/// One grant's store, shared by every manager that signs in or refreshes it.
#[derive(Clone)]
pub struct SharedCredentialStore(Arc<dyn CredentialStore>, super::dpop::KeySlot);

impl std::fmt::Debug for SharedCredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedCredentialStore")
    }
}

impl SharedCredentialStore {
    /// Wrap any rmcp credential store.
    pub fn new(store: impl CredentialStore + 'static) -> Self {
        Self(Arc::new(store), super::dpop::KeySlot::memory())
    }

    /// A grant kept in the secret store, with its DPoP key slot next to it.
    pub fn for_grant(grant: crate::secrets::GrantStore) -> Self {
        let keys = super::dpop::KeySlot::for_grant(grant.store().clone(), grant.key());
        Self(Arc::new(grant), keys)
    }

    /// The same DPoP key slot as `other` (a wrapper around another store of the same grant).
    pub fn sharing_dpop_key_of(mut self, other: &SharedCredentialStore) -> Self {
        self.1 = other.1.clone();
        self
    }

    /// The grant's DPoP key slot.
    pub(crate) fn dpop_keys(&self) -> &super::dpop::KeySlot {
        &self.1
    }

    /// A store that lives as long as the process (tests, the conformance adapter).
    pub fn memory() -> Self {
        Self::new(InMemoryCredentialStore::new())
    }

    /// The grant as stored, if any.
    pub async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.0.load().await
    }

    /// Forget the grant (sign out), and its DPoP key.
    pub async fn clear(&self) -> Result<(), AuthError> {
        self.0.clear().await?;
        self.1
            .clear()
            .await
            .map_err(|e| AuthError::CredentialStoreError(e.to_string()))
    }
}

#[async_trait::async_trait]
impl CredentialStore for SharedCredentialStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.0.load().await
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        self.0.save(credentials).await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        SharedCredentialStore::clear(self).await
    }

    async fn on_refresh_token_rejected(
        &self,
        credentials: &StoredCredentials,
    ) -> Result<(), AuthError> {
        self.0.on_refresh_token_rejected(credentials).await
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        self.0.acquire_refresh_guard().await
    }
}
