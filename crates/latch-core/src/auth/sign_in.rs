//! One sign-in, start to finish: discover the authorization server (from the 401 challenge when
//! there is one), pick the client identity (pre-registered → CIMD → DCR), send the person to the
//! authorization page, wait for the callback (at most 5 minutes), exchange the code and store
//! the grant. rmcp does the protocol; this is the orchestration and the plain-words errors.

use std::{sync::Arc, time::Duration};

use rmcp::transport::auth::{AuthError, AuthorizationRequest, AuthorizationSession};
use url::Url;

use super::{
    AuthSettings, BrowserMode, Flow, SharedCredentialStore,
    browser::{check_url_to_open, open_in_system_browser},
    callback::CallbackListener,
    headless,
};
use crate::{
    config::{NoSecrets, SecretSource},
    events::{Event, EventBus},
};

/// How to run a sign-in.
#[derive(Clone)]
pub struct SignInOptions {
    pub browser: BrowserMode,
    /// Run this flow instead of the configured one (`latch login --flow`).
    pub flow: Option<Flow>,
    /// Where named client credentials and `${secret:…}` values are read.
    pub secrets: Arc<dyn SecretSource>,
    pub events: EventBus,
    /// Where the grant is stored (and read back by the connection).
    pub store: SharedCredentialStore,
    /// How long to wait for the person to finish (default 5 minutes).
    pub timeout: Duration,
}

impl SignInOptions {
    pub fn new(store: SharedCredentialStore) -> Self {
        Self {
            browser: BrowserMode::System,
            flow: None,
            secrets: Arc::new(NoSecrets),
            events: EventBus::new(),
            store,
            timeout: Duration::from_secs(300),
        }
    }
}

