//! The legacy MCP HTTP+SSE transport (protocol revision 2024-11-05), client side. rmcp dropped
//! it, yet many deployed servers still speak nothing else, so Latch carries its own: a `GET`
//! opens an event stream whose first `endpoint` event names the URL to `POST` messages to;
//! everything the server says afterwards arrives as `message` events on that stream.
//!
//! Safety rails: the `endpoint` must be on the SSE URL's origin (a server cannot redirect the
//! client's messages, and its headers, elsewhere); every event is size-bounded; error bodies are
//! only previewed, bounded; header values are never logged nor shown in `Debug` output.
//!
//! Opened with [`SseClientTransport::connect_logged`], the `GET` and every `POST` are recorded
//! in the server's protocol log ([`record`]), as the Streamable HTTP exchanges are.

mod limit;
mod record;

#[cfg(test)]
use self::limit::EventSizeLimiter;
use self::limit::{BodyError, SizeLimited};

use std::{borrow::Cow, fmt, sync::Arc, time::Duration};

use self::record::Recorder;

#[cfg(fuzzing)]
use bytes::Bytes;
use futures::{StreamExt, stream::BoxStream};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rmcp::{
    RoleClient,
    model::ServerJsonRpcMessage,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::{Transport, streamable_http_client::AuthRequiredError},
};
use sse_stream::{Sse, SseStream};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use url::Url;

/// Largest event accepted by default: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;
/// How long [`SseClientTransport::connect`] waits for the `endpoint` event by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many characters of a body end up in an error or a log line.
const PREVIEW_CHARS: usize = 256;
/// Bytes read from an error response to build its preview (UTF-8 needs up to 4 per char).
const PREVIEW_BYTES: usize = PREVIEW_CHARS * 4;
/// How long reading an error response's preview may take.
const PREVIEW_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of a successful `POST` response read (and discarded) so the connection can be reused.
const DRAIN_BYTES: usize = 64 * 1024;
/// Server messages buffered between the reader task and [`Transport::receive`].
const CHANNEL_CAPACITY: usize = 64;
/// A `WWW-Authenticate` challenge longer than this is cut.
const MAX_CHALLENGE_BYTES: usize = 4096;

/// Where and how to open the legacy SSE transport.
#[derive(Clone)]
pub struct SseClientConfig {
    /// The SSE URL (the one the `GET` goes to), e.g. `http://host/sse`.
    pub url: Url,
    /// Static headers sent on every request, `GET` and `POST` alike. `Accept` on the `GET` and
    /// `Content-Type` on the `POST` are set by the transport.
    pub headers: HeaderMap,
    /// Largest event accepted, in bytes; a larger one ends the stream. Default 16 MiB.
    pub max_event_size: usize,
    /// How long opening the stream and waiting for the `endpoint` event may take. Default 30 s.
    pub connect_timeout: Duration,
}

