//! The parked calls of a 2026-era agent: a retry answers the server's request once, and a
//! `requestState` the bridge never made, already spent or made for another tool is refused.

use rmcp::model::{CallToolRequestParams, ElicitationAction};
use serde_json::json;

use super::*;

fn elicitation() -> ServerRequest {
    serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": {
            "message": "Who is calling?",
            "requestedSchema": { "type": "object", "properties": { "name": { "type": "string" } } },
        },
    }))
    .unwrap()
}

fn retry(tool: &str, state: &str, responses: serde_json::Value) -> CallToolRequest {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    params.request_state = Some(state.to_owned());
    params.input_responses = serde_json::from_value(responses).unwrap();
    CallToolRequest::new(params)
}

/// Park a call of `tool` under `state`, waiting for the answer to one elicitation ("k").
fn park(
    pending: &PendingCalls,
    tool: &str,
    state: &str,
) -> (
    oneshot::Receiver<Result<ClientResult, ErrorData>>,
    CancellationToken,
) {
    let (answer, answered) = oneshot::channel();
    let (_events_tx, events) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let mut answers = BTreeMap::new();
    answers.insert("k".to_owned(), (elicitation(), answer));
    pending.parked.lock().unwrap().insert(
        state.to_owned(),
        Parked {
            tool: tool.to_owned(),
            call: 7,
            events,
            answers,
            cancel: cancel.clone(),
            expiry: tokio::spawn(async {}).abort_handle(),
        },
    );
    (answered, cancel)
}

#[tokio::test]
async fn the_retry_answers_the_servers_request_and_its_state_is_then_spent() {
    let pending = PendingCalls::default();
    let state = format!("{STATE_PREFIX}{}", random_hex());
    let (answered, _cancel) = park(&pending, "ask", &state);
    let request = retry(
        "ask",
        &state,
        json!({ "k": { "action": "accept", "content": { "name": "Ada" } } }),
    );
    let parked = pending
        .resume(&state, &request)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(parked.call, 7);
    let Ok(ClientResult::ElicitResult(result)) = answered.await.unwrap() else {
        panic!("not an elicitation answer");
    };
    assert_eq!(result.action, ElicitationAction::Accept);
    assert_eq!(result.content.unwrap()["name"], "Ada");

    let again = pending.resume(&state, &request).err().expect("spent");
    assert_eq!(again.code, rmcp::model::ErrorCode::INVALID_PARAMS);
    assert!(
        again.message.contains("unknown, already used or expired"),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_state_the_bridge_never_made_is_refused() {
    let pending = PendingCalls::default();
    let state = format!("{STATE_PREFIX}{}", random_hex());
    let (_answered, _cancel) = park(&pending, "ask", &state);
    let tampered = format!("{state}x");
    let error = pending
        .resume(&tampered, &retry("ask", &tampered, json!({})))
        .err()
        .expect("refused");
    assert!(
        error.message.contains("requestState is unknown"),
        "{error:?}"
    );
    // The real one is still there.
    assert!(pending.parked.lock().unwrap().contains_key(&state));
}

#[tokio::test]
async fn a_state_used_for_another_tool_is_refused_and_its_call_cancelled() {
    let pending = PendingCalls::default();
    let state = format!("{STATE_PREFIX}{}", random_hex());
    let (_answered, cancel) = park(&pending, "ask", &state);
    let error = pending
        .resume(&state, &retry("echo", &state, json!({})))
        .err()
        .expect("refused");
    assert!(
        error.message.contains("a call of ask, not of echo"),
        "{error:?}"
    );
    assert!(cancel.is_cancelled());
}

#[tokio::test]
async fn a_missing_or_misshapen_answer_reaches_the_server_as_an_error() {
    let pending = PendingCalls::default();
    let state = format!("{STATE_PREFIX}{}", random_hex());
    let (answered, _cancel) = park(&pending, "ask", &state);
    pending
        .resume(
            &state,
            &retry("ask", &state, json!({ "k": { "action": 42 } })),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    let error = answered
        .await
        .unwrap()
        .expect_err("an error for the server");
    assert!(
        error.message.contains("does not fit the request"),
        "{error:?}"
    );

    let state = format!("{STATE_PREFIX}{}", random_hex());
    let (answered, _cancel) = park(&pending, "ask", &state);
    pending
        .resume(&state, &retry("ask", &state, json!({})))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let error = answered
        .await
        .unwrap()
        .expect_err("an error for the server");
    assert!(
        error.message.contains("no answer to input request k"),
        "{error:?}"
    );
}

#[test]
fn states_are_unguessable_and_distinct() {
    let a = random_hex();
    let b = random_hex();
    assert_ne!(a, b);
    assert!(a.len() >= 20, "{a}");
}
