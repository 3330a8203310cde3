//! The client side of the MCP session: what Latch announces in `initialize`, and how it reacts
//! to what servers send unasked — progress, list changes, log lines, and requests for input
//! (elicitation, sampling, roots), whether they come as requests (2025 era) or inside an
//! `input_required` result (2026 era, [`LatchHandler::answer_input`]). It turns them into
//! [`Event`]s and per-call progress, and asks the [`Host`] for answers — or, in a bridge, hands
//! requests and notifications to a [`Relay`] that passes them on.

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
        ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability, ErrorCode,
        FormElicitationCapability, Implementation, InputRequest, ProgressNotificationParam,
        ProgressToken, PromptListChangedNotification, ProtocolVersion,
        ResourceListChangedNotification, ResourceUpdatedNotification,
        ResourceUpdatedNotificationParam, RootsCapabilities, SamplingCapability,
        ServerNotification, ServerRequest, ToolListChangedNotification, UrlElicitationCapability,
    },
    service::{NotificationContext, RequestContext},
};
use serde_json::{Value, json};
use tokio::sync::{RwLock, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    events::{Event, EventBus},
    host::{
        ElicitationRequest, ElicitationResponse, Host, SamplingMessage, SamplingRequest,
        SamplingResponse,
    },
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
    /// Route the progress reported under `token` to `call` until [`Shared::forget_call`].
    pub(crate) fn track_call(&self, token: ProgressToken, call: RunningCall) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, call);
    }

    /// Stop routing the progress reported under `token`.
    pub(crate) fn forget_call(&self, token: &ProgressToken) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

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
            let host = self.shared.host.capabilities();
            let mut elicitation = ElicitationCapability::new()
                .with_form(FormElicitationCapability::new().with_schema_validation(true));
            if host.open_pages {
                elicitation = elicitation.with_url(UrlElicitationCapability::default());
            }
            let mut capabilities = ClientCapabilities::default();
            capabilities.elicitation = Some(elicitation);
            #[allow(deprecated)]
            {
                capabilities.sampling = host.sampling.then(SamplingCapability::default);
                capabilities.roots = host.roots.then(RootsCapabilities::default);
            }
            // Latch follows a call the server runs as a task (SEP-2663, `tasks/follow.rs`).
            let mut extensions = rmcp::model::ExtensionCapabilities::new();
            extensions.insert(
                rmcp::model::TASKS_EXTENSION_ID.to_owned(),
                serde_json::Map::new(),
            );
            if self.shared.host.shows_apps() {
                let mut ui = serde_json::Map::new();
                ui.insert(
                    "mimeTypes".into(),
                    serde_json::json!([crate::app::APP_MIME_TYPE]),
                );
                extensions.insert(crate::app::UI_EXTENSION.to_owned(), ui);
            }
            capabilities.extensions = Some(extensions);
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
            task: None,
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
        self.shared.events.publish(Event::ResourceUpdated {
            server: self.shared.server.clone(),
            uri: params.uri.clone(),
        });
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
        self.sample(params, context.ct).await
    }

    #[allow(deprecated)]
    async fn list_roots(
        &self,
        context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        self.roots(context.ct).await
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
        self.elicit(request, context.ct).await
    }
}

/// The JSON-RPC error code for a request the person declined (the MCP sampling spec's
/// "user rejected").
const DECLINED: i32 = -1;

impl LatchHandler {
    /// Answer one input request of an `input_required` result the way the same request is
    /// answered when a server sends it on its own: through the relay, or the host. The answer
    /// is the wire form of the result, for `inputResponses`.
    pub(crate) async fn answer_input(
        &self,
        request: InputRequest,
        cancel: CancellationToken,
    ) -> Result<Value, ErrorData> {
        let answer = match request {
            InputRequest::Elicitation(request) => {
                serde_json::to_value(self.elicit(request.params, cancel).await?)
            }
            InputRequest::CreateMessage(request) => {
                serde_json::to_value(self.sample(request.params, cancel).await?)
            }
            InputRequest::ListRoots(_) => serde_json::to_value(self.roots(cancel).await?),
            _ => {
                return Err(ErrorData::method_not_found::<
                    rmcp::model::CreateMessageRequestMethod,
                >());
            }
        };
        answer.map_err(|e| {
            ErrorData::internal_error(format!("could not write the answer: {e}"), None)
        })
    }

