//! Tasks as the 2026 extension defines them (`io.modelcontextprotocol/tasks`, SEP-2663): a
//! server that saw the extension in Latch's capabilities may answer `tools/call` with a task
//! (`resultType: "task"`) instead of a result. Latch then follows it: it polls `tasks/get` at
//! the pace the server asks (`pollIntervalMs`), reports each status as the call's progress
//! (the CLI's progress line and the app's running block show it), answers the questions of an
//! `input_required` task through the host like any other input request and sends the answers
//! with `tasks/update`, and sends `tasks/cancel` when the person cancels. The result (or the
//! error) comes inline with the terminal status; there is no `tasks/result` in this era.
//!
//! The wire is rmcp's (`Peer::get_task`, `update_task`, `cancel_task`); what is Latch's is the
//! pacing, the answering of each question once, and the words.

use std::{collections::HashSet, time::Duration};

use rmcp::model::{
    CancelTaskParams, DetailedTask, GetTaskParams, InputRequests, Task, TaskPayload,
    UpdateTaskParams,
};
use serde_json::Value;

use super::{DEFAULT_POLL, MAX_POLL, MIN_POLL, Status};
use crate::{
    connection::{CallError, CallOptions, Connection, LatchHandler, input_required::answer_all},
    tools::ToolResult,
};

/// How long Latch waits for the server to take a `tasks/cancel`.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);

/// A task's status as Latch reports it (the wire's words: `working`, `input_required`, …).
fn status_of(task: &Task) -> Status {
    let status = serde_json::to_value(task.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "working".to_owned());
    Status {
        status,
        message: task.status_message.clone(),
        poll: task.poll_interval_ms.map(Duration::from_millis),
    }
}

/// The questions of an `input_required` task that Latch has not answered yet (keys are unique
/// over a task's life; the server may still list answered ones until it has taken them).
fn unanswered(requests: InputRequests, answered: &HashSet<String>) -> InputRequests {
    requests
        .into_iter()
        .filter(|(key, _)| !answered.contains(key))
        .collect()
}

impl Connection {
    /// Follow the task the server made of a call to `tool` until it ends; its result.
    pub(crate) async fn follow_task(
        &self,
        call_id: u64,
        tool: &str,
        task: Task,
        options: &CallOptions,
    ) -> Result<ToolResult, CallError> {
        tracing::info!(
            server = self.server(),
            tool,
            "the server runs the call as a task; following it"
        );
        let task_id = task.task_id.clone();
        let mut answered = HashSet::new();
        let mut reports = 0u32;
        // The task as created carries no payload: even a terminal one is read with `tasks/get`.
        let mut status = status_of(&task);
        let mut payload = TaskPayload::Working;
        let mut wait = if task.status.is_terminal() {
            Duration::ZERO
        } else {
            pace(&status)
        };
        loop {
            self.report_task(call_id, &mut reports, &status, options);
            match payload {
                TaskPayload::Completed { result } => {
                    return Ok(ToolResult::from_wire(&Value::Object(result)));
                }
                TaskPayload::Failed { error } => return Err(failed(self.server(), &error)),
                TaskPayload::Cancelled => return Err(CallError::Cancelled),
                TaskPayload::InputRequired { input_requests } => {
                    let asked = unanswered(input_requests, &answered);
                    if !asked.is_empty() {
                        answered.extend(asked.keys().cloned());
                        match self.answer_task(&task_id, asked, options).await {
                            // The answers may have moved the task on: ask again at once.
                            Ok(()) => wait = Duration::ZERO,
                            Err(CallError::Cancelled) => {
                                return Err(self.cancel_task_2026(&task_id).await);
                            }
                            // Latch stops following: the task must not wait for it.
                            Err(error) => {
                                self.cancel_task_2026(&task_id).await;
                                return Err(error);
                            }
                        }
                    }
                }
                _ => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = options.cancel.cancelled() => return Err(self.cancel_task_2026(&task_id).await),
            }
            let polled = tokio::select! {
                polled = self.get_task(&task_id, options.timeout) => polled,
                _ = options.cancel.cancelled() => return Err(self.cancel_task_2026(&task_id).await),
            };
            let polled = match polled {
                Ok(polled) => polled,
                // Latch stops following (best effort: the connection may be what failed).
                Err(error) => {
                    self.cancel_task_2026(&task_id).await;
                    return Err(error);
                }
            };
            let next = status_of(&polled.task);
            status = Status {
                poll: next.poll.or(status.poll),
                ..next
            };
            payload = polled.payload;
            wait = pace(&status);
        }
    }

