//! `latch bridge NAME`: an MCP server on stdin/stdout for agents that only start local
//! commands (Claude Desktop, Cursor, LangGraph), forwarding everything to the remote server
//! NAME through an ordinary [`Connection`](crate::Connection) — so it signs in with the stored
//! grant and refreshes under the same cross-process lock as the tray and the CLI. The agent sees
//! the remote server's own capabilities, tools, resources and prompts; the remote server sees
//! the agent's capabilities and gets its sampling, roots and elicitation requests answered by
//! the agent. Stdout carries only the protocol; logs go to stderr, and never a token.
//!
//! It serves agents of both protocol eras, whatever era the remote server speaks: the
//! `initialize` handshake (2025-11-25 and older) and the stateless requests of 2026-07-28
//! (`server/discover`, `_meta` on every request, `subscriptions/listen`). Between eras it
//! translates the server's questions: a 2026 server's `input_required` results become ordinary
//! requests to a 2025 agent (`rounds`), and a 2025 server's requests become `input_required`
//! results for a 2026 agent (`pending`).

mod agent;
mod app_only;
mod error;
mod listen;
mod pending;
mod remote;
mod rounds;
mod stdio;
mod tasks;

use std::sync::Arc;

use rmcp::{RoleServer, ServiceExt, service::ServerInitializeError, transport::IntoTransport};

pub use error::BridgeError;

use crate::{config::ServerConfig, events::Event, secrets::SecretStore};

/// How the bridge behaves.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BridgeOptions {
    /// When the server needs a sign-in, open the system browser once (instead of only
    /// answering the agent with an error that says how to sign in).
    pub login_if_needed: bool,
    /// Which of the server's accounts to use (`latch bridge NAME --account LABEL`); `None` is
    /// the default account.
    pub account: Option<String>,
}

impl BridgeOptions {
    /// Options with `--login-if-needed` set as given, for the default account.
    pub fn new(login_if_needed: bool) -> Self {
        Self {
            login_if_needed,
            account: None,
        }
    }

    /// The same options for the account `account` (`None`: the default account).
    pub fn with_account(mut self, account: Option<String>) -> Self {
        self.account = account;
        self
    }
}

/// The message the agent gets while `server` needs a sign-in.
pub fn sign_in_message(server: &str) -> String {
    sign_in_message_for(server, None)
}

/// The message the agent gets while `server`'s `account` needs a sign-in.
pub fn sign_in_message_for(server: &str, account: Option<&str>) -> String {
    match account {
        Some(account) => format!(
            "Latch: sign in to {server} as {account} — open Latch or run `latch login {server} --account {account}`"
        ),
        None => format!("Latch: sign in to {server} — open Latch or run `latch login {server}`"),
    }
}

/// Serve the agent on this process's stdin/stdout until it closes them.
pub async fn run_stdio(
    name: &str,
    server: ServerConfig,
    secrets: SecretStore,
    options: BridgeOptions,
) -> Result<(), BridgeError> {
    serve(name, server, secrets, options, stdio::agent_stdio()).await
}

/// Serve the agent on `transport` until it closes it, then end the remote session.
pub async fn serve<T, E, A>(
    name: &str,
    server: ServerConfig,
    secrets: SecretStore,
    options: BridgeOptions,
    transport: T,
) -> Result<(), BridgeError>
where
    T: IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    // Building the process's HTTP client loads the system's root certificates, which takes a
    // while: start it now, beside the other clients the connection builds when the agent's
    // `initialize` comes, so the answer comes sooner.
    let origin = match &server {
        ServerConfig::Remote(remote) => url::Url::parse(&remote.url)
            .ok()
            .map(|url| (url, !remote.headers.is_empty())),
        _ => None,
    };
    let warm_up = tokio::task::spawn_blocking(move || {
        origin.map(|(url, headers)| crate::net::client_for(&url, headers))
    });
    let agent = Arc::new(agent::AgentLink::default());
    let remote = Arc::new(remote::Remote::new(
        name,
        server,
        secrets,
        options.login_if_needed,
        options.account.clone(),
        agent.clone(),
    ));
    let announcer = announce_sign_in_steps(&remote);
    let service = agent::BridgeService::new(remote.clone(), agent);
    let outcome = match service.serve(transport).await {
        Ok(running) => match running.waiting().await {
            Ok(reason) => {
                tracing::debug!(?reason, "the agent ended the session");
                Ok(())
            }
            Err(error) => Err(BridgeError::Stopped {
                reason: error.to_string(),
            }),
        },
        // The agent went away before it said hello: nothing to do.
        Err(ServerInitializeError::ConnectionClosed(_)) => Ok(()),
        Err(error) => Err(BridgeError::Handshake {
            reason: error.to_string(),
        }),
    };
    announcer.abort();
    warm_up.abort();
    remote.close().await;
    outcome
}

/// A sign-in the bridge starts (`--login-if-needed`) tells the person on stderr what to open:
/// the agent's log is the only place a bridge can speak to them. URLs carry no secret.
fn announce_sign_in_steps(remote: &remote::Remote) -> tokio::task::JoinHandle<()> {
    let mut events = remote.events().subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(Event::SignInUrl { server, url }) => {
                    tracing::warn!("to sign in to {server}, open {url}");
                }
                Ok(Event::DeviceCode {
                    server,
                    user_code,
                    verification_uri,
                    ..
                }) => {
                    tracing::warn!(
                        "to sign in to {server}, enter {user_code} at {verification_uri}"
                    );
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}
