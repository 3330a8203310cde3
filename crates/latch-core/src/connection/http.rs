//! The two HTTP transports: Streamable HTTP through rmcp, and the legacy HTTP+SSE transport
//! in [`super::sse`]. Both get the server's static headers on every request, and both retry
//! with bounded back-off only while the server cannot be reached at all — when nothing was
//! sent, repeating is safe.
//!
//! With a stored grant ([`GrantClient`]), requests go through [`RefreshOnce`]: rmcp's
//! `AuthClient`, with each refresh checked under the grant's refresh lock against the token it
//! replaces, so one expiry costs one refresh however many requests, connections and programs
//! meet it, and with the token reused for a few seconds instead of read from the store for
//! every request.

mod dpop;
mod grant;
pub(super) mod layer;
mod refresh_once;
mod reissue;
mod session_watch;

use std::{collections::HashMap, future::Future, time::Duration};

use http::{HeaderMap, HeaderName, HeaderValue};
use rmcp::{
    RoleClient, ServiceExt,
    service::{ClientLifecycleMode, RunningService, serve_client_with_lifecycle},
    transport::{
        Transport,
        streamable_http_client::{StreamableHttpClient, StreamableHttpClientTransportConfig},
    },
};
use url::Url;

pub(crate) use self::grant::GrantClient;
use self::refresh_once::RefreshOnce;
use super::{
    ConnectError, ConnectOptions, LatchHandler,
    sse::{SseClientConfig, SseClientTransport},
    tap,
    tasks::client::{Announce, TaskHost, TaskMarks, mark},
};
use crate::config::{RemoteServer, SecretSource};

/// A remote server's URL with its headers resolved.
pub(crate) struct Target {
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    /// The server's protocol log.
    pub(crate) log: tap::Log,
}

