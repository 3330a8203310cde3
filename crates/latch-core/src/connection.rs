//! A live session with one MCP server: picking and opening the transport (Streamable HTTP,
//! legacy HTTP+SSE, or a child process over stdio), the protocol era ([`era`]: the 2026
//! stateless wire or the 2025 `initialize` handshake), the connection state published as
//! events, and closing the session properly.

mod call;
mod complete;
pub(crate) mod era;
mod error;
mod handler;
mod http;
pub(crate) mod input_required;
mod prompts;
mod resources;
pub mod sse;
mod stdio;
pub mod tap;
mod tasks;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    RoleClient,
    service::{ClientLifecycleMode, RunningService, serve_client_with_lifecycle},
};
use serde::Serialize;
use tokio::sync::RwLock;

pub use crate::events::{ConnectionState, TransportUsed};
pub use crate::words::without_type_paths;
pub use call::{CallError, CallOptions};
pub use complete::{Completion, CompletionTarget};
pub use era::memory::EraMemory;
pub use error::ConnectError;
pub(crate) use handler::{LatchHandler, Relay, RunningCall, Shared};
pub(crate) use http::GrantClient;
pub use prompts::{PromptArgumentView, PromptError, PromptMessageView, PromptResult, PromptView};
pub use resources::{ResourceError, ResourceRead, ResourceTemplateView, ResourceView};

use crate::{
    auth::{AuthSettings, BrowserMode, SharedCredentialStore, SignInOptions, sign_in},
    config::{NoSecrets, ProtocolChoice, SecretSource, ServerConfig, TransportKind},
    events::{Event, EventBus},
    host::{DefaultsHost, Host},
};

/// How to connect.
#[derive(Clone)]
pub struct ConnectOptions {
    /// Answers server requests for user input.
    pub host: Arc<dyn Host>,
    /// Where state changes and progress are published.
    pub events: EventBus,
    /// Resolves `${secret:NAME}` placeholders.
    pub secrets: Arc<dyn SecretSource>,
    /// Attempts made while the server cannot be reached at all (nothing was sent).
    pub connect_attempts: u32,
    /// How long the `initialize` handshake may take.
    pub handshake_timeout: Duration,
    /// Where this server's grant is kept; `None` connects without a token.
    pub credentials: Option<SharedCredentialStore>,
    /// Sign in when the server asks (401, or 403 `insufficient_scope` for more scopes), this
    /// way; `None` reports [`ConnectError::AuthRequired`] instead.
    pub sign_in: Option<BrowserMode>,
    /// Where the era each server speaks is remembered between connections (and programs).
    pub eras: EraMemory,
    /// Keep a `subscriptions/listen` stream open on 2026-07-28 connections, to hear of list
    /// changes (the 2025 GET stream needs nothing). Off for one-shot commands: a request they
    /// would only pay for.
    pub watch_lists: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            host: Arc::new(DefaultsHost),
            events: EventBus::new(),
            secrets: Arc::new(NoSecrets),
            connect_attempts: 4,
            handshake_timeout: Duration::from_secs(30),
            credentials: None,
            sign_in: None,
            eras: EraMemory::none(),
            watch_lists: true,
        }
    }
}

/// What the server said about itself (in `server/discover`, or in `initialize`).
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServerInfoView {
    pub name: Option<String>,
    pub version: Option<String>,
    /// The protocol version in use, e.g. `2026-07-28` or `2025-11-25`.
    pub protocol_version: String,
    /// The 2026 stateless wire (no handshake, no session), as opposed to the 2025 handshake.
    pub stateless: bool,
    pub instructions: Option<String>,
}

/// An initialized session with one server.
pub struct Connection {
    pub(crate) shared: Arc<Shared>,
    pub(crate) service: RunningService<RoleClient, LatchHandler>,
    transport: TransportUsed,
    pub(crate) next_call_id: std::sync::atomic::AtomicU64,
    /// How to sign in again for more scopes, when the options allow it.
    pub(crate) step_up: Option<StepUp>,
    /// Ends what runs beside the session (the 2026 list-change listener).
    background: tokio_util::sync::CancellationToken,
    /// The resources whose updates this connection follows.
    followed: era::listen::Followed,
}

