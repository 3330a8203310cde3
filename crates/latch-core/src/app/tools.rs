//! Tools from the app: listing them, running one (with progress, cancel and a record kept in
//! the history whatever the outcome), what a failed call means for the connection, and the
//! person's answers to a server's questions during a call.

use std::time::Instant;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::{
    AppError, AppEvent, AuthView, CallRecord, CallStatus, ElicitationAnswer, Latch, Result, now_ms,
};
use crate::{CallError, CallOptions, ConnectionState, ToolView, tools::CallOrigin};

impl Latch {
    /// The server's tools (connecting first when needed), app-only ones too: the app's MCP
    /// Apps call those, and its tool list leaves them out ([`ToolView::is_listed`]), as the
    /// server card's count does.
    pub async fn list_tools(&self, name: &str) -> Result<Vec<ToolView>> {
        let connection = self.connection(name).await?;
        match connection.list_tools().await {
            Ok(tools) => {
                let count = crate::tools::listed(&tools).count() as u32;
                let changed = {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    let changed = live.tool_count != Some(count);
                    live.tool_count = Some(count);
                    changed
                };
                if changed {
                    self.changed(name).await;
                }
                Ok(tools.as_ref().clone())
            }
            Err(error) => Err(self.call_failed(name, &error).await),
        }
    }

    /// Run a tool. A tool that fails (`isError`), a timeout, a cancel or a lost connection
    /// still give a record (kept in the history); only a call that could not be made at all
    /// (not connected, unknown tool, arguments that break the schema) is an error.
    ///
    /// This is the person's call: a tool only the server's app may call is refused
    /// ([`CallOrigin::refusal`]); an app's calls go through [`Latch::call_tool_from_app`].
    pub async fn call_tool(
        &self,
        name: &str,
        tool: &str,
        arguments: Value,
        call_id: &str,
    ) -> Result<CallRecord> {
        self.run_tool(name, tool, arguments, call_id, CallOrigin::Person)
            .await
    }

    /// Run a tool for `origin`, after checking that the tool's `visibility` lets it call.
    pub(super) async fn run_tool(
        &self,
        name: &str,
        tool: &str,
        arguments: Value,
        call_id: &str,
        origin: CallOrigin,
    ) -> Result<CallRecord> {
        let arguments = match arguments {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => {
                return Err(AppError::new(
                    "invalidArguments",
                    "The arguments must be a JSON object.",
                ));
            }
        };
        let connection = self.connection(name).await?;
        // The call below uses the same list: the tools are listed only when no cached list
        // (fresh or past its `ttlMs`) has the tool.
        let view = connection
            .tool_for_call(tool)
            .await
            .map_err(|e| AppError::new("call", e))?;
        if let Some(refusal) = view.as_ref().and_then(|view| origin.refusal(name, view)) {
            return Err(AppError::new("notForCaller", refusal));
        }
        let schema = view.map(|t| t.input_schema);
        let cancel = CancellationToken::new();
        self.inner
            .calls
            .lock()
            .unwrap()
            .insert(call_id.to_owned(), cancel.clone());
        let (progress_tx, mut progress_rx) =
            tokio::sync::mpsc::unbounded_channel::<crate::tools::Progress>();
        let forward = {
            let latch = self.clone();
            let server = name.to_owned();
            let call_id = call_id.to_owned();
            tokio::spawn(async move {
                while let Some(p) = progress_rx.recv().await {
                    latch.emit(AppEvent::Progress {
                        server: server.clone(),
                        call_id: call_id.clone(),
                        progress: p.progress,
                        total: p.total,
                        message: p.message,
                        task: p.task,
                    });
                }
            })
        };
        let options = CallOptions {
            cancel,
            progress: Some(progress_tx),
            ..CallOptions::default()
        };
        let started_at = now_ms();
        let clock = Instant::now();
        let outcome = connection.call_tool(tool, arguments.clone(), options).await;
        drop(connection);
        self.inner.calls.lock().unwrap().remove(call_id);
        let _ = forward.await;
        let mut record = CallRecord {
            id: call_id.to_owned(),
            server: name.to_owned(),
            tool: tool.to_owned(),
            arguments: Value::Object(arguments),
            started_at,
            duration_ms: clock.elapsed().as_millis() as u64,
            status: CallStatus::Ok,
            result: None,
            error: None,
        };
        match outcome {
            Ok(result) => {
                record.status = if result.is_error {
                    CallStatus::ToolError
                } else {
                    CallStatus::Ok
                };
                record.result = Some(result);
            }
            Err(error @ (CallError::UnknownTool { .. } | CallError::InvalidArguments { .. })) => {
                return Err(AppError::new("invalidArguments", error));
            }
            Err(CallError::Cancelled) => {
                record.status = CallStatus::Cancelled;
                record.error = Some("Cancelled; the server was told to stop.".to_owned());
            }
            Err(error) => {
                record.status = CallStatus::Failed;
                record.error = Some(error.to_string());
                let _ = self.call_failed(name, &error).await;
            }
        }
        let history = self.inner.history.clone();
        let stored = record.clone();
        let schema_for_history = schema.clone();
        match tokio::task::spawn_blocking(move || {
            history.record(&stored, schema_for_history.as_ref())
        })
        .await
        {
            Ok(Err(error)) => {
                tracing::warn!(server = name, %error, "could not save the call in the history")
            }
            Err(error) => {
                tracing::warn!(server = name, %error, "could not save the call in the history")
            }
            Ok(Ok(_)) => {}
        }
        Ok(record)
    }

