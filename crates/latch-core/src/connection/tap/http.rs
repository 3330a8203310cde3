//! The HTTP side of the protocol log: a Streamable HTTP client around the connection's own that
//! records each `POST`, `GET` and `DELETE` with its status, headers, sizes and time. It sits
//! under the session watch and the task marks, so a request rmcp sends again, a 2026 request
//! reissued and the `initialize` with the task capability added all show as they were sent.
//!
//! rmcp's client hands back what an answer meant (a JSON message, an event stream, 202, or an
//! error), not the raw response, so the status and response headers are read from that: 200
//! with the session id it carried, 202, or the status of the error. The headers shown are the
//! ones rmcp and the configuration put on the request; a signed-in connection's token is added
//! below this client and shows as `Authorization: [redacted]`.

use std::{sync::Arc, time::Instant};

use rmcp::{
    model::ClientJsonRpcMessage,
    transport::streamable_http_client::{
        StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    },
};

use super::{
    Direction, EntryKind, HeaderView, HttpExchange, Log, ProtocolEntry, REDACTED, millis,
    redact::{self, Configured},
};
use crate::connection::http::layer::{
    Delete, Error, Events, Get, Layer, Post, Request, streamable_http_client,
};

/// A Streamable HTTP client whose exchanges are recorded in a server's log.
#[derive(Clone)]
pub(crate) struct TappedHttp<C> {
    inner: C,
    log: Log,
    configured: Arc<Configured>,
    /// The connection carries a stored grant's token (added by the client below).
    signed: bool,
}

impl<C> TappedHttp<C> {
    /// `inner`, recorded in `log`; `configured`: the server's configured headers.
    pub(crate) fn new(inner: C, log: Log, configured: Configured, signed: bool) -> Self {
        Self {
            inner,
            log,
            configured: Arc::new(configured),
            signed,
        }
    }

    /// The headers of `request` as shown (`fixed`: those rmcp puts on every such request).
    fn shown<K>(&self, fixed: &[(&str, &str)], request: &Request<K>) -> Vec<HeaderView> {
        let mut shown: Vec<HeaderView> = fixed
            .iter()
            .map(|(name, value)| view(name, value))
            .collect();
        if let Some(session) = &request.session_id {
            shown.push(view("mcp-session-id", session));
        }
        if request.token.is_some() || self.signed {
            shown.push(view("authorization", REDACTED));
        }
        let mut custom: Vec<HeaderView> = request
            .headers
            .iter()
            .map(|(name, value)| HeaderView {
                name: name.as_str().to_owned(),
                value: self.configured.header(name, value),
            })
            .collect();
        custom.sort_by(|a, b| a.name.cmp(&b.name));
        shown.extend(custom);
        shown
    }

    /// Record one exchange.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        method: &str,
        uri: &str,
        request_headers: Vec<HeaderView>,
        request_size: u64,
        started: Instant,
        answer: Answer,
        message: Option<&ClientJsonRpcMessage>,
    ) {
        let (rpc_method, id) = message
            .and_then(|m| serde_json::to_value(m).ok())
            .map(|v| {
                (
                    v.get("method").and_then(|m| m.as_str()).map(str::to_owned),
                    v.get("id").filter(|id| !id.is_null()).map(super::id_text),
                )
            })
            .unwrap_or_default();
        let is_error = answer.error.is_some() || answer.status.is_some_and(|s| s >= 400);
        let status = answer
            .status
            .map_or_else(|| "failed".to_owned(), |s| s.to_string());
        let what = rpc_method
            .as_deref()
            .map_or(String::new(), |m| format!(" ({m})"));
        self.log.record(ProtocolEntry {
            seq: 0,
            at_ms: 0,
            kind: EntryKind::Http,
            direction: Direction::Exchange,
            summary: format!("{method} {status}{what}"),
            method: rpc_method,
            id,
            is_error,
            size: request_size,
            latency_ms: Some(millis(started)),
            message: None,
            http: Some(HttpExchange {
                method: method.to_owned(),
                url: redact::url(uri),
                status: answer.status,
                request_headers,
                response_headers: answer.headers,
                request_size,
                response_size: answer.size,
                error: answer.error,
            }),
        });
    }
}

