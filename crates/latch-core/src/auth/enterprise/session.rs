//! The person's session at their company's identity provider, one per organisation, kept in
//! the secret store (the keychain) under `org:NAME` — never in the servers file, never in a
//! log. It holds what the token exchange needs on its own (the IdP's issuer and token
//! endpoint, Latch's client there and how it authenticates, the ID token and the IdP refresh
//! token), so renewing a server's token needs neither the browser nor the servers file.
//! Outside this module only [`OrgStatus`] — metadata — is seen.

use serde::{Deserialize, Serialize};

use super::EnterpriseError;
use crate::secrets::SecretStore;

/// What is known of an organisation's sign-in, never a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgStatus {
    /// When the person signed in to the company (Unix seconds).
    pub signed_in_at: u64,
    /// When the ID token ends (Unix seconds), if it says.
    pub id_token_expires_at: Option<u64>,
    /// The identity provider gave a refresh token: the session outlives the ID token.
    pub renewable: bool,
}

/// How Latch authenticates at the identity provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClientAuth {
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl ClientAuth {
    /// The method for a client with (or without) a secret, as the server's
    /// `token_endpoint_auth_methods_supported` allows: Basic when listed or nothing is
    /// listed (RFC 8414 §2), else the body.
    pub(crate) fn choose(has_secret: bool, supported: Option<&[String]>) -> Self {
        if !has_secret {
            return Self::None;
        }
        match supported {
            Some(list)
                if !list.iter().any(|m| m == "client_secret_basic")
                    && list.iter().any(|m| m == "client_secret_post") =>
            {
                Self::ClientSecretPost
            }
            _ => Self::ClientSecretBasic,
        }
    }
}

/// The stored session. Its Debug names no secret.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct OrgSession {
    pub(crate) issuer: String,
    pub(crate) token_endpoint: String,
    pub(crate) client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_secret: Option<String>,
    pub(crate) client_auth: ClientAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token_expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
    pub(crate) signed_in_at: u64,
}

impl std::fmt::Debug for OrgSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgSession")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// The store key of organisation `org`'s session (organisation names are plain: letters,
/// digits, `.`, `_`, `-`).
pub(crate) fn session_key(org: &str) -> String {
    format!("org:{org}")
}

impl OrgSession {
    pub(crate) fn status(&self) -> OrgStatus {
        OrgStatus {
            signed_in_at: self.signed_in_at,
            id_token_expires_at: self.id_token_expires_at,
            renewable: self.refresh_token.is_some(),
        }
    }

    /// The ID token, while it has more than a minute left.
    pub(crate) fn live_id_token(&self) -> Option<&str> {
        let token = self.id_token.as_deref()?;
        match self.id_token_expires_at {
            Some(exp) if exp <= now() + 60 => None,
            _ => Some(token),
        }
    }

    pub(crate) fn load(store: &SecretStore, org: &str) -> Result<Option<Self>, EnterpriseError> {
        let not_read = |reason: String| EnterpriseError::NotSaved {
            org: org.to_owned(),
            reason,
        };
        let Some(value) = store
            .get(&session_key(org))
            .map_err(|e| not_read(e.to_string()))?
        else {
            return Ok(None);
        };
        let text = value.expose_str().map_err(|e| not_read(e.to_string()))?;
        // A session that does not read (an older shape) is as good as none: sign in again.
        Ok(serde_json::from_str(text).ok())
    }

    pub(crate) fn save(&self, store: &SecretStore, org: &str) -> Result<(), EnterpriseError> {
        let text = serde_json::to_string(self).map_err(|e| EnterpriseError::NotSaved {
            org: org.to_owned(),
            reason: e.to_string(),
        })?;
        store
            .put(&session_key(org), text.as_bytes())
            .map_err(|e| EnterpriseError::NotSaved {
                org: org.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// The status of organisation `org`'s sign-in; `None` when the person is not signed in.
pub fn org_status(store: &SecretStore, org: &str) -> Result<Option<OrgStatus>, EnterpriseError> {
    Ok(OrgSession::load(store, org)?.map(|s| s.status()))
}

/// Forget organisation `org`'s sign-in (its ID token and refresh token). `true` when there
/// was one. The servers' tokens already exchanged stay until they end.
pub fn sign_out_org(store: &SecretStore, org: &str) -> Result<bool, EnterpriseError> {
    let had = store
        .get(&session_key(org))
        .map_err(|e| EnterpriseError::NotSaved {
            org: org.to_owned(),
            reason: e.to_string(),
        })?
        .is_some();
    store
        .delete(&session_key(org))
        .map_err(|e| EnterpriseError::NotSaved {
            org: org.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(had)
}

/// The `exp` claim of a JWT, read without checking its signature (the token came straight
/// from the identity provider, or from the person's own tooling).
pub(crate) fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: Option<u64>, refresh: bool) -> OrgSession {
        OrgSession {
            issuer: "https://idp.example".into(),
            token_endpoint: "https://idp.example/token".into(),
            client_id: "latch".into(),
            client_secret: Some("idp-secret".into()),
            client_auth: ClientAuth::ClientSecretBasic,
            id_token: Some("header.payload.signature".into()),
            id_token_expires_at: exp,
            refresh_token: refresh.then(|| "refresh-secret".into()),
            signed_in_at: 1,
        }
    }

    #[test]
    fn sessions_round_trip_in_the_store_and_never_print_a_token() {
        let store = SecretStore::memory();
        assert_eq!(org_status(&store, "acme").unwrap(), None);
        let s = session(Some(now() + 3600), true);
        s.save(&store, "acme").unwrap();
        let status = org_status(&store, "acme").unwrap().unwrap();
        assert!(status.renewable && status.id_token_expires_at.is_some());
        let shown = format!(
            "{:?} {:?}",
            OrgSession::load(&store, "acme").unwrap(),
            status
        );
        for secret in ["idp-secret", "refresh-secret", "header.payload"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(sign_out_org(&store, "acme").unwrap());
        assert!(!sign_out_org(&store, "acme").unwrap());
        assert_eq!(org_status(&store, "acme").unwrap(), None);
    }

    #[test]
    fn an_id_token_about_to_end_is_not_used() {
        assert!(session(Some(now() + 3600), false).live_id_token().is_some());
        assert!(session(Some(now() + 30), false).live_id_token().is_none());
        assert!(session(None, false).live_id_token().is_some());
    }

    #[test]
    fn basic_unless_only_post_is_offered() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(ClientAuth::choose(false, None), ClientAuth::None);
        assert_eq!(
            ClientAuth::choose(true, None),
            ClientAuth::ClientSecretBasic
        );
        assert_eq!(
            ClientAuth::choose(true, Some(&list(&["client_secret_post"]))),
            ClientAuth::ClientSecretPost
        );
        assert_eq!(
            ClientAuth::choose(
                true,
                Some(&list(&["client_secret_post", "client_secret_basic"]))
            ),
            ClientAuth::ClientSecretBasic
        );
    }
}
