//! Finding a server's authorization server, shared by every grant: rmcp's discovery (the 401
//! challenge's resource metadata, the well-known places, the AS metadata order), plus the
//! 2025-03-26 fallback that reads the root document rmcp's newer issuer rule refuses, and the
//! endpoints the person configured (`auth.tokenUrl`, …), which fill in for a provider that
//! publishes nothing and win over what discovery found.

use rmcp::transport::auth::{AuthError, AuthorizationManager, AuthorizationMetadata};
use serde_json::Value;

use super::{AuthSettings, SharedCredentialStore, legacy};
use crate::net::endpoints;

/// What discovery found: the metadata (configured endpoints applied), and whether the server
/// published any — when it did not, the endpoints are rmcp's guesses (`/authorize`, `/token`
/// on the MCP server) unless the person configured them.
pub(crate) struct Discovered {
    pub(crate) manager: AuthorizationManager,
    pub(crate) metadata: AuthorizationMetadata,
    /// Nothing was published and the token endpoint is a guess: an error from it should say
    /// so and point at `auth.tokenUrl`.
    pub(crate) guessed: bool,
}

/// A manager for the server at `url` (using `store` when given) and the metadata of its
/// authorization server — not yet set on the manager, so callers can look at it first.
/// The error is a reason in plain words.
pub(crate) async fn discover(
    url: &str,
    challenge: Option<&str>,
    store: Option<&SharedCredentialStore>,
    settings: Option<&AuthSettings>,
) -> Result<Discovered, String> {
    let manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| e.to_string())?;
    discover_with(manager, url, challenge, store, settings).await
}

/// Like [`discover`], with a manager whose token requests carry DPoP proofs once `proofs` is
/// turned on (`super::dpop::prepare`), and whose OAuth requests go through Latch's checked
/// clients.
pub(crate) async fn discover_with_proofs(
    url: &str,
    challenge: Option<&str>,
    store: Option<&SharedCredentialStore>,
    settings: Option<&AuthSettings>,
    proofs: &super::dpop::TokenProofs,
) -> Result<Discovered, String> {
    let origin = url::Url::parse(url).map_err(|e| e.to_string())?;
    let client = super::dpop::DpopOAuthClient::new(origin, proofs.clone());
    let manager =
        AuthorizationManager::new_with_oauth_http_client(url, std::sync::Arc::new(client))
            .await
            .map_err(|e| e.to_string())?;
    discover_with(manager, url, challenge, store, settings).await
}

async fn discover_with(
    mut manager: AuthorizationManager,
    url: &str,
    challenge: Option<&str>,
    store: Option<&SharedCredentialStore>,
    settings: Option<&AuthSettings>,
) -> Result<Discovered, String> {
    if let Some(store) = store {
        manager.set_credential_store(store.clone());
    }
    let (mut metadata, published) = match manager.resolve_metadata_from_challenge(challenge).await {
        Ok(resolution) => (resolution.metadata, resolution.source.is_discovered()),
        // A 2025-03-26 server: no resource metadata, the AS document at the root naming an
        // issuer with a path. The newer issuer rule does not apply to it.
        Err(AuthError::AuthorizationServerMismatch { .. }) => {
            let metadata = legacy::root_metadata(url)
                .await
                .map_err(|reason| format!("the legacy metadata could not be used: {reason}"))?;
            (metadata, true)
        }
        Err(e) => return Err(e.to_string()),
    };
    let configured_token = settings.is_some_and(|s| s.token_url.is_some());
    if let Some(settings) = settings {
        apply_configured(&mut metadata, settings, published);
    }
    check_endpoints(url, &metadata)?;
    Ok(Discovered {
        manager,
        metadata,
        guessed: !published && !configured_token,
    })
}

