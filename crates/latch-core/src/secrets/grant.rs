//! One signed-in grant in the secret store, in the shape rmcp's auth module wants: a
//! [`CredentialStore`] that keeps rmcp's `StoredCredentials` as JSON under one key. It also
//! answers what the rest of Latch may know about a grant — expiry, scopes, issuer, whether a
//! refresh token exists, the store kind — as [`TokenMetadata`], read without ever turning the
//! tokens into strings.

use std::fmt;

use async_trait::async_trait;
use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials,
};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{SecretStore, SecretsError, StoreKind, grant_key};

/// The tokens of one grant, stored under one key of a [`SecretStore`].
#[derive(Clone)]
pub struct GrantStore {
    store: SecretStore,
    key: String,
}

/// What may be said about a grant without its tokens: for `latch status`, the app's server
/// cards and the refresh keeper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenMetadata {
    /// When the access token expires (unix seconds), when the server said.
    pub expires_at: Option<u64>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The authorization server that issued the tokens.
    pub issuer: Option<String>,
    /// True when an access token is stored (false after a registration without sign-in).
    pub has_access_token: bool,
    /// True when a refresh token is stored, so the grant can be refreshed without a person.
    pub has_refresh_token: bool,
    /// The OAuth client the grant belongs to.
    pub client_id: String,
    /// Where the tokens are kept.
    pub store: StoreKind,
}

impl TokenMetadata {
    /// The metadata of `credentials`, kept in a store of kind `store`.
    pub fn from_credentials(credentials: &StoredCredentials, store: StoreKind) -> Self {
        // Read through the JSON form, so no token is copied into a string here.
        let json = Zeroizing::new(serde_json::to_vec(credentials).unwrap_or_default());
        match serde_json::from_slice::<CredentialsView>(&json) {
            Ok(view) => view.into_metadata(store),
            Err(_) => Self {
                expires_at: None,
                scopes: scope_list(credentials.granted_scopes.clone()),
                issuer: credentials.issuer.clone(),
                has_access_token: credentials.token_response.is_some(),
                has_refresh_token: false,
                client_id: credentials.client_id.clone(),
                store,
            },
        }
    }
}

/// `scopes` without empty items: a server that grants `"scope": ""` has granted none, and
/// rmcp keeps that as `[""]`. Items holding spaces are split, as OAuth's scope string would be.
pub fn scope_list(scopes: Vec<String>) -> Vec<String> {
    if scopes
        .iter()
        .all(|s| !s.is_empty() && !s.contains(char::is_whitespace))
    {
        return scopes;
    }
    scopes
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect()
}

/// The parts of `StoredCredentials`' JSON that metadata needs; tokens are skipped unread.
#[derive(Deserialize)]
struct CredentialsView {
    client_id: String,
    #[serde(default)]
    token_response: Option<TokenView>,
    #[serde(default)]
    granted_scopes: Vec<String>,
    #[serde(default)]
    token_received_at: Option<u64>,
    #[serde(default)]
    issuer: Option<String>,
}

#[derive(Deserialize)]
struct TokenView {
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<IgnoredAny>,
    #[serde(default)]
    scope: Option<String>,
}

impl CredentialsView {
    fn into_metadata(self, store: StoreKind) -> TokenMetadata {
        let token = self.token_response.as_ref();
        let granted = scope_list(self.granted_scopes);
        let scopes = if granted.is_empty() {
            token
                .and_then(|t| t.scope.as_deref())
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        } else {
            granted
        };
        TokenMetadata {
            expires_at: match (self.token_received_at, token.and_then(|t| t.expires_in)) {
                (Some(received), Some(lifetime)) => Some(received.saturating_add(lifetime)),
                _ => None,
            },
            scopes,
            issuer: self.issuer,
            has_access_token: token.is_some(),
            has_refresh_token: token.is_some_and(|t| t.refresh_token.is_some()),
            client_id: self.client_id,
            store,
        }
    }
}

impl GrantStore {
    /// The grant stored under `key` of `store`.
    pub fn new(store: SecretStore, key: impl Into<String>) -> Self {
        Self {
            store,
            key: key.into(),
        }
    }

    /// The grant of `server` at `issuer` for `account`, under [`grant_key`].
    pub fn for_grant(store: SecretStore, server: &str, issuer: &str, account: &str) -> Self {
        Self::new(store, grant_key(server, issuer, account))
    }

    /// The key the grant is stored under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The store the grant is kept in.
    pub fn store(&self) -> &SecretStore {
        &self.store
    }

    /// Reads the stored credentials (blocking; the async [`CredentialStore::load`] runs this
    /// on a blocking thread).
    pub fn load_blocking(&self) -> Result<Option<StoredCredentials>, SecretsError> {
        let Some(json) = self.store.get(&self.key)? else {
            return Ok(None);
        };
        serde_json::from_slice(json.expose_bytes())
            .map(Some)
            .map_err(|e| self.json_error("read", &e))
    }

