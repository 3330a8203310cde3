//! The device authorization grant (RFC 8628), for signing in where no browser can come back to
//! Latch: discovery through rmcp (the device authorization endpoint from the authorization
//! server's metadata, or `auth.deviceAuthorizationEndpoint`), a client identity that may use
//! the grant, then the `oauth2` crate asks for the codes, Latch shows the user code and the
//! verification URI (as [`Event::DeviceCode`]), and polls until the person approves or refuses
//! on the device page or the code expires. The grant is stored exactly as the browser flow
//! stores it, so the connection's rmcp `AuthClient` uses and refreshes it. The device code and
//! the tokens never reach a log line or an error; the user code is meant to be shown.

mod http;
mod identity;
mod poll;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use oauth2::TokenResponse;
use rmcp::transport::auth::{
    AuthorizationManager, AuthorizationMetadata, CredentialStore, StoredCredentials,
};

use self::{
    http::OAuthHttp,
    identity::Identity,
    poll::{DeviceClient, DeviceCodes, Refusal},
};
use super::{AuthSettings, SignInError, SignInOptions, SignedIn, check_url_to_open};
use crate::events::Event;

/// Test hook: when set, the second poll goes out at once instead of after `interval`, so a
/// test peer that enforces the interval answers `slow_down` (and the test sees it honoured).
/// Never set it otherwise.
const EARLY_POLL_ENV: &str = "LATCH_TEST_DEVICE_EARLY_POLL";

/// How a device sign-in can end without a grant, in words for the person.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    #[error(
        "{server}'s sign-in server offers no device sign-in (its metadata names no device authorization endpoint) — set the server's `auth.deviceAuthorizationEndpoint`, or sign in with the browser"
    )]
    NoEndpoint { server: String },
    #[error(
        "{server}'s sign-in server offers no automatic registration: register a client there that may use the device grant, and put its id in the server's `auth.clientId`"
    )]
    NeedsClientId { server: String },
    #[error("could not register Latch for device sign-in with {server}'s sign-in server: {reason}")]
    Registration { server: String, reason: String },
    #[error(
        "the code expired before it was entered — run `latch login {server} --flow device` again"
    )]
    Expired { server: String },
    #[error("sign-in was refused on the device page")]
    Denied { server: String },
    #[error("{server}'s sign-in server did not accept the device sign-in: {reason}")]
    Rejected { server: String, reason: String },
}

impl DeviceError {
    /// True when the person can simply start again (expired or refused codes).
    pub fn can_retry(&self) -> bool {
        matches!(self, Self::Expired { .. } | Self::Denied { .. })
    }
}

/// The endpoints the grant uses, checked before anything is sent to them.
struct Endpoints {
    device: String,
    token: String,
}

