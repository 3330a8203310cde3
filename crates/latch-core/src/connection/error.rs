//! Why a connection could not be made, in words a person can act on, with classifiers the
//! rest of the core uses to decide what to do next (retry, fall back to SSE, ask to sign in).

use rmcp::service::{ClientInitializeError, ClientLifecycleMode};

use crate::words::{StreamableError, causes, chain, plain, raw_chain};

use super::sse::SseTransportError;
use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("`{url}` is not a valid server URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("header `{name}`: {reason} — fix it with `latch servers add` or in the servers file")]
    BadHeader { name: String, reason: String },
    #[error("could not reach {target}: {reason} — is the server running and the URL right?")]
    Unreachable { target: String, reason: String },
    #[error("could not start `{command}`: {source} — is it installed and on PATH?")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    SignIn(#[from] crate::auth::SignInError),
    #[error("{target} asks for sign-in (HTTP 401) — run `latch login` for it")]
    AuthRequired {
        target: String,
        /// The server's `WWW-Authenticate` challenge (holds no secret).
        challenge: Option<String>,
    },
    /// The server takes only DPoP-bound tokens (its 401 challenges with the `DPoP` scheme
    /// alone) and Latch holds a bearer token: signing in again the same way cannot help.
    #[error(
        "{target} accepts only DPoP-bound tokens, and Latch signed in without DPoP (`auth.dpop` is false, or its sign-in server does not offer DPoP): remove `\"dpop\": false` or set `\"dpop\": true` in its `auth` entry, then `latch login` again"
    )]
    DpopRequired { target: String },
    #[error("the token store failed: {reason}")]
    TokenStore { reason: String },
    /// The server redirected Latch where it does not go (too many hops, another kind of URL,
    /// this machine or the local network from a public server, a metadata service).
    #[error("{target} redirected Latch, and Latch did not follow: {reason}")]
    Redirect { target: String, reason: String },
    #[error("{target} answered HTTP {status}{detail}")]
    HttpStatus {
        target: String,
        status: u16,
        detail: String,
    },
    #[error("{target} did not complete the MCP handshake: {reason}")]
    Handshake { target: String, reason: String },
    /// The server turned the protocol era down the way a server of the other era does (see
    /// [`super::era::refused`]).
    #[error("{target} refused the MCP protocol version Latch offered: {reason}{hint}")]
    WrongEra {
        target: String,
        /// The HTTP status it refused with, if any.
        status: Option<u16>,
        reason: String,
        /// What to do about it, when the config pinned the era.
        hint: String,
    },
    #[error("the server did not finish the handshake within {seconds} s")]
    HandshakeTimeout { seconds: u64 },
    #[error(
        "{url} speaks neither MCP transport: Streamable HTTP failed ({streamable}); the legacy SSE transport failed too ({sse})"
    )]
    NoTransport {
        url: String,
        streamable: Box<ConnectError>,
        sse: Box<ConnectError>,
    },
}

/// Whether a `WWW-Authenticate` challenge offers the `DPoP` scheme and not `Bearer`.
pub(crate) fn challenges_dpop_only(challenge: &str) -> bool {
    let schemes = || {
        challenge
            .split(',')
            .filter_map(|part| part.split_whitespace().next())
            .filter(|word| !word.contains('='))
    };
    schemes().any(|s| s.eq_ignore_ascii_case("dpop"))
        && !schemes().any(|s| s.eq_ignore_ascii_case("bearer"))
}

impl ConnectError {
    /// The server wants a token (HTTP 401).
    pub fn is_auth_required(&self) -> bool {
        matches!(self, Self::AuthRequired { .. })
    }

    /// Nothing reached the server (refused, DNS, no route): trying again is safe.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }

    /// The server refused a Streamable HTTP `initialize` the way a 2024-11-05 server does
    /// (HTTP 400, 404 or 405), so the legacy SSE transport is worth a try.
    pub(crate) fn suggests_legacy_sse(&self) -> bool {
        matches!(
            self,
            Self::HttpStatus {
                status: 400 | 404 | 405,
                ..
            } | Self::WrongEra {
                status: Some(400 | 404 | 405),
                ..
            }
        )
    }

    /// The server refused the protocol era Latch opened with (on Streamable HTTP, or on the
    /// SSE fallback after it): the other era is worth a try.
    pub(crate) fn refused_era(&self) -> bool {
        match self {
            Self::WrongEra { .. } => true,
            Self::NoTransport { streamable, .. } => streamable.refused_era(),
            _ => false,
        }
    }

    /// The error of a connection whose config pinned protocol `version`: a refusal says how
    /// to let Latch find the server's era out.
    pub(crate) fn pinned_to(self, version: &str) -> Self {
        match self {
            Self::WrongEra {
                target,
                status,
                reason,
                ..
            } => Self::WrongEra {
                target,
                status,
                reason,
                hint: format!(
                    " — its entry pins \"protocol\": \"{version}\"; set it to \"auto\" and Latch finds out which version the server speaks"
                ),
            },
            other => other,
        }
    }

    /// A failed start of a session opened with `lifecycle`: a refusal of that era (see
    /// [`super::era::refused`]) is [`Self::WrongEra`], anything else as [`Self::from_init`].
    pub(crate) fn from_handshake(
        error: ClientInitializeError,
        target: &str,
        lifecycle: &ClientLifecycleMode,
    ) -> Self {
        let refused = super::era::refused(&error, lifecycle);
        match Self::from_init(error, target) {
            Self::HttpStatus {
                target,
                status: status @ (400 | 404 | 405),
                detail,
            } if refused => Self::WrongEra {
                target,
                status: Some(status),
                reason: format!("HTTP {status}{detail}"),
                hint: String::new(),
            },
            Self::Handshake { target, reason } if refused => Self::WrongEra {
                target,
                status: None,
                reason,
                hint: String::new(),
            },
            other => other,
        }
    }