    async fn elicit(
        &self,
        request: ElicitRequestParams,
        cancel: CancellationToken,
    ) -> Result<ElicitResult, ErrorData> {
        if let Some(relay) = &self.shared.relay {
            let relayed = ServerRequest::ElicitRequest(ElicitRequest::new(request));
            return match relay.request(relayed, cancel).await? {
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

    #[allow(deprecated)]
    async fn sample(
        &self,
        params: CreateMessageRequestParams,
        cancel: CancellationToken,
    ) -> Result<CreateMessageResult, ErrorData> {
        if let Some(relay) = &self.shared.relay {
            let request = ServerRequest::CreateMessageRequest(CreateMessageRequest::new(params));
            return match relay.request(request, cancel).await? {
                ClientResult::CreateMessageResult(result) => Ok(*result),
                other => Err(unexpected(&other)),
            };
        }
        let wire = serde_json::to_value(&params).unwrap_or_default();
        let asked = SamplingRequest {
            server: self.shared.server.clone(),
            messages: wire
                .get("messages")
                .and_then(Value::as_array)
                .map(|messages| messages.iter().map(sampling_message).collect())
                .unwrap_or_default(),
            system_prompt: wire
                .get("systemPrompt")
                .and_then(Value::as_str)
                .map(str::to_owned),
            max_tokens: wire
                .get("maxTokens")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(u32::MAX),
            model_preferences: wire
                .get("modelPreferences")
                .filter(|v| !v.is_null())
                .cloned(),
            tools: wire
                .get("tools")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        };
        match self.shared.host.sample(asked).await {
            SamplingResponse::Reply { text, model } => serde_json::from_value(json!({
                "role": "assistant",
                "content": {"type": "text", "text": text},
                "model": model,
                "stopReason": "endTurn",
            }))
            .map_err(|e| {
                ErrorData::internal_error(format!("could not write the reply: {e}"), None)
            }),
            SamplingResponse::Decline { reason } => {
                Err(ErrorData::new(ErrorCode(DECLINED), reason, None))
            }
        }
    }

    #[allow(deprecated)]
    async fn roots(&self, cancel: CancellationToken) -> Result<ListRootsResult, ErrorData> {
        if let Some(relay) = &self.shared.relay {
            let request = ServerRequest::ListRootsRequest(ListRootsRequest::default());
            return match relay.request(request, cancel).await? {
                ClientResult::ListRootsResult(result) => Ok(result),
                other => Err(unexpected(&other)),
            };
        }
        let roots = self.shared.host.roots(self.shared.server.clone()).await;
        let roots: Vec<Value> = roots
            .into_iter()
            .map(|root| match root.name {
                Some(name) => json!({"uri": root.uri, "name": name}),
                None => json!({"uri": root.uri}),
            })
            .collect();
        serde_json::from_value(json!({ "roots": roots }))
            .map_err(|e| ErrorData::internal_error(format!("could not write the roots: {e}"), None))
    }
}

/// One sampling message in words: its text, or what kind of content it is.
fn sampling_message(message: &Value) -> SamplingMessage {
    let role = message
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("user")
        .to_owned();
    let describe = |content: &Value| match content.get("type").and_then(Value::as_str) {
        Some("text") => content
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(kind) => match content.get("mimeType").and_then(Value::as_str) {
            Some(mime) => format!("[{kind}, {mime}]"),
            None => format!("[{kind}]"),
        },
        None => "[content]".to_owned(),
    };
    let text = match message.get("content") {
        Some(Value::Array(parts)) => parts.iter().map(describe).collect::<Vec<_>>().join("\n"),
        Some(content) => describe(content),
        None => String::new(),
    };
    SamplingMessage { role, text }
}
