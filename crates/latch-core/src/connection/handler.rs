//! The client side of the MCP session: what Latch announces in `initialize`, and how it reacts
//! to what servers send unasked — progress, list changes, log lines, elicitation requests.
//! It turns them into [`Event`]s and per-call progress, and asks the [`Host`] for answers —
//! or, in a bridge, hands requests and notifications to a [`Relay`] that passes them on.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[allow(deprecated)]
use rmcp::model::{
    CreateMessageRequest, CreateMessageRequestParams, CreateMessageResult, ListRootsRequest,
    ListRootsResult, LoggingMessageNotification, LoggingMessageNotificationParam,
};
use rmcp::{
    ClientHandler, ErrorData, RoleClient,
    model::{
        ClientCapabilities, ClientConfig, ClientResult, CustomNotification, ElicitRequest,
        ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
        FormElicitationCapability, Implementation, ProgressNotificationParam, ProgressToken,
        PromptListChangedNotification, ProtocolVersion, ResourceListChangedNotification,
        ResourceUpdatedNotification, ResourceUpdatedNotificationParam, ServerNotification,
        ServerRequest, ToolListChangedNotification,
    },
    service::{NotificationContext, RequestContext},
};
use tokio::sync::{RwLock, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    events::{Event, EventBus},
    host::{ElicitationRequest, ElicitationResponse, Host},
    tools::{Progress, ToolList},
};

/// State shared between a [`crate::Connection`] and its handler.
pub(crate) struct Shared {
    pub(crate) server: String,
    pub(crate) events: EventBus,
    pub(crate) host: Arc<dyn Host>,
    /// The cached `tools/list` (with each tool's compiled input schema), dropped on
    /// `notifications/tools/list_changed`.
    pub(crate) tools: RwLock<Option<Arc<ToolList>>>,
    /// Running calls by progress token.
    pub(crate) calls: Mutex<HashMap<ProgressToken, RunningCall>>,
    /// Where a bridge passes the server's requests and notifications on; `None` answers here.
    pub(crate) relay: Option<Arc<dyn Relay>>,
}

/// A bridge's way back to its own client (the agent): what the server asks of its client
/// (sampling, roots, elicitation) and tells it (list changes, resource updates, log lines)
/// goes there instead of being answered by Latch. Progress is not relayed here: it belongs
/// to a call, and the bridge maps it to the agent's own progress token.
pub(crate) trait Relay: Send + Sync + 'static {
    /// The client capabilities to announce to the server (the agent's); `None`: Latch's own.
    fn capabilities(&self) -> Option<ClientCapabilities>;
    /// Pass a server→client request on and return the answer; `cancel` fires when the server
    /// cancels its request.
    fn request(
        &self,
        request: ServerRequest,
        cancel: CancellationToken,
    ) -> futures::future::BoxFuture<'static, Result<ClientResult, ErrorData>>;
    /// Pass a notification on (best effort).
    fn notify(&self, notification: ServerNotification) -> futures::future::BoxFuture<'static, ()>;
}

impl Shared {
    async fn relay_notification(&self, notification: ServerNotification) {
        if let Some(relay) = &self.relay {
            relay.notify(notification).await;
        }
    }
}

/// The relay's answer when it is not the kind the request asked for.
fn unexpected(answer: &ClientResult) -> ErrorData {
    let kind = serde_json::to_value(answer)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
        })
        .unwrap_or_default();
    ErrorData::internal_error(
        format!("the client answered with another kind of result ({kind})"),
        None,
    )
}

pub(crate) struct RunningCall {
    pub(crate) call_id: u64,
    pub(crate) progress: Option<mpsc::UnboundedSender<Progress>>,
    /// The server reported progress on this call.
    pub(crate) reported: bool,
}

/// The rmcp client handler for one connection.
#[derive(Clone)]
pub(crate) struct LatchHandler {
    pub(crate) shared: Arc<Shared>,
}