    /// `tasks/get` once.
    async fn get_task(&self, task_id: &str, timeout: Duration) -> Result<DetailedTask, CallError> {
        let peer = self.service.peer().clone();
        let polled = tokio::time::timeout(timeout, peer.get_task(GetTaskParams::new(task_id)))
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: timeout.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, " while following the task"))?;
        Ok(polled.task)
    }

    /// Answer a task's questions through the host and send the answers with `tasks/update`.
    async fn answer_task(
        &self,
        task_id: &str,
        asked: InputRequests,
        options: &CallOptions,
    ) -> Result<(), CallError> {
        let handler = LatchHandler {
            shared: self.shared.clone(),
        };
        let responses = tokio::select! {
            responses = answer_all(&handler, asked, &options.cancel) => responses?,
            _ = options.cancel.cancelled() => return Err(CallError::Cancelled),
        };
        let peer = self.service.peer().clone();
        let update = UpdateTaskParams::new(task_id, responses);
        tokio::select! {
            sent = tokio::time::timeout(options.timeout, peer.update_task(update)) => sent
                .map_err(|_| CallError::TimedOut { seconds: options.timeout.as_secs() })?
                .map_err(|e| CallError::from_service(e, " while answering the task's questions")),
            _ = options.cancel.cancelled() => Err(CallError::Cancelled),
        }
    }

    /// Tell the server to stop the task (best effort: cancelling is cooperative); the call
    /// ends as cancelled.
    async fn cancel_task_2026(&self, task_id: &str) -> CallError {
        let peer = self.service.peer().clone();
        let sent = tokio::time::timeout(
            CANCEL_TIMEOUT,
            peer.cancel_task(CancelTaskParams::new(task_id)),
        )
        .await;
        match sent {
            Ok(Ok(())) => {
                tracing::info!(
                    server = self.server(),
                    "the server was asked to cancel the task"
                );
            }
            Ok(Err(error)) => {
                tracing::warn!(server = self.server(), %error, "could not tell the server to cancel the task");
            }
            Err(_) => {
                tracing::warn!(
                    server = self.server(),
                    "the server did not take the task's cancellation in time"
                );
            }
        }
        CallError::Cancelled
    }
}

/// How long to wait before the next `tasks/get`: what the server asks, within bounds.
fn pace(status: &Status) -> Duration {
    status
        .poll
        .unwrap_or(DEFAULT_POLL)
        .clamp(MIN_POLL, MAX_POLL)
}

/// A failed task's JSON-RPC error as the call's error.
fn failed(server: &str, error: &serde_json::Map<String, Value>) -> CallError {
    let code = error
        .get("code")
        .and_then(Value::as_i64)
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or(-32603);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the task on {server} failed without saying why"));
    CallError::Server { code, message }
}

#[cfg(test)]
mod tests {
    use rmcp::model::InputRequest;
    use serde_json::json;

    use super::*;

    fn task(wire: Value) -> Task {
        serde_json::from_value(wire).unwrap()
    }

    #[test]
    fn a_status_is_reported_in_the_wire_words_with_the_servers_pace() {
        let status = status_of(&task(json!({
            "taskId": "t1", "status": "input_required", "statusMessage": "Include deleted?",
            "createdAt": "2026-12-02T00:00:00Z", "lastUpdatedAt": "2026-12-02T00:00:01Z",
            "ttlMs": null, "pollIntervalMs": 500
        })));
        assert_eq!(status.status, "input_required");
        assert_eq!(status.message.as_deref(), Some("Include deleted?"));
        assert_eq!(pace(&status), Duration::from_millis(500));
        // A pace too fast or too slow is kept within bounds; none means a second.
        let at = |ms| Status {
            status: "working".into(),
            message: None,
            poll: ms,
        };
        assert_eq!(pace(&at(Some(Duration::from_millis(1)))), MIN_POLL);
        assert_eq!(pace(&at(Some(Duration::from_secs(3600)))), MAX_POLL);
        assert_eq!(pace(&at(None)), DEFAULT_POLL);
    }

    #[test]
    fn a_question_is_answered_once_though_the_server_lists_it_again() {
        let question: InputRequest = serde_json::from_value(json!({
            "method": "elicitation/create",
            "params": {"mode": "form", "message": "Sure?", "requestedSchema": {"type": "object", "properties": {}}}
        }))
        .unwrap();
        let asked: InputRequests = [
            ("a".to_owned(), question.clone()),
            ("b".to_owned(), question),
        ]
        .into_iter()
        .collect();
        let answered = HashSet::from(["a".to_owned()]);
        let left = unanswered(asked, &answered);
        assert_eq!(left.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn a_failed_task_is_the_servers_error_in_its_words() {
        let error = json!({"code": -32602, "message": "seconds must be from 1 to 60"});
        let Value::Object(error) = error else {
            unreachable!()
        };
        assert_eq!(
            failed("demo", &error).to_string(),
            CallError::Server {
                code: -32602,
                message: "seconds must be from 1 to 60".into()
            }
            .to_string()
        );
        let failed = failed("demo", &serde_json::Map::new());
        assert!(
            failed.to_string().contains("the task on demo failed"),
            "{failed}"
        );
    }
}
