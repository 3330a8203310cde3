//! Finding a server's authorization server, shared by every grant: rmcp's discovery (the 401
//! challenge's resource metadata, the well-known places, the AS metadata order), plus the
//! 2025-03-26 fallback that reads the root document rmcp's newer issuer rule refuses.

use rmcp::transport::auth::{AuthError, AuthorizationManager, AuthorizationMetadata};

use super::{SharedCredentialStore, endpoints, legacy};

/// A manager for the server at `url` (using `store` when given) and the metadata of its
/// authorization server — not yet set on the manager, so callers can look at it first.
/// The error is a reason in plain words.
pub(crate) async fn discover(
    url: &str,
    challenge: Option<&str>,
    store: Option<&SharedCredentialStore>,
) -> Result<(AuthorizationManager, AuthorizationMetadata), String> {
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(store) = store {
        manager.set_credential_store(store.clone());
    }
    let metadata = match manager.resolve_metadata_from_challenge(challenge).await {
        Ok(resolution) => resolution.metadata,
        // A 2025-03-26 server: no resource metadata, the AS document at the root naming an
        // issuer with a path. The newer issuer rule does not apply to it.
        Err(AuthError::AuthorizationServerMismatch { .. }) => legacy::root_metadata(url)
            .await
            .map_err(|reason| format!("the legacy metadata could not be used: {reason}"))?,
        Err(e) => return Err(e.to_string()),
    };
    check_endpoints(url, &metadata)?;
    Ok((manager, metadata))
}

/// Every endpoint the metadata names passes [`endpoints::check_endpoint`] before anything is
/// sent to it or the browser is sent there (SPEC: validate every URL a server gives you).
fn check_endpoints(url: &str, metadata: &AuthorizationMetadata) -> Result<(), String> {
    let server = url::Url::parse(url).map_err(|e| e.to_string())?;
    let device = metadata
        .additional_fields
        .get("device_authorization_endpoint")
        .and_then(|v| v.as_str());
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
        ("device_authorization_endpoint", device),
    ] {
        let Some(endpoint) = endpoint else { continue };
        endpoints::check_endpoint(&server, endpoint).map_err(|reason| {
            format!(
                "its metadata names an unsafe {what} ({}): {reason}",
                endpoints::shown(endpoint)
            )
        })?;
    }
    Ok(())
}
