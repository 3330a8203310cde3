//! The bridge's side toward the agent: an rmcp server service that answers `initialize` (and,
//! for agents on 2026-07-28, `server/discover`) with the remote server's own capabilities,
//! server info and instructions, forwards every other request (keeping the tools only the
//! server's app may call out of the agent's reach, `app_only`), and — as the connection's
//! [`Relay`] — carries the remote server's requests (sampling, roots, elicitation) and
//! notifications (list changes, resource updates, log lines) back to the agent.
//!
//! An agent on 2026-07-28 sends no `initialize`: each request names its protocol version,
//! capabilities and client info in `_meta`. rmcp checks an inline session's first request; the
//! service checks the rest (a version it does not serve gets `-32022` with the supported ones,
//! a request without the required `_meta` says what is missing), gives its results
//! `resultType`, answers its `subscriptions/listen`, and runs its tool calls through
//! `pending` (it cannot be sent requests). A 2025-era agent's results lose what it does not
//! know, and a 2026 server's `input_required` is asked of it through `rounds`.
//!
//! `initialize` waits for the remote session, so the agent sees exactly what the server offers
//! and the server sees exactly what the agent supports (servers such as server-everything offer
//! tools by client capability). When the server cannot be reached or needs a sign-in, the agent
//! is still answered — with every list-changed capability and the reason as instructions — and
//! each request then says what is wrong; once a session opens, the agent is told the lists
//! changed.

use std::{
    borrow::Cow,
    sync::{
        Arc, OnceLock, RwLock,
        atomic::{AtomicBool, Ordering},
    },
};

use futures::future::BoxFuture;
use rmcp::{
    ErrorData, Peer, RoleServer, Service,
    model::{
        CallToolRequest, CancelledNotificationParam, ClientCapabilities, ClientNotification,
        ClientRequest, ClientResult, DiscoverResult, Implementation, InitializeRequestParams,
        InitializeResult, PromptListChangedNotification, PromptsCapability, ProtocolVersion,
        ResourceListChangedNotification, ResourcesCapability, ResultType, ServerCapabilities,
        ServerNotification, ServerRequest, ServerResult, ToolListChangedNotification,
        ToolsCapability,
    },
    service::{NotificationContext, PeerRequestOptions, RequestContext},
};
use tokio_util::sync::CancellationToken;

use super::{app_only, listen::Listens, pending::PendingCalls, remote::Remote, rounds, tasks};
use crate::connection::Relay;

/// The agent's peer and capabilities, known once it sent `initialize` (2025-11-25 and older)
/// or its first request (2026-07-28, where each request carries them), and what the bridge
/// told it it offers.
#[derive(Default)]
pub(crate) struct AgentLink {
    peer: OnceLock<Peer<RoleServer>>,
    capabilities: OnceLock<ClientCapabilities>,
    offered: RwLock<Option<ServerCapabilities>>,
    /// The agent speaks 2026-07-28: it cannot be sent requests, only `input_required` results.
    modern: AtomicBool,
    /// That agent's tool calls, running or waiting for its input.
    pub(crate) pending: PendingCalls,
    /// That agent's open `subscriptions/listen` requests.
    pub(crate) listens: Arc<Listens>,
}

impl AgentLink {
    fn set(&self, peer: Peer<RoleServer>, capabilities: ClientCapabilities) {
        let _ = self.peer.set(peer);
        let _ = self.capabilities.set(capabilities);
    }

    /// A request from an agent on 2026-07-28 (its `_meta` says who it is and what it supports).
    fn set_modern(&self, peer: Option<Peer<RoleServer>>, capabilities: Option<ClientCapabilities>) {
        self.modern.store(true, Ordering::SeqCst);
        if let Some(peer) = peer {
            let _ = self.peer.set(peer);
        }
        if let Some(capabilities) = capabilities {
            let _ = self.capabilities.set(capabilities);
        }
    }

    fn is_modern(&self) -> bool {
        self.modern.load(Ordering::SeqCst)
    }

