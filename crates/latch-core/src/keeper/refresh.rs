//! One refresh of one grant, through the same code a connection uses — rmcp's
//! `AuthorizationManager::refresh_token` set up by the connection's `authorized_client` (so the
//! grant's cross-process refresh lock and the "refresh token rejected" handling of the store
//! apply), or, for a client-credentials server, a new exchange through `auth::sign_in`. Its
//! only additions: it steps back when another process refreshed the grant since the keeper
//! last looked, and it sorts every failure into "try again later" or "needs sign-in", in plain
//! words that never hold a token.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use oauth2::TokenResponse as _;
use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials,
};

use super::KeeperTarget;
use crate::auth::{
    ClientCredentialsError, SharedCredentialStore, SignInError, SignInOptions, sign_in,
};

/// How long one refresh may take, the wait for another process's refresh lock included (the
/// lock gives up after a minute).
const REFRESH_TIMEOUT: Duration = Duration::from_secs(120);

/// What the keeper may know about a stored grant: never a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct GrantView {
    /// Something is stored (a grant, or a registration kept after the tokens were dropped).
    pub(super) stored: bool,
    pub(super) has_token: bool,
    pub(super) has_refresh_token: bool,
    /// When the access token was received (unix seconds).
    pub(super) received_at: Option<u64>,
    /// How long it lives from then (seconds).
    pub(super) lifetime: Option<u64>,
}

impl GrantView {
    fn of(stored: Option<&StoredCredentials>) -> Self {
        let Some(stored) = stored else {
            return Self::default();
        };
        let token = stored.token_response.as_ref();
        Self {
            stored: true,
            has_token: token.is_some(),
            has_refresh_token: token.is_some_and(|t| t.refresh_token().is_some()),
            received_at: stored.token_received_at,
            lifetime: token.and_then(|t| t.expires_in()).map(|d| d.as_secs()),
        }
    }

    /// When the access token expires (unix seconds), when known.
    pub(super) fn expires_at(&self) -> Option<u64> {
        Some(self.received_at?.saturating_add(self.lifetime?))
    }
}

/// What one job found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Happened {
    /// Looked only (a new watch); nothing was sent.
    Looked,
    /// The keeper got a new token.
    Refreshed,
    /// Another process (the CLI, the bridge) refreshed since the keeper last looked.
    RefreshedElsewhere,
    /// It did not work this time; the old token is kept. Try again later.
    Failed { reason: String },
    /// Only a person can fix it: sign in again (or fix the credentials).
    NeedsSignIn { reason: String },
}

/// Read the grant: what happened is `Looked`, or `Failed` when the store cannot be read.
pub(super) async fn look(target: &KeeperTarget) -> (Happened, Option<GrantView>) {
    match read(&target.store).await {
        Ok(grant) if grant.stored && !grant.has_token => (ended(), Some(grant)),
        Ok(grant) => (Happened::Looked, Some(grant)),
        Err(reason) => (Happened::Failed { reason }, None),
    }
}

/// Refresh the grant of `server`. With `expected` set (a timer, not "Refresh now"), nothing
/// is sent when the stored token is no longer the one received at `expected`: someone else
/// refreshed it, and the keeper only reschedules.
pub(super) async fn refresh(
    server: &str,
    target: &KeeperTarget,
    expected: Option<Option<u64>>,
) -> (Happened, Option<GrantView>) {
    let before = match read(&target.store).await {
        Ok(grant) => grant,
        Err(reason) => return (Happened::Failed { reason }, None),
    };
    if !before.stored {
        return (
            Happened::NeedsSignIn {
                reason: "not signed in".into(),
            },
            Some(before),
        );
    }
    if !before.has_token {
        return (ended(), Some(before));
    }
    if expected.is_some_and(|seen| seen != before.received_at) {
        return (Happened::RefreshedElsewhere, Some(before));
    }
    if !target.unattended() && !before.has_refresh_token {
        // Nothing to refresh with; the schedule says so.
        return (Happened::Looked, Some(before));
    }

    let superseded = Arc::new(AtomicBool::new(false));
    let store = SharedCredentialStore::new(Unchanged {
        inner: target.store.clone(),
        received_at: before.received_at,
        superseded: superseded.clone(),
    })
    .sharing_dpop_key_of(&target.store);
    let attempt = async {
        if target.unattended() {
            exchange(server, target, store).await
        } else {
            refresh_token(target, &store).await
        }
    };
    let happened = match tokio::time::timeout(REFRESH_TIMEOUT, attempt).await {
        _ if superseded.load(Ordering::SeqCst) => Happened::RefreshedElsewhere,
        Ok(happened) => happened,
        Err(_) => Happened::Failed {
            reason: "the sign-in server took too long to answer".into(),
        },
    };
    let after = read(&target.store).await.ok();
    // The store may have dropped the tokens on its own (refresh token rejected, issuer
    // changed): whatever the error said, that needs a person.
    let happened = match (happened, after) {
        (Happened::Failed { .. }, Some(grant)) if grant.stored && !grant.has_token => ended(),
        (happened, _) => happened,
    };
    (happened, after.or(Some(before)))
}