impl Target {
    pub(crate) fn new(
        name: &str,
        server: &RemoteServer,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ConnectError> {
        let url = Url::parse(&server.url).map_err(|e| ConnectError::BadUrl {
            url: server.url.clone(),
            reason: e.to_string(),
        })?;
        let mut headers = HeaderMap::new();
        for (name, value) in server.resolved_headers(secrets)? {
            let header_name =
                HeaderName::try_from(name.as_str()).map_err(|_| ConnectError::BadHeader {
                    name: name.clone(),
                    reason: "not a valid header name".into(),
                })?;
            let mut header_value =
                HeaderValue::try_from(value).map_err(|_| ConnectError::BadHeader {
                    name: name.clone(),
                    reason: "the value has characters a header cannot carry".into(),
                })?;
            header_value.set_sensitive(true);
            headers.insert(header_name, header_value);
        }
        Ok(Self {
            url,
            headers,
            log: tap::Log::of(name),
        })
    }

    /// The Streamable HTTP transport over `client` (`signed`: a stored grant's token goes on
    /// its requests). From the top: the server's task-augmented requests answered as tasks,
    /// the messages logged, the session watched, tasks marked on the wire, the HTTP exchanges
    /// logged, then `client`.
    fn transport<C>(
        &self,
        client: C,
        signed: bool,
        config: StreamableHttpClientTransportConfig,
    ) -> impl Transport<RoleClient> + use<C>
    where
        C: StreamableHttpClient<Error = reqwest::Error> + Sync,
    {
        let configured = tap::redact::Configured::new(self.headers.keys());
        let client = tap::http::TappedHttp::new(client, self.log.clone(), configured, signed);
        let transport = session_watch::transport(TaskMarks::new(client), config);
        TaskHost::new(tap::Tapped::new(transport, self.log.clone()))
    }
}

pub(crate) async fn connect_streamable(
    target: &Target,
    handler: LatchHandler,
    options: &ConnectOptions,
    grant: Option<&GrantClient>,
    lifecycle: ClientLifecycleMode,
) -> Result<RunningService<RoleClient, LatchHandler>, ConnectError> {
    let custom: HashMap<HeaderName, HeaderValue> = target
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let http = crate::net::client_for(&target.url, !target.headers.is_empty());
    retrying(options.connect_attempts, || {
        let config = StreamableHttpClientTransportConfig::with_uri(target.url.as_str())
            .custom_headers(custom.clone());
        let handler = handler.clone();
        let grant = grant.cloned();
        let http = http.clone();
        let lifecycle = lifecycle.clone();
        let lifecycle_used = lifecycle.clone();
        async move {
            let served = match grant {
                // A stored grant: the token goes on every request, refreshed ahead of expiry;
                // on a 401, one retry with a newer token — the stored one if another request
                // or program already refreshed, else a refreshed one.
                Some(mut grant) => {
                    // This server's client: its headers decide where a redirect may go.
                    grant.client.http_client.inner = http;
                    let transport = target.transport(RefreshOnce::new(grant), true, config);
                    serve_client_with_lifecycle(handler, transport, lifecycle).await
                }
                None => {
                    let transport = target.transport(http, false, config);
                    serve_client_with_lifecycle(handler, transport, lifecycle).await
                }
            };
            served
                .map_err(|e| ConnectError::from_handshake(e, target.url.as_str(), &lifecycle_used))
        }
    })
    .await
}

pub(crate) async fn connect_sse(
    target: &Target,
    handler: LatchHandler,
    options: &ConnectOptions,
    grant: Option<&GrantClient>,
) -> Result<RunningService<RoleClient, LatchHandler>, ConnectError> {
    // The legacy transport has no per-request hook: the current token goes in as a header.
    let mut headers = target.headers.clone();
    if let Some(grant) = grant {
        let token = RefreshOnce::new(grant.clone()).access_token().await;
        match token {
            Ok(token) => {
                let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                    ConnectError::TokenStore {
                        reason: "the stored token is not a valid header value".into(),
                    }
                })?;
                value.set_sensitive(true);
                headers.insert(http::header::AUTHORIZATION, value);
            }
            Err(error) => tracing::info!(%error, "the stored sign-in could not be used"),
        }
    }
    let http = crate::net::client_for(&target.url, !target.headers.is_empty());
    retrying(options.connect_attempts, || {
        let config = SseClientConfig {
            url: target.url.clone(),
            headers: headers.clone(),
            ..SseClientConfig::new(target.url.clone())
        };
        let handler = handler.clone();
        let http = http.clone();
        async move {
            // As over Streamable HTTP: tasks marked on the wire and announced, the messages
            // logged, the server's task-augmented requests answered as tasks.
            let transport =
                SseClientTransport::connect_recorded(http, config, target.log.clone(), mark)
                    .await
                    .map_err(|e| ConnectError::from_sse(e, target.url.as_str()))?;
            let transport = tap::Tapped::new(Announce(transport), target.log.clone());
            handler
                .serve(TaskHost::new(transport))
                .await
                .map_err(|e| ConnectError::from_init(e, target.url.as_str()))
        }
    })
    .await
}

/// Run `attempt` until it succeeds, fails for a reason other than "unreachable", or
/// `attempts` tries are spent; waits 250 ms, 500 ms, 1 s, … (at most 4 s) in between.
pub(crate) async fn retrying<T, F, Fut>(attempts: u32, mut attempt: F) -> Result<T, ConnectError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectError>>,
{
    let mut delay = Duration::from_millis(250);
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if error.is_unreachable() && tries < attempts.max(1) => {
                tracing::debug!(%error, tries, "server unreachable; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(4));
                tries += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn unreachable() -> ConnectError {
        ConnectError::Unreachable {
            target: "http://127.0.0.1:9/mcp".into(),
            reason: "Connection refused".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_while_nothing_reached_the_server() {
        let tries = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = retrying(4, || async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(unreachable()),
                _ => Ok("connected"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "connected");
        assert_eq!(tries.load(Ordering::SeqCst), 3);
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(250 + 500),
            "back-off doubles"
        );

        // A refusal that reached the server is never retried.
        let tries = AtomicU32::new(0);
        let result: Result<(), _> = retrying(4, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(ConnectError::HttpStatus {
                target: "x".into(),
                status: 500,
                detail: String::new(),
            })
        })
        .await;
        assert!(matches!(
            result,
            Err(ConnectError::HttpStatus { status: 500, .. })
        ));
        assert_eq!(tries.load(Ordering::SeqCst), 1);

        // Bounded: gives up after the last attempt with the last error.
        let tries = AtomicU32::new(0);
        let result: Result<(), _> = retrying(3, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(unreachable())
        })
        .await;
        assert!(result.unwrap_err().is_unreachable());
        assert_eq!(tries.load(Ordering::SeqCst), 3);
    }
}