    fn offered(&self) -> Option<ServerCapabilities> {
        self.offered
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn offer(&self, capabilities: &ServerCapabilities) {
        *self.offered.write().unwrap_or_else(|e| e.into_inner()) = Some(capabilities.clone());
    }

    /// Tell the agent its lists may have changed (the server became reachable, or a new
    /// session replaced one that ended): each list whose changes the bridge said it announces.
    pub(crate) async fn lists_changed(&self) {
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
        let changes: [(bool, ServerNotification); 3] = [
            (tools, ToolListChangedNotification::default().into()),
            (resources, ResourceListChangedNotification::default().into()),
            (prompts, PromptListChangedNotification::default().into()),
        ];
        for (offered, notification) in changes {
            if offered {
                self.pass_on(notification).await;
            }
        }
    }

    /// Pass a notification to the agent: to a 2026-era agent, a change goes only on the
    /// listens that opted in to it.
    fn pass_on(&self, notification: ServerNotification) -> BoxFuture<'static, ()> {
        let peer = self.peer.get().cloned();
        let modern = self.is_modern();
        let listens = self.listens.clone();
        Box::pin(async move {
            if modern && listens.deliver(&notification).await {
                return;
            }
            if let Some(peer) = peer
                && let Err(error) = peer.send_notification(notification).await
            {
                tracing::debug!(%error, "could not pass a notification to the agent");
            }
        })
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
        if self.is_modern() {
            // Requests to the agent are gone from 2026-07-28 on: the call that is waiting for
            // this answer hands it to the agent as an `input_required` result.
            let pending = self.pending.clone();
            return Box::pin(async move { pending.request(request, cancel).await });
        }
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
        self.pass_on(notification)
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
        self.remote_info().await
    }

    /// `server/discover`: the server's own capabilities, info and instructions, and the
    /// versions the bridge serves.
    async fn discover(&self) -> DiscoverResult {
        let info = self.remote_info().await;
        let mut result = DiscoverResult::new(
            self.supported_protocol_versions().into_owned(),
            info.capabilities,
        )
        .with_server_info(info.server_info);
        result.instructions = info.instructions;
        result
    }