impl SseClientConfig {
    /// The defaults for `url`: no headers, 16 MiB events, 30 s to get the `endpoint` event.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            headers: HeaderMap::new(),
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

impl fmt::Debug for SseClientConfig {
    /// Header values and the URL's query may hold secrets: only names and the path are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseClientConfig")
            .field("url", &redacted_url(&self.url))
            .field("headers", &HeaderNames(&self.headers))
            .field("max_event_size", &self.max_event_size)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Why the SSE transport failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SseTransportError {
    /// The request could not be sent or its response not read (connection refused, DNS, TLS…).
    /// The URL is stripped from the error: it may carry a secret.
    #[error("HTTP request failed: {0}")]
    Request(#[source] reqwest::Error),
    /// The server answered with a status other than 2xx.
    #[error("{}", describe_status(*status, body))]
    HttpStatus {
        status: u16,
        /// The start of the response body (at most 256 characters), whitespace collapsed.
        body: String,
        /// For 401: rmcp's marker (with the `WWW-Authenticate` challenge, possibly empty), so
        /// rmcp's `is_authorization_required` recognises the error through its source chain.
        #[source]
        auth: Option<AuthRequiredError>,
    },
    /// The `GET` answered 2xx but not with an event stream.
    #[error("expected an event stream (text/event-stream), the server sent `{content_type}`")]
    NotEventStream { content_type: String },
    /// No `endpoint` event arrived within the configured time.
    #[error("the server sent no `endpoint` event within {} s", .timeout.as_secs_f32())]
    EndpointTimeout { timeout: Duration },
    /// The stream ended before the `endpoint` event.
    #[error("the server closed the event stream before sending the `endpoint` event")]
    ClosedBeforeEndpoint,
    /// The `endpoint` event's data is not a URI.
    #[error("the `endpoint` event is not a valid URI: {0}")]
    InvalidEndpoint(#[source] url::ParseError),
    /// The `endpoint` is on another origin than the SSE URL: refused, so messages and headers
    /// never go to a host the user did not configure.
    #[error(
        "the server named a message endpoint on another origin ({endpoint_origin}) than its SSE URL ({sse_origin}); refused"
    )]
    CrossOriginEndpoint {
        endpoint_origin: String,
        sse_origin: String,
    },
    /// The event stream could not be read or parsed.
    #[error("reading the event stream failed: {0}")]
    Stream(#[source] sse_stream::Error),
    /// An event was larger than `max_event_size`.
    #[error("an event exceeded the maximum size of {max_size} bytes")]
    EventTooLarge { max_size: usize },
    /// A message could not be serialized (should not happen).
    #[error("could not serialize the message: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The transport was closed.
    #[error("the SSE transport is closed")]
    Closed,
}

impl SseTransportError {
    /// The HTTP status the server answered with, when that is what failed.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::HttpStatus { status, .. } => Some(*status),
            Self::Request(error) => error.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The server wants credentials (HTTP 401).
    pub fn is_auth_required(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED.as_u16())
    }

    /// The server's `WWW-Authenticate` challenge on a 401, when it sent one.
    pub fn auth_challenge(&self) -> Option<&str> {
        match self {
            Self::HttpStatus {
                auth: Some(auth), ..
            } if !auth.www_authenticate_header.is_empty() => {
                Some(auth.www_authenticate_header.as_str())
            }
            _ => None,
        }
    }
}

/// `HTTP 404 Not Found: <preview>` — the shape the rest of the core recognises.
fn describe_status(status: u16, body: &str) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    if body.is_empty() {
        format!("HTTP {status}{reason}")
    } else {
        format!("HTTP {status}{reason}: {body}")
    }
}

/// A client transport for the legacy HTTP+SSE protocol; use it with `rmcp::ServiceExt::serve`.
///
/// A reader task owns the `GET` stream and hands parsed messages to [`Transport::receive`];
/// [`Transport::send`] `POST`s to the endpoint the server named. Dropping the transport (or
/// [`Transport::close`]) stops the reader, which drops the stream.
pub struct SseClientTransport {
    client: reqwest::Client,
    endpoint: Url,
    /// The configured headers plus `Content-Type: application/json`.
    post_headers: Arc<HeaderMap>,
    messages: mpsc::Receiver<ServerJsonRpcMessage>,
    cancel: CancellationToken,
    reader: Option<JoinHandle<()>>,
    /// Where the HTTP exchanges are recorded, when they are.
    recorder: Option<Recorder>,
}

impl fmt::Debug for SseClientTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseClientTransport")
            .field("endpoint", &redacted_url(&self.endpoint))
            .field("headers", &HeaderNames(&self.post_headers))
            .field("closed", &self.cancel.is_cancelled())
            .finish()
    }
}

impl SseClientTransport {
    /// GET the SSE URL, wait for the `endpoint` event, return a ready transport.
    pub async fn connect(
        client: reqwest::Client,
        config: SseClientConfig,
    ) -> Result<Self, SseTransportError> {
        Self::connect_with(client, config, None, std::convert::identity).await
    }

    /// [`Self::connect`], with the `GET` and every `POST` recorded in the protocol log of the
    /// server named `server` ([`crate::connection::tap::entries`]).
    pub async fn connect_logged(
        client: reqwest::Client,
        config: SseClientConfig,
        server: &str,
    ) -> Result<Self, SseTransportError> {
        let log = crate::connection::tap::Log::of(server);
        Self::connect_recorded(client, config, log, std::convert::identity).await
    }

    /// [`Self::connect`], the exchanges recorded in `log`, each message event's data passed
    /// through `rewrite` before it is parsed (Latch's task marks: `tasks::client::mark`).
    pub(crate) async fn connect_recorded(
        client: reqwest::Client,
        config: SseClientConfig,
        log: crate::connection::tap::Log,
        rewrite: fn(String) -> String,
    ) -> Result<Self, SseTransportError> {
        let recorder = Recorder::new(log, &config.headers);
        Self::connect_with(client, config, Some(recorder), rewrite).await
    }