fn ended() -> Happened {
    Happened::NeedsSignIn {
        reason: "the sign-in has ended; sign in again".into(),
    }
}

async fn read(store: &SharedCredentialStore) -> Result<GrantView, String> {
    match store.load().await {
        Ok(stored) => Ok(GrantView::of(stored.as_ref())),
        Err(error) => {
            tracing::warn!(%error, "the keeper could not read a grant");
            Err("could not read the token store".into())
        }
    }
}

/// The refresh a connection makes when its token runs out, made ahead of time.
async fn refresh_token(target: &KeeperTarget, store: &SharedCredentialStore) -> Happened {
    let grant =
        match crate::connection::GrantClient::new(&target.url, store, Some(&target.settings)).await
        {
            Ok(grant) => grant,
            Err(error) => {
                tracing::warn!(%error, "the keeper could not prepare a refresh");
                return Happened::Failed {
                    reason: "could not prepare the refresh".into(),
                };
            }
        };
    if let Err(error) = grant.ready().await {
        return classify(&error);
    }
    let refreshed = grant.client.auth_manager.lock().await.refresh_token().await;
    match refreshed {
        Ok(_) => Happened::Refreshed,
        // A registration the provider forgot is dropped, so nothing refreshes it again.
        Err(error) => {
            let happened = classify(&error);
            let _ = grant.refresh_failed(error).await;
            happened
        }
    }
}

/// A failed `refresh_token` in words. rmcp's messages are not shown: an authorization
/// server's error description is its own text.
fn classify(error: &AuthError) -> Happened {
    tracing::info!(%error, "refreshing ahead of expiry failed");
    match error {
        AuthError::AuthorizationRequired | AuthError::TokenRefreshRejected(_) => {
            Happened::NeedsSignIn {
                reason: "the sign-in server no longer accepts this sign-in; sign in again".into(),
            }
        }
        AuthError::TokenRefreshFailed(message) => match crate::auth::oauth_error_code(message) {
            Some(code @ ("invalid_client" | "unauthorized_client")) => Happened::NeedsSignIn {
                reason: format!(
                    "the sign-in server no longer knows Latch's registration ({code}); sign in again"
                ),
            },
            Some(code) => Happened::Failed {
                reason: format!("the sign-in server refused the refresh ({code})"),
            },
            None if message.contains("Failed to parse") => Happened::Failed {
                reason: "the sign-in server did not answer with a token (it may be down)".into(),
            },
            None => Happened::Failed {
                reason: "could not reach the sign-in server".into(),
            },
        },
        AuthError::CredentialStoreError(_) => Happened::Failed {
            reason: "could not use the token store".into(),
        },
        // The manager is set up only after discovery worked; without it, the sign-in server
        // could not be reached to find where to refresh.
        AuthError::InternalError(_)
        | AuthError::HttpError(_)
        | AuthError::MetadataError(_)
        | AuthError::DiscoveryRequestFailed { .. }
        | AuthError::AuthorizationServersUnavailable { .. } => Happened::Failed {
            reason: "could not reach the sign-in server".into(),
        },
        _ => Happened::Failed {
            reason: "the refresh failed".into(),
        },
    }
}

