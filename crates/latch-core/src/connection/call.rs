//! Listing and calling tools on a [`Connection`]. A call is checked against the schema first,
//! runs with a timeout that every progress notification resets, reports progress to the caller
//! and on the event bus, and can be cancelled (the server gets `notifications/cancelled`).
//! A call that may have reached the server is never sent again by Latch — except as the
//! protocol's next round when the server answered that it needs input (`input_required`), and
//! as a task when the server refused it, unrun, because the tool runs only as one ([`super::tasks`]).
//! A server may also answer with a task (the 2026 extension), which Latch then follows.

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use rmcp::{
    model::{
        CallToolRequest, CallToolRequestParams, CancelledNotificationParam, ClientRequest,
        ServerResult,
    },
    service::{PeerRequestOptions, ServiceError},
};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    Connection, LatchHandler, RunningCall,
    input_required::{self, Continuation, MAX_ROUNDS, Round},
};
use crate::tools::{
    Progress, ToolList, ToolResult, ToolView,
    schema::{Check, Violation},
};

/// What a `tools/call` came back with: its result, or a task the server runs it as.
enum Called {
    Result(ToolResult),
    Task(rmcp::model::Task),
}

/// How many times one request may be authorized before Latch gives up asking for scopes.
const MAX_AUTHORIZATIONS: u32 = 3;

/// How long a finished call that reported progress still takes its last reports in flight.
const PROGRESS_SETTLE: Duration = Duration::from_millis(100);

/// How to run one call.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Give up when neither an answer nor progress came for this long (default 60 s).
    pub timeout: Duration,
    /// Cancel the call: the server is told, the call returns [`CallError::Cancelled`].
    pub cancel: CancellationToken,
    /// Where to send this call's progress reports (they go to the event bus too).
    pub progress: Option<mpsc::UnboundedSender<Progress>>,
    /// Check the arguments against the input schema first (default on).
    pub validate: bool,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            cancel: CancellationToken::new(),
            progress: None,
            validate: true,
        }
    }
}

/// Why a call did not produce a result. A tool that ran and failed is not an error here:
/// it is a [`ToolResult`] with `is_error`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error("{server} has no tool `{tool}`{hint} — run `latch tools {server}` to see its tools")]
    UnknownTool {
        server: String,
        tool: String,
        hint: String,
    },
    #[error("the arguments do not match `{tool}`'s input schema (nothing was sent): {}", list(.violations))]
    InvalidArguments {
        tool: String,
        violations: Vec<Violation>,
    },
    #[error(
        "no answer or progress for {seconds} s; the call was cancelled — pass a longer --timeout to wait more"
    )]
    TimedOut { seconds: u64 },
    #[error("cancelled; the server was told to stop")]
    Cancelled,
    #[error("the server refused the request: {message} (JSON-RPC error {code})")]
    Server { code: i32, message: String },
    #[error("the server needs sign-in again (HTTP 401) — run `latch login` for it")]
    AuthRequired {
        /// The server's challenge (holds no secret).
        challenge: Option<String>,
    },
    #[error("the server wants more permissions than this sign-in has (HTTP 403 insufficient_scope){}", if *.tried > 0 { format!("; signing in again {} time(s) did not get them", .tried) } else { " — run `latch login` for it".to_owned() })]
    InsufficientScope {
        /// The server's challenge (names the scopes it wants; holds no secret).
        challenge: String,
        tried: u32,
    },
    #[error(
        "the server kept asking for input: still no result after {rounds} rounds of answers, so Latch stopped the call"
    )]
    KeptAskingForInput { rounds: usize },
    #[error(
        "the server asked for {what}, and it was not given: {reason} — the call did not finish"
    )]
    InputNotGiven { what: &'static str, reason: String },
    #[error(transparent)]
    SignIn(#[from] super::ConnectError),
    #[error(
        "the connection was lost{while_}: {reason} — the call may or may not have run; it was not repeated"
    )]
    Disconnected {
        while_: &'static str,
        reason: String,
    },
}

fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl CallError {
    pub(super) fn from_service(error: ServiceError, while_: &'static str) -> Self {
        if let Some(challenge) = error.auth_challenge() {
            if challenge.contains("insufficient_scope") {
                return Self::InsufficientScope {
                    challenge: challenge.to_owned(),
                    tried: 0,
                };
            }
            return Self::AuthRequired {
                challenge: Some(challenge.to_owned()).filter(|c| !c.trim().is_empty()),
            };
        }
        match error {
            ServiceError::McpError(data) => Self::Server {
                code: data.code.0,
                message: data.message.to_string(),
            },
            ServiceError::Timeout { timeout } => Self::TimedOut {
                seconds: timeout.as_secs(),
            },
            ServiceError::Cancelled { .. } => Self::Cancelled,
            other => Self::Disconnected {
                while_,
                reason: crate::words::chain(&other),
            },
        }
    }
}

/// How long one page of `tools/list` may take.
const LIST_PAGE_TIMEOUT: Duration = Duration::from_secs(60);
/// At most this many pages, and this many tools, are listed: a server that hands out cursors
/// forever (or millions of tools) gets an error, not an endless loop.
const MAX_LIST_PAGES: usize = 1_000;
const MAX_TOOLS: usize = 100_000;

