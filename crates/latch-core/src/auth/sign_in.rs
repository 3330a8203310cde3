//! One sign-in, start to finish: discover the authorization server (from the 401 challenge when
//! there is one), pick the client identity (pre-registered → CIMD → DCR), send the person to the
//! authorization page, wait for the callback (at most 5 minutes), exchange the code and store
//! the grant. rmcp does the protocol; this is the orchestration and the plain-words errors.

use std::{sync::Arc, time::Duration};

use rmcp::transport::auth::{AuthError, AuthorizationRequest, AuthorizationSession};
use url::Url;

use super::{
    AuthSettings, BrowserMode, Flow, SharedCredentialStore, browser::open_in_system_browser,
    callback::CallbackListener, headless,
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
    /// Enterprise-managed authorization: the company sign-in, the token exchange or the
    /// `jwt-bearer` grant failed.
    #[error(transparent)]
    Enterprise(#[from] super::enterprise::EnterpriseError),
    /// Workload identity: the platform token could not be read or was refused.
    #[error(transparent)]
    Workload(#[from] super::workload::WorkloadError),
    /// A DPoP key could not be made, kept or used.
    #[error(transparent)]
    Dpop(#[from] super::dpop::DpopError),
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
    // Started without the server's challenge (`latch login`): ask the server for it, so the
    // scopes it names are the ones asked for.
    let probed = match challenge {
        Some(_) => None,
        None => super::probe::challenge(url).await,
    };
    let challenge = challenge.or(probed.as_deref());
    match options.flow.unwrap_or_else(|| settings.effective_flow()) {
        Flow::ClientCredentials => {
            return super::client_credentials::sign_in(server, url, settings, challenge, options)
                .await;
        }
        Flow::Device => return super::device::sign_in(server, url, settings, options).await,
        Flow::Enterprise => {
            return super::enterprise::sign_in(server, url, settings, challenge, options).await;
        }
        Flow::Workload => {
            return super::workload::sign_in(server, url, settings, challenge, options).await;
        }
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

    // DPoP (when the authorization server offers it): proofs on the token requests.
    let proofs = super::dpop::TokenProofs::default();
    let super::discovery::Discovered {
        mut manager,
        metadata,
        guessed,
    } = super::discovery::discover_with_proofs(
        url,
        challenge,
        Some(&options.store),
        Some(settings),
        &proofs,
    )
    .await
    .map_err(discovery)?;
    let dpop_metadata = metadata.clone();
    let token_endpoint = metadata.token_endpoint.clone();
    let issuer = metadata.issuer.clone();
    let cimd_offered = settings.client_metadata_url.is_some()
        && metadata
            .additional_fields
            .get("client_id_metadata_document_supported")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
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
    // Reuse the registration from the last sign-in with this authorization server — never
    // one made with another (SEP-2352), and not when asking for more scopes: some servers bind
    // a registration to its first scopes. A Client ID Metadata Document the server accepts
    // comes before any registration (SPEC: client identity, in this order).
    let stored = options.store.load().await.ok().flatten();
    if let Some(moved) = stored
        .as_ref()
        .and_then(|s| super::migration::provider_moved(server, s, issuer.as_deref()))
    {
        tracing::warn!(server, from = %moved.from, to = %moved.to, "{moved}");
    }
    let wants_more_scopes = challenge.is_some_and(|c| c.contains("insufficient_scope"));
    if reuse_registration
        && !wants_more_scopes
        && let Some(client_id) =
            reusable_registration(settings, stored.as_ref(), issuer.as_deref(), cimd_offered)
    {
        request = request.with_preregistered_client(&client_id);
        reused = true;
    }
    // Re-authorizing (SEP-2350): what the grant holds plus what is asked for now.
    if let Some(stored) = &stored
        && !stored.granted_scopes.is_empty()
    {
        let wanted = if settings.scopes.is_empty() {
            manager.select_initial_scopes(&[]).await
        } else {
            settings.scopes.clone()
        };
        request = request.with_scopes(scope_union(&stored.granted_scopes, &wanted));
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
    // After the session is set up (which may drop a grant from another issuer, and its key).
    let dpop = super::dpop::prepare(
        server,
        settings,
        &dpop_metadata,
        options.store.dpop_keys(),
        &proofs,
    )
    .await?;
    let authorization_url = session.get_authorization_url().to_owned();
    let parsed = crate::net::check_url_to_open(&authorization_url).map_err(SignInError::UnsafeUrl)?;
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
    if dpop {
        let token = stored.as_ref().and_then(|s| s.token_response.as_ref());
        super::dpop::settle(server, options.store.dpop_keys(), token).await?;
    }
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

/// The stored registration to sign in with, if the identity order leaves room for one: not
/// when a client id is configured or a Client ID Metadata Document is offered (both come
/// first), and only with the issuer that made it (SEP-2352).
fn reusable_registration(
    settings: &AuthSettings,
    stored: Option<&rmcp::transport::auth::StoredCredentials>,
    issuer: Option<&str>,
    cimd_offered: bool,
) -> Option<String> {
    if settings.client_id.is_some() || cimd_offered {
        return None;
    }
    super::migration::registration_for(stored?, issuer)
}

/// The scopes of a re-authorization: those the grant holds (or asked for, when the server
/// did not say what it granted), then the newly wanted ones, each once. `offline_access` is
/// left to rmcp, which asks for it only when the authorization server lists it.
fn scope_union(held: &[String], wanted: &[String]) -> Vec<String> {
    let mut union: Vec<String> = Vec::new();
    for scope in crate::secrets::scope_list(held.to_vec())
        .into_iter()
        .chain(crate::secrets::scope_list(wanted.to_vec()))
    {
        if scope != "offline_access" && !union.contains(&scope) {
            union.push(scope);
        }
    }
    union
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
#[cfg(any(test, fuzzing))]
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

    #[test]
    fn a_stored_registration_comes_after_configured_ids_and_cimd_and_stays_with_its_issuer() {
        use rmcp::transport::auth::StoredCredentials;
        let stored = StoredCredentials::new("dcr-client".into(), None, Vec::new(), None)
            .with_issuer(Some("https://as1.example".into()));
        let plain = AuthSettings::default();
        let reuse = |settings: &AuthSettings, issuer: &str, cimd: bool| {
            reusable_registration(settings, Some(&stored), Some(issuer), cimd)
        };
        assert_eq!(
            reuse(&plain, "https://as1.example", false).as_deref(),
            Some("dcr-client")
        );
        // Another issuer never sees it; a CIMD the server accepts or a configured id wins.
        assert_eq!(reuse(&plain, "https://as2.example", false), None);
        assert_eq!(reuse(&plain, "https://as1.example", true), None);
        let configured = AuthSettings {
            client_id: Some("configured".into()),
            ..AuthSettings::default()
        };
        assert_eq!(reuse(&configured, "https://as1.example", false), None);
        assert_eq!(
            reusable_registration(&plain, None, Some("https://as1.example"), false),
            None
        );
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn step_up_keeps_what_is_held_and_adds_what_is_asked() {
        assert_eq!(
            scope_union(&strings(&["mcp:basic"]), &strings(&["mcp:write"])),
            ["mcp:basic", "mcp:write"]
        );
        // Nothing held is dropped, nothing is asked twice, a scope string is split.
        assert_eq!(
            scope_union(
                &strings(&["read write", "admin"]),
                &strings(&["write", "delete"])
            ),
            ["read", "write", "admin", "delete"]
        );
        // offline_access is rmcp's to add, and only when the server lists it.
        assert_eq!(
            scope_union(&strings(&["a", "offline_access"]), &strings(&["b"])),
            ["a", "b"]
        );
        assert_eq!(
            scope_union(&strings(&[""]), &strings(&[])),
            Vec::<String>::new()
        );
    }
}
