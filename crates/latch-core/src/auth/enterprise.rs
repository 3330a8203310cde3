//! Enterprise-managed authorization (SEP-990): the person signs in to their company's identity
//! provider once (`latch login --org NAME`, [`company`]), and every server whose `auth.org`
//! names that organisation is signed in without a browser: the IdP's ID token (or, once it has
//! ended, the IdP refresh token) is exchanged at the IdP for an ID-JAG (RFC 8693; audience =
//! the server's authorization server, resource = the server), and the ID-JAG for the server's
//! access token (RFC 7523 `jwt-bearer`). rmcp's `enterprise` module makes both exchanges; this
//! module finds the servers, keeps the company session ([`session`]) and stores the result in
//! the server's grant store like any sign-in, so connections, the keeper and the bridge use it
//! unchanged. A 401 or an ended token runs the exchange again; when the company session itself
//! has ended, the error ([`EnterpriseError::needs_company_sign_in`]) names the organisation
//! once, so the app can show one "sign in to your company" for all its servers.

mod company;
mod session;

use oauth2::ClientSecret;
use rmcp::transport::auth::{
    CredentialStore as _, StoredCredentials, default_oauth_http_client,
    enterprise::{
        EmaAuthorizationServer, EmaClientAuthentication, EmaError, EmaExchangeRequest,
        EmaExchangeStage,
    },
};

pub use company::{OrgSignInOptions, adopt_id_token, sign_in_org};
use session::{ClientAuth, OrgSession, now};
pub use session::{OrgStatus, org_status, sign_out_org};

use super::{AuthSettings, SignInError, SignInOptions, SignedIn};

/// Why a sign-in through the person's company did not happen, in words that say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnterpriseError {
    /// Nobody has signed in to the organisation on this computer.
    #[error("sign in to your company ({org}) first: `latch login --org {org}`")]
    NotSignedIn { org: String },
    /// The company session has ended (the identity provider refused its tokens).
    #[error("sign in to your company ({org}) again: `latch login --org {org}`")]
    SessionEnded { org: String },
    #[error(
        "{server} signs in through your company but has no `auth.clientId`: give the client id its sign-in server knows Latch by (and `auth.clientSecret` if it has one)"
    )]
    NeedsClientId { server: String },
    #[error("could not find how {issuer} signs people in (organisation {org}): {reason}")]
    Discovery {
        org: String,
        issuer: String,
        reason: String,
    },
    #[error("signing in to your company ({org}) did not work: {reason}")]
    Company { org: String, reason: String },
    #[error("signing in to {server} through your company did not work: {reason}")]
    Exchange { server: String, reason: String },
    #[error("could not keep or read the sign-in to your company ({org}): {reason}")]
    NotSaved { org: String, reason: String },
}

impl EnterpriseError {
    /// The organisation the person must sign in to again, when that is the fix: one prompt
    /// covers every server of the organisation.
    pub fn needs_company_sign_in(&self) -> Option<&str> {
        match self {
            Self::NotSignedIn { org } | Self::SessionEnded { org } => Some(org),
            _ => None,
        }
    }
}

impl SignInError {
    /// The organisation to sign in to again, when this sign-in failed for that reason.
    pub fn needs_company_sign_in(&self) -> Option<&str> {
        match self {
            Self::Enterprise(e) => e.needs_company_sign_in(),
            _ => None,
        }
    }
}

pub(crate) async fn sign_in(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    challenge: Option<&str>,
    options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    let org = settings.org.clone().unwrap_or_default();
    let exchange = |reason: String| EnterpriseError::Exchange {
        server: server.to_owned(),
        reason,
    };
    let store = options
        .secrets
        .secret_store()
        .ok_or_else(|| EnterpriseError::NotSignedIn { org: org.clone() })?;
    let session = OrgSession::load(&store, &org)?
        .ok_or_else(|| EnterpriseError::NotSignedIn { org: org.clone() })?;
    let client_id = settings
        .client_id
        .clone()
        .ok_or_else(|| EnterpriseError::NeedsClientId {
            server: server.to_owned(),
        })?;
    let _guard = options
        .store
        .acquire_refresh_guard()
        .await
        .map_err(|e| exchange(format!("could not lock the grant for the exchange: {e}")))?;

    let discovered = super::discovery::discover(url, challenge, None, Some(settings))
        .await
        .map_err(|reason| SignInError::Discovery {
            server: server.to_owned(),
            reason,
        })?;
    let metadata = discovered.metadata;
    let as_issuer = metadata.issuer.clone().ok_or_else(|| {
        exchange("its sign-in server publishes no issuer, which the company exchange needs".into())
    })?;
    let supported: Option<Vec<String>> = metadata
        .additional_fields
        .get("token_endpoint_auth_methods_supported")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let resource_as = EmaAuthorizationServer::new(
        as_issuer.clone(),
        metadata.token_endpoint.clone(),
        client_id.clone(),
    )
    .with_client_authentication(authentication(
        ClientAuth::choose(settings.client_secret.is_some(), supported.as_deref()),
        settings.client_secret.as_deref(),
    ));
    let idp = EmaAuthorizationServer::new(
        session.issuer.clone(),
        session.token_endpoint.clone(),
        session.client_id.clone(),
    )
    .with_client_authentication(authentication(
        session.client_auth,
        session.client_secret.as_deref(),
    ));

    let refresh = session.refresh_token.clone().map(oauth2::RefreshToken::new);
    let request = match (session.live_id_token(), &refresh) {
        (Some(id_token), _) => {
            EmaExchangeRequest::new_with_id_token(idp, resource_as, url, id_token)
        }
        (None, Some(refresh)) => EmaExchangeRequest::new(idp, resource_as, url, refresh),
        (None, None) => return Err(EnterpriseError::SessionEnded { org }.into()),
    };
    let request = if settings.scopes.is_empty() {
        request
    } else {
        request.with_scopes(
            settings
                .scopes
                .iter()
                .filter(|s| *s != "offline_access")
                .cloned(),
        )
    };
    let http =
        default_oauth_http_client().map_err(|e| exchange(super::one_line(&e.to_string())))?;
    tracing::debug!(
        server,
        org,
        "exchanging the company sign-in for the server's token"
    );
    let token = request
        .exchange(&http, &http)
        .await
        .map_err(|e| failed(server, &org, &session.issuer, &metadata.token_endpoint, e))?;

    let mut scopes: Vec<String> = token.scopes.iter().cloned().collect();
    scopes.sort();
    let mut response = serde_json::json!({
        "access_token": token.access_token.secret(),
        "token_type": "bearer",
    });
    if let Some(lifetime) = token.expires_in {
        response["expires_in"] = lifetime.as_secs().into();
    }
    if !scopes.is_empty() {
        response["scope"] = scopes.join(" ").into();
    }
    let token_response = serde_json::from_value(response)
        .map_err(|e| exchange(format!("the token could not be kept: {e}")))?;
    let stored = StoredCredentials::new(
        client_id.clone(),
        Some(token_response),
        scopes.clone(),
        Some(now()),
    )
    .with_issuer(Some(as_issuer.clone()));
    options
        .store
        .save(stored)
        .await
        .map_err(|e| SignInError::NotSaved(e.to_string()))?;
    // A bearer token: a DPoP key left from an earlier sign-in must not make requests claim
    // the `DPoP` scheme for it.
    options.store.dpop_keys().clear().await?;
    tracing::info!(server, org, issuer = %as_issuer, "signed in through the company");
    Ok(SignedIn {
        issuer: Some(as_issuer),
        client_id,
        scopes,
    })
}