    /// What the server says about itself (opening the session when none is open), or what
    /// the agent is told while it is out of reach.
    async fn remote_info(&self) -> InitializeResult {
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

impl BridgeService {
    /// Whether `request` comes from an agent on 2026-07-28 (no `initialize`; protocol version,
    /// capabilities and client info in its `_meta`), checked as that version requires: a
    /// version the bridge does not serve is refused with the versions it does, and a request
    /// without the required `_meta` with what is missing. rmcp checks only an inline session's
    /// first request; a raw service checks the rest itself.
    fn modern_request(
        &self,
        request: &ClientRequest,
        context: &RequestContext<RoleServer>,
    ) -> Result<bool, ErrorData> {
        if matches!(request, ClientRequest::InitializeRequest(_)) {
            return Ok(false);
        }
        let version = context.meta.protocol_version();
        if let Some(version) = &version {
            let supported = self.supported_protocol_versions();
            if !supported.contains(version) {
                let mut error =
                    ErrorData::unsupported_protocol_version(version.clone(), &supported);
                error.message = format!(
                    "Latch bridge to {}: MCP protocol version {version} is not one it speaks \
                     ({})",
                    self.remote.name(),
                    supported
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into();
                return Err(error);
            }
        }
        let inline = context.peer.peer_info().is_none();
        let modern = version.as_ref().is_some_and(|v| !v.has_initialize());
        if !(inline || modern) {
            return Ok(false);
        }
        if !matches!(request, ClientRequest::PingRequest(_)) {
            let missing = context
                .meta
                .missing_required_keys(&ProtocolVersion::V_2026_07_28);
            if !missing.is_empty() {
                return Err(ErrorData::invalid_params(
                    format!(
                        "Latch: the request's _meta lacks what protocol 2026-07-28 requires: {}",
                        missing.join(", ")
                    ),
                    None,
                ));
            }
        }
        // `server/discover` comes on a peer that cannot reach the agent (no session yet).
        let peer =
            (!matches!(request, ClientRequest::DiscoverRequest(_))).then(|| context.peer.clone());
        self.agent
            .set_modern(peer, context.meta.client_capabilities());
        Ok(modern || inline)
    }

    /// A 2025-era agent's tool call; a server on 2026-07-28 that answers `input_required`
    /// gets its input requests asked of the agent as ordinary requests, and the call again.
    async fn call_tool(
        &self,
        mut request: CallToolRequest,
        context: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        let mut round = 0;
        loop {
            match self
                .remote
                .call_tool(request.clone(), context.clone())
                .await?
            {
                ServerResult::InputRequiredResult(asked) => {
                    let retried = rounds::answer_round(
                        &context.peer,
                        &ClientRequest::CallToolRequest(request),
                        asked,
                        round,
                        &context.ct,
                    )
                    .await?;
                    let ClientRequest::CallToolRequest(retried) = retried else {
                        return Err(ErrorData::internal_error(
                            "Latch: could not build the retried tool call",
                            None,
                        ));
                    };
                    request = retried;
                    round += 1;
                }
                result => return Ok(result),
            }
        }
    }
}

/// A 2025-era server's result as 2026-07-28 requires it: `resultType: "complete"` (the mirror
/// of rmcp's `strip_result_type_for_legacy_peer`, which rmcp has no counterpart of).
fn mark_complete(result: &mut ServerResult) {
    let result_type = match result {
        ServerResult::CompleteResult(r) => &mut r.result_type,
        ServerResult::GetPromptResult(r) => &mut r.result_type,
        ServerResult::ListPromptsResult(r) => &mut r.result_type,
        ServerResult::ListResourcesResult(r) => &mut r.result_type,
        ServerResult::ListResourceTemplatesResult(r) => &mut r.result_type,
        ServerResult::ReadResourceResult(r) => &mut r.result_type,
        ServerResult::ListToolsResult(r) => &mut r.result_type,
        ServerResult::CallToolResult(r) => &mut r.result_type,
        ServerResult::ListSkillsResult(r) => &mut r.result_type,
        ServerResult::GetSkillResult(r) => &mut r.result_type,
        _ => return,
    };
    result_type.get_or_insert(ResultType::COMPLETE);
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
        let modern = self.modern_request(&request, &context)?;
        #[allow(deprecated)]
        let level_in_meta = matches!(request, ClientRequest::SetLevelRequest(_))
            && self.remote.is_stateless().await;
        let mut result = match request {
            ClientRequest::InitializeRequest(request) => {
                ServerResult::InitializeResult(self.initialize(request.params, &context).await)
            }
            ClientRequest::DiscoverRequest(_) => {
                ServerResult::DiscoverResult(self.discover().await)
            }
            ClientRequest::PingRequest(_) => ServerResult::empty(()),
            ClientRequest::CallToolRequest(request) if modern => {
                app_only::refuse_app_only(&self.remote, &request).await?;
                self.agent
                    .pending
                    .call_tool(
                        self.remote.clone(),
                        request,
                        context.meta.clone(),
                        context.peer.clone(),
                        &context.id,
                        context.ct.clone(),
                    )
                    .await?
            }
            ClientRequest::CallToolRequest(request) => {
                app_only::refuse_app_only(&self.remote, &request).await?;
                self.call_tool(request, &context).await?
            }
            ClientRequest::SubscriptionsListenRequest(request) if modern => {
                // The categories the server offers; a session opens for them if none has.
                let offered = match self.agent.offered() {
                    Some(offered) => offered,
                    None => self.remote_info().await.capabilities,
                };
                self.agent
                    .listens
                    .listen(&self.remote, request, Some(offered), context)
                    .await?
            }
            // A 2026 server has no `logging/setLevel`: the level goes with each request.
            level @ ClientRequest::SetLevelRequest(_) if level_in_meta => {
                self.remote.remember(&level);
                ServerResult::empty(())
            }
            other => {
                self.remote.remember(&other);
                let mut request = other;
                let mut round = 0;
                loop {
                    let result = self
                        .remote
                        .forward(
                            request.clone(),
                            context.meta.clone(),
                            tasks::retry_for(&request),
                        )
                        .await?;
                    match result {
                        ServerResult::InputRequiredResult(asked) if !modern => {
                            request = rounds::answer_round(
                                &context.peer,
                                &request,
                                asked,
                                round,
                                &context.ct,
                            )
                            .await?;
                            round += 1;
                        }
                        result => break result,
                    }
                }
            }
        };
        app_only::keep_listed(&mut result);
        if modern {
            mark_complete(&mut result);
            result.fill_missing_cache_hints();
        } else {
            result.strip_result_type_for_legacy_peer();
            result.strip_non_object_output_for_legacy_peer();
        }
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
        // Both eras: the `initialize` handshake up to 2025-11-25, and the stateless requests
        // of 2026-07-28 — whichever the remote server speaks.
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2026_07_28))
    }
}
