//! Which client the device grant signs in as, in the order SPEC.md sets: the pre-registered
//! client from the settings, then the Client ID Metadata Document URL (when the authorization
//! server supports it), then the registration this server already has in the store (same
//! issuer), then a new Dynamic Client Registration. rmcp's `register_client` registers only the
//! authorization-code grant (with a redirect URI), which an authorization server then refuses
//! for the device grant, so Latch sends this one registration itself: a public native client
//! with the device-code and refresh-token grants.

use rmcp::transport::auth::{AuthorizationMetadata, StoredCredentials};
use serde::Deserialize;
use serde_json::json;

use super::http::OAuthHttp;
use crate::auth::{AuthSettings, check_url_to_open};

/// RFC 8628's grant type.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Where the client identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    /// `auth.clientId` (and `auth.clientSecret`) from the settings.
    Preregistered { client_id: String },
    /// The Client ID Metadata Document URL is the client id.
    MetadataDocument { url: String },
    /// The client this server's stored grant belongs to (a registration made earlier).
    Stored { client_id: String },
    /// None yet: register one.
    Register,
}

impl Identity {
    /// The first identity available, in the order pre-registered → CIMD → stored → register.
    pub(crate) fn choose(
        settings: &AuthSettings,
        metadata: &AuthorizationMetadata,
        stored: Option<&StoredCredentials>,
    ) -> Self {
        if let Some(client_id) = &settings.client_id {
            return Self::Preregistered {
                client_id: client_id.clone(),
            };
        }
        let cimd_supported = metadata
            .additional_fields
            .get("client_id_metadata_document_supported")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        if let Some(url) = &settings.client_metadata_url
            && cimd_supported
        {
            return Self::MetadataDocument { url: url.clone() };
        }
        // A registration is only good with the authorization server that made it.
        if let Some(stored) = stored
            && !stored.client_id.is_empty()
            && stored.issuer.is_some()
            && stored.issuer == metadata.issuer
        {
            return Self::Stored {
                client_id: stored.client_id.clone(),
            };
        }
        Self::Register
    }
}

/// A client the authorization server registered for Latch.
pub(crate) struct Registered {
    pub(crate) client_id: String,
    /// Only when the server insisted on a confidential client; kept in memory for this sign-in.
    pub(crate) client_secret: Option<String>,
}

#[derive(Deserialize)]
struct RegistrationAnswer {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Register a public native client allowed the device grant (RFC 7591). No redirect URI and
/// no response types: the device grant has neither. No `scope` either, so the registration
/// does not cap what later sign-ins may ask for.
pub(crate) async fn register(http: &OAuthHttp, endpoint: &str) -> Result<Registered, String> {
    let url = check_url_to_open(endpoint).map_err(|e| format!("registration endpoint: {e}"))?;
    let body = json!({
        "client_name": "Latch",
        "application_type": "native",
        "grant_types": [DEVICE_CODE_GRANT, "refresh_token"],
        "response_types": [],
        "token_endpoint_auth_method": "none",
    });
    let response = http
        .reqwest()
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| crate::words::chain(&e.without_url()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| crate::words::chain(&e.without_url()))?;
    if !status.is_success() {
        // Only the OAuth error fields: the rest of an answer is nothing the person needs.
        return Err(match serde_json::from_slice::<OAuthErrorAnswer>(&bytes) {
            Ok(error) => format!(
                "HTTP {}: {}{}",
                status.as_u16(),
                error.error,
                error
                    .error_description
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            Err(_) => format!("HTTP {}", status.as_u16()),
        });
    }
    let answer: RegistrationAnswer = serde_json::from_slice(&bytes)
        .map_err(|_| "the registration answer has no `client_id`".to_owned())?;
    if answer.client_id.is_empty() {
        return Err("the registration answer has an empty `client_id`".to_owned());
    }
    Ok(Registered {
        client_id: answer.client_id,
        // An empty secret means a public client (rmcp reads it the same way).
        client_secret: answer.client_secret.filter(|s| !s.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(issuer: &str, cimd: bool) -> AuthorizationMetadata {
        let mut metadata: AuthorizationMetadata = serde_json::from_value(json!({
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "issuer": issuer,
        }))
        .unwrap();
        if cimd {
            metadata
                .additional_fields
                .insert("client_id_metadata_document_supported".into(), json!(true));
        }
        metadata
    }

    fn stored(client_id: &str, issuer: Option<&str>) -> StoredCredentials {
        StoredCredentials::new(client_id.into(), None, vec![], None)
            .with_issuer(issuer.map(str::to_owned))
    }

    #[test]
    fn identities_come_in_the_spec_order() {
        let cimd_url = "https://latch.example/client.json";
        let all = AuthSettings {
            client_id: Some("pre".into()),
            client_metadata_url: Some(cimd_url.into()),
            ..AuthSettings::default()
        };
        let old = stored("dcr-1", Some("https://as.example"));
        let as_meta = metadata("https://as.example", true);

        assert_eq!(
            Identity::choose(&all, &as_meta, Some(&old)),
            Identity::Preregistered {
                client_id: "pre".into()
            }
        );
        let no_pre = AuthSettings {
            client_id: None,
            ..all.clone()
        };
        assert_eq!(
            Identity::choose(&no_pre, &as_meta, Some(&old)),
            Identity::MetadataDocument {
                url: cimd_url.into()
            }
        );
        // CIMD only when the authorization server says it reads such documents.
        assert_eq!(
            Identity::choose(&no_pre, &metadata("https://as.example", false), Some(&old)),
            Identity::Stored {
                client_id: "dcr-1".into()
            }
        );
        let nothing = AuthSettings::default();
        assert_eq!(
            Identity::choose(&nothing, &as_meta, Some(&old)),
            Identity::Stored {
                client_id: "dcr-1".into()
            }
        );
        // Another authorization server's registration, or one of unknown origin, is not reused.
        assert_eq!(
            Identity::choose(
                &nothing,
                &metadata("https://other.example", false),
                Some(&old)
            ),
            Identity::Register
        );
        assert_eq!(
            Identity::choose(&nothing, &as_meta, Some(&stored("dcr-1", None))),
            Identity::Register
        );
        assert_eq!(
            Identity::choose(&nothing, &as_meta, None),
            Identity::Register
        );
    }
}