fn authentication(auth: ClientAuth, secret: Option<&str>) -> EmaClientAuthentication {
    match (auth, secret) {
        (ClientAuth::ClientSecretBasic, Some(s)) => {
            EmaClientAuthentication::ClientSecretBasic(ClientSecret::new(s.to_owned()))
        }
        (ClientAuth::ClientSecretPost, Some(s)) => {
            EmaClientAuthentication::ClientSecretPost(ClientSecret::new(s.to_owned()))
        }
        _ => EmaClientAuthentication::None,
    }
}

/// What a failed exchange means for the person. rmcp's errors hold no token or body.
fn failed(
    server: &str,
    org: &str,
    idp: &str,
    token_endpoint: &str,
    error: EmaError,
) -> EnterpriseError {
    let at = |stage: &EmaExchangeStage| match stage {
        EmaExchangeStage::IdentityProvider => format!("your company's identity provider ({idp})"),
        _ => format!("its sign-in server ({})", crate::net::shown(token_endpoint)),
    };
    let reason = match &error {
        EmaError::InvalidGrant(EmaExchangeStage::IdentityProvider)
        | EmaError::InsufficientUserAuthentication(EmaExchangeStage::IdentityProvider) => {
            return EnterpriseError::SessionEnded {
                org: org.to_owned(),
            };
        }
        EmaError::InvalidGrant(stage) => {
            format!("{} refused the company's grant (invalid_grant)", at(stage))
        }
        EmaError::InsufficientUserAuthentication(stage) => {
            format!(
                "{} wants a stronger sign-in (insufficient_user_authentication)",
                at(stage)
            )
        }
        EmaError::OAuthRejected {
            stage,
            status,
            code,
        } => {
            format!("{} refused the exchange (HTTP {status}, {code})", at(stage))
        }
        EmaError::RequestFailed(stage) => format!("{} could not be reached", at(stage)),
        EmaError::InvalidResponse { stage, message } => {
            format!("{} gave an answer Latch will not use: {message}", at(stage))
        }
        EmaError::InvalidRequest(message) if message.contains("must differ") => {
            "its sign-in server is your company's identity provider itself, so there is nothing to exchange: sign in to it directly (`\"auth\": {\"type\": \"oauth\"}`)".to_owned()
        }
        EmaError::InvalidRequest(message) => format!("the exchange could not be made: {message}"),
        other => super::one_line(&other.to_string()),
    };
    EnterpriseError::Exchange {
        server: server.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_company_session_asks_once_for_the_company_sign_in() {
        let ended = failed(
            "wiki",
            "acme",
            "https://acme.okta.com",
            "https://as.example/token",
            EmaError::InvalidGrant(EmaExchangeStage::IdentityProvider),
        );
        assert_eq!(
            ended.to_string(),
            "sign in to your company (acme) again: `latch login --org acme`"
        );
        assert_eq!(ended.needs_company_sign_in(), Some("acme"));
        let signed_in_error = SignInError::from(ended);
        assert_eq!(signed_in_error.needs_company_sign_in(), Some("acme"));

        let at_server = failed(
            "wiki",
            "acme",
            "https://acme.okta.com",
            "https://as.example/token",
            EmaError::OAuthRejected {
                stage: EmaExchangeStage::ResourceAuthorizationServer,
                status: 401,
                code: "invalid_client",
            },
        );
        assert_eq!(at_server.needs_company_sign_in(), None);
        let words = at_server.to_string();
        assert!(
            words.starts_with(
                "signing in to wiki through your company did not work: its sign-in server ("
            ) && words.contains("invalid_client")
                && !words.contains('\n'),
            "{words}"
        );
        let never = EnterpriseError::NotSignedIn { org: "acme".into() };
        assert_eq!(
            never.to_string(),
            "sign in to your company (acme) first: `latch login --org acme`"
        );
    }
}