/// What a connection needs to sign in again mid-session (scope step-up).
#[derive(Clone)]
pub(crate) struct StepUp {
    pub(crate) url: String,
    pub(crate) settings: AuthSettings,
    pub(crate) options: SignInOptions,
    /// The connection's hold on the grant, told about the new grant after each sign-in.
    pub(crate) client: Option<GrantClient>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.background.cancel();
    }
}

impl StepUp {
    /// Sign in (for `challenge`'s scopes, if given) and make the connection use the new grant.
    pub(crate) async fn sign_in(
        &self,
        server: &str,
        challenge: Option<&str>,
    ) -> Result<(), ConnectError> {
        sign_in(server, &self.url, &self.settings, challenge, &self.options).await?;
        if let Some(client) = &self.client {
            client.reset().await;
        }
        Ok(())
    }
}

impl Connection {
    /// Connect to the server `name` described by `server` and run the handshake.
    pub async fn connect(
        name: &str,
        server: &ServerConfig,
        options: ConnectOptions,
    ) -> Result<Connection, ConnectError> {
        Self::connect_relayed(name, server, options, None).await
    }

    /// [`Connection::connect`], with the server's requests and notifications for its client
    /// passed to `relay` (the bridge's agent) instead of being answered by Latch.
    pub(crate) async fn connect_relayed(
        name: &str,
        server: &ServerConfig,
        options: ConnectOptions,
        relay: Option<Arc<dyn Relay>>,
    ) -> Result<Connection, ConnectError> {
        let shared = Arc::new(Shared {
            server: name.to_owned(),
            events: options.events.clone(),
            host: options.host.clone(),
            tools: RwLock::new(None),
            calls: Mutex::new(Default::default()),
            relay,
        });
        let publish = |state| {
            options.events.publish(Event::StateChanged {
                server: name.to_owned(),
                state,
            })
        };
        publish(ConnectionState::Connecting);
        let handler = LatchHandler {
            shared: shared.clone(),
        };
        let auth_client = match (server, &options.credentials) {
            (ServerConfig::Remote(remote), Some(store)) => {
                let settings = AuthSettings::from_server(name, remote, options.secrets.as_ref())?;
                Some(GrantClient::new(&remote.url, store, Some(&settings)).await?)
            }
            _ => None,
        };
        let step_up = step_up_for(name, server, &options, auth_client.clone())?;
        let attempt = || async {
            tokio::time::timeout(
                options.handshake_timeout,
                open(
                    name,
                    server,
                    handler.clone(),
                    &options,
                    auth_client.as_ref(),
                ),
            )
            .await
            .unwrap_or(Err(ConnectError::HandshakeTimeout {
                seconds: options.handshake_timeout.as_secs(),
            }))
        };
        let mut result = attempt().await;
        if let (Err(ConnectError::AuthRequired { challenge, .. }), Some(step_up)) =
            (&result, &step_up)
        {
            publish(ConnectionState::SigningIn);
            step_up.sign_in(name, challenge.as_deref()).await?;
            publish(ConnectionState::Connecting);
            result = attempt().await;
        }
        if let (
            Err(ConnectError::AuthRequired {
                challenge: Some(c), ..
            }),
            Some(grant),
        ) = (&result, &auth_client)
            && error::challenges_dpop_only(c)
            && matches!(grant.store.dpop_keys().load().await, Ok(None))
        {
            result = Err(ConnectError::DpopRequired {
                target: name.to_owned(),
            });
        }
        match result {
            Ok((service, transport)) => {
                tracing::info!(server = name, %transport, "connected");
                let background = tokio_util::sync::CancellationToken::new();
                let followed = era::listen::Followed::default();
                // The 2026 wire has no GET stream: list changes come on `subscriptions/listen`.
                if options.watch_lists
                    && service
                        .peer_info()
                        .is_some_and(|i| era::Era::of(&i.protocol_version) == era::Era::Modern)
                {
                    era::listen::spawn(
                        service.peer().clone(),
                        shared.clone(),
                        background.clone(),
                        followed.clone(),
                    );
                }
                publish(ConnectionState::Connected { transport });
                Ok(Connection {
                    shared,
                    service,
                    transport,
                    next_call_id: Default::default(),
                    step_up,
                    background,
                    followed,
                })
            }
            Err(error) => {
                publish(if error.is_auth_required() {
                    ConnectionState::NeedsSignIn
                } else {
                    ConnectionState::Failed {
                        reason: error.to_string(),
                    }
                });
                Err(error)
            }
        }
    }

