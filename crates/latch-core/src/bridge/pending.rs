//! Tool calls of an agent on protocol 2026-07-28 in front of a server on 2025-11-25: the
//! server asks for input (elicitation, sampling, roots) with requests of its own while the
//! call runs, and the agent cannot receive requests — it expects `input_required` results.
//!
//! So the forwarded call runs on a task of its own. When the server asks for input, the
//! agent's `tools/call` is answered with `resultType: "input_required"`, the server's request
//! as an input request and a `requestState` naming the parked call; the agent's retry (a new
//! request with `inputResponses` and the echoed `requestState`) answers the server's request,
//! and the bridge waits for the next request or the final result. A parked call whose agent
//! never comes back is cancelled after [`PARK_LIMIT`]; an unknown or altered `requestState`
//! is refused. Each call has its own channel, so parallel calls never see each other's input.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

#[allow(deprecated)]
use rmcp::model::{CreateMessageResult, ListRootsResult};
use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{
        CallToolRequest, ClientResult, ElicitResult, InputRequest, InputRequiredResult,
        ProgressToken, RequestId, RequestMetaObject, ServerRequest, ServerResult,
    },
    service::InboundStreamOrigin,
};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::remote::{CallFailure, Remote, relay_progress};
use crate::tools::Progress;

/// How long a call waits for the agent to come back with the input the server asked for.
const PARK_LIMIT: Duration = Duration::from_secs(300);

/// Every `requestState` the bridge makes starts with this; others belong to the server.
const STATE_PREFIX: &str = "latch-bridge.";

/// What a running call tells the agent's request that waits on it.
enum CallEvent {
    /// The server asked for input; its answer goes to `answer`.
    Input {
        request: ServerRequest,
        answer: oneshot::Sender<Result<ClientResult, ErrorData>>,
    },
    Progress(Progress),
    Done(Result<ServerResult, CallFailure>),
}

/// A call in flight on the server, found by the id it went out with.
struct Running {
    remote_id: Option<RequestId>,
    events: mpsc::UnboundedSender<CallEvent>,
}

/// A call waiting for the agent's input.
struct Parked {
    tool: String,
    call: u64,
    events: mpsc::UnboundedReceiver<CallEvent>,
    answers: BTreeMap<
        String,
        (
            ServerRequest,
            oneshot::Sender<Result<ClientResult, ErrorData>>,
        ),
    >,
    cancel: CancellationToken,
    expiry: tokio::task::AbortHandle,
}

/// One call the agent's request waits on.
struct Step {
    tool: String,
    call: u64,
    events: mpsc::UnboundedReceiver<CallEvent>,
    cancel: CancellationToken,
}

/// The 2026-era agent's running and parked calls (a handle: clones share them).
#[derive(Default, Clone)]
pub(crate) struct PendingCalls {
    next: Arc<AtomicU64>,
    running: Arc<Mutex<HashMap<u64, Running>>>,
    parked: Arc<Mutex<HashMap<String, Parked>>>,
}

impl PendingCalls {
    /// Hand the server's `request` to the call it belongs to, and wait for the agent's answer.
    /// The call is the one whose HTTP stream carried the request, or else the only one running.
    pub(crate) async fn request(
        &self,
        request: ServerRequest,
        cancel: CancellationToken,
    ) -> Result<ClientResult, ErrorData> {
        let origin =
            match rmcp::model::GetExtensions::extensions(&request).get::<InboundStreamOrigin>() {
                Some(InboundStreamOrigin::OutboundRequest(id)) => Some(id.clone()),
                _ => None,
            };
        let events = {
            let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            let by_origin = origin.and_then(|id| {
                running
                    .values()
                    .find(|call| call.remote_id.as_ref() == Some(&id))
            });
            match by_origin {
                Some(call) => Some(call.events.clone()),
                None if running.len() == 1 => running.values().next().map(|c| c.events.clone()),
                None => None,
            }
        };
        let Some(events) = events else {
            return Err(ErrorData::invalid_request(
                "Latch: the agent speaks MCP 2026-07-28, so it can only be asked for input as the \
                 answer to one of its tool calls, and this request could not be matched to one \
                 (none was running, or several were and the request did not say which)",
                None,
            ));
        };
        let (answer, answered) = oneshot::channel();
        if events.send(CallEvent::Input { request, answer }).is_err() {
            return Err(ErrorData::internal_error(
                "Latch: the tool call this request belongs to has ended",
                None,
            ));
        }
        tokio::select! {
            answer = answered => answer.unwrap_or_else(|_| Err(ErrorData::internal_error(
                "Latch: the agent did not come back with the input (the call was cancelled)",
                None,
            ))),
            _ = cancel.cancelled() => Err(ErrorData::internal_error("cancelled by the server", None)),
        }
    }