/// What a finished sign-in knows (never a token).
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub issuer: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    #[error("could not find how {server} signs people in: {reason}")]
    Discovery { server: String, reason: String },
    #[error(
        "{server} needs a client id: its sign-in server offers no automatic registration. Register Latch there with the redirect URI {redirect_uri}, then put the id in the server's `auth.clientId`"
    )]
    NeedsClientId {
        server: String,
        redirect_uri: String,
    },
    #[error("could not register Latch with {server}'s sign-in server: {reason}")]
    Registration { server: String, reason: String },
    #[error(
        "the callback port {port} is in use by another program — close it or pick another `auth.callbackPort`"
    )]
    PortBusy { port: u16 },
    #[error("could not listen for the sign-in callback on 127.0.0.1: {0}")]
    Listener(std::io::Error),
    #[error("the sign-in server gave an address Latch will not open: {0}")]
    UnsafeUrl(String),
    #[error("headless sign-in stopped: {0}")]
    Headless(String),
    #[error("nobody finished signing in within {minutes} minutes — start again when ready")]
    TimedOut { minutes: u64 },
    #[error("sign-in was refused: {0}")]
    Refused(String),
    #[error("the sign-in server did not accept the sign-in: {0}")]
    Exchange(String),
    /// The sign-in worked, but its grant could not be kept (a full disk, no keychain…); the
    /// sign-in kept before, if any, is unchanged.
    #[error("signed in, but Latch could not save the sign-in: {0}")]
    NotSaved(String),
    #[error("{0}")]
    Unsupported(String),
    /// The device grant ended without a grant: expired or refused code, no device endpoint…
    #[error(transparent)]
    Device(#[from] super::device::DeviceError),
    /// Client credentials that are missing, unusable or refused (a rotated secret…).
    #[error(transparent)]
    ClientCredentials(#[from] super::client_credentials::ClientCredentialsError),
}

/// Sign in to the server at `url`. `challenge` is the server's `WWW-Authenticate` (from a 401
/// or a 403 `insufficient_scope`), which names the scopes to ask for.
pub async fn sign_in(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    challenge: Option<&str>,
    options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    match options.flow.unwrap_or_else(|| settings.effective_flow()) {
        Flow::ClientCredentials => {
            return super::client_credentials::sign_in(server, url, settings, challenge, options)
                .await;
        }
        Flow::Device => return super::device::sign_in(server, url, settings, options).await,
        Flow::Auto | Flow::Browser => {}
    }
    // A client registered earlier with this authorization server is used again; if the
    // server no longer knows it, register anew — once.
    match browser(server, url, settings, challenge, options, true).await {
        (Err(error), true) if error.may_mean_unknown_client() => {
            tracing::info!(
                server,
                "the stored client registration was refused; registering again"
            );
            browser(server, url, settings, challenge, options, false)
                .await
                .0
        }
        (result, _) => result,
    }
}

/// The browser flow; the flag says whether a stored registration was reused.
async fn browser(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    challenge: Option<&str>,
    options: &SignInOptions,
    reuse_registration: bool,
) -> (Result<SignedIn, SignInError>, bool) {
    let mut reused = false;
    let result = async {
    let discovery = |reason: String| SignInError::Discovery {
        server: server.to_owned(),
        reason,
    };
    let listener = CallbackListener::get(settings.callback_port)
        .await
        .map_err(|e| match (e.kind(), settings.callback_port) {
            (std::io::ErrorKind::AddrInUse, Some(port)) => SignInError::PortBusy { port },
            _ => SignInError::Listener(e),
        })?;
    let redirect_uri = if settings.deep_link_redirect {
        super::callback::DEEP_LINK_REDIRECT.to_owned()
    } else {
        listener.redirect_uri()
    };

    let super::discovery::Discovered {
        mut manager,
        metadata,
        guessed,
    } = super::discovery::discover(url, challenge, Some(&options.store), Some(settings))
        .await
        .map_err(discovery)?;
    let token_endpoint = metadata.token_endpoint.clone();
    let issuer = metadata.issuer.clone();
    manager.set_metadata(metadata);

    let mut request = AuthorizationRequest::new(&redirect_uri)
        .with_client_name("Latch")
        .with_application_type("native");
    if let Some(challenge) = challenge {
        request = request.with_challenge(challenge);
    }
    // Scopes: the configured ones, else what the challenge or the resource metadata asks for.
    request = if settings.scopes.is_empty() {
        request.with_initial_scope_selection()
    } else {
        request.with_scopes(settings.scopes.clone())
    };
    if let Some(client_id) = &settings.client_id {
        request = request.with_preregistered_client(client_id);
        if let Some(secret) = &settings.client_secret {
            request = request.with_client_secret(secret);
        }
    }
    if let Some(metadata_url) = &settings.client_metadata_url {
        request = request.with_client_metadata_url(metadata_url);
    }
    // Reuse the registration from the last sign-in with this authorization server — but not
    // when asking for more scopes: some servers bind a registration to its first scopes.
    let wants_more_scopes = challenge.is_some_and(|c| c.contains("insufficient_scope"));
    if reuse_registration
        && settings.client_id.is_none()
        && !wants_more_scopes
        && let Ok(Some(stored)) = options.store.load().await
        && same_issuer(stored.issuer.as_deref(), issuer.as_deref())
        && !stored.client_id.is_empty()
    {
        request = request.with_preregistered_client(&stored.client_id);
        reused = true;
    }
    // Step-up: ask for what we had plus what the server now wants.
    if challenge.is_some()
        && let Ok(Some(stored)) = options.store.load().await
        && !stored.granted_scopes.is_empty()
    {
        let mut scopes = manager.select_scopes(
            challenge_scope(challenge).as_deref(),
            &stored
                .granted_scopes
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        scopes.dedup();
        request = request.with_scopes(scopes);
    }

    let session = AuthorizationSession::new(manager, request)
        .await
        .map_err(|(_, e)| match e {
            AuthError::RegistrationFailed(reason)
                if reason.contains("registration_endpoint") || reason.contains("not support") =>
            {
                SignInError::NeedsClientId {
                    server: server.to_owned(),
                    redirect_uri: redirect_uri.clone(),
                }
            }
            AuthError::RegistrationFailed(reason) => SignInError::Registration {
                server: server.to_owned(),
                reason,
            },
            other => discovery(other.to_string()),
        })?;
    let authorization_url = session.get_authorization_url().to_owned();
    let parsed = check_url_to_open(&authorization_url).map_err(SignInError::UnsafeUrl)?;
    let state = parsed
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();

    let callback = match options.browser {
        BrowserMode::Headless => headless::follow(&authorization_url, &redirect_uri)
            .await
            .map_err(SignInError::Headless)?,
        mode => {
            let waiting = listener.expect(&state);
            options.events.publish(Event::SignInUrl {
                server: server.to_owned(),
                url: authorization_url.clone(),
            });
            if mode == BrowserMode::System
                && let Err(error) = open_in_system_browser(&parsed)
            {
                tracing::warn!(%error, "could not open the browser; the URL was printed instead");
            }
            let outcome = tokio::time::timeout(options.timeout, waiting).await;
            listener.forget(&state);
            match outcome {
                Ok(Ok(url)) => url,
                Ok(Err(_)) => return Err(SignInError::Refused("the sign-in was abandoned".into())),
                Err(_) => {
                    return Err(SignInError::TimedOut {
                        minutes: options.timeout.as_secs().div_ceil(60),
                    });
                }
            }
        }
    };
    if let Some(error) = Url::parse(&callback).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned())
    }) {
        return Err(SignInError::Refused(error));
    }
    session
        .handle_callback_url(&callback)
        .await
        .map_err(|e| match e {
            AuthError::CredentialStoreError(reason) => SignInError::NotSaved(reason),
            e => SignInError::Exchange(super::token_endpoint_failure(
                server,
                &token_endpoint,
                guessed,
                &e.to_string(),
            )),
        })?;

    let stored = options.store.load().await.ok().flatten();
    let signed_in = SignedIn {
        issuer: stored.as_ref().and_then(|s| s.issuer.clone()),
        client_id: stored
            .as_ref()
            .map(|s| s.client_id.clone())
            .unwrap_or_default(),
        scopes: crate::secrets::scope_list(stored.map(|s| s.granted_scopes).unwrap_or_default()),
    };
    tracing::info!(server, issuer = ?signed_in.issuer, "signed in");
    Ok(signed_in)
    }
    .await;
    (result, reused)
}

