//! Latch's bundled demo MCP server, so a newcomer can try everything offline: sign in through
//! the browser, list tools, call them, watch progress, see an image, confirm a destructive
//! call. It listens on 127.0.0.1 only and is its own authorization server (RFC 9728 resource
//! metadata, RFC 8414 server metadata, RFC 7591 registration, code + PKCE, rotating refresh
//! tokens, RFC 7009 revocation), approving every sign-in at once — there is one person here.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let demo = latch_demo::DemoServer::start(latch_demo::DemoOptions::default()).await?;
//! println!("add {} to Latch", demo.url());
//! demo.stop().await;
//! # Ok(()) }
//! ```

mod http;
mod oauth;
mod png;
mod report;
mod tools;

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use oauth::DemoStats;

/// The port the app and `latch demo` use unless told otherwise.
pub const DEFAULT_PORT: u16 = 4717;

/// How long an access token lives unless told otherwise.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// How long `stop` waits for open streams to close before it drops them.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// How to start a demo server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// The port on 127.0.0.1; 0 picks a free one (see [`DemoServer::port`]).
    pub port: u16,
    /// The lifetime of the access tokens it issues (`expires_in`).
    pub access_token_ttl: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
        }
    }
}

/// A running demo server. It stops when [`stop`](DemoServer::stop)ped or dropped.
pub struct DemoServer {
    address: SocketAddr,
    auth: Arc<oauth::AuthServer>,
    shared: tools::Shared,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Listen on `127.0.0.1:{options.port}` and serve in the background (needs a Tokio
    /// runtime). A taken port is an [`std::io::ErrorKind::AddrInUse`] error.
    pub async fn start(options: DemoOptions) -> std::io::Result<DemoServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)).await?;
        let address = listener.local_addr()?;
        let issuer = format!("http://127.0.0.1:{}", address.port());
        let resource = format!("{issuer}/mcp");
        let auth = Arc::new(oauth::AuthServer::new(
            issuer,
            resource,
            options.access_token_ttl,
        ));
        let shutdown = CancellationToken::new();
        let shared = tools::Shared::new();
        let app = http::router(auth.clone(), shared.clone(), shutdown.child_token());
        let stopped = shutdown.clone();
        let task = tokio::spawn(async move {
            let serve =
                axum::serve(listener, app).with_graceful_shutdown(stopped.cancelled_owned());
            if let Err(error) = serve.await {
                tracing::error!(%error, "the demo server stopped");
            }
        });
        tracing::info!(%address, "demo server listening");
        Ok(DemoServer {
            address,
            auth,
            shared,
            shutdown,
            task: Some(task),
        })
    }

    /// The MCP endpoint: `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        self.auth.resource().to_owned()
    }

    /// The authorization server's issuer: `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> String {
        self.auth.issuer().to_owned()
    }

    /// The port it listens on (the chosen one when started with port 0).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// What the authorization server has done so far.
    pub fn stats(&self) -> DemoStats {
        let mut stats = self.auth.stats();
        stats.tasks_cancelled = self
            .shared
            .tasks_cancelled
            .load(std::sync::atomic::Ordering::Relaxed);
        stats.reports_cancelled = self
            .shared
            .reports_cancelled
            .load(std::sync::atomic::Ordering::Relaxed);
        stats
    }

    /// Stop listening, end the MCP sessions, and wait (briefly) for the server to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        self.shared.reports.shutdown();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(STOP_GRACE, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.shared.reports.shutdown();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for DemoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoServer")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One HTTP/1.1 request over a fresh connection; the whole answer as text.
    async fn fetch(port: u16, request: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn get(port: u16, path: &str, extra: &str) -> String {
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n")
    }

    #[tokio::test]
    async fn mcp_without_a_valid_token_gets_a_challenge_naming_the_metadata() {
        let demo = DemoServer::start(DemoOptions {
            port: 0,
            ..DemoOptions::default()
        })
        .await
        .unwrap();
        let port = demo.port();
        assert_eq!(demo.url(), format!("http://127.0.0.1:{port}/mcp"));
        let metadata = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp");

        let post = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        );
        let answer = fetch(port, &post).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(
            answer.contains(&format!(
                r#"www-authenticate: Bearer resource_metadata="{metadata}""#
            )),
            "{answer}"
        );
        let answer = fetch(port, &get(port, "/mcp", "Authorization: Bearer nope\r\n")).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(answer.contains(r#"error="invalid_token""#), "{answer}");

        let answer = fetch(
            port,
            &get(port, "/.well-known/oauth-protected-resource/mcp", ""),
        )
        .await;
        let body: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["resource"], demo.url());
        assert_eq!(body["authorization_servers"][0], demo.issuer());

        let answer = fetch(
            port,
            &get(port, "/.well-known/oauth-authorization-server", ""),
        )
        .await;
        let body: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["issuer"], demo.issuer());
        assert_eq!(body["code_challenge_methods_supported"][0], "S256");
        assert_eq!(demo.stats().bearer_rejections, 2);
        demo.stop().await;
    }

    #[tokio::test]
    async fn a_taken_port_is_addr_in_use_and_stop_frees_it() {
        let first = DemoServer::start(DemoOptions {
            port: 0,
            ..DemoOptions::default()
        })
        .await
        .unwrap();
        let port = first.port();
        let options = DemoOptions {
            port,
            ..DemoOptions::default()
        };
        let error = DemoServer::start(options).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
        first.stop().await;
        let again = DemoServer::start(options).await.unwrap();
        again.stop().await;
    }
}