    /// Answer the agent's `tools/call`: a new call, or the retry of a parked one.
    pub(crate) async fn call_tool(
        &self,
        remote: Arc<Remote>,
        request: CallToolRequest,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        id: &RequestId,
        ct: CancellationToken,
    ) -> Result<ServerResult, ErrorData> {
        let token = meta.get_progress_token();
        let resumed = match request.params.request_state.as_deref() {
            Some(state) if state.starts_with(STATE_PREFIX) => Some(self.resume(state, &request)?),
            _ => None,
        };
        let tool = request.params.name.to_string();
        let (call, events, cancel) = match resumed {
            Some(parked) => (parked.call, parked.events, parked.cancel),
            None => self.start(remote, request, meta),
        };
        let step = Step {
            tool,
            call,
            events,
            cancel,
        };
        self.wait(step, &peer, token, id, &ct).await
    }

    /// Start the forwarded call on a task of its own.
    fn start(
        &self,
        remote: Arc<Remote>,
        request: CallToolRequest,
        meta: RequestMetaObject,
    ) -> (u64, mpsc::UnboundedReceiver<CallEvent>, CancellationToken) {
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                call,
                Running {
                    remote_id: None,
                    events: tx.clone(),
                },
            );
        let cancel = CancellationToken::new();
        let task_cancel = cancel.clone();
        let registry = self.running.clone();
        tokio::spawn(async move {
            let progress_tx = tx.clone();
            let outcome = remote
                .run_call(
                    request,
                    meta,
                    &task_cancel,
                    |progress| {
                        let _ = progress_tx.send(CallEvent::Progress(progress));
                        std::future::ready(())
                    },
                    |remote_id| {
                        if let Some(running) = registry
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_mut(&call)
                        {
                            running.remote_id = Some(remote_id.clone());
                        }
                    },
                )
                .await;
            registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&call);
            let _ = tx.send(CallEvent::Done(outcome));
        });
        (call, rx, cancel)
    }

    /// Take the parked call `state` names, answering the server's requests with the agent's
    /// `inputResponses`.
    fn resume(&self, state: &str, request: &CallToolRequest) -> Result<Parked, ErrorData> {
        let parked = self
            .parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(state);
        let Some(mut parked) = parked else {
            return Err(ErrorData::invalid_params(
                "Latch: this requestState is unknown, already used or expired; call the tool again",
                Some(json!({ "latch": "unknown-request-state" })),
            ));
        };
        if parked.tool != request.params.name {
            parked.cancel.cancel();
            return Err(ErrorData::invalid_params(
                format!(
                    "Latch: this requestState belongs to a call of {}, not of {}; call the tool again",
                    parked.tool, request.params.name
                ),
                Some(json!({ "latch": "unknown-request-state" })),
            ));
        }
        parked.expiry.abort();
        let responses = request.params.input_responses.clone().unwrap_or_default();
        for (key, (asked, answer)) in std::mem::take(&mut parked.answers) {
            let result = match responses.get(&key) {
                Some(value) => client_result(&asked, value.clone()),
                None => Err(ErrorData::invalid_params(
                    format!("Latch: the agent sent no answer to input request {key}"),
                    None,
                )),
            };
            let _ = answer.send(result);
        }
        Ok(parked)
    }

    /// Wait for the call's next step: the result, or input the server needs (the call is
    /// parked and the agent gets `input_required`).
    async fn wait(
        &self,
        step: Step,
        peer: &Peer<RoleServer>,
        token: Option<ProgressToken>,
        id: &RequestId,
        ct: &CancellationToken,
    ) -> Result<ServerResult, ErrorData> {
        let Step {
            tool,
            call,
            mut events,
            cancel,
        } = step;
        let first = loop {
            let event = tokio::select! {
                biased;
                _ = ct.cancelled() => {
                    cancel.cancel();
                    return Err(super::error::cancelled(id));
                }
                event = events.recv() => event,
            };
            match event {
                Some(CallEvent::Progress(progress)) => {
                    relay_progress(peer, token.as_ref(), progress).await;
                }
                Some(CallEvent::Done(outcome)) => return finished(outcome, id),
                None => return Err(super::error::cancelled(id)),
                Some(CallEvent::Input { request, answer }) => break (request, answer),
            }
        };
        // The server may ask for several things at once: give the agent all that are here.
        let mut asked = vec![first];
        while let Ok(event) = events.try_recv() {
            match event {
                CallEvent::Input { request, answer } => asked.push((request, answer)),
                CallEvent::Progress(progress) => {
                    relay_progress(peer, token.as_ref(), progress).await;
                }
                // The call ended after all (its questions go unanswered): that is the answer.
                CallEvent::Done(outcome) => return finished(outcome, id),
            }
        }
        let mut input_requests = BTreeMap::new();
        let mut answers = BTreeMap::new();
        for (n, (request, answer)) in asked.into_iter().enumerate() {
            let Some(input) = input_request(&request) else {
                let _ = answer.send(Err(ErrorData::method_not_found::<
                    rmcp::model::PingRequestMethod,
                >()));
                continue;
            };
            let key = format!("latch-{call}-{n}");
            input_requests.insert(key.clone(), input);
            answers.insert(key, (request, answer));
        }
        let state = format!("{STATE_PREFIX}{}", random_hex());
        let parked_map = self.parked.clone();
        let expired_state = state.clone();
        let expiry = tokio::spawn(async move {
            tokio::time::sleep(PARK_LIMIT).await;
            let parked = parked_map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&expired_state);
            if let Some(parked) = parked {
                tracing::info!(
                    "the agent did not come back with the input a call needs; cancelling it"
                );
                parked.cancel.cancel();
            }
        })
        .abort_handle();
        self.parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                state.clone(),
                Parked {
                    tool,
                    call,
                    events,
                    answers,
                    cancel,
                    expiry,
                },
            );
        Ok(ServerResult::InputRequiredResult(InputRequiredResult::new(
            Some(input_requests),
            Some(state),
        )))
    }
}

