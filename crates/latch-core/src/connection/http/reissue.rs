//! A broken response stream on a 2026-07-28 connection sends its request again, with a new id.
//!
//! That revision has no resumable streams (SEP-2575, changelog item 9): when the SSE response to
//! a `POST` ends before the final answer, the request is lost, and the client MUST re-issue it as
//! a new request with a new JSON-RPC id. rmcp instead fails the request ("response stream closed
//! before its final response"). Here the stream rmcp reads is one that, when the server's stream
//! ends or breaks without the answer, drops it — closing it is how the server learns that
//! attempt is cancelled — and posts the request again ([`REISSUES`] times at most, after a short
//! pause) under a new id, and hands the answer back under the id the caller waits on: the
//! caller sees one answer. The request's `_meta` goes out unchanged, so progress notifications
//! of a later attempt carry the caller's progress token; a caller that cancels drops this
//! stream and with it the attempt in flight, which the server sees as that attempt cancelled.
//! When every attempt breaks, the stream just ends and rmcp fails the request as before.
//!
//! Only for session-less 2026 connections: a 2025 session keeps rmcp's resumption with
//! `Last-Event-ID`. Not for `subscriptions/listen`, which [`crate::connection::listen`] opens
//! again itself.

use std::{collections::HashMap, time::Duration};

use futures::{StreamExt, future::BoxFuture, stream::BoxStream};
use http::{HeaderName, HeaderValue};
use rmcp::{
    model::{
        ClientJsonRpcMessage, ClientRequest, JsonRpcRequest, ProtocolVersion, RequestId,
        ServerJsonRpcMessage,
    },
    transport::streamable_http_client::{StreamableHttpError, StreamableHttpPostResponse},
};
use serde_json::Value;

type Error = StreamableHttpError<reqwest::Error>;
type Events = BoxStream<'static, Result<sse_stream::Sse, sse_stream::Error>>;

/// How many times one request is posted again after its stream broke.
pub(super) const REISSUES: u32 = 2;
/// The pause before the first re-issue; doubled before each next one.
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// Posts a message the way the first attempt was posted (same URL, token, headers, limits).
pub(super) type Repost = Box<
    dyn Fn(ClientJsonRpcMessage) -> BoxFuture<'static, Result<StreamableHttpPostResponse, Error>>
        + Send
        + Sync,
>;

/// The request to re-issue if its stream breaks: `message` when it is a request, posted
/// without a session (`session`) under 2026-07-28 or later (the `MCP-Protocol-Version` header
/// rmcp put in `headers`), and not `subscriptions/listen`.
pub(super) fn reissuable(
    message: &ClientJsonRpcMessage,
    session: bool,
    headers: &HashMap<HeaderName, HeaderValue>,
) -> Option<JsonRpcRequest<ClientRequest>> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    let modern = headers
        .get(&HeaderName::from_static("mcp-protocol-version"))
        .and_then(|value| value.to_str().ok())
        // Versions are dates: they order as strings.
        .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28.as_str());
    let listen = matches!(
        request.request,
        ClientRequest::SubscriptionsListenRequest(_)
    );
    (modern && !session && !listen).then(|| request.clone())
}

/// `events`, the response stream of `request`, re-issuing `request` through `repost` when it
/// ends before the answer.
pub(super) fn reissuing(
    events: Events,
    request: JsonRpcRequest<ClientRequest>,
    repost: Repost,
) -> Events {
    let attempts = Attempts {
        caller: request.id.clone(),
        in_flight: request.id.clone(),
        events: Some(events),
        request,
        reissued: 0,
        answered: false,
        repost,
    };
    futures::stream::unfold(attempts, |mut attempts| async move {
        let event = attempts.next().await?;
        Some((event, attempts))
    })
    .boxed()
}

/// The attempts at one request.
struct Attempts {
    request: JsonRpcRequest<ClientRequest>,
    /// The id the caller waits on (the first attempt's).
    caller: RequestId,
    /// The id of the attempt whose stream is read now.
    in_flight: RequestId,
    events: Option<Events>,
    reissued: u32,
    answered: bool,
    repost: Repost,
}

impl Attempts {
    async fn next(&mut self) -> Option<Result<sse_stream::Sse, sse_stream::Error>> {
        loop {
            if let Some(events) = &mut self.events {
                match events.next().await {
                    Some(Ok(mut event)) => {
                        // Nothing resumes in this era: no event id for rmcp to resume from.
                        event.id = None;
                        if !self.answered {
                            self.answered = self.answer(&mut event);
                        }
                        return Some(Ok(event));
                    }
                    Some(Err(error)) if !self.answered => {
                        tracing::debug!(%error, "a response stream broke");
                    }
                    _ => {}
                }
                self.events = None;
            }
            if self.answered || self.reissued >= REISSUES {
                return None;
            }
            tokio::time::sleep(FIRST_PAUSE * 2u32.pow(self.reissued)).await;
            self.reissued += 1;
            self.in_flight =
                RequestId::String(format!("{}-reissue-{}", self.caller, self.reissued).into());
            tracing::info!(
                method = self.request.request.method(),
                id = %self.in_flight,
                "the response stream ended before its answer; sending the request again"
            );
            let mut request = self.request.clone();
            request.id = self.in_flight.clone();
            match (self.repost)(ClientJsonRpcMessage::Request(request)).await {
                Ok(StreamableHttpPostResponse::Sse(events, _)) => self.events = Some(events),
                Ok(StreamableHttpPostResponse::Json(message, _)) => {
                    let event = self.json_answer(message);
                    self.answered = true;
                    return event.map(Ok);
                }
                // Accepted (no answer to wait for), or a kind of answer this does not know.
                Ok(_) => return None,
                Err(error) => tracing::debug!(%error, "sending the request again failed"),
            }
        }
    }