fn view(name: &str, value: &str) -> HeaderView {
    HeaderView {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// What is known of an answer.
struct Answer {
    status: Option<u16>,
    headers: Vec<HeaderView>,
    size: Option<u64>,
    error: Option<String>,
}

impl Answer {
    fn failed(error: &Error) -> Self {
        let status = match error {
            StreamableHttpError::Client(e) => e.status().map(|s| s.as_u16()),
            StreamableHttpError::HttpStatus(e) => Some(e.status),
            StreamableHttpError::SessionExpired => Some(404),
            StreamableHttpError::AuthRequired(_) => Some(401),
            StreamableHttpError::InsufficientScope(_) => Some(403),
            StreamableHttpError::ServerDoesNotSupportSse
            | StreamableHttpError::ServerDoesNotSupportDeleteSession => Some(405),
            _ => None,
        };
        let mut headers = Vec::new();
        if let StreamableHttpError::AuthRequired(e) = error {
            headers.push(view(
                "www-authenticate",
                &redact::text(&e.www_authenticate_header),
            ));
        }
        if let StreamableHttpError::InsufficientScope(e) = error {
            headers.push(view(
                "www-authenticate",
                &redact::text(&e.www_authenticate_header),
            ));
        }
        Self {
            status,
            headers,
            size: None,
            error: Some(redact::text(&error.to_string())),
        }
    }

    fn ok(
        status: u16,
        content_type: Option<&str>,
        session: Option<&str>,
        size: Option<u64>,
    ) -> Self {
        let mut headers = Vec::new();
        if let Some(content_type) = content_type {
            headers.push(view("content-type", content_type));
        }
        if let Some(session) = session {
            headers.push(view("mcp-session-id", session));
        }
        Self {
            status: Some(status),
            headers,
            size,
            error: None,
        }
    }

    fn posted(result: &Result<StreamableHttpPostResponse, Error>) -> Self {
        match result {
            Ok(StreamableHttpPostResponse::Accepted) => Self::ok(202, None, None, None),
            Ok(StreamableHttpPostResponse::Json(message, session)) => {
                let size = serde_json::to_string(message).map_or(0, |t| t.len() as u64);
                Self::ok(
                    200,
                    Some("application/json"),
                    session.as_deref(),
                    Some(size),
                )
            }
            Ok(StreamableHttpPostResponse::Sse(_, session)) => {
                Self::ok(200, Some("text/event-stream"), session.as_deref(), None)
            }
            Ok(_) => Self::ok(200, None, None, None),
            Err(error) => Self::failed(error),
        }
    }

    fn opened(result: &Result<Events, Error>) -> Self {
        match result {
            Ok(_) => Self::ok(200, Some("text/event-stream"), None, None),
            Err(error) => Self::failed(error),
        }
    }
}

const POST_HEADERS: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("accept", "text/event-stream, application/json"),
];
const GET_HEADERS: &[(&str, &str)] = &[("accept", "text/event-stream")];

impl<C> Layer for TappedHttp<C>
where
    C: StreamableHttpClient<Error = reqwest::Error> + Sync,
{
    type Inner = C;

    fn inner(&self) -> &C {
        &self.inner
    }

    async fn post(&self, request: Request<Post>) -> Result<StreamableHttpPostResponse, Error> {
        let shown = self.shown(POST_HEADERS, &request);
        let message = request.kind.message.clone();
        let size = serde_json::to_string(&message).map_or(0, |t| t.len() as u64);
        let uri = request.uri.clone();
        let started = Instant::now();
        let result = request.send(&self.inner).await;
        let answer = Answer::posted(&result);
        self.record("POST", &uri, shown, size, started, answer, Some(&message));
        result
    }

    async fn get(&self, request: Request<Get>) -> Result<Events, Error> {
        let mut shown = self.shown(GET_HEADERS, &request);
        if let Some(last) = &request.kind.last_event_id {
            shown.push(view("last-event-id", last));
        }
        let uri = request.uri.clone();
        let started = Instant::now();
        let result = request.send(&self.inner).await;
        let answer = Answer::opened(&result);
        self.record("GET", &uri, shown, 0, started, answer, None);
        result
    }

    async fn delete(&self, request: Request<Delete>) -> Result<(), Error> {
        let shown = self.shown(&[], &request);
        let uri = request.uri.clone();
        let started = Instant::now();
        let result = request.send(&self.inner).await;
        let answer = match &result {
            Ok(()) => Answer::ok(200, None, None, None),
            Err(error) => Answer::failed(error),
        };
        self.record("DELETE", &uri, shown, 0, started, answer, None);
        result
    }
}

streamable_http_client!(TappedHttp<C>);

#[cfg(test)]
mod tests {
    use http::{HeaderName, HeaderValue};
    use rmcp::model::{ClientRequest, PingRequest, ServerJsonRpcMessage, ServerResult};

    use super::*;
    use crate::connection::{http::layer::Headers, tap::entries};

    const TOKEN: &str = "tok-value-that-must-never-show";
    const PROOF: &str = "proof-value-that-must-never-show";
    const COOKIE: &str = "cookie-value-that-must-never-show";
    const CONFIGURED: &str = "configured-value-that-must-never-show";

    /// A server that answers every `POST` with an empty result and a session id.
    #[derive(Clone)]
    struct Answers;

    impl StreamableHttpClient for Answers {
        type Error = reqwest::Error;

        async fn post_message(
            &self,
            _uri: Arc<str>,
            message: ClientJsonRpcMessage,
            _session_id: Option<Arc<str>>,
            _token: Option<String>,
            _headers: Headers,
        ) -> Result<StreamableHttpPostResponse, Error> {
            let ClientJsonRpcMessage::Request(request) = message else {
                return Ok(StreamableHttpPostResponse::Accepted);
            };
            Ok(StreamableHttpPostResponse::Json(
                ServerJsonRpcMessage::response(ServerResult::empty(()), request.id),
                Some("session-1".to_owned()),
            ))
        }

        async fn delete_session(
            &self,
            _uri: Arc<str>,
            _session_id: Arc<str>,
            _token: Option<String>,
            _headers: Headers,
        ) -> Result<(), Error> {
            Err(StreamableHttpError::ServerDoesNotSupportDeleteSession)
        }

        async fn get_stream(
            &self,
            _uri: Arc<str>,
            _session_id: Option<Arc<str>>,
            _last_event_id: Option<String>,
            _token: Option<String>,
            _headers: Headers,
        ) -> Result<Events, Error> {
            Err(StreamableHttpError::ServerDoesNotSupportSse)
        }
    }

    fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
        (
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        )
    }

    #[tokio::test]
    async fn no_credential_reaches_an_entry() {
        let configured = HeaderName::from_static("x-workspace");
        let log = Log::of("tap-http-secrets");
        let client = TappedHttp::new(Answers, log, Configured::new([&configured]), false);
        let headers: Headers = [
            header("dpop", PROOF),
            header("cookie", COOKIE),
            header("x-workspace", CONFIGURED),
            header("mcp-protocol-version", "2025-11-25"),
        ]
        .into_iter()
        .collect();
        let ping = ClientJsonRpcMessage::request(
            ClientRequest::PingRequest(PingRequest::default()),
            rmcp::model::RequestId::Number(1),
        );
        let uri: Arc<str> = format!("http://127.0.0.1:9/mcp?access_token={TOKEN}").into();
        client
            .post_message(
                uri.clone(),
                ping,
                Some("session-1".into()),
                Some(TOKEN.into()),
                headers.clone(),
            )
            .await
            .unwrap();
        let refused = client
            .delete_session(uri, "session-1".into(), Some(TOKEN.into()), headers)
            .await;
        assert!(refused.is_err());

        let kept = entries("tap-http-secrets");
        assert_eq!(kept.len(), 2);
        let text = serde_json::to_string(&kept).unwrap();
        for secret in [TOKEN, PROOF, COOKIE, CONFIGURED] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let post = kept[0].http.as_ref().unwrap();
        assert_eq!((post.method.as_str(), post.status), ("POST", Some(200)));
        let shown = |name: &str| {
            post.request_headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.as_str())
        };
        for name in ["authorization", "dpop", "cookie", "x-workspace"] {
            assert_eq!(shown(name), Some(REDACTED), "{name}");
        }
        assert_eq!(shown("mcp-session-id"), Some("session-1"));
        assert_eq!(shown("mcp-protocol-version"), Some("2025-11-25"));
        assert_eq!(kept[0].summary, "POST 200 (ping)");
        assert!(post.response_size.is_some_and(|n| n > 0));
        let delete = &kept[1];
        assert!(delete.is_error);
        assert_eq!(delete.http.as_ref().unwrap().status, Some(405));
    }
}