    /// The server's name in the config.
    pub fn server(&self) -> &str {
        &self.shared.server
    }

    /// The transport in use.
    pub fn transport(&self) -> TransportUsed {
        self.transport
    }

    /// What the server said about itself.
    pub fn server_info(&self) -> ServerInfoView {
        let info = self.service.peer_info();
        let wire = info
            .as_deref()
            .and_then(|i| serde_json::to_value(i).ok())
            .unwrap_or_default();
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        ServerInfoView {
            name: wire.pointer("/serverInfo/name").and_then(text),
            version: wire.pointer("/serverInfo/version").and_then(text),
            protocol_version: wire
                .get("protocolVersion")
                .and_then(text)
                .unwrap_or_default(),
            stateless: info
                .as_deref()
                .is_some_and(|i| era::Era::of(&i.protocol_version) == era::Era::Modern),
            instructions: wire.get("instructions").and_then(text),
        }
    }

    /// The raw rmcp peer of this session, for forwarding requests Latch has no model for.
    pub(crate) fn peer(&self) -> &rmcp::Peer<RoleClient> {
        self.service.peer()
    }

    /// Whether the session has ended (the transport closed or the service stopped).
    pub(crate) fn is_closed(&self) -> bool {
        self.service.is_closed() || self.service.peer().is_transport_closed()
    }

    /// The server's own `initialize` answer, as rmcp parsed it.
    pub(crate) fn peer_info(&self) -> Option<Arc<rmcp::model::ServerPeerInfo>> {
        self.service.peer_info()
    }

    /// The events this connection publishes.
    pub fn events(&self) -> &EventBus {
        &self.shared.events
    }

    /// End the session: `DELETE` for Streamable HTTP, the stream dropped for SSE, the child
    /// process asked to exit (then terminated) and reaped for stdio.
    pub async fn close(mut self) {
        self.background.cancel();
        match self
            .service
            .close_with_timeout(Duration::from_secs(10))
            .await
        {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!(server = %self.shared.server, "closing took over 10 s; gave up waiting")
            }
            Err(error) => tracing::warn!(server = %self.shared.server, %error, "closing failed"),
        }
        self.shared.events.publish(Event::StateChanged {
            server: self.shared.server.clone(),
            state: ConnectionState::Disconnected,
        });
    }
}

/// The sign-in context of a remote server whose options allow signing in.
fn step_up_for(
    name: &str,
    server: &ServerConfig,
    options: &ConnectOptions,
    client: Option<GrantClient>,
) -> Result<Option<StepUp>, ConnectError> {
    let (ServerConfig::Remote(remote), Some(browser), Some(store)) =
        (server, options.sign_in, options.credentials.as_ref())
    else {
        return Ok(None);
    };
    let settings = AuthSettings::from_server(name, remote, options.secrets.as_ref())?;
    let mut sign_in_options = SignInOptions::new(store.clone());
    sign_in_options.browser = browser;
    sign_in_options.events = options.events.clone();
    sign_in_options.secrets = options.secrets.clone();
    Ok(Some(StepUp {
        url: remote.url.clone(),
        settings,
        options: sign_in_options,
        client,
    }))
}

