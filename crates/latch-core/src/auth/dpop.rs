//! DPoP-bound tokens (RFC 9449, SEP-1932): a token bound to a key Latch holds is useless to
//! whoever steals it without the key. When the authorization server lists ES256 in
//! `dpop_signing_alg_values_supported` (and `auth.dpop` is not `false`), or `auth.dpop` is
//! `true`, a grant gets its own ES256 key ([`key`], kept by [`slot`] next to the grant), every
//! token request carries a proof ([`oauth_client`], which also answers the authorization
//! server's `use_dpop_nonce`), and every MCP request carries the token with the `DPoP` scheme
//! and a proof (`connection::http::dpop`). rmcp accepts `token_type: DPoP` answers as they are
//! (oauth2's token type is open-ended); what it lacks — keys, proofs, nonces, the `DPoP`
//! scheme — is here.

mod key;
mod oauth_client;
#[cfg(test)]
pub(crate) mod peer;
mod slot;

use rmcp::transport::auth::{AuthorizationMetadata, OAuthTokenResponse};

#[cfg(test)]
pub(crate) use key::ath;
pub(crate) use key::{DpopKey, ProofFor};
pub(crate) use oauth_client::{DpopOAuthClient, TokenProofs};

pub(crate) use slot::{KeySlot, key_name};

use super::{AuthSettings, DpopChoice};

/// Why a DPoP key could not be made, kept or used, in words that say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    #[error(
        "{server} is set to use DPoP-bound tokens (`auth.dpop: true`), but its sign-in server {issuer} does not offer them (no ES256 in its dpop_signing_alg_values_supported); remove `auth.dpop` or set it to `false`"
    )]
    NotOffered { server: String, issuer: String },
    #[error("Latch could not keep the key its DPoP-bound tokens need: {0}")]
    KeyStore(String),
}

/// Does the authorization server behind `metadata` bind tokens with ES256 keys?
pub(crate) fn offered(metadata: &AuthorizationMetadata) -> bool {
    metadata
        .additional_fields
        .get("dpop_signing_alg_values_supported")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|algs| algs.iter().any(|a| a.as_str() == Some("ES256")))
}

/// Should `server`'s sign-in ask for DPoP-bound tokens? `auth.dpop: true` at a server that
/// does not offer them is an error naming it.
pub(crate) fn wanted(
    server: &str,
    settings: &AuthSettings,
    metadata: &AuthorizationMetadata,
) -> Result<bool, DpopError> {
    match settings.dpop {
        DpopChoice::Never => Ok(false),
        DpopChoice::Auto => Ok(offered(metadata)),
        DpopChoice::Always if offered(metadata) => Ok(true),
        DpopChoice::Always => Err(DpopError::NotOffered {
            server: server.to_owned(),
            issuer: crate::net::shown(
                metadata
                    .issuer
                    .as_deref()
                    .unwrap_or(&metadata.token_endpoint),
            ),
        }),
    }
}

/// Is this token response a DPoP-bound token (`token_type: DPoP`, any case)?
pub(crate) fn is_bound(token: &OAuthTokenResponse) -> bool {
    use oauth2::TokenResponse as _;
    token.token_type().as_ref().eq_ignore_ascii_case("dpop")
}

/// Set a sign-in up for DPoP when it is wanted: the grant's key (made now if it has none) on
/// the token requests. Not wanted: the grant's old key, if any, is deleted.
pub(crate) async fn prepare(
    server: &str,
    settings: &AuthSettings,
    metadata: &AuthorizationMetadata,
    slot: &KeySlot,
    proofs: &TokenProofs,
) -> Result<bool, DpopError> {
    if !wanted(server, settings, metadata)? {
        slot.clear().await?;
        return Ok(false);
    }
    let key = slot.get_or_create().await?;
    proofs.enable(key, &metadata.token_endpoint);
    tracing::info!(server, "asking for DPoP-bound tokens");
    Ok(true)
}

/// After a sign-in that asked for DPoP: when the server answered with a plain bearer token
/// anyway, the key is not needed (and requests must not claim the `DPoP` scheme).
pub(crate) async fn settle(
    server: &str,
    slot: &KeySlot,
    token: Option<&OAuthTokenResponse>,
) -> Result<(), DpopError> {
    if token.is_some_and(is_bound) {
        return Ok(());
    }
    tracing::warn!(
        server,
        "the sign-in server gave a bearer token despite the DPoP proof; using it as one"
    );
    slot.clear().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(algs: serde_json::Value) -> AuthorizationMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://as.example.com",
            "authorization_endpoint": "https://as.example.com/authorize",
            "token_endpoint": "https://as.example.com/token",
            "dpop_signing_alg_values_supported": algs,
        }))
        .unwrap()
    }

    #[test]
    fn dpop_is_used_when_offered_unless_refused_and_required_only_where_offered() {
        let offered = metadata(serde_json::json!(["RS256", "ES256"]));
        let other_algs = metadata(serde_json::json!(["RS256"]));
        let with = |dpop| AuthSettings {
            dpop,
            ..AuthSettings::default()
        };
        assert!(wanted("s", &with(DpopChoice::Auto), &offered).unwrap());
        assert!(!wanted("s", &with(DpopChoice::Auto), &other_algs).unwrap());
        assert!(!wanted("s", &with(DpopChoice::Never), &offered).unwrap());
        assert!(wanted("s", &with(DpopChoice::Always), &offered).unwrap());
        let error = wanted("notes", &with(DpopChoice::Always), &other_algs)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("notes") && error.contains("as.example.com") && !error.contains('\n'),
            "{error}"
        );
    }
}
