//! Machine-to-machine sign-in with the client credentials grant (OAuth 2.1 §4.2, MCP's
//! SEP-1046): no person, no browser — a client id with a secret (`client_secret_basic` or
//! `client_secret_post`, as the authorization server advertises) or with a private key that
//! signs a JWT assertion (`private_key_jwt`, RFC 7523). The credentials come from the keychain
//! by name (`auth.credentials`, shared by several servers) or inline from the server's `auth`
//! entry. rmcp discovers the authorization server and makes the exchange, always with
//! `resource` = the server's URL; the grant lands in the server's token store, where the
//! connection reads it. Such grants usually come without a refresh token, so when the token
//! expires the server's 401 makes the connection sign in again through here (a connection
//! opened with `sign_in` set re-exchanges on its own; the CLI opens one that way for these
//! servers). A secret the server no longer takes (`invalid_client`) is reported in words that
//! say how to paste the new one; no error or log line ever holds the secret or the key.

mod named;

use rmcp::transport::auth::{
    AuthError, AuthorizationMetadata, ClientCredentialsConfig, CredentialStore,
};
use url::{Host, Url};

pub use named::{ClientProof, NamedCredentials, SigningAlgorithm};

use super::{AuthSettings, SignInError, SignInOptions, SignedIn};

/// Why a client credentials sign-in did not happen, in words that say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientCredentialsError {
    #[error("no credentials named {name} are stored — run `latch credentials set {name}`")]
    Missing { name: String },
    #[error(
        "the credentials named {name} cannot be used: {reason} — store them again with `latch credentials set {name}`"
    )]
    Unusable { name: String, reason: String },
    #[error(
        "{server} signs in with client credentials, but has none: set its `auth.credentials` to a name stored with `latch credentials set NAME`, or give `auth.clientId` with `auth.clientSecret` (or `auth.privateKeyPem` and `auth.signingAlgorithm`)"
    )]
    NotConfigured { server: String },
    #[error("{server}'s `auth` entry: {reason}")]
    BadSettings { server: String, reason: String },
    /// The authorization server refused the client (`invalid_client`): a rotated or revoked
    /// secret, a replaced key, or a client it no longer knows.
    #[error("the {kind} for {name} was rejected — {fix}")]
    Rejected {
        /// `client secret` or `private key`.
        kind: &'static str,
        /// The credentials' name, or `server NAME` for inline settings.
        name: String,
        fix: String,
    },
    #[error("{server}'s sign-in server cannot take these client credentials: {reason}")]
    NotSupported { server: String, reason: String },
    #[error("{server}'s sign-in server did not give a token for the client credentials: {reason}")]
    Exchange { server: String, reason: String },
}

impl ClientCredentialsError {
    /// True when the authorization server refused the secret or key itself.
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }
}

/// Where the credentials came from, for messages.
enum Origin<'a> {
    Named(&'a str),
    Inline { server: &'a str },
}

impl Origin<'_> {
    fn rejected(&self, credentials: &NamedCredentials) -> ClientCredentialsError {
        let kind = credentials.kind();
        let (name, fix) = match (self, credentials.proof()) {
            (Self::Named(name), ClientProof::Secret(_)) => (
                (*name).to_owned(),
                format!("paste the new one with `latch credentials set {name}`"),
            ),
            (Self::Named(name), ClientProof::PrivateKey { algorithm, .. }) => (
                (*name).to_owned(),
                format!(
                    "store the registered key with `latch credentials set {name} --private-key-file PATH --alg {algorithm}`"
                ),
            ),
            (Self::Inline { server }, ClientProof::Secret(_)) => (
                format!("server {server}"),
                "put the new one in the server's `auth.clientSecret`".to_owned(),
            ),
            (Self::Inline { server }, ClientProof::PrivateKey { .. }) => (
                format!("server {server}"),
                "put the registered key in the server's `auth.privateKeyPem`".to_owned(),
            ),
        };
        ClientCredentialsError::Rejected { kind, name, fix }
    }
}