impl ClientHandler for LatchHandler {
    fn get_info(&self) -> ClientConfig {
        let relayed = self.shared.relay.as_ref().and_then(|r| r.capabilities());
        let capabilities = relayed.unwrap_or_else(|| {
            let mut capabilities = ClientCapabilities::default();
            capabilities.elicitation = Some(
                ElicitationCapability::new()
                    .with_form(FormElicitationCapability::new().with_schema_validation(true)),
            );
            capabilities
        });
        ClientConfig::new(
            capabilities,
            Implementation::new(crate::CLIENT_NAME, crate::CLIENT_VERSION),
        )
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let progress = Progress {
            progress: params.progress,
            total: params.total,
            message: params.message.clone(),
        };
        let call = {
            let mut calls = self.shared.calls.lock().unwrap_or_else(|e| e.into_inner());
            calls.get_mut(&params.progress_token).map(|c| {
                c.reported = true;
                (c.call_id, c.progress.clone())
            })
        };
        let Some((call_id, sender)) = call else {
            tracing::debug!(server = %self.shared.server, "progress for a call that is not running");
            return;
        };
        if let Some(sender) = sender {
            let _ = sender.send(progress.clone());
        }
        self.shared.events.publish(Event::Progress {
            server: self.shared.server.clone(),
            call_id,
            progress: progress.progress,
            total: progress.total,
            message: progress.message,
        });
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        *self.shared.tools.write().await = None;
        self.shared.events.publish(Event::ToolsChanged {
            server: self.shared.server.clone(),
        });
        self.shared
            .relay_notification(ToolListChangedNotification::default().into())
            .await;
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared
            .relay_notification(ResourceListChangedNotification::default().into())
            .await;
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared
            .relay_notification(PromptListChangedNotification::default().into())
            .await;
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.shared
            .relay_notification(ResourceUpdatedNotification::new(params).into())
            .await;
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        _context: NotificationContext<RoleClient>,
    ) {
        self.shared.relay_notification(notification.into()).await;
    }

    #[allow(deprecated)]
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let Some(relay) = &self.shared.relay else {
            return Err(ErrorData::method_not_found::<
                rmcp::model::CreateMessageRequestMethod,
            >());
        };
        let request = ServerRequest::CreateMessageRequest(CreateMessageRequest::new(params));
        match relay.request(request, context.ct).await? {
            ClientResult::CreateMessageResult(result) => Ok(*result),
            other => Err(unexpected(&other)),
        }
    }

    #[allow(deprecated)]
    async fn list_roots(
        &self,
        context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let Some(relay) = &self.shared.relay else {
            return Ok(ListRootsResult::default());
        };
        let request = ServerRequest::ListRootsRequest(ListRootsRequest::default());
        match relay.request(request, context.ct).await? {
            ClientResult::ListRootsResult(result) => Ok(result),
            other => Err(unexpected(&other)),
        }
    }

    // Logging is deprecated from protocol 2026-07-28 on, but servers on 2025-11-25 and earlier
    // still send it, and the person wants to see it.
    #[allow(deprecated)]
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "info".to_owned());
        self.shared.events.publish(Event::ServerLog {
            server: self.shared.server.clone(),
            level,
            logger: params.logger.clone(),
            data: params.data.clone(),
        });
        self.shared
            .relay_notification(LoggingMessageNotification::new(params).into())
            .await;
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let Some(relay) = &self.shared.relay {
            let relayed = ServerRequest::ElicitRequest(ElicitRequest::new(request));
            return match relay.request(relayed, context.ct).await? {
                ClientResult::ElicitResult(result) => Ok(result),
                other => Err(unexpected(&other)),
            };
        }
        // Read the request through its wire form: rmcp's typed schema is not ours to depend on.
        let wire = serde_json::to_value(&request).unwrap_or_default();
        let asked = ElicitationRequest {
            server: self.shared.server.clone(),
            message: wire
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned(),
            schema: wire.get("requestedSchema").cloned(),
            url: wire.get("url").and_then(|u| u.as_str()).map(str::to_owned),
        };
        Ok(match self.shared.host.elicit(asked).await {
            ElicitationResponse::Accept(values) => {
                ElicitResult::new(ElicitationAction::Accept).with_content(values.into())
            }
            ElicitationResponse::Decline => ElicitResult::new(ElicitationAction::Decline),
            ElicitationResponse::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }
}