/// Open a session in the era the config asks for, or the one found before, or the one a
/// probe finds (see [`era`]); remember what was found.
async fn open(
    name: &str,
    server: &ServerConfig,
    handler: LatchHandler,
    options: &ConnectOptions,
    auth_client: Option<&GrantClient>,
) -> Result<(RunningService<RoleClient, LatchHandler>, TransportUsed), ConnectError> {
    let choice = match server {
        ServerConfig::Remote(remote) => &remote.protocol,
        ServerConfig::Command(command) => &command.protocol,
    };
    let in_era = |lifecycle| {
        open_in(
            name,
            server,
            handler.clone(),
            options,
            auth_client,
            lifecycle,
        )
    };
    let probing = || async {
        match in_era(era::probe()).await {
            // Refused in a way only a 2025 server refuses (HTTP 400 to `server/discover`…):
            // its handshake, on a new connection.
            Err(error) if error.refused_era() => {
                tracing::info!(server = name, %error, "the 2026 wire was refused; trying the 2025 handshake");
                in_era(era::Era::Legacy.lifecycle()).await
            }
            other => other,
        }
    };
    let opened = match era::Plan::new(choice, options.eras.recall(name, server)) {
        era::Plan::Pinned(era) => in_era(era.lifecycle())
            .await
            .map_err(|error| error.pinned_to(era.version())),
        era::Plan::Remembered(era) => match in_era(era.lifecycle()).await {
            Err(error) if error.refused_era() => {
                tracing::info!(server = name, %error, "the server no longer speaks MCP {}; finding out again", era.version());
                options.eras.forget(name);
                probing().await
            }
            other => other,
        },
        era::Plan::Probe => probing().await,
    };
    if let (Ok((service, _)), ProtocolChoice::Auto) = (&opened, choice)
        && let Some(info) = service.peer_info()
    {
        options
            .eras
            .remember(name, server, era::Era::of(&info.protocol_version));
    }
    opened
}

/// Open the transport the config asks for and start a session over it with `lifecycle`.
async fn open_in(
    name: &str,
    server: &ServerConfig,
    handler: LatchHandler,
    options: &ConnectOptions,
    auth_client: Option<&GrantClient>,
    lifecycle: ClientLifecycleMode,
) -> Result<(RunningService<RoleClient, LatchHandler>, TransportUsed), ConnectError> {
    match server {
        ServerConfig::Command(command) => {
            let log = tap::Log::of(name);
            let transport = stdio::spawn(name, command, options.secrets.as_ref(), log)?;
            let service = serve_client_with_lifecycle(handler, transport, lifecycle.clone())
                .await
                .map_err(|e| ConnectError::from_handshake(e, &command.command, &lifecycle))?;
            Ok((service, TransportUsed::Stdio))
        }
        ServerConfig::Remote(remote) => {
            let target = http::Target::new(name, remote, options.secrets.as_ref())?;
            let streamable = |handler| {
                http::connect_streamable(&target, handler, options, auth_client, lifecycle.clone())
            };
            match remote.transport {
                TransportKind::Http => {
                    let service = streamable(handler).await?;
                    Ok((service, TransportUsed::StreamableHttp))
                }
                TransportKind::Sse => {
                    let service = http::connect_sse(&target, handler, options, auth_client).await?;
                    Ok((service, TransportUsed::Sse))
                }
                TransportKind::Auto => {
                    // The spec's backwards-compatibility rule: POST first; when the server
                    // answers 400, 404 or 405, it may be an old server: GET the SSE stream.
                    match streamable(handler.clone()).await {
                        Ok(service) => Ok((service, TransportUsed::StreamableHttp)),
                        Err(error) if error.suggests_legacy_sse() => {
                            tracing::info!(server = name, %error, "Streamable HTTP refused; trying the legacy SSE transport");
                            match http::connect_sse(&target, handler, options, auth_client).await {
                                Ok(service) => Ok((service, TransportUsed::Sse)),
                                Err(sse_error) => Err(ConnectError::NoTransport {
                                    url: target.url.to_string(),
                                    streamable: Box::new(error),
                                    sse: Box::new(sse_error),
                                }),
                            }
                        }
                        Err(error) => Err(error),
                    }
                }
            }
        }
    }
}
