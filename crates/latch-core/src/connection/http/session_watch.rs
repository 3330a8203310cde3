//! Noticing that a Streamable HTTP session is gone — the server restarted or stopped — and
//! ending the transport then, so every request still waiting on that session is answered with
//! an error at once, and the next request opens a new session.
//!
//! rmcp alone does not. A server that forgot the session may answer a request with a JSON-RPC
//! error that has no id (server-everything: HTTP 400 "No valid session ID provided"): rmcp
//! cannot match it to the request, drops it, and the request waits forever. On a 404 rmcp
//! initializes again and sends the request once more behind the caller's back, which a tool
//! call must never be. And its event streams resume against a server that is down with
//! back-off, for ever. Here such an answer fails its request with a transport error — which
//! callers report as a lost connection, without repeating — and ends the transport.
//!
//! On a session-less 2026-07-28 connection the response stream of each request goes through
//! [`super::reissue`]: that era cannot resume a broken stream, and its requests are sent again
//! with a new id instead.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use http::StatusCode;
use rmcp::{
    model::{ClientJsonRpcMessage, RequestId, ServerJsonRpcMessage},
    transport::{
        StreamableHttpClientTransport, WorkerTransport,
        streamable_http_client::{
            StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpClientWorker,
            StreamableHttpError, StreamableHttpPostResponse,
        },
    },
};
use tokio_util::sync::CancellationToken;

use super::{
    layer::{Delete, Error, Events, Get, Layer, Post, Request, streamable_http_client},
    reissue,
};

/// How long after a session is found gone its transport ends.
const END_DELAY: Duration = Duration::from_millis(50);

/// The Streamable HTTP transport over `client`, ended as soon as its session is found gone.
pub(super) fn transport<C>(
    client: C,
    config: StreamableHttpClientTransportConfig,
) -> StreamableHttpClientTransport<Watched<C>>
where
    C: StreamableHttpClient<Error = reqwest::Error> + Sync,
{
    let ended = CancellationToken::new();
    // A request refused for its session is reported to the caller, never sent again.
    let config = config.reinit_on_expired_session(false);
    let client = Watched {
        inner: client,
        ended: ended.clone(),
        lost: Arc::default(),
    };
    WorkerTransport::spawn_with_ct(StreamableHttpClientWorker::new(client, config), ended)
}

/// A connection's HTTP client, watching its answers for a session that is gone.
#[derive(Clone)]
pub(super) struct Watched<C> {
    inner: C,
    /// The transport's own token: cancelling it ends the transport.
    ended: CancellationToken,
    /// The session was found gone (not merely closed): there is nothing left to `DELETE`.
    lost: Arc<AtomicBool>,
}

impl<C> Watched<C> {
    fn session_gone(&self, why: &dyn std::fmt::Display) {
        if self.lost.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::warn!("the server's session is gone ({why}); ending it");
        // A moment later, so the request that found out gets its own error (which says why)
        // before the others get "closed".
        let ended = self.ended.clone();
        tokio::spawn(async move {
            tokio::time::sleep(END_DELAY).await;
            ended.cancel();
        });
    }

    /// Look at the answer to a `POST` (`request`: the id of the request posted, if it was one;
    /// `session`: sent with a session id).
    fn posted(
        &self,
        request: Option<RequestId>,
        session: bool,
        result: Result<StreamableHttpPostResponse, Error>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        match result {
            Ok(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(mut error), id))
                if error.id.is_none() =>
            {
                if session && mentions_session(&error.error.message) {
                    self.session_gone(&error.error.message);
                    return Err(StreamableHttpError::UnexpectedServerResponse(
                        format!(
                            "the server no longer knows this session ({})",
                            error.error.message
                        )
                        .into(),
                    ));
                }
                // It can only be the answer to this request: give it the request's id, or
                // nothing would ever answer the request.
                if request.is_some() {
                    error.id = request;
                }
                Ok(StreamableHttpPostResponse::Json(
                    ServerJsonRpcMessage::Error(error),
                    id,
                ))
            }
            Err(error) if session => {
                if let Some(why) = gone(&error) {
                    self.session_gone(&why);
                }
                Err(error)
            }
            other => other,
        }
    }

    /// Look at the answer to a `GET` of an event stream (`session`: sent with a session id).
    fn opened(&self, session: bool, result: Result<Events, Error>) -> Result<Events, Error> {
        if let Err(error) = &result
            && session
            && let Some(why) = gone(error)
        {
            self.session_gone(&why);
        }
        result
    }

    /// Pass a 2026 request's response stream through [`reissue`] (`request`: from
    /// [`reissue::reissuable`]; `repost` sends a message again as the first attempt was sent).
    fn reissuing(
        request: Option<rmcp::model::JsonRpcRequest<rmcp::model::ClientRequest>>,
        result: Result<StreamableHttpPostResponse, Error>,
        repost: impl FnOnce() -> reissue::Repost,
    ) -> Result<StreamableHttpPostResponse, Error> {
        match (request, result) {
            (Some(request), Ok(StreamableHttpPostResponse::Sse(events, session))) => {
                Ok(StreamableHttpPostResponse::Sse(
                    reissue::reissuing(events, request, repost()),
                    session,
                ))
            }
            (_, result) => result,
        }
    }
}