    /// What a failed call means for the connection: a lost connection is dropped (the next
    /// call reconnects), a 401 means the person must sign in again.
    pub(super) async fn call_failed(&self, name: &str, error: &CallError) -> AppError {
        match error {
            CallError::Disconnected { .. } => {
                self.drop_connection(name).await;
                self.set_state(
                    name,
                    ConnectionState::Failed {
                        reason: error.to_string(),
                    },
                );
                self.changed(name).await;
            }
            CallError::AuthRequired { challenge } => {
                self.drop_connection(name).await;
                {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    live.challenge = challenge.clone();
                    live.problem = Some(AuthView::NeedsSignIn {
                        reason: "The server asked for a new sign-in.".to_owned(),
                    });
                    live.state = Some(ConnectionState::NeedsSignIn);
                }
                self.changed(name).await;
            }
            _ => {}
        }
        AppError::new("call", error)
    }

    /// Cancel a running call (the server is told).
    pub fn cancel_call(&self, call_id: &str) {
        if let Some(cancel) = self.inner.calls.lock().unwrap().remove(call_id) {
            cancel.cancel();
        }
    }

    /// The person's answer to a server's question.
    pub fn answer_elicitation(&self, id: &str, answer: ElicitationAnswer) -> Result<()> {
        if self.inner.host.answer(id, answer) {
            Ok(())
        } else {
            Err(AppError::new(
                "expired",
                "That question is no longer waiting for an answer.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::test_peers::{NodePeer, latch_with};

    /// The server card counts the tools people see: against `tests/peers/hostile-app-server.mjs`
    /// (three tools, `report` only for its app), the count is 2 — on connecting and after a
    /// listing — while the app's own list keeps `report` for the MCP App that calls it.
    #[tokio::test]
    async fn the_card_counts_the_tools_people_see() {
        let server = NodePeer::hostile_app(&[]);
        let dir = tempfile::tempdir().unwrap();
        let latch = latch_with(dir.path(), "hostile", &server.url);
        let outcome = async {
            latch.connect("hostile").await?;
            let on_connect = latch.server_view("hostile").await?.tool_count;
            let tools = latch.list_tools("hostile").await?;
            let after_list = latch.server_view("hostile").await?.tool_count;
            Ok::<_, AppError>((on_connect, tools, after_list))
        }
        .await;
        drop(server);
        let (on_connect, tools, after_list) = outcome.unwrap();
        assert_eq!(on_connect, Some(2));
        assert_eq!(after_list, Some(2));
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["hostile-app", "wipe", "report"], "the app keeps it");
        assert!(!tools[2].is_listed());
    }

    /// How many `tools/list` requests the connection to `server` has sent (its protocol log).
    fn lists_sent(server: &str) -> usize {
        crate::connection::tap::entries(server)
            .iter()
            .filter(|e| {
                e.kind == crate::connection::tap::EntryKind::Message
                    && e.direction == crate::connection::tap::Direction::Sent
                    && e.method.as_deref() == Some("tools/list")
            })
            .count()
    }

    /// A 2026-07-28 server on the TS SDK 2.x (`tests/peers/sdk2/server.mjs`) answers
    /// `tools/list` with `ttlMs: 0`: its list is stale at once. Still, an app call costs one
    /// `tools/list` at most — the first call's, made on connecting — and none once a list that
    /// has the tool is cached, stale or not.
    #[tokio::test]
    async fn a_call_lists_the_tools_once_at_most_when_the_ttl_is_zero() {
        let server = NodePeer::sdk2(&["--legacy", "reject"]);
        // The protocol log is per server name, across the process: a name of its own.
        let name = "sdk2-ttl-zero-lists";
        let dir = tempfile::tempdir().unwrap();
        let latch = latch_with(dir.path(), name, &server.url);
        let outcome = async {
            let mut lists = Vec::new();
            for n in 0..3 {
                let before = lists_sent(name);
                let record = latch
                    .call_tool(name, "echo", json!({"text": "hi"}), &format!("call-{n}"))
                    .await?;
                assert_eq!(record.status, CallStatus::Ok, "{record:?}");
                lists.push(lists_sent(name) - before);
            }
            Ok::<_, AppError>(lists)
        }
        .await;
        drop(server);
        let lists = outcome.unwrap();
        let ttl_zero = crate::connection::tap::entries(name).iter().any(|e| {
            e.method.as_deref() == Some("tools/list")
                && e.direction == crate::connection::tap::Direction::Received
                && e.message
                    .as_ref()
                    .is_some_and(|m| m["result"]["ttlMs"] == 0)
        });
        assert!(ttl_zero, "the server's list says ttlMs: 0");
        assert_eq!(lists, [1, 0, 0], "tools/list requests per call");
    }
}
