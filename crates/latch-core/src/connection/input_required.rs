//! Multi round-trip requests (MCP 2026-07-28, SEP-2322): a server may answer `tools/call`
//! (and `prompts/get`, `resources/read`) with `resultType: "input_required"` — questions for
//! the person (elicitation), a model (sampling) or the client (roots), and an opaque
//! `requestState`. The client answers every question, then sends the original request again,
//! as a new request with a new id, carrying `inputResponses` and the `requestState` exactly as
//! received (none when the server sent none). [`drive`] runs those rounds for any request: the
//! caller says how to send one round; the answers come from the connection's handler, the
//! same way as a 2025-era server's own requests. A round's answers and state belong to that
//! request only, so parallel calls never see each other's.

use std::{future::Future, time::Duration};

use futures::future::try_join_all;
use rmcp::model::{InputRequest, InputRequests, InputRequiredResult, InputResponses};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use rmcp::model::DEFAULT_MRTR_MAX_ROUNDS as MAX_ROUNDS;

use super::{CallError, LatchHandler};

/// What one round of a request came back with.
pub(crate) enum Round<T> {
    /// The final result (a result without `resultType` is complete).
    Complete(T),
    /// The server needs input before it can answer.
    InputRequired(InputRequiredResult),
}

/// What the next round carries besides the original parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Continuation {
    pub(crate) input_responses: Option<InputResponses>,
    pub(crate) request_state: Option<String>,
}

/// Send a request, answering `input_required` rounds through `handler` and sending it again,
/// at most `max_rounds` times in all. `send` sends one round (as a new request) with the given
/// continuation. Cancelling `cancel` while questions are being answered stops the request.
pub(crate) async fn drive<T, F, Fut>(
    handler: &LatchHandler,
    cancel: &CancellationToken,
    max_rounds: usize,
    mut send: F,
) -> Result<T, CallError>
where
    F: FnMut(Continuation) -> Fut,
    Fut: Future<Output = Result<Round<T>, CallError>>,
{
    let mut next = Continuation::default();
    let mut state_only_rounds = 0u32;
    for _ in 0..max_rounds {
        let asked = match send(next).await? {
            Round::Complete(result) => return Ok(result),
            Round::InputRequired(asked) => asked,
        };
        let requests = asked.input_requests.unwrap_or_default();
        if requests.is_empty() {
            let paused = state_only_pause(state_only_rounds, cancel).await;
            state_only_rounds += 1;
            if !paused {
                return Err(CallError::Cancelled);
            }
        } else {
            state_only_rounds = 0;
        }
        let responses = tokio::select! {
            responses = answer_all(handler, requests, cancel) => responses?,
            _ = cancel.cancelled() => return Err(CallError::Cancelled),
        };
        next = Continuation {
            input_responses: (!responses.is_empty()).then_some(responses),
            request_state: asked.request_state,
        };
    }
    Err(CallError::KeptAskingForInput { rounds: max_rounds })
}

/// Before sending again a request whose round carried only state (the server wants it again,
/// e.g. it sheds load): wait a little, longer each time (`n`: such rounds so far), as rmcp's
/// own client does. `false` when `cancel` fired first.
pub(crate) async fn state_only_pause(n: u32, cancel: &CancellationToken) -> bool {
    let pause = Duration::from_millis((50u64 << n.min(3)).min(250));
    tokio::select! {
        _ = tokio::time::sleep(pause) => true,
        _ = cancel.cancelled() => false,
    }
}

/// Answer every input request of one round at the same time with `answer` (called with the
/// request's key), so they can be shown together; the first error ends the round.
pub(crate) async fn answer_each<E, F, Fut>(
    requests: InputRequests,
    answer: F,
) -> Result<InputResponses, E>
where
    F: Fn(String, InputRequest) -> Fut,
    Fut: Future<Output = Result<Value, E>>,
{
    let answers = requests.into_iter().map(|(key, request)| {
        let answered = answer(key.clone(), request);
        async move { answered.await.map(|value| (key, value)) }
    });
    Ok(try_join_all(answers).await?.into_iter().collect())
}

/// Answer every request of one round (or of a task) through the connection's handler.
pub(crate) async fn answer_all(
    handler: &LatchHandler,
    requests: InputRequests,
    cancel: &CancellationToken,
) -> Result<InputResponses, CallError> {
    answer_each(requests, |_, request| async move {
        let what = describe(&request);
        handler
            .answer_input(request, cancel.child_token())
            .await
            .map_err(|error| CallError::InputNotGiven {
                what,
                reason: error.message.to_string(),
            })
    })
    .await
}

/// What an input request asks for, in words.
fn describe(request: &InputRequest) -> &'static str {
    match request {
        InputRequest::Elicitation(_) => "input from you (elicitation)",
        InputRequest::CreateMessage(_) => "a model reply (sampling)",
        InputRequest::ListRoots(_) => "the folders you work in (roots)",
        _ => "input of a kind Latch does not know",
    }
}

#[cfg(test)]
#[path = "input_required_tests.rs"]
mod tests;
