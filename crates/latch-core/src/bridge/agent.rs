//! The bridge's side toward the agent: an rmcp server service that answers `initialize` with
//! the remote server's own capabilities, server info and instructions, forwards every other
//! request, and — as the connection's [`Relay`] — carries the remote server's requests
//! (sampling, roots, elicitation) and notifications (list changes, resource updates, log lines)
//! back to the agent.
//!
//! `initialize` waits for the remote session, so the agent sees exactly what the server offers
//! and the server sees exactly what the agent supports (servers such as server-everything offer
//! tools by client capability). When the server cannot be reached or needs a sign-in, the agent
//! is still answered — with every list-changed capability and the reason as instructions — and
//! each request then says what is wrong; once a session opens, the agent is told the lists
//! changed.

use std::{
    borrow::Cow,
    sync::{Arc, OnceLock, RwLock},
};

use futures::future::BoxFuture;
use rmcp::{
    ErrorData, Peer, RoleServer, Service,
    model::{
        CancelledNotificationParam, ClientCapabilities, ClientNotification, ClientRequest,
        ClientResult, Implementation, InitializeRequestParams, InitializeResult, PromptsCapability,
        ProtocolVersion, ResourcesCapability, ServerCapabilities, ServerNotification,
        ServerRequest, ServerResult, ToolsCapability,
    },
    service::{NotificationContext, PeerRequestOptions, RequestContext},
};
use tokio_util::sync::CancellationToken;

use super::remote::{Remote, Retry};
use crate::connection::Relay;

/// The agent's peer and capabilities, known once it sent `initialize`, and what the bridge
/// told it it offers.
#[derive(Default)]
pub(crate) struct AgentLink {
    peer: OnceLock<Peer<RoleServer>>,
    capabilities: OnceLock<ClientCapabilities>,
    offered: RwLock<Option<ServerCapabilities>>,
}

impl AgentLink {
    fn set(&self, peer: Peer<RoleServer>, capabilities: ClientCapabilities) {
        let _ = self.peer.set(peer);
        let _ = self.capabilities.set(capabilities);
    }

    fn offer(&self, capabilities: &ServerCapabilities) {
        *self.offered.write().unwrap_or_else(|e| e.into_inner()) = Some(capabilities.clone());
    }

    /// Tell the agent its lists may have changed (the server became reachable, or a new
    /// session replaced one that ended): each list whose changes the bridge said it announces.
    pub(crate) async fn lists_changed(&self) {
        let Some(peer) = self.peer.get() else {
            return;
        };
        let (tools, resources, prompts) = {
            let offered = self.offered.read().unwrap_or_else(|e| e.into_inner());
            let Some(offered) = offered.as_ref() else {
                return;
            };
            (
                offered.tools.as_ref().and_then(|c| c.list_changed) == Some(true),
                offered.resources.as_ref().and_then(|c| c.list_changed) == Some(true),
                offered.prompts.as_ref().and_then(|c| c.list_changed) == Some(true),
            )
        };
        if tools {
            let _ = peer.notify_tool_list_changed().await;
        }
        if resources {
            let _ = peer.notify_resource_list_changed().await;
        }
        if prompts {
            let _ = peer.notify_prompt_list_changed().await;
        }
    }
}

impl Relay for AgentLink {
    fn capabilities(&self) -> Option<ClientCapabilities> {
        self.capabilities.get().cloned()
    }

    fn request(
        &self,
        request: ServerRequest,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<ClientResult, ErrorData>> {
        let peer = self.peer.get().cloned();
        Box::pin(async move {
            let Some(peer) = peer else {
                return Err(ErrorData::internal_error(
                    "Latch: the agent has not connected yet",
                    None,
                ));
            };
            let handle = peer
                .send_request_with_option(request, PeerRequestOptions::no_options())
                .await
                .map_err(agent_error)?;
            let id = handle.id.clone();
            let response = handle.await_response();
            tokio::pin!(response);
            tokio::select! {
                result = &mut response => result.map_err(agent_error),
                _ = cancel.cancelled() => {
                    let notice = CancelledNotificationParam::new(
                        Some(id),
                        Some("the server cancelled its request".to_owned()),
                    );
                    let _ = peer.notify_cancelled(notice).await;
                    Err(ErrorData::internal_error("cancelled by the server", None))
                }
            }
        })
    }

    fn notify(&self, notification: ServerNotification) -> BoxFuture<'static, ()> {
        let peer = self.peer.get().cloned();
        Box::pin(async move {
            if let Some(peer) = peer
                && let Err(error) = peer.send_notification(notification).await
            {
                tracing::debug!(%error, "could not pass a notification to the agent");
            }
        })
    }
}