    /// Whether `event` is the answer to the attempt in flight; if it is, it now answers the
    /// caller's id.
    fn answer(&self, event: &mut sse_stream::Sse) -> bool {
        let Some(data) = &event.data else {
            return false;
        };
        let Ok(Value::Object(mut message)) = serde_json::from_str::<Value>(data) else {
            return false;
        };
        let is_answer = !message.contains_key("method")
            && (message.contains_key("result") || message.contains_key("error"));
        let in_flight = serde_json::to_value(&self.in_flight).unwrap_or(Value::Null);
        if !is_answer || message.get("id") != Some(&in_flight) {
            return false;
        }
        if self.in_flight != self.caller {
            let caller = serde_json::to_value(&self.caller).unwrap_or(Value::Null);
            message.insert("id".to_owned(), caller);
            event.data = Some(Value::Object(message).to_string());
        }
        true
    }

    /// A plain JSON answer to a re-issued request, as the event rmcp reads.
    fn json_answer(&self, message: ServerJsonRpcMessage) -> Option<sse_stream::Sse> {
        let mut event = sse_stream::Sse {
            event: None,
            data: Some(serde_json::to_string(&message).ok()?),
            id: None,
            retry: None,
        };
        self.answer(&mut event);
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use rmcp::model::{CallToolRequest, CallToolRequestParams};

    use super::*;

    fn event(json: Value) -> Result<sse_stream::Sse, sse_stream::Error> {
        Ok(sse_stream::Sse {
            event: None,
            data: Some(json.to_string()),
            id: Some("7".to_owned()),
            retry: None,
        })
    }

    fn progress() -> Value {
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/progress",
            "params": {"progressToken": "p", "progress": 1}})
    }

    fn call(id: i64) -> JsonRpcRequest<ClientRequest> {
        JsonRpcRequest::new(
            RequestId::Number(id),
            ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new("t"))),
        )
    }

    /// A server whose streams break `breaks` times, then answers; records the ids posted.
    fn server(breaks: usize, posted: Arc<Mutex<Vec<RequestId>>>) -> Repost {
        Box::new(move |message| {
            let ClientJsonRpcMessage::Request(request) = message else {
                panic!("only requests are posted again");
            };
            let mut posted = posted.lock().unwrap();
            posted.push(request.id.clone());
            let events: Vec<_> = if posted.len() <= breaks {
                vec![event(progress())]
            } else {
                let id = serde_json::to_value(&request.id).unwrap();
                vec![
                    event(progress()),
                    event(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": {}})),
                ]
            };
            Box::pin(async move {
                Ok(StreamableHttpPostResponse::Sse(
                    futures::stream::iter(events).boxed(),
                    None,
                ))
            })
        })
    }

    async fn read(events: Events) -> Vec<Value> {
        events
            .map(|event| {
                let event = event.unwrap();
                assert_eq!(event.id, None, "no event id to resume from");
                serde_json::from_str(event.data.as_deref().unwrap()).unwrap()
            })
            .collect()
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn the_answer_to_a_new_id_reaches_the_caller_under_its_own() {
        let posted = Arc::default();
        let first = futures::stream::iter(vec![event(progress())]).boxed();
        let events = reissuing(first, call(3), server(1, Arc::clone(&posted)));
        let messages = read(events).await;
        let ids: Vec<String> = posted
            .lock()
            .unwrap()
            .iter()
            .map(|id| id.to_string())
            .collect();
        assert_eq!(ids, ["3-reissue-1", "3-reissue-2"]);
        // Three progress events (one per attempt), then the one answer, under id 3.
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages[..3]
                .iter()
                .all(|m| m["method"] == "notifications/progress")
        );
        assert_eq!(messages[3]["id"], 3);
        assert!(messages[3]["result"].is_object());
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_attempt_breaks_the_stream_ends_without_an_answer() {
        let posted = Arc::default();
        let first = futures::stream::iter(vec![event(progress())]).boxed();
        let events = reissuing(first, call(0), server(usize::MAX, Arc::clone(&posted)));
        let messages = read(events).await;
        assert_eq!(posted.lock().unwrap().len(), REISSUES as usize);
        assert!(
            messages.iter().all(|m| m.get("id").is_none()),
            "{messages:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_answered_stream_is_not_reissued() {
        let posted: Arc<Mutex<Vec<RequestId>>> = Arc::default();
        let first = futures::stream::iter(vec![event(
            serde_json::json!({"jsonrpc": "2.0", "id": 5, "result": {}}),
        )])
        .boxed();
        let messages = read(reissuing(first, call(5), server(0, Arc::clone(&posted)))).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["id"], 5);
        assert!(posted.lock().unwrap().is_empty());
    }

    #[test]
    fn only_sessionless_2026_requests_are_reissued() {
        let message = ClientJsonRpcMessage::Request(call(1));
        let headers = |version: &'static str| {
            HashMap::from([(
                HeaderName::from_static("mcp-protocol-version"),
                HeaderValue::from_static(version),
            )])
        };
        assert!(reissuable(&message, false, &headers("2026-07-28")).is_some());
        assert!(reissuable(&message, true, &headers("2026-07-28")).is_none());
        assert!(reissuable(&message, false, &headers("2025-11-25")).is_none());
        assert!(reissuable(&message, false, &HashMap::new()).is_none());
    }
}