    /// Stores `credentials`, replacing the previous ones whole (blocking).
    pub fn save_blocking(&self, credentials: &StoredCredentials) -> Result<(), SecretsError> {
        let json = Zeroizing::new(
            serde_json::to_vec(credentials).map_err(|e| self.json_error("saved", &e))?,
        );
        self.store.put(&self.key, &json)
    }

    /// Removes the stored credentials, and the grant's DPoP key if it has one (blocking).
    pub fn clear_blocking(&self) -> Result<(), SecretsError> {
        self.store.delete(&self.key)?;
        self.store.delete(&crate::auth::dpop_key_name(&self.key))
    }

    /// What may be shown about the stored grant — never a token. `None` when nothing is stored.
    pub fn metadata(&self) -> Result<Option<TokenMetadata>, SecretsError> {
        let Some(json) = self.store.get(&self.key)? else {
            return Ok(None);
        };
        serde_json::from_slice::<CredentialsView>(json.expose_bytes())
            .map(|view| Some(view.into_metadata(self.store.kind())))
            .map_err(|e| self.json_error("read", &e))
    }

    /// A JSON error by position only: serde_json's message can quote the offending value.
    fn json_error(&self, action: &'static str, error: &serde_json::Error) -> SecretsError {
        SecretsError::Credentials {
            action,
            key: self.key.clone(),
            line: error.line(),
            column: error.column(),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce(GrantStore) -> Result<T, SecretsError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || operation(this)).await {
            Ok(result) => result.map_err(|e| AuthError::CredentialStoreError(e.to_string())),
            Err(join) => Err(AuthError::CredentialStoreError(
                SecretsError::Task(
                    if join.is_panic() {
                        "it panicked"
                    } else {
                        "it was cancelled"
                    }
                    .to_owned(),
                )
                .to_string(),
            )),
        }
    }
}

impl fmt::Debug for GrantStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantStore")
            .field("key", &self.key)
            .field("store", &self.store.kind())
            .finish()
    }
}

#[async_trait]
impl CredentialStore for GrantStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.run(|this| this.load_blocking()).await
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        self.run(move |this| this.save_blocking(&credentials)).await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.run(|this| this.clear_blocking()).await
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        super::refresh_lock::acquire(self.store.refresh_lock_dir(), &self.key)
            .await
            .map(Some)
    }

    /// The authorization server refused the refresh token for good (`invalid_grant`): drop
    /// the tokens so every use says "needs sign-in" instead of trying again, but keep the
    /// client registration and the issuer, so signing in again reuses them.
    async fn on_refresh_token_rejected(
        &self,
        credentials: &StoredCredentials,
    ) -> Result<(), AuthError> {
        let rejected = credentials.clone();
        self.run(move |this| {
            let current = this.load_blocking()?;
            let same = current.as_ref().is_some_and(|c| {
                c.token_received_at == rejected.token_received_at
                    && c.client_id == rejected.client_id
            });
            if same {
                let kept =
                    StoredCredentials::new(rejected.client_id.clone(), None, Vec::new(), None)
                        .with_issuer(rejected.issuer.clone());
                this.save_blocking(&kept)?;
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(granted: serde_json::Value, scope: &str) -> StoredCredentials {
        serde_json::from_value(serde_json::json!({
            "client_id": "latch-test",
            "token_response": {
                "access_token": "not-a-real-token",
                "token_type": "bearer",
                "expires_in": 3600,
                "scope": scope,
            },
            "granted_scopes": granted,
            "token_received_at": 1_000,
        }))
        .unwrap()
    }

    #[test]
    fn an_empty_scope_is_no_scope() {
        let empty = credentials(serde_json::json!([""]), "");
        let metadata = TokenMetadata::from_credentials(&empty, StoreKind::Memory);
        assert_eq!(metadata.scopes, Vec::<String>::new());
        assert_eq!(metadata.expires_at, Some(4_600));
        let json = serde_json::to_value(&metadata).unwrap();
        assert_eq!(json["scopes"], serde_json::json!([]));
    }

    #[test]
    fn scopes_come_from_the_grant_else_from_the_token_response() {
        let granted = credentials(serde_json::json!(["read", "", "write"]), "ignored");
        assert_eq!(
            TokenMetadata::from_credentials(&granted, StoreKind::Memory).scopes,
            ["read", "write"]
        );
        let from_token = credentials(serde_json::json!([""]), " read  write ");
        assert_eq!(
            TokenMetadata::from_credentials(&from_token, StoreKind::Memory).scopes,
            ["read", "write"]
        );
        assert_eq!(
            scope_list(vec!["a b".into(), " ".into()]),
            ["a", "b"],
            "a scope string kept as one item"
        );
    }
}