/// The named credentials, else the inline ones.
fn credentials<'a>(
    server: &'a str,
    settings: &'a AuthSettings,
    options: &SignInOptions,
) -> Result<(NamedCredentials, Origin<'a>), ClientCredentialsError> {
    if let Some(name) = settings.credentials.as_deref() {
        let document =
            options
                .secrets
                .credentials(name)
                .ok_or_else(|| ClientCredentialsError::Missing {
                    name: name.to_owned(),
                })?;
        let credentials = NamedCredentials::parse(&document).map_err(|reason| {
            ClientCredentialsError::Unusable {
                name: name.to_owned(),
                reason,
            }
        })?;
        return Ok((credentials, Origin::Named(name)));
    }
    let bad = |reason: String| ClientCredentialsError::BadSettings {
        server: server.to_owned(),
        reason,
    };
    let Some(client_id) = settings.client_id.as_deref() else {
        return Err(ClientCredentialsError::NotConfigured {
            server: server.to_owned(),
        });
    };
    let credentials = match (&settings.private_key_pem, &settings.client_secret) {
        (Some(pem), _) => {
            let algorithm = settings
                .signing_algorithm
                .as_deref()
                .ok_or_else(|| {
                    "`auth.privateKeyPem` needs `auth.signingAlgorithm` (ES256 or RS256)".to_owned()
                })
                .and_then(str::parse)
                .map_err(bad)?;
            NamedCredentials::with_private_key(client_id, pem.as_str(), algorithm).map_err(bad)?
        }
        (None, Some(secret)) => {
            NamedCredentials::with_secret(client_id, secret.trim()).map_err(bad)?
        }
        (None, None) => {
            return Err(ClientCredentialsError::NotConfigured {
                server: server.to_owned(),
            });
        }
    };
    Ok((credentials, Origin::Inline { server }))
}