/// Every page of `tools/list`, each within [`LIST_PAGE_TIMEOUT`], bounded in pages and tools;
/// with the shortest `ttlMs` a page gave (MCP 2026-07-28 caching hints), if any did.
async fn list_all_tools(
    peer: &rmcp::Peer<rmcp::RoleClient>,
) -> Result<(Vec<rmcp::model::Tool>, Option<u64>), CallError> {
    let mut tools = Vec::new();
    let mut ttl_ms: Option<u64> = None;
    let mut cursor = None;
    for _ in 0..MAX_LIST_PAGES {
        let params = rmcp::model::PaginatedRequestParams::default().with_cursor(cursor);
        // Dropping the request on timeout cancels it (rmcp tells the server).
        let page = tokio::time::timeout(LIST_PAGE_TIMEOUT, peer.list_tools(Some(params)))
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: LIST_PAGE_TIMEOUT.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, " while listing tools"))?;
        tools.extend(page.tools);
        ttl_ms = match (ttl_ms, page.ttl_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if tools.len() > MAX_TOOLS {
            return Err(CallError::Disconnected {
                while_: " while listing tools",
                reason: format!("the server lists more than {MAX_TOOLS} tools"),
            });
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            return Ok((tools, ttl_ms));
        }
    }
    Err(CallError::Disconnected {
        while_: " while listing tools",
        reason: format!("the server's tool list goes on for more than {MAX_LIST_PAGES} pages"),
    })
}

impl Connection {
    /// Every tool of the server (all pages), from the cache when the server has not said
    /// its list changed since.
    pub async fn list_tools(&self) -> Result<Arc<Vec<ToolView>>, CallError> {
        Ok(self.tool_list().await?.views().clone())
    }

    /// The cached tool list (listed first when there is none), with the compiled schemas.
    async fn tool_list(&self) -> Result<Arc<ToolList>, CallError> {
        // Until the server says the list changed, or (2026-07-28) its `ttlMs` runs out.
        if let Some(list) = self.shared.tools.read().await.clone()
            && list.is_fresh()
        {
            return Ok(list);
        }
        let list = || list_all_tools(self.service.peer());
        let (tools, ttl_ms) = self.signing_in_when_asked(list).await?;
        let list = Arc::new(
            ToolList::new(tools.iter().map(ToolView::from_rmcp).collect())
                .fresh_for(ttl_ms.map(Duration::from_millis)),
        );
        *self.shared.tools.write().await = Some(list.clone());
        Ok(list)
    }

    /// The tool called `tool` as a call sees it (its schema): listed only when the cached list
    /// lacks it, so asking before [`Connection::call_tool`] costs that call no `tools/list`.
    pub async fn tool_for_call(&self, tool: &str) -> Result<Option<ToolView>, CallError> {
        Ok(self.list_for_call(tool).await?.view(tool).cloned())
    }

    /// A list a call of `tool` can use. A call needs the tool's schema, not the newest list: a
    /// list past its `ttlMs` still serves when it has the tool (servers that say `ttlMs: 0`
    /// would otherwise cost a `tools/list` before every call). It is dropped when the server
    /// says it changed.
    async fn list_for_call(&self, tool: &str) -> Result<Arc<ToolList>, CallError> {
        let cached = self.shared.tools.read().await.clone();
        match cached {
            Some(list) if list.get(tool).is_some() => Ok(list),
            _ => self.tool_list().await,
        }
    }