/// The endpoints configured in `auth` replace the discovered ones. When nothing was published,
/// rmcp's guessed registration endpoint goes too: a provider whose endpoints had to be written
/// down by hand registers no clients at a guessed address.
pub(crate) fn apply_configured(
    metadata: &mut AuthorizationMetadata,
    settings: &AuthSettings,
    published: bool,
) {
    let configured = settings.token_url.is_some() || settings.authorization_url.is_some();
    if !published && configured {
        metadata.registration_endpoint = None;
    }
    if let Some(token) = &settings.token_url {
        metadata.token_endpoint = token.clone();
    }
    if let Some(authorization) = &settings.authorization_url {
        metadata.authorization_endpoint = authorization.clone();
    }
    for (field, value) in [
        (
            "device_authorization_endpoint",
            &settings.device_authorization_endpoint,
        ),
        ("revocation_endpoint", &settings.revocation_url),
    ] {
        if let Some(value) = value {
            metadata
                .additional_fields
                .insert(field.to_owned(), Value::String(value.clone()));
        }
    }
}

/// Every endpoint the metadata names passes [`endpoints::check_endpoint`] before anything is
/// sent to it or the browser is sent there (SPEC: validate every URL a server gives you).
fn check_endpoints(url: &str, metadata: &AuthorizationMetadata) -> Result<(), String> {
    let server = url::Url::parse(url).map_err(|e| e.to_string())?;
    let extra = |field: &str| {
        metadata
            .additional_fields
            .get(field)
            .and_then(Value::as_str)
    };
    for (what, endpoint) in [
        (
            "authorization_endpoint",
            Some(metadata.authorization_endpoint.as_str()),
        ),
        ("token_endpoint", Some(metadata.token_endpoint.as_str())),
        (
            "registration_endpoint",
            metadata.registration_endpoint.as_deref(),
        ),
        (
            "device_authorization_endpoint",
            extra("device_authorization_endpoint"),
        ),
    ] {
        let Some(endpoint) = endpoint else { continue };
        endpoints::check_endpoint(&server, endpoint).map_err(|reason| {
            format!(
                "its {what} ({}) cannot be used: {reason}",
                endpoints::shown(endpoint)
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> AuthorizationMetadata {
        serde_json::from_value(serde_json::json!({
            "authorization_endpoint": "https://mcp.example.com/authorize",
            "token_endpoint": "https://mcp.example.com/token",
            "registration_endpoint": "https://mcp.example.com/register",
        }))
        .unwrap()
    }

    #[test]
    fn configured_endpoints_win_and_drop_a_guessed_registration() {
        let settings = AuthSettings {
            token_url: Some("https://auth.example.com/o/token/".into()),
            revocation_url: Some("https://auth.example.com/o/revoke/".into()),
            ..AuthSettings::default()
        };
        // Nothing published: the guesses go, the configured ones stay.
        let mut guessed = metadata();
        apply_configured(&mut guessed, &settings, false);
        assert_eq!(guessed.token_endpoint, "https://auth.example.com/o/token/");
        assert_eq!(
            guessed.authorization_endpoint,
            "https://mcp.example.com/authorize"
        );
        assert_eq!(guessed.registration_endpoint, None);
        assert_eq!(
            guessed.additional_fields["revocation_endpoint"],
            "https://auth.example.com/o/revoke/"
        );
        // Published metadata keeps its registration endpoint; the configured token URL wins.
        let mut published = metadata();
        apply_configured(&mut published, &settings, true);
        assert_eq!(
            published.token_endpoint,
            "https://auth.example.com/o/token/"
        );
        assert!(published.registration_endpoint.is_some());
        // Nothing configured: nothing changes.
        let mut untouched = metadata();
        apply_configured(&mut untouched, &AuthSettings::default(), false);
        assert_eq!(untouched.token_endpoint, "https://mcp.example.com/token");
        assert!(untouched.registration_endpoint.is_some());
    }

    #[test]
    fn configured_endpoints_are_checked_like_discovered_ones() {
        let settings = AuthSettings {
            token_url: Some("http://169.254.169.254/latest/token".into()),
            ..AuthSettings::default()
        };
        let mut metadata = metadata();
        apply_configured(&mut metadata, &settings, false);
        let error = check_endpoints("https://mcp.example.com/mcp", &metadata).unwrap_err();
        assert!(
            error.contains("token_endpoint") && error.contains("link-local"),
            "{error}"
        );
    }
}