/// A client-credentials (or workload) server: exchange the credentials (or the platform's
/// current token) again, as its connection does on a 401 — through the same code, under the
/// same lock.
async fn exchange(server: &str, target: &KeeperTarget, store: SharedCredentialStore) -> Happened {
    let mut options = SignInOptions::new(store);
    options.flow = Some(target.settings.effective_flow());
    options.secrets = target.secrets.clone();
    match sign_in(server, &target.url, &target.settings, None, &options).await {
        Ok(_) => Happened::Refreshed,
        Err(error) => {
            tracing::info!(server, %error, "exchanging client credentials ahead of expiry failed");
            match error {
                SignInError::ClientCredentials(ClientCredentialsError::Exchange {
                    reason, ..
                }) => Happened::Failed {
                    reason: match crate::auth::oauth_error_code(&reason) {
                        Some(code) => format!("the sign-in server refused the exchange ({code})"),
                        None => "could not get a new token from the sign-in server".into(),
                    },
                },
                // Wrong, missing or rejected credentials: these messages say what to do and
                // never hold the secret.
                SignInError::ClientCredentials(error) => Happened::NeedsSignIn {
                    reason: error.to_string(),
                },
                // A platform token that could not be read or was refused: the message says
                // what to fix (never the token); an unanswered request is tried next time.
                SignInError::Workload(crate::auth::WorkloadError::Exchange { .. }) => {
                    Happened::Failed {
                        reason: "could not get a new token from the sign-in server".into(),
                    }
                }
                SignInError::Workload(error) => Happened::NeedsSignIn {
                    reason: error.to_string(),
                },
                // The company session has ended: the person signs in to the company again.
                SignInError::Enterprise(error) if error.needs_company_sign_in().is_some() => {
                    Happened::NeedsSignIn {
                        reason: error.to_string(),
                    }
                }
                SignInError::Discovery { .. } => Happened::Failed {
                    reason: "could not reach the sign-in server".into(),
                },
                _ => Happened::Failed {
                    reason: "could not get a new token from the sign-in server".into(),
                },
            }
        }
    }
}

/// The grant's store, with one more rule under the refresh lock: when the stored token is no
/// longer the one the keeper decided to refresh, someone refreshed it meanwhile — refuse, so
/// rmcp sends nothing (the flag tells the keeper it was not a failure).
struct Unchanged {
    inner: SharedCredentialStore,
    received_at: Option<u64>,
    superseded: Arc<AtomicBool>,
}

#[async_trait]
impl CredentialStore for Unchanged {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.inner.load().await
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        self.inner.save(credentials).await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.inner.clear().await
    }

    async fn on_refresh_token_rejected(
        &self,
        credentials: &StoredCredentials,
    ) -> Result<(), AuthError> {
        self.inner.on_refresh_token_rejected(credentials).await
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        let guard = self.inner.acquire_refresh_guard().await?;
        let now = GrantView::of(self.inner.load().await?.as_ref());
        if now.has_token && now.received_at != self.received_at {
            self.superseded.store(true, Ordering::SeqCst);
            return Err(AuthError::CredentialStoreError(
                "refreshed by another program meanwhile".into(),
            ));
        }
        Ok(guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_oauth_error_code() {
        use crate::auth::oauth_error_code;
        assert_eq!(
            oauth_error_code(
                "OAuth token refresh failed: Server returned error response: invalid_client: client authentication failed"
            ),
            Some("invalid_client")
        );
        assert_eq!(
            oauth_error_code("Server returned error response: temporarily_unavailable"),
            Some("temporarily_unavailable")
        );
        assert_eq!(oauth_error_code("Request failed"), None);
        assert_eq!(
            oauth_error_code("Server returned error response: <html>"),
            None,
            "nothing but a code is ever repeated"
        );
    }

    #[test]
    fn failures_are_sorted_into_retry_or_sign_in() {
        let needs = |h: Happened| matches!(h, Happened::NeedsSignIn { .. });
        assert!(needs(classify(&AuthError::TokenRefreshRejected(
            "invalid_grant".into()
        ))));
        assert!(needs(classify(&AuthError::AuthorizationRequired)));
        assert!(needs(classify(&AuthError::TokenRefreshFailed(
            "Server returned error response: invalid_client".into()
        ))));
        for transient in [
            AuthError::TokenRefreshFailed("Request failed".into()),
            AuthError::TokenRefreshFailed("Failed to parse server response".into()),
            AuthError::InternalError("OAuth client not configured".into()),
            AuthError::CredentialStoreError("locked".into()),
        ] {
            match classify(&transient) {
                Happened::Failed { reason } => {
                    assert!(!reason.contains("Request"), "plain words: {reason}")
                }
                other => panic!("{transient} → {other:?}"),
            }
        }
    }

    #[test]
    fn a_grant_view_never_needs_the_tokens() {
        let view = GrantView::of(None);
        assert!(!view.stored && view.expires_at().is_none());
        let registration = StoredCredentials::new("client".into(), None, Vec::new(), None);
        let view = GrantView::of(Some(&registration));
        assert!(view.stored && !view.has_token && !view.has_refresh_token);
    }
}
