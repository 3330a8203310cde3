//! Signing out: tell the authorization server to revoke the grant (RFC 7009) when it has a
//! revocation endpoint — the refresh token first, which ends the whole grant — then delete the
//! tokens here. rmcp has no revocation, so this is the one request Latch makes itself.

use serde_json::Value;
use zeroize::Zeroizing;

use super::{SharedCredentialStore, browser::check_url_to_open};

/// What signing out did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOut {
    /// A grant was stored.
    pub had_grant: bool,
    /// The authorization server confirmed the revocation.
    pub revoked: bool,
    /// Why it could not be revoked there, when it could not (the local tokens are gone anyway).
    pub revoke_problem: Option<String>,
}

/// Revoke the grant of the server at `url` (best effort) and delete it from `store`.
pub async fn sign_out(url: &str, store: &SharedCredentialStore) -> Result<SignedOut, String> {
    let stored = store.load().await.map_err(|e| e.to_string())?;
    let Some(stored) = stored else {
        return Ok(SignedOut {
            had_grant: false,
            revoked: false,
            revoke_problem: None,
        });
    };
    let mut outcome = SignedOut {
        had_grant: true,
        revoked: false,
        revoke_problem: None,
    };
    if stored.token_response.is_some() {
        match revoke(url, &stored).await {
            Ok(()) => outcome.revoked = true,
            Err(problem) => outcome.revoke_problem = Some(problem),
        }
    }
    store.clear().await.map_err(|e| e.to_string())?;
    Ok(outcome)
}

async fn revoke(
    url: &str,
    stored: &rmcp::transport::auth::StoredCredentials,
) -> Result<(), String> {
    let manager = rmcp::transport::auth::AuthorizationManager::new(url)
        .await
        .map_err(|e| e.to_string())?;
    let metadata = manager
        .resolve_metadata()
        .await
        .map_err(|e| format!("could not find the sign-in server: {e}"))?
        .metadata;
    let endpoint = metadata
        .additional_fields
        .get("revocation_endpoint")
        .and_then(Value::as_str)
        .ok_or("the sign-in server offers no revocation")?
        .to_owned();
    check_url_to_open(&endpoint).map_err(|e| format!("revocation endpoint: {e}"))?;
    // Read the token through the JSON form; the copy we keep is wiped after use.
    let json = serde_json::to_value(stored).map_err(|e| e.to_string())?;
    let (token, hint) = match (
        json["token_response"]["refresh_token"].as_str(),
        json["token_response"]["access_token"].as_str(),
    ) {
        (Some(refresh), _) => (Zeroizing::new(refresh.to_owned()), "refresh_token"),
        (None, Some(access)) => (Zeroizing::new(access.to_owned()), "access_token"),
        (None, None) => return Err("no token to revoke".into()),
    };
    drop(json);
    let form = [
        ("token", token.as_str()),
        ("token_type_hint", hint),
        ("client_id", stored.client_id.as_str()),
    ];
    let response = crate::connection::http_client()
        .post(&endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "the revocation endpoint answered HTTP {}",
            response.status().as_u16()
        ))
    }
}