/// The agent's answer as an error for the server: its own JSON-RPC error, or why it is gone.
fn agent_error(error: rmcp::ServiceError) -> ErrorData {
    match error {
        rmcp::ServiceError::McpError(data) => data,
        other => ErrorData::internal_error(format!("the agent did not answer: {other}"), None),
    }
}

/// The rmcp server service the agent talks to.
pub(crate) struct BridgeService {
    remote: Arc<Remote>,
    agent: Arc<AgentLink>,
    info: RwLock<InitializeResult>,
}

impl BridgeService {
    pub(crate) fn new(remote: Arc<Remote>, agent: Arc<AgentLink>) -> Self {
        let info = unreachable_info(remote.name(), "not connected yet");
        Self {
            remote,
            agent,
            info: RwLock::new(info),
        }
    }

    async fn initialize(
        &self,
        params: InitializeRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> InitializeResult {
        self.agent.set(context.peer.clone(), params.capabilities);
        let info = match self.remote.connection().await {
            Ok(connection) => match connection.peer_info() {
                Some(peer) => {
                    let mut info = InitializeResult::new(peer.capabilities.clone())
                        .with_protocol_version(peer.protocol_version.clone())
                        .with_server_info(peer.server_info.clone().unwrap_or_else(|| {
                            Implementation::new(self.remote.name(), crate::CLIENT_VERSION)
                        }));
                    info.instructions = peer.instructions.clone();
                    info.meta = peer.meta.clone();
                    info
                }
                None => {
                    unreachable_info(self.remote.name(), "the server sent no initialize answer")
                }
            },
            Err(error) => {
                self.remote.mark_degraded();
                unreachable_info(self.remote.name(), &error.message)
            }
        };
        self.agent.offer(&info.capabilities);
        *self.info.write().unwrap_or_else(|e| e.into_inner()) = info.clone();
        info
    }
}

/// What the agent is told while the server is out of reach: everything may appear later.
fn unreachable_info(server: &str, reason: &str) -> InitializeResult {
    let mut capabilities = ServerCapabilities::default();
    let mut tools = ToolsCapability::default();
    tools.list_changed = Some(true);
    capabilities.tools = Some(tools);
    let mut resources = ResourcesCapability::default();
    resources.list_changed = Some(true);
    capabilities.resources = Some(resources);
    let mut prompts = PromptsCapability::default();
    prompts.list_changed = Some(true);
    capabilities.prompts = Some(prompts);
    InitializeResult::new(capabilities)
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
        .with_server_info(Implementation::new(
            format!("latch-bridge-{server}"),
            crate::CLIENT_VERSION,
        ))
        .with_instructions(format!(
            "Latch bridge to {server}; the server is not available yet: {reason}"
        ))
}

impl Service<RoleServer> for BridgeService {
    async fn handle_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        let mut result = match request {
            ClientRequest::InitializeRequest(request) => {
                ServerResult::InitializeResult(self.initialize(request.params, &context).await)
            }
            ClientRequest::PingRequest(_) => ServerResult::empty(()),
            ClientRequest::CallToolRequest(request) => {
                self.remote.call_tool(request, context).await?
            }
            other => {
                self.remote.remember(&other);
                self.remote
                    .forward(other, context.meta, Retry::Idempotent)
                    .await?
            }
        };
        result.strip_result_type_for_legacy_peer();
        Ok(result)
    }

    async fn handle_notification(
        &self,
        notification: ClientNotification,
        _context: NotificationContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        // Cancellation reaches the request's handler through its token; progress the agent
        // reports on a relayed request has no token the server knows.
        let forward = match notification {
            ClientNotification::RootsListChangedNotification(n) => n.into(),
            ClientNotification::CustomNotification(n) => n.into(),
            _ => return Ok(()),
        };
        if let Some(connection) = self.remote.current().await
            && let Err(error) = connection.peer().send_notification(forward).await
        {
            tracing::debug!(%error, "could not pass a notification to the server");
        }
        Ok(())
    }

    fn get_info(&self) -> InitializeResult {
        self.info.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        // The bridge opens its remote session in `initialize`: it serves the versions that
        // have one.
        Cow::Borrowed(ProtocolVersion::known_up_to(
            &ProtocolVersion::LATEST_WITH_INITIALIZE,
        ))
    }
}