impl Endpoints {
    fn find(
        server: &str,
        settings: &AuthSettings,
        metadata: &AuthorizationMetadata,
    ) -> Result<Self, SignInError> {
        let device = settings
            .device_authorization_endpoint
            .clone()
            .or_else(|| {
                metadata
                    .additional_fields
                    .get("device_authorization_endpoint")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
            .ok_or_else(|| DeviceError::NoEndpoint {
                server: server.to_owned(),
            })?;
        for endpoint in [&device, &metadata.token_endpoint] {
            check_url_to_open(endpoint).map_err(|reason| SignInError::Discovery {
                server: server.to_owned(),
                reason: format!("endpoint {endpoint}: {reason}"),
            })?;
        }
        Ok(Self {
            device,
            token: metadata.token_endpoint.clone(),
        })
    }
}

pub(crate) async fn sign_in(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    let discovery = |reason: String| SignInError::Discovery {
        server: server.to_owned(),
        reason,
    };
    let super::discovery::Discovered {
        mut manager,
        metadata,
        ..
    } = super::discovery::discover(url, None, None, Some(settings))
        .await
        .map_err(discovery)?;
    manager.set_metadata(metadata.clone());
    let endpoints = Endpoints::find(server, settings, &metadata)?;
    let scopes = scopes(&manager, settings, &metadata).await;
    let auth_methods: Vec<String> = metadata
        .additional_fields
        .get("token_endpoint_auth_methods_supported")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let http = OAuthHttp::get();
    let stored = options.store.load().await.ok().flatten();

    // The codes, from the first client identity the server takes. A registration this server
    // had from before that the server no longer takes for this grant is replaced, once.
    let mut identity = Identity::choose(settings, &metadata, stored.as_ref());
    let (client_id, client, codes) = loop {
        let (client_id, secret) =
            credentials(server, &identity, settings, &metadata, &http).await?;
        let client = poll::client(
            &client_id,
            secret.as_deref(),
            &endpoints.device,
            &endpoints.token,
            &auth_methods,
        )
        .map_err(discovery)?;
        match poll::request_codes(&client, &scopes, url, &http).await {
            Ok(codes) => break (client_id, client, codes),
            Err(refusal)
                if matches!(identity, Identity::Stored { .. })
                    && matches!(
                        refusal.code(),
                        Some("invalid_client" | "unauthorized_client" | "invalid_request")
                    ) =>
            {
                tracing::info!(
                    server,
                    reason = %refusal.reason(),
                    "the stored registration cannot use the device grant; registering again"
                );
                identity = Identity::Register;
            }
            Err(refusal) => return Err(refused(server, refusal)),
        }
    };

    show_codes(server, &codes, options)?;
    let token = wait_for_approval(server, url, &client, &codes, &http, options.timeout).await?;

    let granted_scopes = token
        .scopes()
        .map(|granted| granted.iter().map(|s| s.to_string()).collect())
        .unwrap_or_else(|| scopes.clone());
    let received_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let credentials = StoredCredentials::new(
        client_id.clone(),
        Some(token),
        granted_scopes.clone(),
        Some(received_at),
    )
    .with_issuer(metadata.issuer.clone());
    options
        .store
        .save(credentials)
        .await
        .map_err(|e| SignInError::NotSaved(e.to_string()))?;
    tracing::info!(server, issuer = ?metadata.issuer, "signed in with a device code");
    Ok(SignedIn {
        issuer: metadata.issuer,
        client_id,
        scopes: crate::secrets::scope_list(granted_scopes),
    })
}

/// The client id (and secret, if any) of `identity`, registering a client when it says so.
async fn credentials(
    server: &str,
    identity: &Identity,
    settings: &AuthSettings,
    metadata: &AuthorizationMetadata,
    http: &OAuthHttp,
) -> Result<(String, Option<String>), SignInError> {
    Ok(match identity {
        Identity::Preregistered { client_id } => {
            (client_id.clone(), settings.client_secret.clone())
        }
        Identity::MetadataDocument { url } => (url.clone(), None),
        Identity::Stored { client_id } => (client_id.clone(), None),
        Identity::Register => {
            let endpoint = metadata.registration_endpoint.as_deref().ok_or_else(|| {
                DeviceError::NeedsClientId {
                    server: server.to_owned(),
                }
            })?;
            let registered = identity::register(http, endpoint).await.map_err(|reason| {
                DeviceError::Registration {
                    server: server.to_owned(),
                    reason,
                }
            })?;
            if registered.client_secret.is_some() {
                tracing::warn!(
                    server,
                    "the sign-in server registered a confidential client; refreshing this grant will need a new sign-in"
                );
            }
            tracing::info!(server, "registered Latch for device sign-in");
            (registered.client_id, registered.client_secret)
        }
    })
}

/// The configured scopes, else what the resource metadata asks for; with `offline_access`
/// when the authorization server offers it, so a refresh token comes.
async fn scopes(
    manager: &AuthorizationManager,
    settings: &AuthSettings,
    metadata: &AuthorizationMetadata,
) -> Vec<String> {
    if settings.scopes.is_empty() {
        return manager.select_initial_scopes(&[]).await;
    }
    let mut scopes = settings.scopes.clone();
    let offers_offline = metadata
        .scopes_supported
        .as_ref()
        .is_some_and(|s| s.iter().any(|s| s == "offline_access"));
    if offers_offline && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".to_owned());
    }
    scopes
}

/// Tell the person where to go and what to type.
fn show_codes(
    server: &str,
    codes: &DeviceCodes,
    options: &SignInOptions,
) -> Result<(), SignInError> {
    let verification_uri = codes.verification_uri().as_str();
    check_url_to_open(verification_uri).map_err(SignInError::UnsafeUrl)?;
    let complete = codes
        .verification_uri_complete()
        .map(|u| u.secret().clone())
        .filter(|u| match check_url_to_open(u) {
            Ok(_) => true,
            Err(reason) => {
                tracing::warn!(server, %reason, "ignoring the server's verification_uri_complete");
                false
            }
        });
    tracing::info!(
        server,
        expires_in = codes.expires_in().as_secs(),
        "waiting for the device code to be entered"
    );
    options.events.publish(Event::DeviceCode {
        server: server.to_owned(),
        user_code: codes.user_code().secret().clone(),
        verification_uri: verification_uri.to_owned(),
        verification_uri_complete: complete,
        expires_in: codes.expires_in().as_secs(),
    });
    Ok(())
}

/// Poll until approved, refused or expired — or until the sign-in's own timeout, whichever
/// comes first.
async fn wait_for_approval(
    server: &str,
    resource: &str,
    client: &DeviceClient,
    codes: &DeviceCodes,
    http: &OAuthHttp,
    timeout: Duration,
) -> Result<rmcp::transport::auth::OAuthTokenResponse, SignInError> {
    let early = AtomicBool::new(std::env::var_os(EARLY_POLL_ENV).is_some());
    let sleep = |interval: Duration| {
        let wait = if early.swap(false, Ordering::Relaxed) {
            Duration::ZERO
        } else {
            interval
        };
        tokio::time::sleep(wait)
    };
    match tokio::time::timeout(timeout, poll::poll(client, codes, resource, http, sleep)).await {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(refusal)) => Err(refused(server, refusal)),
        Err(_) => Err(SignInError::TimedOut {
            minutes: timeout.as_secs().div_ceil(60),
        }),
    }
}

