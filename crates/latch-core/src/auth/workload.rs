//! Workload identity (SEP-1933): a machine in CI or a cluster signs in with the token its
//! platform gives it — a projected Kubernetes service-account token, GitHub Actions' OIDC
//! token — read fresh from `auth.tokenFile`, `auth.tokenEnv` or `auth.tokenCommand` each time,
//! and sent as the assertion of one RFC 7523 `jwt-bearer` token request to the server's
//! authorization server (found as every grant finds it). No secret is stored and there is no
//! refresh token: the grant lands in the server's token store like a client-credentials one,
//! and when its token ends the next 401 (or the keeper) signs in again with the platform's
//! current token. A refusal is never retried nor followed by another grant; its message says
//! what to fix — the token's audience or expiry (read from the token, never printing it), the
//! scope, the client.

mod explain;
pub(crate) mod grant;
pub(crate) mod platform;

pub(crate) use explain::explain;

use rmcp::transport::auth::{AuthorizationMetadata, CredentialStore, StoredCredentials};

use super::{AuthSettings, SignInError, SignInOptions, SignedIn, WorkloadToken};
use grant::{Failure, JWT_BEARER};
use platform::{Claims, PlatformToken};

/// Why a workload could not sign in, in words that say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    #[error(
        "{server} signs in with workload identity but does not say where the platform's token is: add `auth.tokenFile`, `auth.tokenEnv` or `auth.tokenCommand`"
    )]
    NotConfigured { server: String },
    #[error("could not read {server}'s platform token from {source_name}: {reason}")]
    Unreadable {
        server: String,
        source_name: String,
        reason: String,
    },
    #[error(
        "{server}'s sign-in server {issuer} does not offer the jwt-bearer grant (its grant_types_supported lacks {JWT_BEARER}), so it cannot take a platform token — ask its owner to enable workload identity federation"
    )]
    NotOffered { server: String, issuer: String },
    #[error("{server}'s sign-in server cannot take a platform token: {reason}")]
    Unsafe { server: String, reason: String },
    #[error(
        "{server}'s sign-in server ({endpoint}) refused the platform token from {source_name}: {what}"
    )]
    Refused {
        server: String,
        endpoint: String,
        source_name: String,
        /// The OAuth error code (`invalid_grant`, …).
        code: String,
        what: String,
    },
    #[error(
        "{server}'s sign-in server ({endpoint}) did not give a token for the platform token: {reason}"
    )]
    Exchange {
        server: String,
        endpoint: String,
        reason: String,
    },
}

pub(crate) async fn sign_in(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    challenge: Option<&str>,
    options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    let source = settings
        .workload_token
        .as_ref()
        .ok_or_else(|| WorkloadError::NotConfigured {
            server: server.to_owned(),
        })?;
    // One exchange per grant at a time, in this process and across processes: when a token
    // ends under many calls at once, all but the first find the grant the first one stored.
    let before = stored_access_token(options).await;
    let _guard = options.store.acquire_refresh_guard().await.map_err(|e| {
        SignInError::Exchange(format!("could not lock the grant for the exchange: {e}"))
    })?;
    if let Some(signed_in) = exchanged_meanwhile(options, before.as_deref()).await {
        tracing::debug!(server, "another exchange stored a fresh grant; using it");
        return Ok(signed_in);
    }
    let token = read_token(server, source).await?;
    let found = authorization_server(server, url, challenge, settings, options).await?;
    let scopes = if settings.scopes.is_empty() {
        found.challenge_scopes
    } else {
        settings.scopes.clone()
    };
    let request = grant::Request {
        token_endpoint: &found.metadata.token_endpoint,
        assertion: &token,
        scopes: &scopes,
        resource: url,
        client_id: settings.client_id.as_deref(),
    };
    tracing::debug!(server, source = %platform::describe(source), "exchanging the platform token (jwt-bearer)");
    let response = match grant::request(&request).await {
        Ok(response) => response,
        Err(failure) => {
            let error = refused(
                server,
                source,
                &token,
                &found.metadata,
                settings,
                &scopes,
                failure,
            );
            tracing::info!(server, %error, "the jwt-bearer grant failed");
            return Err(error.into());
        }
    };
    let granted: Vec<String> = oauth2::TokenResponse::scopes(&response)
        .map(|granted| granted.iter().map(|s| s.to_string()).collect())
        .unwrap_or(scopes);
    let issuer = found.metadata.issuer.clone();
    let client_id = stored_client_id(settings);
    let credentials = StoredCredentials::new(
        client_id.clone(),
        Some(response),
        granted.clone(),
        Some(now()),
    )
    .with_issuer(issuer.clone());
    options
        .store
        .save(credentials)
        .await
        .map_err(|e| SignInError::NotSaved(e.to_string()))?;
    // A bearer token: a DPoP key left from an earlier sign-in must not make requests claim
    // the `DPoP` scheme for it.
    options.store.dpop_keys().clear().await?;
    tracing::info!(server, issuer = ?issuer, "signed in with the platform's token");
    Ok(SignedIn {
        issuer,
        client_id,
        scopes: crate::secrets::scope_list(granted),
    })
}

