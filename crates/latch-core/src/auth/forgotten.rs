//! A client registration the provider has forgotten. Providers expire clients they registered
//! dynamically (Cloudflare's `workers-oauth-provider`, behind Notion's server, after 90 days)
//! and then answer a refresh with `invalid_client`. Refreshing again can never work, and
//! reusing the registration at the next sign-in would fail the same way: the grant's client id
//! is dropped (with its tokens), so the server shows "needs sign-in", nothing refreshes until
//! then, and that sign-in registers Latch anew. A grant left in that state — an empty client id
//! and no tokens — is how status and the doctor can tell the person what happened.

use rmcp::transport::auth::{AuthError, CredentialStore, StoredCredentials};

use super::SharedCredentialStore;

/// The OAuth error code in oauth2's "Server returned error response: CODE: description", when
/// it is one (letters and underscores only, so nothing else is ever quoted).
pub(crate) fn oauth_error_code(message: &str) -> Option<&str> {
    let rest = message.split("Server returned error response: ").nth(1)?;
    let code = rest.split([':', ' ']).next()?;
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')).then_some(code)
}

/// Whether a failed refresh says the authorization server does not know the client.
pub(crate) fn client_refused(error: &AuthError) -> bool {
    match error {
        AuthError::TokenRefreshFailed(message) => matches!(
            oauth_error_code(message),
            Some("invalid_client" | "unauthorized_client")
        ),
        _ => false,
    }
}

/// Whether `client_id` is a registration Latch made itself (dynamic registration), as opposed
/// to a client id the person configured or a Client ID Metadata Document URL.
pub(crate) fn registered_by_latch(client_id: &str, configured: Option<&str>) -> bool {
    !client_id.is_empty() && configured != Some(client_id) && !client_id.starts_with("https://")
}

/// Drop the grant registered as `client_id`: its tokens and the registration, keeping only
/// the issuer. Under the grant's refresh lock, and only if the stored grant is still that
/// registration's (a sign-in elsewhere meanwhile is kept).
pub(crate) async fn forget_registration(
    store: &SharedCredentialStore,
    client_id: &str,
) -> Result<(), AuthError> {
    let _guard = store.acquire_refresh_guard().await?;
    let Some(stored) = store.load().await? else {
        return Ok(());
    };
    if stored.client_id != client_id {
        return Ok(());
    }
    tracing::info!("the authorization server no longer knows Latch's registration; dropping it");
    CredentialStore::save(
        store,
        StoredCredentials::new(String::new(), None, Vec::new(), None).with_issuer(stored.issuer),
    )
    .await
}

/// Whether a stored grant is one whose registration the provider forgot.
pub fn is_forgotten(stored: &StoredCredentials) -> bool {
    stored.client_id.is_empty() && stored.token_response.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_error_code_of_a_refused_refresh() {
        let refused = AuthError::TokenRefreshFailed(
            "Server returned error response: invalid_client: Client not found".into(),
        );
        assert!(client_refused(&refused));
        let other = AuthError::TokenRefreshFailed(
            "Server returned error response: invalid_grant: expired".into(),
        );
        assert!(!client_refused(&other));
        assert!(!client_refused(&AuthError::AuthorizationRequired));
        assert_eq!(oauth_error_code("Failed to parse server response"), None);
    }

    #[test]
    fn only_latchs_own_registrations_are_dropped() {
        assert!(registered_by_latch("abc123", None));
        assert!(!registered_by_latch("abc123", Some("abc123")));
        assert!(!registered_by_latch(
            "https://latch.example/client.json",
            None
        ));
        assert!(!registered_by_latch("", None));
    }

    #[tokio::test]
    async fn forgetting_keeps_a_grant_stored_meanwhile() {
        let store = SharedCredentialStore::memory();
        CredentialStore::save(
            &store,
            StoredCredentials::new("new-client".into(), None, vec!["a".into()], None)
                .with_issuer(Some("https://as.example".into())),
        )
        .await
        .unwrap();
        forget_registration(&store, "old-client").await.unwrap();
        assert_eq!(store.load().await.unwrap().unwrap().client_id, "new-client");
        forget_registration(&store, "new-client").await.unwrap();
        let stored = store.load().await.unwrap().unwrap();
        assert!(is_forgotten(&stored));
        assert_eq!(stored.issuer.as_deref(), Some("https://as.example"));
    }
}
