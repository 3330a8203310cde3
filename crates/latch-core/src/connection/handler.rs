//! The client side of the MCP session: what Latch announces in `initialize`, and how it reacts
//! to what servers send unasked — progress, list changes, log lines, elicitation requests.
//! It turns them into [`Event`]s and per-call progress, and asks the [`Host`] for answers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[allow(deprecated)]
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::{
    ClientHandler, ErrorData, RoleClient,
    model::{
        ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
        ElicitationCapability, FormElicitationCapability, Implementation,
        ProgressNotificationParam, ProgressToken, ProtocolVersion,
    },
    service::{NotificationContext, RequestContext},
};
use tokio::sync::{RwLock, mpsc};

use crate::{
    events::{Event, EventBus},
    host::{ElicitationRequest, ElicitationResponse, Host},
    tools::{Progress, ToolView},
};

/// State shared between a [`crate::Connection`] and its handler.
pub(crate) struct Shared {
    pub(crate) server: String,
    pub(crate) events: EventBus,
    pub(crate) host: Arc<dyn Host>,
    /// The cached `tools/list`, dropped on `notifications/tools/list_changed`.
    pub(crate) tools: RwLock<Option<Arc<Vec<ToolView>>>>,
    /// Running calls by progress token.
    pub(crate) calls: Mutex<HashMap<ProgressToken, RunningCall>>,
}

pub(crate) struct RunningCall {
    pub(crate) call_id: u64,
    pub(crate) progress: Option<mpsc::UnboundedSender<Progress>>,
}

/// The rmcp client handler for one connection.
#[derive(Clone)]
pub(crate) struct LatchHandler {
    pub(crate) shared: Arc<Shared>,
}

impl ClientHandler for LatchHandler {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation = Some(
            ElicitationCapability::new()
                .with_form(FormElicitationCapability::new().with_schema_validation(true)),
        );
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
            let calls = self.shared.calls.lock().unwrap_or_else(|e| e.into_inner());
            calls
                .get(&params.progress_token)
                .map(|c| (c.call_id, c.progress.clone()))
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
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
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