/// The grant's client id: the configured one, else a name saying it is a workload's grant
/// (the store wants one; a grant without one looks like a forgotten registration).
fn stored_client_id(settings: &AuthSettings) -> String {
    settings
        .client_id
        .clone()
        .unwrap_or_else(|| "latch-workload".to_owned())
}

/// The platform token, read now.
pub(crate) async fn read_token(
    server: &str,
    source: &WorkloadToken,
) -> Result<PlatformToken, WorkloadError> {
    platform::read(source)
        .await
        .map_err(|reason| WorkloadError::Unreadable {
            server: server.to_owned(),
            source_name: platform::describe(source),
            reason,
        })
}

/// The authorization server as a workload uses it.
pub(crate) struct Found {
    pub(crate) metadata: AuthorizationMetadata,
    /// What the challenge (or the resource metadata) asks for, `offline_access` left out.
    pub(crate) challenge_scopes: Vec<String>,
    /// `Some(true)`: it lists jwt-bearer; `None`: it lists no grant types (assumed offered).
    pub(crate) lists_jwt_bearer: Option<bool>,
}

/// Discover the authorization server and check it can take a platform token over a safe
/// channel.
pub(crate) async fn authorization_server(
    server: &str,
    url: &str,
    challenge: Option<&str>,
    settings: &AuthSettings,
    options: &SignInOptions,
) -> Result<Found, SignInError> {
    let super::discovery::Discovered {
        mut manager,
        metadata,
        ..
    } = super::discovery::discover(url, challenge, Some(&options.store), Some(settings))
        .await
        .map_err(|reason| SignInError::Discovery {
            server: server.to_owned(),
            reason,
        })?;
    let lists_jwt_bearer = metadata
        .additional_fields
        .get("grant_types_supported")
        .and_then(serde_json::Value::as_array)
        .map(|grants| grants.iter().any(|g| g.as_str() == Some(JWT_BEARER)));
    if lists_jwt_bearer == Some(false) {
        return Err(WorkloadError::NotOffered {
            server: server.to_owned(),
            issuer: metadata
                .issuer
                .clone()
                .unwrap_or_else(|| crate::net::shown(&metadata.token_endpoint)),
        }
        .into());
    }
    super::client_credentials::check_token_endpoint(
        url,
        &metadata.token_endpoint,
        "platform tokens",
    )
    .map_err(|reason| WorkloadError::Unsafe {
        server: server.to_owned(),
        reason,
    })?;
    manager.set_metadata(metadata.clone());
    let mut challenge_scopes = manager.select_initial_scopes(&[]).await;
    challenge_scopes.retain(|s| s != "offline_access");
    Ok(Found {
        metadata,
        challenge_scopes,
        lists_jwt_bearer,
    })
}

/// What a refusal means, in words that say what to fix.
fn refused(
    server: &str,
    source: &WorkloadToken,
    token: &PlatformToken,
    metadata: &AuthorizationMetadata,
    settings: &AuthSettings,
    scopes: &[String],
    failure: Failure,
) -> WorkloadError {
    let endpoint = crate::net::shown(&metadata.token_endpoint);
    let (code, description) = match failure {
        Failure::OAuth { code, description } => (code, description),
        Failure::Other(reason) => {
            return WorkloadError::Exchange {
                server: server.to_owned(),
                endpoint,
                reason,
            };
        }
    };
    let said = description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    let what = match code.as_str() {
        "invalid_grant" => invalid_grant(token.claims(), metadata, &said),
        "invalid_scope" => {
            let asked = if scopes.is_empty() {
                "no particular scope".to_owned()
            } else {
                format!("the scope `{}`", scopes.join(" "))
            };
            format!(
                "it does not grant {asked} to this workload (invalid_scope{said}) — set `auth.scopes` to scopes the workload may have"
            )
        }
        "unauthorized_client" | "invalid_client" => {
            let client = match &settings.client_id {
                Some(id) => format!("the client {id}"),
                None => "this workload".to_owned(),
            };
            format!(
                "{client} may not use the jwt-bearer grant there ({code}{said}) — ask the sign-in server's owner to allow it, or check `auth.clientId`"
            )
        }
        other => format!("{other}{said}"),
    };
    WorkloadError::Refused {
        server: server.to_owned(),
        endpoint,
        source_name: platform::describe(source),
        code,
        what,
    }
}