/// Why a failed request shows the session is gone, if it does: the server forgot it (404, or
/// 400 to a `GET` naming it), or nothing listens at the address any more. (Said without the
/// URL, which may carry a secret.)
fn gone(error: &Error) -> Option<String> {
    match error {
        StreamableHttpError::SessionExpired => Some("HTTP 404 for the session".to_owned()),
        StreamableHttpError::Client(error) if error.is_connect() => {
            Some("the server no longer accepts connections".to_owned())
        }
        StreamableHttpError::Client(error) => match error.status() {
            Some(status @ (StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST)) => {
                Some(format!("HTTP {} for the session", status.as_u16()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The id of `message` if it is a request: all [`Watched::posted`] needs of it, taken before
/// the message is handed on (so it is not copied on every `POST`).
fn request_id(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    match message {
        ClientJsonRpcMessage::Request(request) => Some(request.id.clone()),
        _ => None,
    }
}

/// Whether an id-less JSON-RPC error is about the session ("No valid session ID provided",
/// "Session not found", "Mcp-Session-Id header is required").
fn mentions_session(message: &str) -> bool {
    message.to_ascii_lowercase().contains("session")
}

impl<C> Layer for Watched<C>
where
    C: StreamableHttpClient<Error = reqwest::Error> + Sync,
{
    type Inner = C;

    fn inner(&self) -> &C {
        &self.inner
    }

    /// `POST` one message, watching the answer for a session that is gone and, on a
    /// session-less connection, sending a request again whose stream broke.
    async fn post(&self, request: Request<Post>) -> Result<StreamableHttpPostResponse, Error> {
        let session = request.session_id.is_some();
        let id = request_id(&request.kind.message);
        let reissuable = reissue::reissuable(&request.kind.message, session, &request.headers);
        let (uri, token, headers) = (
            request.uri.clone(),
            request.token.clone(),
            request.headers.clone(),
        );
        let limits = request.kind.limits;
        let result = request.send(&self.inner).await;
        let result = self.posted(id, session, result);
        Self::reissuing(reissuable, result, || {
            let inner = self.inner.clone();
            Box::new(move |message| {
                let inner = inner.clone();
                let again = Request {
                    uri: uri.clone(),
                    session_id: None,
                    token: token.clone(),
                    headers: headers.clone(),
                    kind: Post { message, limits },
                };
                Box::pin(async move { again.send(&inner).await })
            })
        })
    }

    async fn delete(&self, request: Request<Delete>) -> Result<(), Error> {
        if self.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        request.send(&self.inner).await
    }

    async fn get(&self, request: Request<Get>) -> Result<Events, Error> {
        let session = request.session_id.is_some();
        let result = request.send(&self.inner).await;
        self.opened(session, result)
    }
}

streamable_http_client!(Watched<C>);

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Mutex, time::Instant};

    use http::{HeaderName, HeaderValue};
    use rmcp::{
        ServiceExt,
        model::{
            CallToolRequestParams, ClientRequest, ErrorCode, ErrorData, InitializeResult,
            ServerCapabilities, ServerResult,
        },
    };

    use super::*;

    /// A server that restarted after `initialize`: every later request is refused for its
    /// session the way server-everything does (HTTP 400, a JSON-RPC error without an id).
    #[derive(Clone, Default)]
    struct Restarted {
        deletes: Arc<Mutex<u32>>,
        refusal: &'static str,
    }

    impl StreamableHttpClient for Restarted {
        type Error = reqwest::Error;

        async fn post_message(
            &self,
            _uri: Arc<str>,
            message: ClientJsonRpcMessage,
            _session_id: Option<Arc<str>>,
            _token: Option<String>,
            _headers: HashMap<HeaderName, HeaderValue>,
        ) -> Result<StreamableHttpPostResponse, Error> {
            let ClientJsonRpcMessage::Request(request) = message else {
                return Ok(StreamableHttpPostResponse::Accepted);
            };
            if matches!(request.request, ClientRequest::InitializeRequest(_)) {
                let result = InitializeResult::new(ServerCapabilities::default());
                return Ok(StreamableHttpPostResponse::Json(
                    ServerJsonRpcMessage::response(
                        ServerResult::InitializeResult(result),
                        request.id,
                    ),
                    Some("old-session".to_owned()),
                ));
            }
            Ok(StreamableHttpPostResponse::Json(
                ServerJsonRpcMessage::error(
                    ErrorData::new(ErrorCode(-32000), self.refusal, None),
                    None,
                ),
                None,
            ))
        }

        async fn delete_session(
            &self,
            _uri: Arc<str>,
            _session_id: Arc<str>,
            _token: Option<String>,
            _headers: HashMap<HeaderName, HeaderValue>,
        ) -> Result<(), Error> {
            *self.deletes.lock().unwrap() += 1;
            Ok(())
        }

        async fn get_stream(
            &self,
            _uri: Arc<str>,
            _session_id: Option<Arc<str>>,
            _last_event_id: Option<String>,
            _token: Option<String>,
            _headers: HashMap<HeaderName, HeaderValue>,
        ) -> Result<Events, Error> {
            Err(StreamableHttpError::ServerDoesNotSupportSse)
        }
    }

    fn sum() -> ClientRequest {
        ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(
            CallToolRequestParams::new("get-sum"),
        ))
    }

    #[tokio::test]
    async fn a_request_refused_for_its_session_fails_and_ends_the_transport() {
        let server = Restarted {
            refusal: "Bad Request: No valid session ID provided",
            ..Restarted::default()
        };
        let config = StreamableHttpClientTransportConfig::with_uri("http://127.0.0.1:9/mcp");
        let client = ().serve(transport(server.clone(), config)).await.unwrap();
        let started = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(5), client.send_request(sum()))
            .await
            .expect("the call is answered, not left waiting");
        let error = answer.expect_err("the session is gone").to_string();
        assert!(error.contains("no longer knows this session"), "{error}");
        // The transport ends: what still waits fails, the connection reports itself closed.
        while !client.is_transport_closed() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the transport ends"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(client.send_request(sum()).await.is_err());
        assert_eq!(
            *server.deletes.lock().unwrap(),
            0,
            "a forgotten session is not deleted"
        );
    }

    #[tokio::test]
    async fn another_error_without_an_id_answers_its_request_and_keeps_the_session() {
        let server = Restarted {
            refusal: "Parse error",
            ..Restarted::default()
        };
        let config = StreamableHttpClientTransportConfig::with_uri("http://127.0.0.1:9/mcp");
        let client = ().serve(transport(server.clone(), config)).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(5), client.send_request(sum()))
            .await
            .expect("the call is answered, not left waiting");
        match answer {
            Err(rmcp::ServiceError::McpError(error)) => assert_eq!(error.message, "Parse error"),
            other => panic!("the server's own error, got {other:?}"),
        }
        assert!(!client.is_transport_closed());
        client.cancel().await.unwrap();
        assert_eq!(
            *server.deletes.lock().unwrap(),
            1,
            "a live session is deleted on close"
        );
    }

    #[tokio::test]
    async fn a_server_no_longer_listening_ends_the_session() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let uri: Arc<str> = format!("http://127.0.0.1:{port}/mcp").into();
        let watched = |ended: &CancellationToken| Watched {
            inner: reqwest::Client::new(),
            ended: ended.clone(),
            lost: Arc::default(),
        };
        // Without a session (connecting), refusal is only an error: the caller retries.
        let ended = CancellationToken::new();
        let client = watched(&ended);
        let result = client
            .get_stream(uri.clone(), None, None, None, HashMap::new())
            .await;
        assert!(result.is_err());
        assert!(!ended.is_cancelled());
        // With one, the session is gone.
        let result = client
            .get_stream(uri, Some("s".into()), None, None, HashMap::new())
            .await;
        assert!(result.is_err());
        assert!(client.lost.load(Ordering::SeqCst));
        tokio::time::timeout(Duration::from_secs(5), ended.cancelled())
            .await
            .expect("the transport is ended");
    }
}