/// The agent's answer for a call that ended.
fn finished(
    outcome: Result<ServerResult, CallFailure>,
    id: &RequestId,
) -> Result<ServerResult, ErrorData> {
    match outcome {
        Ok(result) => Ok(result),
        Err(CallFailure::Error(error)) => Err(error),
        Err(CallFailure::Cancelled) => Err(super::error::cancelled(id)),
    }
}

/// The server's request as an input request (`None`: not one the 2026-07-28 wire carries).
#[allow(deprecated)]
fn input_request(request: &ServerRequest) -> Option<InputRequest> {
    Some(match request {
        ServerRequest::ElicitRequest(r) => InputRequest::Elicitation(r.clone()),
        ServerRequest::CreateMessageRequest(r) => InputRequest::CreateMessage(r.clone()),
        ServerRequest::ListRootsRequest(r) => InputRequest::ListRoots(r.clone()),
        _ => return None,
    })
}

/// The agent's input response read as the answer to `asked`.
#[allow(deprecated)]
fn client_result(
    asked: &ServerRequest,
    value: serde_json::Value,
) -> Result<ClientResult, ErrorData> {
    let invalid = |error: serde_json::Error| {
        ErrorData::invalid_params(
            format!("Latch: the agent's input response does not fit the request: {error}"),
            None,
        )
    };
    Ok(match asked {
        ServerRequest::ElicitRequest(_) => ClientResult::ElicitResult(
            serde_json::from_value::<ElicitResult>(value).map_err(invalid)?,
        ),
        ServerRequest::CreateMessageRequest(_) => ClientResult::CreateMessageResult(Box::new(
            serde_json::from_value::<CreateMessageResult>(value).map_err(invalid)?,
        )),
        ServerRequest::ListRootsRequest(_) => ClientResult::ListRootsResult(
            serde_json::from_value::<ListRootsResult>(value).map_err(invalid)?,
        ),
        _ => {
            return Err(ErrorData::invalid_params(
                "Latch: unexpected input response",
                None,
            ));
        }
    })
}

/// 128 random bits (from the OAuth library's CSRF-state generator): a `requestState` nobody
/// can guess, and no secret — it only names a parked call of this bridge.
fn random_hex() -> String {
    oauth2::CsrfToken::new_random().secret().clone()
}

#[cfg(test)]
mod tests;