/// `invalid_grant`: say whether the token expired or names another audience, from its claims.
fn invalid_grant(claims: Option<Claims>, metadata: &AuthorizationMetadata, said: &str) -> String {
    let Some(claims) = claims else {
        return format!(
            "it is not accepted (invalid_grant{said}) — the token is not a JWT; give the platform's OIDC token"
        );
    };
    let wanted = metadata
        .issuer
        .clone()
        .unwrap_or_else(|| metadata.token_endpoint.clone());
    let mut wrong = Vec::new();
    let mut fixes = Vec::new();
    if let Some(ago) = claims.expired_for(now()) {
        wrong.push(format!("it expired {} ago", platform::span(ago)));
        fixes.push(
            "the platform should renew it: check that Latch reads the token the platform keeps fresh"
                .to_owned(),
        );
    }
    if claims.audience_matches(metadata.issuer.as_deref(), &metadata.token_endpoint) == Some(false)
    {
        let subject = if wrong.is_empty() { "its" } else { "and its" };
        wrong.push(format!(
            "{subject} audience is {}, not the sign-in server {wanted}",
            claims.aud.join(", ")
        ));
        fixes.push(format!(
            "have the platform issue the token for the audience {wanted}"
        ));
    }
    if !wrong.is_empty() {
        return format!(
            "{} (invalid_grant{said}) — {}",
            wrong.join(" "),
            fixes.join("; ")
        );
    }
    let issuer = claims
        .iss
        .map(|iss| format!(" its issuer {iss}"))
        .unwrap_or_default();
    format!(
        "it is not accepted (invalid_grant{said}) — check that the sign-in server trusts{issuer} and this workload's subject"
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The access token stored now, if any (compared, never shown).
async fn stored_access_token(options: &SignInOptions) -> Option<String> {
    use oauth2::TokenResponse as _;

    let stored = options.store.load().await.ok().flatten()?;
    Some(stored.token_response?.access_token().secret().clone())
}

/// A grant another exchange stored while this one waited for the lock — another access token
/// than the one stored before (which the server may just have refused), not about to expire.
async fn exchanged_meanwhile(options: &SignInOptions, before: Option<&str>) -> Option<SignedIn> {
    use oauth2::TokenResponse as _;

    let stored = options.store.load().await.ok().flatten()?;
    let received_at = stored.token_received_at?;
    let token = stored.token_response.as_ref()?;
    let usable = token.expires_in().is_none_or(|lifetime| {
        let lifetime = lifetime.as_secs();
        received_at + lifetime > now() + 30.min(lifetime / 2).max(1)
    });
    let changed = before != Some(token.access_token().secret().as_str());
    (changed && usable).then(|| SignedIn {
        issuer: stored.issuer.clone(),
        client_id: stored.client_id.clone(),
        scopes: crate::secrets::scope_list(stored.granted_scopes.clone()),
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn metadata() -> AuthorizationMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://as.example",
            "authorization_endpoint": "https://as.example/authorize",
            "token_endpoint": "https://as.example/token",
        }))
        .unwrap()
    }

    fn token(claims: serde_json::Value) -> PlatformToken {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        PlatformToken::for_test(&format!(
            "{}.{}.c2ln",
            b64(br#"{"alg":"ES256"}"#),
            b64(claims.to_string().as_bytes())
        ))
    }

    fn refusal(token: &PlatformToken, settings: &AuthSettings, code: &str) -> String {
        refused(
            "ci",
            &WorkloadToken::File("/var/run/secrets/tokens/mcp".into()),
            token,
            &metadata(),
            settings,
            &["tools.read".to_owned()],
            Failure::OAuth {
                code: code.into(),
                description: None,
            },
        )
        .to_string()
    }

    #[test]
    fn refusals_say_what_to_fix_without_the_token() {
        let settings = AuthSettings::default();
        let expired = token(serde_json::json!({"aud": "https://as.example", "exp": now() - 90}));
        let text = refusal(&expired, &settings, "invalid_grant");
        assert!(
            text.starts_with("ci's sign-in server (https://as.example/token) refused the platform token from the file /var/run/secrets/tokens/mcp: it expired 90 s ago"),
            "{text}"
        );
        assert!(!text.contains(expired.secret()));

        let elsewhere =
            token(serde_json::json!({"aud": "https://wrong.example", "exp": now() + 300}));
        let text = refusal(&elsewhere, &settings, "invalid_grant");
        assert!(
            text.contains(
                "its audience is https://wrong.example, not the sign-in server https://as.example"
            ),
            "{text}"
        );
        let text = refusal(&elsewhere, &settings, "invalid_scope");
        assert!(
            text.contains("`tools.read`") && text.contains("`auth.scopes`"),
            "{text}"
        );
        let client = AuthSettings {
            client_id: Some("ci-bot".into()),
            ..AuthSettings::default()
        };
        let text = refusal(&elsewhere, &client, "unauthorized_client");
        assert!(
            text.contains("the client ci-bot may not use the jwt-bearer grant"),
            "{text}"
        );
    }

    #[test]
    fn platform_tokens_go_over_https_or_between_loopback_hosts_only() {
        let ok = |r, t| {
            super::super::client_credentials::check_token_endpoint(r, t, "platform tokens").is_ok()
        };
        assert!(ok("https://mcp.example/mcp", "https://as.example/token"));
        assert!(ok("http://127.0.0.1:1/mcp", "http://localhost:2/token"));
        assert!(!ok("https://mcp.example/mcp", "http://as.example/token"));
        assert!(!ok("http://127.0.0.1:1/mcp", "http://as.example/token"));
    }
}
