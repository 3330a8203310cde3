//! An agent on 2025-11-25 (or older) in front of a server on 2026-07-28: the server answers
//! `tools/call`, `prompts/get` or `resources/read` with `resultType: "input_required"`, which
//! such an agent has no word for. The bridge asks the agent each input request as the ordinary
//! request it was before 2026-07-28 (`elicitation/create`, `sampling/createMessage`,
//! `roots/list`), then sends the original request again with the answers as `inputResponses`,
//! the echoed `requestState` and a new request id — several rounds, at most
//! [`DEFAULT_MRTR_MAX_ROUNDS`]. (The core's `connection::input_required::drive` runs the same rounds
//! for Latch's own calls, answering through a connection's handler; the bridge answers through
//! the agent's peer of the request at hand, with the same pause and the same answering of a
//! round's requests together.)

use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{
        ClientRequest, ClientResult, DEFAULT_MRTR_MAX_ROUNDS, InputRequest, InputRequiredResult,
        InputResponses, ServerRequest,
    },
};
use tokio_util::sync::CancellationToken;

use crate::connection::input_required::{answer_each, state_only_pause};

/// Ask the agent every input request of `asked`, and return `request` ready to be sent again.
pub(crate) async fn answer_round(
    peer: &Peer<RoleServer>,
    request: &ClientRequest,
    asked: InputRequiredResult,
    round: usize,
    ct: &CancellationToken,
) -> Result<ClientRequest, ErrorData> {
    if round >= DEFAULT_MRTR_MAX_ROUNDS {
        return Err(ErrorData::internal_error(
            format!(
                "Latch: the server still asked for input after {DEFAULT_MRTR_MAX_ROUNDS} rounds; \
                 the request was given up"
            ),
            None,
        ));
    }
    let requests = asked.input_requests.unwrap_or_default();
    // Only state: the server wants the request again (it sheds load, say); wait as the core's
    // loop does.
    if requests.is_empty() && !state_only_pause(round as u32, ct).await {
        return Err(ErrorData::internal_error("cancelled by the agent", None));
    }
    // Every question of a round at once: the agent may show them together.
    let answers = answer_each(requests, |key, input| async move {
        let Some(relayed) = server_request(input) else {
            return Err(ErrorData::internal_error(
                format!(
                    "Latch: the server asked for a kind of input ({key}) the agent cannot give"
                ),
                None,
            ));
        };
        let answer = peer
            .send_request(relayed)
            .await
            .map_err(|error| match error {
                rmcp::ServiceError::McpError(data) => data,
                other => ErrorData::internal_error(
                    format!("Latch: the agent did not answer the server's input request: {other}"),
                    None,
                ),
            })?;
        Ok(answer_value(answer))
    });
    let responses: InputResponses = tokio::select! {
        answers = answers => answers?,
        _ = ct.cancelled() => return Err(ErrorData::internal_error("cancelled by the agent", None)),
    };
    retry_request(request, responses, asked.request_state)
}

/// The input request as the request a 2025-era client knows.
#[allow(deprecated)]
fn server_request(input: InputRequest) -> Option<ServerRequest> {
    Some(match input {
        InputRequest::Elicitation(r) => ServerRequest::ElicitRequest(r),
        InputRequest::CreateMessage(r) => ServerRequest::CreateMessageRequest(r),
        InputRequest::ListRoots(r) => ServerRequest::ListRootsRequest(r),
        _ => return None,
    })
}

fn answer_value(answer: ClientResult) -> serde_json::Value {
    serde_json::to_value(answer).unwrap_or_default()
}

/// `request` with `inputResponses` and `requestState` set (through its wire form: the three
/// requests that may need input share the two fields).
fn retry_request(
    request: &ClientRequest,
    responses: InputResponses,
    state: Option<String>,
) -> Result<ClientRequest, ErrorData> {
    let mut wire = serde_json::to_value(request)
        .map_err(|e| ErrorData::internal_error(format!("Latch: {e}"), None))?;
    let params = wire
        .as_object_mut()
        .and_then(|o| {
            o.entry("params")
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
        })
        .ok_or_else(|| ErrorData::internal_error("Latch: a request without params", None))?;
    params.insert(
        "inputResponses".into(),
        serde_json::to_value(responses).unwrap_or_default(),
    );
    match state {
        Some(state) => params.insert("requestState".into(), state.into()),
        None => params.remove("requestState"),
    };
    serde_json::from_value(wire).map_err(|e| {
        ErrorData::internal_error(
            format!("Latch: could not build the retried request: {e}"),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use rmcp::model::{CallToolRequest, CallToolRequestParams};

    use super::*;

    #[test]
    fn a_retry_carries_the_answers_and_the_state_exactly() {
        let request =
            ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new("ask")));
        let mut responses = InputResponses::new();
        responses.insert("q".into(), serde_json::json!({ "action": "accept" }));
        let retried = retry_request(&request, responses, Some("opaque==".into())).unwrap();
        let ClientRequest::CallToolRequest(retried) = retried else {
            panic!("not a tools/call: {retried:?}");
        };
        assert_eq!(retried.params.name, "ask");
        assert_eq!(retried.params.request_state.as_deref(), Some("opaque=="));
        assert_eq!(
            retried.params.input_responses.unwrap()["q"],
            serde_json::json!({ "action": "accept" })
        );
    }
}