    async fn connect_with(
        client: reqwest::Client,
        config: SseClientConfig,
        recorder: Option<Recorder>,
        rewrite: fn(String) -> String,
    ) -> Result<Self, SseTransportError> {
        let mut headers = config.headers.clone();
        for value in headers.values_mut() {
            value.set_sensitive(true);
        }
        let timeout = config.connect_timeout;
        let opening = open(&client, &config, &headers, recorder.as_ref());
        let (endpoint, events) = tokio::time::timeout(timeout, opening)
            .await
            .map_err(|_| SseTransportError::EndpointTimeout { timeout })??;
        tracing::debug!(endpoint = %redacted_url(&endpoint), "legacy SSE stream open");

        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let (tx, messages) = mpsc::channel(CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let reader = tokio::spawn(read_messages(events, tx, cancel.clone(), rewrite));
        Ok(Self {
            client,
            endpoint,
            post_headers: Arc::new(headers),
            messages,
            cancel,
            reader: Some(reader),
            recorder,
        })
    }

    /// The URL messages are `POST`ed to, as the server named it (resolved against the SSE URL).
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }
}

impl Transport<RoleClient> for SseClientTransport {
    type Error = SseTransportError;

    fn name() -> Cow<'static, str> {
        "SseClientTransport".into()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let closed = self.cancel.is_cancelled();
        let body = serde_json::to_vec(&item);
        let client = self.client.clone();
        let endpoint = self.endpoint.clone();
        let headers = self.post_headers.clone();
        let pending = match (&self.recorder, &body) {
            (Some(recorder), Ok(body)) if !closed => {
                Some(recorder.post(&endpoint, &headers, &item, body.len()))
            }
            _ => None,
        };
        async move {
            if closed {
                return Err(SseTransportError::Closed);
            }
            let body = body.map_err(SseTransportError::Serialize)?;
            let sent = client
                .post(endpoint)
                .headers(HeaderMap::clone(&headers))
                .body(body)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    let error = request_error(error);
                    finish(pending, None, Some(&error));
                    return Err(error);
                }
            };
            let pending = pending.map(|mut p| {
                p.answered(&response);
                p
            });
            if response.status().is_success() {
                let read = drain(response).await;
                finish(pending, Some(read), None);
                Ok(())
            } else {
                let error = status_error(response).await;
                finish(pending, None, Some(&error));
                Err(error)
            }
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.messages.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.cancel.cancel();
        self.messages.close();
        if let Some(reader) = self.reader.take()
            && let Err(error) = reader.await
        {
            tracing::debug!(%error, "the SSE reader task did not end cleanly");
        }
        Ok(())
    }
}

impl Drop for SseClientTransport {
    fn drop(&mut self) {
        // The reader task sees this, returns, and drops the `GET` stream.
        self.cancel.cancel();
    }
}

/// Events parsed from the `GET` response, each bounded in size.
type Events = BoxStream<'static, Result<Sse, sse_stream::Error>>;

/// Record `pending`, if the exchange is recorded: `read` bytes of answer, or failed with `error`.
fn finish(pending: Option<record::Pending>, read: Option<u64>, error: Option<&SseTransportError>) {
    if let Some(pending) = pending {
        pending.finish(read, error.map(|e| e as &dyn fmt::Display));
    }
}

