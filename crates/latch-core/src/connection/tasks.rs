//! Tasks as servers on protocol 2025-11-25 speak them (the `tasks` capability, SEP-1686): a
//! tool that must run as a task (`execution.taskSupport: "required"`) answers `tools/call`
//! with a task handle, not a result. Latch then polls `tasks/get` at the pace the server asks
//! (`pollInterval`), reports each status as the call's progress (so the CLI's progress line
//! and the app's running block show it), fetches the result with `tasks/result` when the task
//! ends or needs input (the server delivers its input requests on that request's stream, and
//! they are answered through the host like any other), and sends `tasks/cancel` when the
//! person cancels.
//!
//! rmcp 3.11 models only the 2026 tasks extension (SEP-2663), so this 2025 wire is written as
//! custom requests with JSON bodies. The client side (`tasks.requests`: a server asking Latch
//! to run sampling or elicitation as a task) is in [`client`].

pub(crate) mod client;
mod follow;

use std::time::Duration;

use rmcp::model::{ClientRequest, CustomRequest};
use serde_json::{Map, Value, json};

use super::{CallError, CallOptions, Connection};
use crate::{
    events::Event,
    tools::{ContentView, Progress, ToolResult},
};

/// How long a task result is kept by the server for Latch to fetch (ms).
const TTL_MS: u64 = 300_000;
/// How often to poll when the server does not say; and the bounds on what it may say.
const DEFAULT_POLL: Duration = Duration::from_secs(1);
const MIN_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(30);

/// Whether a plain `tools/call` was refused because the tool runs only as a task — refused
/// before it ran, so running it as a task runs it once. Servers say so with JSON-RPC error
/// -32601 naming tasks; the TypeScript SDK 1.x puts that error into an error result.
pub(crate) fn needs_task(outcome: &Result<ToolResult, CallError>) -> bool {
    let says_task = |code: i32, message: &str| code == -32601 && message.contains("task");
    match outcome {
        Err(CallError::Server { code, message }) => says_task(*code, message),
        Ok(result) if result.is_error => match result.content.as_slice() {
            [ContentView::Text { text }] => {
                text.starts_with("MCP error -32601:") && says_task(-32601, text)
            }
            _ => false,
        },
        _ => false,
    }
}

/// One `tasks/get` answer, as far as Latch reads it.
struct Status {
    status: String,
    message: Option<String>,
    poll: Option<Duration>,
}

fn status_of(task: &Value) -> Status {
    Status {
        status: task
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("working")
            .to_owned(),
        message: task
            .get("statusMessage")
            .and_then(Value::as_str)
            .map(str::to_owned),
        poll: task
            .get("pollInterval")
            .and_then(Value::as_u64)
            .map(Duration::from_millis),
    }
}

impl Connection {
    /// Send one custom request and read its answer as JSON.
    async fn task_request(
        &self,
        method: &'static str,
        params: Value,
        timeout: Duration,
        while_: &'static str,
    ) -> Result<Value, CallError> {
        let request = ClientRequest::CustomRequest(CustomRequest::new(method, Some(params)));
        let peer = self.service.peer().clone();
        let answer = tokio::time::timeout(timeout, peer.send_request(request))
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: timeout.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, while_))?;
        Ok(serde_json::to_value(&answer).unwrap_or_default())
    }

    /// Run `tool` as a task: create it, follow it to its end, return its result.
    pub(super) async fn call_as_task(
        &self,
        call_id: u64,
        tool: &str,
        arguments: Map<String, Value>,
        options: &CallOptions,
    ) -> Result<ToolResult, CallError> {
        let params = json!({ "name": tool, "arguments": arguments, "task": { "ttl": TTL_MS } });
        let created = tokio::select! {
            created = self.task_request("tools/call", params, options.timeout, " during the call") => created?,
            _ = options.cancel.cancelled() => return Err(CallError::Cancelled),
        };
        let Some(task) = created.get("task") else {
            // The server ran it directly after all.
            return Ok(ToolResult::from_wire(&created));
        };
        let Some(task_id) = task
            .get("taskId")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(CallError::Server {
                code: -32603,
                message: format!("{} answered with a task that has no id", self.server()),
            });
        };
        tracing::info!(
            server = self.server(),
            tool,
            "the tool runs as a task on the server; following it"
        );
        let mut status = status_of(task);
        let mut reports = 0u32;
        loop {
            self.report_task(call_id, &mut reports, &status, options);
            match status.status.as_str() {
                "completed" | "failed" | "input_required" => break,
                "cancelled" => return Err(CallError::Cancelled),
                _ => {}
            }
            let wait = status
                .poll
                .unwrap_or(DEFAULT_POLL)
                .clamp(MIN_POLL, MAX_POLL);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = options.cancel.cancelled() => return Err(self.cancel_task(&task_id).await),
            }
            let polled = tokio::select! {
                polled = self.task_request("tasks/get", json!({ "taskId": task_id }), options.timeout, " while following the task") => polled?,
                _ = options.cancel.cancelled() => return Err(self.cancel_task(&task_id).await),
            };
            let next = status_of(&polled);
            status = Status {
                poll: next.poll.or(status.poll),
                ..next
            };
        }
        // `tasks/result` waits for the end; input the task needs arrives on its stream.
        let result = tokio::select! {
            result = self.task_request("tasks/result", json!({ "taskId": task_id }), options.timeout, " while fetching the task's result") => result?,
            _ = options.cancel.cancelled() => return Err(self.cancel_task(&task_id).await),
        };
        Ok(ToolResult::from_wire(&result))
    }

    /// Tell the server to stop the task (best effort); the call ends as cancelled.
    async fn cancel_task(&self, task_id: &str) -> CallError {
        let params = json!({ "taskId": task_id });
        match self
            .task_request("tasks/cancel", params, Duration::from_secs(10), "")
            .await
        {
            Ok(answer) => {
                let status = status_of(&answer).status;
                tracing::info!(
                    server = self.server(),
                    status,
                    "the server was asked to cancel the task"
                );
            }
            Err(error) => {
                tracing::warn!(server = self.server(), %error, "could not tell the server to cancel the task");
            }
        }
        CallError::Cancelled
    }

    /// A task status as the call's progress: to the caller and on the event bus.
    fn report_task(&self, call_id: u64, reports: &mut u32, status: &Status, options: &CallOptions) {
        *reports += 1;
        let progress = Progress {
            progress: f64::from(*reports),
            total: None,
            message: status.message.clone(),
            task: Some(status.status.clone()),
        };
        let message = progress.words();
        if let Some(sender) = &options.progress {
            let _ = sender.send(progress);
        }
        self.shared.events.publish(Event::Progress {
            server: self.server().to_owned(),
            call_id,
            progress: f64::from(*reports),
            total: None,
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_that_names_tasks_means_run_as_a_task() {
        let refused = |message: &str| -> Result<ToolResult, CallError> {
            Err(CallError::Server {
                code: -32601,
                message: message.into(),
            })
        };
        let result = |text: &str, is_error: bool| -> Result<ToolResult, CallError> {
            Ok(ToolResult {
                content: vec![ContentView::Text { text: text.into() }],
                structured_content: None,
                is_error,
            })
        };
        let sdk = "MCP error -32601: Tool x requires task augmentation (taskSupport: 'required')";
        assert!(needs_task(&refused("Tool x requires task augmentation")));
        assert!(needs_task(&result(sdk, true)));
        assert!(!needs_task(&refused("Method not found")));
        assert!(!needs_task(&result(sdk, false)));
        assert!(!needs_task(&result("the task failed", true)));
    }
}