/// Issuers compare equal up to a trailing slash.
fn same_issuer(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim_end_matches('/') == b.trim_end_matches('/'),
        _ => false,
    }
}

impl SignInError {
    /// Could this failure come from a client registration the server no longer knows?
    fn may_mean_unknown_client(&self) -> bool {
        match self {
            Self::Exchange(reason) | Self::Refused(reason) => {
                reason.contains("invalid_client") || reason.contains("unauthorized_client")
            }
            // The authorization page refused to redirect (an unknown client gets an error page).
            Self::Headless(_) => true,
            _ => false,
        }
    }
}

/// The `scope` parameter of a `WWW-Authenticate` challenge.
fn challenge_scope(challenge: Option<&str>) -> Option<String> {
    let challenge = challenge?;
    let lower = challenge.to_ascii_lowercase();
    let start = lower.find("scope=")? + "scope=".len();
    let rest = &challenge[start..];
    Some(match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or_default().to_owned(),
        None => rest.split([',', ' ']).next().unwrap_or_default().to_owned(),
    })
}

/// Fuzzing entry point (`fuzz/`, built with `--cfg fuzzing`): the scope Latch reads from a
/// `WWW-Authenticate` challenge.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_challenge_scope(challenge: &str) -> Option<String> {
    challenge_scope(Some(challenge))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scope_of_a_challenge() {
        assert_eq!(
            challenge_scope(Some(
                r#"Bearer error="insufficient_scope", scope="a b", resource_metadata="x""#
            ))
            .as_deref(),
            Some("a b")
        );
        assert_eq!(
            challenge_scope(Some("Bearer scope=read")).as_deref(),
            Some("read")
        );
        assert_eq!(challenge_scope(Some("Bearer realm=x")), None);
    }
}