/// Send the `GET`, check the answer, and read events until the `endpoint` one.
async fn open(
    client: &reqwest::Client,
    config: &SseClientConfig,
    headers: &HeaderMap,
    recorder: Option<&Recorder>,
) -> Result<(Url, Events), SseTransportError> {
    let mut request_headers = headers.clone();
    request_headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if !request_headers.contains_key(header::CACHE_CONTROL) {
        request_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let mut pending = recorder.map(|r| r.get(&config.url, &request_headers));
    let sent = client
        .get(config.url.clone())
        .headers(request_headers)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            let error = request_error(error);
            finish(pending, None, Some(&error));
            return Err(error);
        }
    };
    if let Some(pending) = &mut pending {
        pending.answered(&response);
    }
    if !response.status().is_success() {
        let error = status_error(response).await;
        finish(pending, None, Some(&error));
        return Err(error);
    }
    if let Some(content_type) = response.headers().get(header::CONTENT_TYPE) {
        let text = String::from_utf8_lossy(content_type.as_bytes());
        let media_type = text.split(';').next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case("text/event-stream") {
            let error = SseTransportError::NotEventStream {
                content_type: preview(&text, 100),
            };
            finish(pending, None, Some(&error));
            return Err(error);
        }
    }
    // The stream goes on: the exchange is complete once its headers came.
    finish(pending, None, None);

    let body = SizeLimited::new(response.bytes_stream().boxed(), config.max_event_size);
    let mut events: Events = SseStream::from_bytes_stream(body).boxed();
    loop {
        let event = match events.next().await {
            None => return Err(SseTransportError::ClosedBeforeEndpoint),
            Some(Err(error)) => return Err(stream_error(error)),
            Some(Ok(event)) => event,
        };
        match event.event.as_deref() {
            Some("endpoint") => {
                let data = event.data.as_deref().unwrap_or_default().trim();
                if data.is_empty() {
                    tracing::debug!("ignoring an `endpoint` event without data");
                    continue;
                }
                let endpoint = resolve_endpoint(&config.url, data)?;
                return Ok((endpoint, events));
            }
            name => {
                tracing::debug!(
                    event = name.unwrap_or("message"),
                    "ignoring an event that arrived before the `endpoint` event"
                );
            }
        }
    }
}

/// Resolve the `endpoint` event's URI against the SSE URL; refuse another origin.
fn resolve_endpoint(sse_url: &Url, data: &str) -> Result<Url, SseTransportError> {
    let endpoint = sse_url
        .join(data)
        .map_err(SseTransportError::InvalidEndpoint)?;
    let (endpoint_origin, sse_origin) = (endpoint.origin(), sse_url.origin());
    if !endpoint_origin.is_tuple() || endpoint_origin != sse_origin {
        return Err(SseTransportError::CrossOriginEndpoint {
            endpoint_origin: endpoint_origin.ascii_serialization(),
            sse_origin: sse_origin.ascii_serialization(),
        });
    }
    Ok(endpoint)
}

/// The reader task: hand every JSON-RPC message on the stream (its data through `rewrite`)
/// to `tx` until the stream ends, fails, `tx`'s receiver goes away, or `cancel` fires.
async fn read_messages(
    mut events: Events,
    tx: mpsc::Sender<ServerJsonRpcMessage>,
    cancel: CancellationToken,
    rewrite: fn(String) -> String,
) {
    loop {
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                tracing::debug!("SSE transport closed; dropping the event stream");
                return;
            }
            next = events.next() => next,
        };
        let event = match next {
            None => {
                tracing::debug!("the server ended the SSE stream");
                return;
            }
            Some(Err(error)) => {
                match stream_error(error) {
                    error @ SseTransportError::EventTooLarge { .. } => {
                        tracing::warn!(%error, "ending the SSE stream");
                    }
                    error => tracing::debug!(%error, "the SSE stream failed"),
                }
                return;
            }
            Some(Ok(event)) => event,
        };
        let event = Sse {
            data: event.data.map(rewrite),
            ..event
        };
        let Some(message) = parse_event(event) else {
            continue;
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            sent = tx.send(message) => {
                if sent.is_err() {
                    tracing::debug!("nobody receives from the SSE transport any more; stopping");
                    return;
                }
            }
        }
    }
}

/// The JSON-RPC message an event carries, if any: `message` events and unnamed ones do;
/// empty ones, other names and unparsable data are skipped.
fn parse_event(event: Sse) -> Option<ServerJsonRpcMessage> {
    match event.event.as_deref() {
        None | Some("message") => {}
        Some("endpoint") => {
            tracing::debug!("ignoring a repeated `endpoint` event");
            return None;
        }
        Some(other) => {
            tracing::debug!(event = %preview(other, 64), "ignoring an SSE event of unknown type");
            return None;
        }
    }
    let data = event.data?;
    if data.trim().is_empty() {
        return None;
    }
    match serde_json::from_str(&data) {
        Ok(message) => Some(message),
        Err(error) => {
            tracing::warn!(
                %error,
                bytes = data.len(),
                data = %preview(&data, PREVIEW_CHARS),
                "skipping an SSE message that is not a JSON-RPC message"
            );
            None
        }
    }
}