fn refused(server: &str, refusal: Refusal) -> SignInError {
    let server = server.to_owned();
    match refusal {
        Refusal::Expired => DeviceError::Expired { server },
        Refusal::Denied => DeviceError::Denied { server },
        other => DeviceError::Rejected {
            server,
            reason: other.reason(),
        },
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_say_what_to_do() {
        let expired: SignInError = refused("work", Refusal::Expired);
        assert_eq!(
            expired.to_string(),
            "the code expired before it was entered — run `latch login work --flow device` again"
        );
        let denied: SignInError = refused("work", Refusal::Denied);
        assert_eq!(denied.to_string(), "sign-in was refused on the device page");
        let other = refused(
            "work",
            Refusal::Error {
                code: "invalid_target".into(),
                description: Some("resource indicator is missing".into()),
            },
        );
        assert_eq!(
            other.to_string(),
            "work's sign-in server did not accept the device sign-in: invalid_target (resource indicator is missing)"
        );
    }

    #[test]
    fn the_device_endpoint_comes_from_the_settings_or_the_metadata() {
        let metadata: AuthorizationMetadata = serde_json::from_value(serde_json::json!({
            "authorization_endpoint": "https://as.example/auth",
            "token_endpoint": "https://as.example/token",
            "device_authorization_endpoint": "https://as.example/device/auth",
        }))
        .unwrap();
        let found = Endpoints::find("s", &AuthSettings::default(), &metadata).unwrap();
        assert_eq!(found.device, "https://as.example/device/auth");
        assert_eq!(found.token, "https://as.example/token");

        let settings = AuthSettings {
            device_authorization_endpoint: Some("https://as.example/other".into()),
            ..AuthSettings::default()
        };
        assert_eq!(
            Endpoints::find("s", &settings, &metadata).unwrap().device,
            "https://as.example/other"
        );

        let mut without = metadata.clone();
        without.additional_fields.clear();
        let error = Endpoints::find("s", &AuthSettings::default(), &without)
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .contains("auth.deviceAuthorizationEndpoint")
        );

        let unsafe_endpoint = AuthSettings {
            device_authorization_endpoint: Some("file:///etc/passwd".into()),
            ..AuthSettings::default()
        };
        assert!(Endpoints::find("s", &unsafe_endpoint, &metadata).is_err());
    }
}