pub(crate) async fn sign_in(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    challenge: Option<&str>,
    options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    let (credentials, origin) = credentials(server, settings, options)?;
    // One exchange per grant at a time, in this process and across processes (the grant's
    // refresh lock): when a token expires under many calls at once, each 401 lands here, and
    // all but the first find the grant the first one stored.
    let asked_at = now();
    let _guard = options.store.acquire_refresh_guard().await.map_err(|e| {
        SignInError::Exchange(format!("could not lock the grant for the exchange: {e}"))
    })?;
    if let Some(signed_in) = exchanged_meanwhile(options, credentials.client_id(), asked_at).await {
        tracing::debug!(server, "another exchange stored a fresh grant; using it");
        return Ok(signed_in);
    }
    let discovery = |reason: String| SignInError::Discovery {
        server: server.to_owned(),
        reason,
    };
    let proofs = super::dpop::TokenProofs::default();
    let super::discovery::Discovered {
        mut manager,
        mut metadata,
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
    let keys = options.store.dpop_keys();
    let dpop = super::dpop::prepare(server, settings, &metadata, keys, &proofs).await?;
    let token_endpoint = metadata.token_endpoint.clone();
    check_token_endpoint(url, &metadata.token_endpoint, "client credentials").map_err(
        |reason| ClientCredentialsError::NotSupported {
            server: server.to_owned(),
            reason,
        },
    )?;
    if matches!(credentials.proof(), ClientProof::Secret(_)) {
        default_to_basic(&mut metadata);
    }
    let issuer = metadata.issuer.clone();
    manager.set_metadata(metadata);

    // The configured scopes, else what the resource metadata asks for. A client credentials
    // grant has no refresh token, so `offline_access` has no place here.
    let mut scopes = if settings.scopes.is_empty() {
        manager.select_initial_scopes(&[]).await
    } else {
        settings.scopes.clone()
    };
    scopes.retain(|s| s != "offline_access");

    let config = match credentials.proof() {
        ClientProof::Secret(secret) => ClientCredentialsConfig::ClientSecret {
            client_id: credentials.client_id().to_owned(),
            client_secret: secret.clone(),
            scopes: scopes.clone(),
            resource: Some(url.to_owned()),
        },
        ClientProof::PrivateKey { pem, algorithm } => ClientCredentialsConfig::PrivateKeyJwt {
            client_id: credentials.client_id().to_owned(),
            signing_key: pem.as_bytes().to_vec(),
            signing_algorithm: algorithm.to_rmcp(),
            token_endpoint_audience: None,
            scopes: scopes.clone(),
            resource: Some(url.to_owned()),
        },
    };
    let not_supported = |e: AuthError| ClientCredentialsError::NotSupported {
        server: server.to_owned(),
        reason: e.to_string(),
    };
    manager
        .validate_client_credentials_metadata(&config)
        .map_err(not_supported)?;
    manager
        .configure_client_credentials(&config)
        .map_err(not_supported)?;
    tracing::debug!(
        server,
        client_id = credentials.client_id(),
        method = credentials.kind(),
        "exchanging client credentials"
    );
    // rmcp stores the grant (with the issuer) in `options.store` when the exchange succeeds.
    // rmcp's private_key_jwt exchange keeps a non-`Send` value across an await, so its future
    // cannot be spawned (the app's commands must be `Send`): finish it on a blocking thread.
    let runtime = tokio::runtime::Handle::current();
    let exchanged = tokio::task::spawn_blocking(move || {
        runtime.block_on(async move { manager.exchange_client_credentials(&config).await })
    })
    .await
    .map_err(|e| ClientCredentialsError::Exchange {
        server: server.to_owned(),
        reason: e.to_string(),
    })?;
    let token = match exchanged {
        Ok(token) if dpop => {
            super::dpop::settle(server, keys, Some(&token)).await?;
            token
        }
        Ok(token) => token,
        Err(error) => {
            let at = TokenEndpoint {
                url: &token_endpoint,
                guessed,
            };
            return Err(exchange_failed(server, &origin, &credentials, &at, error).into());
        }
    };
    let granted: Vec<String> = oauth2::TokenResponse::scopes(&token)
        .map(|granted| granted.iter().map(|s| s.to_string()).collect())
        .unwrap_or(scopes);
    tracing::info!(server, issuer = ?issuer, "signed in with client credentials");
    Ok(SignedIn {
        issuer,
        client_id: credentials.client_id().to_owned(),
        scopes: crate::secrets::scope_list(granted),
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A grant another exchange stored for the same client while this one waited for the lock:
/// received at most a few seconds before this exchange was asked for (so a token the server
/// keeps refusing is not reused for long), and still good enough that rmcp will send it
/// rather than call it expired (it asks for a new one when less than
/// `min(30 s, lifetime / 2)` remains).
async fn exchanged_meanwhile(
    options: &SignInOptions,
    client_id: &str,
    asked_at: u64,
) -> Option<SignedIn> {
    use oauth2::TokenResponse as _;

    const RECENT: u64 = 10;
    let stored = options.store.load().await.ok().flatten()?;
    let received_at = stored.token_received_at?;
    let token = stored.token_response.as_ref()?;
    let usable = match token.expires_in() {
        Some(lifetime) => {
            let lifetime = lifetime.as_secs();
            let buffer = 30.min(lifetime / 2).max(1);
            received_at + lifetime > now() + buffer
        }
        None => true,
    };
    let fresh = stored.client_id == client_id && received_at + RECENT >= asked_at && usable;
    fresh.then(|| SignedIn {
        issuer: stored.issuer.clone(),
        client_id: stored.client_id.clone(),
        scopes: crate::secrets::scope_list(stored.granted_scopes.clone()),
    })
}

/// The token endpoint an exchange went to, and whether it was a guess (the provider published
/// no metadata and `auth.tokenUrl` is not set).
struct TokenEndpoint<'a> {
    url: &'a str,
    guessed: bool,
}

/// What a failed exchange means for the person.
fn exchange_failed(
    server: &str,
    origin: &Origin<'_>,
    credentials: &NamedCredentials,
    at: &TokenEndpoint<'_>,
    error: AuthError,
) -> ClientCredentialsError {
    // rmcp's words without its "Client credentials error: " prefix.
    let reason = match &error {
        AuthError::ClientCredentialsError(inner) => inner.clone(),
        other => other.to_string(),
    };
    match error {
        AuthError::JwtSigningError(reason) => match origin {
            Origin::Named(name) => ClientCredentialsError::Unusable {
                name: (*name).to_owned(),
                reason: format!("the private key cannot sign ({reason})"),
            },
            Origin::Inline { server } => ClientCredentialsError::BadSettings {
                server: (*server).to_owned(),
                reason: format!("`auth.privateKeyPem` cannot sign ({reason})"),
            },
        },
        _ if !at.guessed && (reason.contains("invalid_client") || reason.contains("HTTP 401")) => {
            tracing::info!(
                server,
                "the authorization server refused the client credentials"
            );
            origin.rejected(credentials)
        }
        _ => ClientCredentialsError::Exchange {
            server: server.to_owned(),
            reason: super::token_endpoint_failure(server, at.url, at.guessed, &reason),
        },
    }
}

/// A secret goes only to an https token endpoint, or over http between loopback hosts (local
/// servers and tests) — the rule rmcp applies to `private_key_jwt`, applied to secrets too
/// (and to a workload's platform token). `what` names what would be sent, for the error.
pub(super) fn check_token_endpoint(
    resource: &str,
    token_endpoint: &str,
    what: &str,
) -> Result<(), String> {
    let endpoint =
        Url::parse(token_endpoint).map_err(|e| format!("its token endpoint is not a URL ({e})"))?;
    if !endpoint.username().is_empty() || endpoint.password().is_some() {
        return Err("its token endpoint has credentials in its URL".into());
    }
    let loopback = |url: &Url| match url.host() {
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let local = Url::parse(resource).is_ok_and(|r| loopback(&r)) && loopback(&endpoint);
    match endpoint.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(format!(
            "its token endpoint {} is not https; Latch sends {what} only over https",
            crate::net::shown(token_endpoint)
        )),
    }
}

/// RFC 8414 §2: a server whose metadata names no token endpoint auth methods takes
/// `client_secret_basic`. rmcp would send the secret in the body then; say it for rmcp.
fn default_to_basic(metadata: &mut AuthorizationMetadata) {
    metadata
        .additional_fields
        .entry("token_endpoint_auth_methods_supported".to_owned())
        .or_insert_with(|| serde_json::json!(["client_secret_basic"]));
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Arc};

    use super::*;
    use crate::{auth::SharedCredentialStore, config::SecretSource};

    struct Named(HashMap<String, String>);

    impl SecretSource for Named {
        fn secret(&self, _: &str) -> Option<String> {
            None
        }
        fn credentials(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn options(named: &[(&str, &str)]) -> SignInOptions {
        let mut options = SignInOptions::new(SharedCredentialStore::memory());
        options.secrets = Arc::new(Named(
            named
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ));
        options
    }

    #[test]
    fn named_credentials_come_first_then_inline_ones() {
        let named = AuthSettings {
            credentials: Some("madgicx".into()),
            client_id: Some("inline".into()),
            client_secret: Some("inline-secret".into()),
            ..AuthSettings::default()
        };
        let options = options(&[("madgicx", r#"{"clientId":"m","clientSecret":"s"}"#)]);
        let (found, origin) = credentials("fb", &named, &options).unwrap();
        assert_eq!(found.client_id(), "m");
        assert!(matches!(origin, Origin::Named("madgicx")));

        let inline = AuthSettings {
            credentials: None,
            ..named.clone()
        };
        let (found, origin) = credentials("fb", &inline, &options).unwrap();
        assert_eq!(found.client_id(), "inline");
        assert!(matches!(origin, Origin::Inline { server: "fb" }));
    }

    #[test]
    fn missing_and_broken_credentials_say_what_to_run() {
        let settings = AuthSettings {
            credentials: Some("m2m".into()),
            ..AuthSettings::default()
        };
        let error = credentials("s", &settings, &options(&[])).err().unwrap();
        assert_eq!(
            error.to_string(),
            "no credentials named m2m are stored — run `latch credentials set m2m`"
        );
        let error = credentials(
            "s",
            &settings,
            &options(&[(
                "m2m",
                r#"{"clientId":"a","clientSecret":"top-secret","x":1}"#,
            )]),
        )
        .err()
        .unwrap();
        let text = error.to_string();
        assert!(text.contains("latch credentials set m2m") && !text.contains("top-secret"));

        let nothing = credentials("s", &AuthSettings::default(), &options(&[]))
            .err()
            .unwrap();
        assert!(matches!(
            nothing,
            ClientCredentialsError::NotConfigured { .. }
        ));
        let no_alg = AuthSettings {
            client_id: Some("a".into()),
            private_key_pem: Some(
                "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----".into(),
            ),
            ..AuthSettings::default()
        };
        let error = credentials("s", &no_alg, &options(&[])).err().unwrap();
        assert!(error.to_string().contains("auth.signingAlgorithm"));
    }

    #[test]
    fn a_rejected_secret_says_how_to_paste_the_new_one() {
        let secret = NamedCredentials::with_secret("m2m", "old-secret").unwrap();
        let error = exchange_failed(
            "fb",
            &Origin::Named("madgicx"),
            &secret,
            &TOKEN,
            AuthError::ClientCredentialsError(
                "Token exchange failed: Server returned error response: invalid_client: client authentication failed".into(),
            ),
        );
        assert!(error.is_rejected());
        assert_eq!(
            error.to_string(),
            "the client secret for madgicx was rejected — paste the new one with `latch credentials set madgicx`"
        );
        let inline = exchange_failed(
            "fb",
            &Origin::Inline { server: "fb" },
            &secret,
            &TOKEN,
            AuthError::ClientCredentialsError(
                "Token exchange failed: HTTP 401 Unauthorized".into(),
            ),
        );
        assert!(inline.to_string().contains("`auth.clientSecret`"));
        let other = exchange_failed(
            "fb",
            &Origin::Named("madgicx"),
            &secret,
            &TOKEN,
            AuthError::ClientCredentialsError("Token exchange failed: invalid_target".into()),
        );
        assert!(!other.is_rejected());
        assert_eq!(
            other.to_string(),
            "fb's sign-in server did not give a token for the client credentials: https://as.example/o/token/: Token exchange failed: invalid_target"
        );

        // No metadata and no `auth.tokenUrl`: the guessed URL is named, with the fix.
        let guessed = exchange_failed(
            "madgicx-facebook",
            &Origin::Named("madgicx"),
            &secret,
            &TokenEndpoint {
                url: "https://mcp.madgicx.com/token?x=1",
                guessed: true,
            },
            AuthError::ClientCredentialsError(
                "Token exchange parse error: expected value at line 1 column 1".into(),
            ),
        )
        .to_string();
        assert!(
            guessed.contains("Latch tried https://mcp.madgicx.com/token and its answer was not an OAuth token response"),
            "{guessed}"
        );
        assert!(
            guessed.contains("--token-url URL") && guessed.contains("`auth.tokenUrl`"),
            "{guessed}"
        );
        assert!(
            !guessed.contains("x=1") && !guessed.contains("parse error"),
            "{guessed}"
        );
    }

    const TOKEN: TokenEndpoint<'static> = TokenEndpoint {
        url: "https://as.example/o/token/",
        guessed: false,
    };

    #[test]
    fn secrets_go_over_https_or_between_loopback_hosts_only() {
        let ok = |r, t| check_token_endpoint(r, t, "client credentials").is_ok();
        assert!(ok("https://mcp.example/mcp", "https://as.example/token"));
        assert!(ok("http://127.0.0.1:1/mcp", "http://127.0.0.1:2/token"));
        assert!(ok("http://localhost:1/mcp", "http://localhost:2/token"));
        assert!(!ok("http://127.0.0.1:1/mcp", "http://as.example/token"));
        assert!(!ok("https://mcp.example/mcp", "http://as.example/token"));
        assert!(!ok(
            "https://mcp.example/mcp",
            "https://u:p@as.example/token"
        ));
    }

    #[test]
    fn metadata_without_auth_methods_means_basic() {
        let mut metadata: AuthorizationMetadata = serde_json::from_value(serde_json::json!({
            "authorization_endpoint": "https://as.example/auth",
            "token_endpoint": "https://as.example/token",
        }))
        .unwrap();
        default_to_basic(&mut metadata);
        assert_eq!(
            metadata.additional_fields["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic"])
        );
        let mut post: AuthorizationMetadata = serde_json::from_value(serde_json::json!({
            "authorization_endpoint": "https://as.example/auth",
            "token_endpoint": "https://as.example/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }))
        .unwrap();
        default_to_basic(&mut post);
        assert_eq!(
            post.additional_fields["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_post"])
        );
    }
}