    pub(crate) fn from_init(error: ClientInitializeError, target: &str) -> Self {
        // The raw chain, type names and all, is for the log (and `-v`); the person gets words.
        tracing::debug!(server = %target, error = %raw_chain(&error), "the handshake failed");
        let target = target.to_owned();
        if error.is_authorization_required() || error.auth_challenge().is_some() {
            return Self::AuthRequired {
                target,
                challenge: error
                    .auth_challenge()
                    .filter(|c| !c.trim().is_empty())
                    .map(str::to_owned),
            };
        }
        if let Some(refused) = address_refusal(&error, &target) {
            return refused;
        }
        if let Some(reason) = unreachable_reason(&error) {
            return Self::Unreachable { target, reason };
        }
        if let Some((status, mut detail)) = http_status(&error) {
            // A redirect reqwest did not follow (a `file:` Location…).
            if (300..400).contains(&status) && detail.is_empty() {
                detail = ", a redirect Latch does not follow — check the server's URL".to_owned();
            }
            return Self::HttpStatus {
                target,
                status,
                detail,
            };
        }
        if let Some(reason) = token_store_failure(&error) {
            return Self::TokenStore { reason };
        }
        if let Some(reason) = redirect_refusal(&error) {
            return Self::Redirect { target, reason };
        }
        Self::Handshake {
            target,
            reason: plain::handshake_reason(&error),
        }
    }

    pub(crate) fn from_sse(error: SseTransportError, target: &str) -> Self {
        tracing::debug!(server = %target, error = %raw_chain(&error), "the SSE transport failed");
        let target = target.to_owned();
        if error.is_auth_required() {
            return Self::AuthRequired {
                target,
                challenge: error.auth_challenge().map(str::to_owned),
            };
        }
        if let Some(refused) = address_refusal(&error, &target) {
            return refused;
        }
        if let Some(reason) = unreachable_reason(&error) {
            return Self::Unreachable { target, reason };
        }
        if let Some(reason) = redirect_refusal(&error) {
            return Self::Redirect { target, reason };
        }
        match error.status() {
            Some(status) => Self::HttpStatus {
                target,
                status,
                detail: String::new(),
            },
            None => Self::Handshake {
                target,
                reason: chain(&error),
            },
        }
    }
}

/// Why nothing reached the server, when that is what happened.
fn unreachable_reason(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let causes = causes(error);
    let connect_failed = causes.iter().any(|e| {
        e.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect)
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    connect_failed.then(|| plain::network_reason(&causes))
}

/// The token store's own words when it failed under the transport (a refreshed grant that
/// could not be saved: a full disk, no keychain) — they say what to do.
fn token_store_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    causes(error).into_iter().find_map(|e| {
        match e.downcast_ref::<rmcp::transport::auth::AuthError>() {
            Some(rmcp::transport::auth::AuthError::CredentialStoreError(reason)) => {
                Some(reason.clone())
            }
            _ => None,
        }
    })
}

/// Why a redirect was not followed, when that is what happened.
fn redirect_refusal(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    causes(error).into_iter().find_map(|e| {
        e.downcast_ref::<crate::net::RedirectRefused>()
            .map(|refused| refused.0.clone())
    })
}

/// A name whose addresses Latch would not connect to ([`crate::net::AddressRefused`]): a hop
/// of a redirect, or the server's own name (when it resolves to a metadata or reserved
/// address). Not "unreachable": trying again would meet the same answer.
fn address_refusal(
    error: &(dyn std::error::Error + 'static),
    target: &str,
) -> Option<ConnectError> {
    let refused = causes(error)
        .into_iter()
        .find_map(|e| e.downcast_ref::<crate::net::AddressRefused>())?;
    let target_host = url::Url::parse(target).ok().and_then(|u| {
        u.host_str()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
    });
    let target = target.to_owned();
    let reason = refused.reason.clone();
    Some(if target_host.as_deref() == Some(refused.host.as_str()) {
        ConnectError::Handshake { target, reason }
    } else {
        ConnectError::Redirect {
            target,
            reason: format!("{reason} — check the server's URL (if it moved, use its new address)"),
        }
    })
}

/// The HTTP status a failed handshake was refused with, if it got that far.
pub(crate) fn http_status_of(error: &ClientInitializeError) -> Option<u16> {
    http_status(error).map(|(status, _)| status)
}

/// The HTTP status a server refused the handshake with, found among the causes.
fn http_status(error: &(dyn std::error::Error + 'static)) -> Option<(u16, String)> {
    for e in causes(error) {
        if let Some(s) =
            e.downcast_ref::<rmcp::transport::streamable_http_client::HttpStatusError>()
        {
            return Some((s.status, String::new()));
        }
        if let Some(status) = e
            .downcast_ref::<reqwest::Error>()
            .and_then(reqwest::Error::status)
        {
            return Some((status.as_u16(), String::new()));
        }
        // rmcp reports other refusals as "HTTP 404 Not Found: <body prefix>".
        if let Some(StreamableError::UnexpectedServerResponse(text)) = e.downcast_ref()
            && let Some(code) = text
                .strip_prefix("HTTP ")
                .and_then(|rest| rest.get(..3))
                .and_then(|c| c.parse::<u16>().ok())
        {
            return Some((code, String::new()));
        }
    }
    None
}

#[cfg(test)]
mod tests;