    /// Call `tool` with `arguments`.
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Map<String, Value>,
        options: CallOptions,
    ) -> Result<ToolResult, CallError> {
        let tools = self.list_for_call(tool).await?;
        let Some((_, schema)) = tools.get(tool) else {
            let close: Vec<&str> = tools
                .views()
                .iter()
                .map(|t| t.name.as_str())
                .filter(|name| name.contains(tool) || tool.contains(*name))
                .take(3)
                .collect();
            return Err(CallError::UnknownTool {
                server: self.server().to_owned(),
                tool: tool.to_owned(),
                hint: if close.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", close.join(", "))
                },
            });
        };
        let arguments = if options.validate {
            // Checked as a JSON value without copying the arguments (they may be large).
            let arguments = Value::Object(arguments);
            match schema.check(&arguments) {
                Check::Valid => {}
                Check::Invalid(violations) => {
                    return Err(CallError::InvalidArguments {
                        tool: tool.to_owned(),
                        violations,
                    });
                }
                Check::Unchecked { reason } => {
                    tracing::warn!(tool, %reason, "could not use the input schema; the server will check the arguments");
                }
            }
            let Value::Object(arguments) = arguments else {
                unreachable!("built as an object above")
            };
            arguments
        } else {
            arguments
        };

        // Each round is a request of its own: a sign-in the server asks for repeats that
        // round only.
        let handler = LatchHandler {
            shared: self.shared.clone(),
        };
        let call_id = self.next_call_id.fetch_add(1, Ordering::Relaxed) + 1;
        let direct = input_required::drive(&handler, &options.cancel, MAX_ROUNDS, |next| {
            let arguments = arguments.clone();
            let options = &options;
            async move {
                self.signing_in_when_asked(|| {
                    self.send_call(call_id, tool, arguments.clone(), options, next.clone())
                })
                .await
            }
        })
        .await;
        let direct = match direct {
            // The server runs it as a task (the 2026 extension): follow it to its end.
            Ok(Called::Task(task)) => return self.follow_task(call_id, tool, task, &options).await,
            Ok(Called::Result(result)) => Ok(result),
            Err(error) => Err(error),
        };
        // A tool that runs only as a task refuses a plain call without running it (2025-11-25).
        if super::tasks::needs_task(&direct) {
            return self.call_as_task(call_id, tool, arguments, &options).await;
        }
        direct
    }

    /// Run `request`; when the server refuses it for want of a sign-in (401) or of scopes
    /// (403 `insufficient_scope`) — so it did not run — and this connection may sign in, sign
    /// in (for the union of scopes) and send it again: once after a 401; for scopes, until the
    /// grant has been authorized 3 times in all (the one the server found short counts).
    pub(super) async fn signing_in_when_asked<T, F, Fut>(&self, request: F) -> Result<T, CallError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, CallError>>,
    {
        let mut signed_in_for_401 = false;
        let mut scope_tries = 0;
        loop {
            let (challenge, tried) = match request().await {
                Err(CallError::AuthRequired { challenge }) if !signed_in_for_401 => {
                    signed_in_for_401 = true;
                    (challenge, None)
                }
                Err(CallError::InsufficientScope { challenge, .. }) => {
                    (Some(challenge), Some(scope_tries))
                }
                other => return other,
            };
            let Some(step_up) = &self.step_up else {
                return Err(match tried {
                    Some(tried) => CallError::InsufficientScope {
                        challenge: challenge.unwrap_or_default(),
                        tried,
                    },
                    None => CallError::AuthRequired { challenge },
                });
            };
            if let Some(tried) = tried {
                if tried + 1 >= MAX_AUTHORIZATIONS {
                    return Err(CallError::InsufficientScope {
                        challenge: challenge.unwrap_or_default(),
                        tried,
                    });
                }
                scope_tries += 1;
            }
            tracing::info!(
                server = self.server(),
                "the server asks for a sign-in; signing in"
            );
            step_up.sign_in(self.server(), challenge.as_deref()).await?;
        }
    }

    /// The call has its answer: stop routing its progress. rmcp hands each progress report to
    /// a task of its own but the answer straight to the caller, so a call's last report may
    /// still be on its way; a call that reported progress keeps its route a moment longer.
    fn finish(&self, token: rmcp::model::ProgressToken) {
        let reported = {
            let mut calls = self.shared.calls.lock().unwrap_or_else(|e| e.into_inner());
            match calls.get(&token) {
                Some(call) if call.reported => true,
                _ => {
                    calls.remove(&token);
                    false
                }
            }
        };
        if reported {
            let shared = self.shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(PROGRESS_SETTLE).await;
                shared.forget_call(&token);
            });
        }
    }

    /// Send one round of the call `call_id` (a new request, with its own id and progress
    /// token, routed to the same progress receiver).
    async fn send_call(
        &self,
        call_id: u64,
        tool: &str,
        arguments: Map<String, Value>,
        options: &CallOptions,
        next: Continuation,
    ) -> Result<Round<Called>, CallError> {
        let mut params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        params.input_responses = next.input_responses;
        params.request_state = next.request_state;
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let peer = self.service.peer().clone();
        let handle = peer
            .send_cancellable_request(
                request,
                PeerRequestOptions::with_timeout(options.timeout).reset_timeout_on_progress(),
            )
            .await
            .map_err(|e| CallError::from_service(e, " before the call was sent"))?;
        let token = handle.progress_token.clone();
        let request_id = handle.id.clone();
        self.shared.track_call(
            token.clone(),
            RunningCall {
                call_id,
                progress: options.progress.clone(),
                reported: false,
            },
        );
        let outcome = tokio::select! {
            response = handle.await_response() => Some(response),
            _ = options.cancel.cancelled() => None,
        };
        self.finish(token);
        let response = match outcome {
            Some(response) => response,
            None => {
                let notice = CancelledNotificationParam::new(
                    Some(request_id),
                    Some("cancelled by the user".to_owned()),
                );
                if let Err(error) = peer.notify_cancelled(notice).await {
                    tracing::warn!(%error, "could not tell the server the call was cancelled");
                }
                return Err(CallError::Cancelled);
            }
        };
        Ok(
            match response.map_err(|e| CallError::from_service(e, " during the call"))? {
                ServerResult::CallToolResult(result) => {
                    Round::Complete(Called::Result(ToolResult::from_rmcp(result)))
                }
                ServerResult::InputRequiredResult(asked) => Round::InputRequired(asked),
                ServerResult::CreateTaskResult(created) => {
                    Round::Complete(Called::Task(created.task))
                }
                other => Round::Complete(Called::Result(ToolResult::from_wire(
                    &serde_json::to_value(&other).unwrap_or_default(),
                ))),
            },
        )
    }
}
