//! A connection's hold on a stored grant: rmcp's `AuthClient` (which puts the token on every
//! request), plus what refreshing needs — the authorization server's metadata and the client
//! registration — looked up only when a refresh is due. Sending a stored token needs neither,
//! so a command whose token is fresh makes no discovery requests at all (before, every command
//! began with an unauthenticated `GET` of the MCP URL and the metadata documents).
//!
//! The endpoints configured in the server's `auth` entry (`tokenUrl`, …) are applied to what
//! discovery finds here too, so a refresh goes where the sign-in went. A DPoP-bound grant
//! (one with a key in its slot) refreshes with a proof, and its requests carry the `DPoP`
//! scheme ([`super::dpop::DpopHttp`]).

use std::sync::Arc;

use rmcp::transport::{
    AuthClient, AuthorizationManager,
    auth::{AuthError, OAuthClientConfig},
};

use super::{dpop::DpopHttp, refresh_once::OnceStore};
use crate::{
    auth::{AuthSettings, SharedCredentialStore, TokenProofs},
    connection::ConnectError,
};

/// The client of one server's grant, shared by its connections (clones share everything).
#[derive(Clone)]
pub(crate) struct GrantClient {
    pub(crate) client: AuthClient<DpopHttp>,
    pub(crate) store: SharedCredentialStore,
    /// Whether refreshes carry DPoP proofs (turned on in [`Self::ready`] for a bound grant).
    proofs: TokenProofs,
    settings: Option<AuthSettings>,
    /// The MCP server's URL, named when its sign-in provider moved.
    url: String,
    /// The client id of the grant the manager is set up to refresh, once it is.
    ready: Arc<tokio::sync::Mutex<Option<String>>>,
}

impl GrantClient {
    /// A client for the server at `url` whose grant is in `store`. Makes no request.
    pub(crate) async fn new(
        url: &str,
        store: &SharedCredentialStore,
        settings: Option<&AuthSettings>,
    ) -> Result<Self, ConnectError> {
        let origin = url::Url::parse(url).map_err(|e| ConnectError::BadUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        let proofs = TokenProofs::default();
        let oauth = crate::auth::DpopOAuthClient::new(origin.clone(), proofs.clone());
        let mut manager = AuthorizationManager::new_with_oauth_http_client(url, Arc::new(oauth))
            .await
            .map_err(|e| ConnectError::BadUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
        manager.set_credential_store(OnceStore(store.clone()));
        // Requests that carry the server's headers get the server's own client (`connect_*`).
        let http = DpopHttp::new(
            crate::net::client_for(&origin, false),
            store.dpop_keys().clone(),
        );
        Ok(Self {
            client: AuthClient::new(http, manager),
            store: store.clone(),
            proofs,
            settings: settings.cloned(),
            url: url.to_owned(),
            ready: Arc::default(),
        })
    }

    /// A new grant was stored (a sign-in): the next refresh looks its registration up again,
    /// and the next request its DPoP key.
    pub(crate) async fn reset(&self) {
        *self.ready.lock().await = None;
        // Its DPoP key (if any) may be another one too.
        self.store.dpop_keys().forget_seen();
    }

    /// Set the manager up to refresh the stored grant, once: discovery (with the configured
    /// endpoints applied), the stored client id, and a pre-registered client's secret.
    /// A failure is returned (and tried again next time), never hidden.
    pub(crate) async fn ready(&self) -> Result<(), AuthError> {
        let mut ready = self.ready.lock().await;
        if ready.is_some() {
            return Ok(());
        }
        let stored = self.store.load().await?;
        let Some(stored) = stored.filter(|s| s.token_response.is_some()) else {
            // Nothing to refresh: a sign-in comes first.
            return Err(AuthError::AuthorizationRequired);
        };
        let mut manager = self.client.auth_manager.lock().await;
        let resolution = manager.resolve_metadata().await?;
        let mut metadata = resolution.metadata;
        if let Some(settings) = &self.settings {
            crate::auth::apply_configured(
                &mut metadata,
                settings,
                resolution.source.is_discovered(),
            );
        }
        // Another authorization server now (SEP-2352): rmcp would delete the grant here; keep
        // it until a new sign-in there replaces it, and never refresh it at the new one.
        if let Some(moved) =
            crate::auth::provider_moved(&self.url, &stored, metadata.issuer.as_deref())
        {
            tracing::warn!("{moved}");
            return Err(AuthError::AuthorizationRequired);
        }
        // A DPoP-bound grant refreshes with a proof made with its key.
        if let Some(key) = self
            .store
            .dpop_keys()
            .load()
            .await
            .map_err(|e| AuthError::CredentialStoreError(e.to_string()))?
        {
            self.proofs.enable(key, &metadata.token_endpoint);
        }
        manager.set_metadata(metadata);
        if !manager.initialize_from_store().await? {
            // rmcp dropped the tokens (the authorization server changed): sign in again.
            return Err(AuthError::AuthorizationRequired);
        }
        // A pre-registered confidential client: the store keeps only its id, so give the
        // manager the secret too, or refreshing would fail and force a new sign-in.
        if let Some(settings) = &self.settings
            && let (Some(id), Some(secret)) = (&settings.client_id, &settings.client_secret)
            && *id == stored.client_id
        {
            let config = OAuthClientConfig::new(id.clone(), "http://127.0.0.1/callback")
                .with_client_secret(secret.clone());
            manager.configure_client(config)?;
        }
        *ready = Some(stored.client_id);
        Ok(())
    }

    /// A refresh failed: when the authorization server no longer knows the registration
    /// Latch made, drop it (see [`crate::auth::forget_registration`]) and say a sign-in is
    /// needed; any other failure is returned as it is.
    pub(crate) async fn refresh_failed(&self, error: AuthError) -> AuthError {
        if !crate::auth::client_refused(&error) {
            return error;
        }
        let Some(client_id) = self.ready.lock().await.take() else {
            return error;
        };
        let configured = self.settings.as_ref().and_then(|s| s.client_id.as_deref());
        if !crate::auth::registered_by_latch(&client_id, configured) {
            return error;
        }
        match crate::auth::forget_registration(&self.store, &client_id).await {
            Ok(()) => AuthError::AuthorizationRequired,
            Err(store_error) => {
                tracing::warn!(error = %store_error, "could not drop the forgotten registration");
                error
            }
        }
    }
}