/// A reqwest error without its URL (which may hold a secret).
fn request_error(error: reqwest::Error) -> SseTransportError {
    SseTransportError::Request(error.without_url())
}

fn stream_error(error: sse_stream::Error) -> SseTransportError {
    if let sse_stream::Error::Body(body) = &error
        && let Some(BodyError::TooLarge { max_size }) = body.downcast_ref::<BodyError>()
    {
        return SseTransportError::EventTooLarge {
            max_size: *max_size,
        };
    }
    SseTransportError::Stream(error)
}

/// The error for a non-2xx response, with a bounded preview of its body.
async fn status_error(response: reqwest::Response) -> SseTransportError {
    let status = response.status().as_u16();
    let auth = (status == StatusCode::UNAUTHORIZED.as_u16()).then(|| {
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| {
                let text = String::from_utf8_lossy(v.as_bytes());
                truncate_bytes(&text, MAX_CHALLENGE_BYTES).to_owned()
            })
            .unwrap_or_default();
        AuthRequiredError::new(challenge)
    });
    let body = tokio::time::timeout(PREVIEW_TIMEOUT, read_prefix(response, PREVIEW_BYTES))
        .await
        .unwrap_or_default();
    let body = preview(&String::from_utf8_lossy(&body), PREVIEW_CHARS);
    SseTransportError::HttpStatus { status, body, auth }
}

/// Up to `max` bytes of the body; a read error ends it early.
async fn read_prefix(mut response: reqwest::Response, max: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(max - body.len());
                body.extend_from_slice(&chunk[..take]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// Read a successful response's (short) body so the connection can go back to the pool; how
/// many bytes it had (up to the bound).
async fn drain(response: reqwest::Response) -> u64 {
    tokio::time::timeout(PREVIEW_TIMEOUT, read_prefix(response, DRAIN_BYTES))
        .await
        .map_or(0, |body| body.len() as u64)
}

/// `text` with whitespace runs collapsed to one space and control characters replaced, cut to
/// at most `max_chars` characters (the last one `…` when cut).
fn preview(text: &str, max_chars: usize) -> String {
    let mut chars = text
        .split_whitespace()
        .enumerate()
        .flat_map(|(i, word)| (i > 0).then_some(' ').into_iter().chain(word.chars()))
        .map(|c| if c.is_control() { '\u{fffd}' } else { c });
    let mut out: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() && max_chars > 0 {
        out.pop();
        out.push('…');
    }
    out
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
fn truncate_bytes(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A URL for logs and `Debug`: the query and fragment (which may hold tokens) replaced by `…`,
/// user info dropped.
fn redacted_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let had_query = shown.query().is_some() || shown.fragment().is_some();
    shown.set_query(None);
    shown.set_fragment(None);
    if had_query {
        format!("{shown}?…")
    } else {
        shown.to_string()
    }
}

/// Shows a header map's names only.
struct HeaderNames<'a>(&'a HeaderMap);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Fuzzing entry point (`fuzz/`, built with `--cfg fuzzing`): `data` as the body of an SSE
/// response, cut into chunks, through the size limiter, the SSE parser, the JSON-RPC parse of
/// each event and the `endpoint` resolution — the path every byte a server sends takes.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_sse_body(data: &[u8]) {
    let (chunk, body) = match data.split_first() {
        Some((&first, rest)) => (usize::from(first % 32) + 1, rest),
        None => (1, data),
    };
    let chunks: Vec<reqwest::Result<Bytes>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let limited = SizeLimited::new(futures::stream::iter(chunks).boxed(), 4096);
    let sse_url = Url::parse("http://127.0.0.1:8080/sse?token=x").expect("a fixed URL");
    futures::executor::block_on(async {
        let mut events = SseStream::from_bytes_stream(limited);
        while let Some(event) = events.next().await {
            let Ok(event) = event else { break };
            if event.event.as_deref() == Some("endpoint") {
                let data = event.data.as_deref().unwrap_or_default().trim();
                let _ = resolve_endpoint(&sse_url, data);
            }
            if let Some(data) = &event.data {
                assert!(preview(data, PREVIEW_CHARS).chars().count() <= PREVIEW_CHARS);
                let _ = truncate_bytes(data, MAX_CHALLENGE_BYTES);
            }
            let _ = parse_event(event);
        }
    });
}

#[cfg(test)]
#[path = "sse/tests.rs"]
mod tests;
