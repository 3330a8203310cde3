//! The legacy MCP HTTP+SSE transport (protocol revision 2024-11-05), client side. rmcp dropped
//! it, yet many deployed servers still speak nothing else, so Latch carries its own: a `GET`
//! opens an event stream whose first `endpoint` event names the URL to `POST` messages to;
//! everything the server says afterwards arrives as `message` events on that stream.
//!
//! Safety rails: the `endpoint` must be on the SSE URL's origin (a server cannot redirect the
//! client's messages, and its headers, elsewhere); every event is size-bounded; error bodies are
//! only previewed, bounded; header values are never logged nor shown in `Debug` output.

use std::{
    borrow::Cow,
    fmt,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures::{Stream, StreamExt, stream::BoxStream};
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
        let mut headers = config.headers.clone();
        for value in headers.values_mut() {
            value.set_sensitive(true);
        }
        let timeout = config.connect_timeout;
        let (endpoint, events) = tokio::time::timeout(timeout, open(&client, &config, &headers))
            .await
            .map_err(|_| SseTransportError::EndpointTimeout { timeout })??;
        tracing::debug!(endpoint = %redacted_url(&endpoint), "legacy SSE stream open");

        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let (tx, messages) = mpsc::channel(CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let reader = tokio::spawn(read_messages(events, tx, cancel.clone()));
        Ok(Self {
            client,
            endpoint,
            post_headers: Arc::new(headers),
            messages,
            cancel,
            reader: Some(reader),
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
        async move {
            if closed {
                return Err(SseTransportError::Closed);
            }
            let body = body.map_err(SseTransportError::Serialize)?;
            let response = client
                .post(endpoint)
                .headers(HeaderMap::clone(&headers))
                .body(body)
                .send()
                .await
                .map_err(request_error)?;
            if response.status().is_success() {
                drain(response).await;
                Ok(())
            } else {
                Err(status_error(response).await)
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

/// Send the `GET`, check the answer, and read events until the `endpoint` one.
async fn open(
    client: &reqwest::Client,
    config: &SseClientConfig,
    headers: &HeaderMap,
) -> Result<(Url, Events), SseTransportError> {
    let mut request_headers = headers.clone();
    request_headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if !request_headers.contains_key(header::CACHE_CONTROL) {
        request_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let response = client
        .get(config.url.clone())
        .headers(request_headers)
        .send()
        .await
        .map_err(request_error)?;
    if !response.status().is_success() {
        return Err(status_error(response).await);
    }
    if let Some(content_type) = response.headers().get(header::CONTENT_TYPE) {
        let text = String::from_utf8_lossy(content_type.as_bytes());
        let media_type = text.split(';').next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case("text/event-stream") {
            return Err(SseTransportError::NotEventStream {
                content_type: preview(&text, 100),
            });
        }
    }

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

/// The reader task: hand every JSON-RPC message on the stream to `tx` until the stream ends,
/// fails, `tx`'s receiver goes away, or `cancel` fires.
async fn read_messages(
    mut events: Events,
    tx: mpsc::Sender<ServerJsonRpcMessage>,
    cancel: CancellationToken,
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

/// Read a successful response's (short) body so the connection can go back to the pool.
async fn drain(response: reqwest::Response) {
    let _ = tokio::time::timeout(PREVIEW_TIMEOUT, read_prefix(response, DRAIN_BYTES)).await;
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

/// Why the size-limited body ended.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("{0}")]
    Read(#[source] reqwest::Error),
    #[error("an event exceeded the maximum size of {max_size} bytes")]
    TooLarge { max_size: usize },
}

/// The `GET` response body, failing as soon as one event grows past the limit, before the SSE
/// parser buffers it. The complete events before the oversized one are still passed on.
struct SizeLimited {
    inner: BoxStream<'static, reqwest::Result<Bytes>>,
    limiter: EventSizeLimiter,
    /// The next poll reports `TooLarge` (a chunk's complete events went out first).
    too_large_next: bool,
    failed: bool,
}

impl SizeLimited {
    fn new(inner: BoxStream<'static, reqwest::Result<Bytes>>, max_event_size: usize) -> Self {
        Self {
            inner,
            limiter: EventSizeLimiter::new(max_event_size),
            too_large_next: false,
            failed: false,
        }
    }

    fn too_large(&mut self) -> Poll<Option<Result<Bytes, BodyError>>> {
        self.failed = true;
        Poll::Ready(Some(Err(BodyError::TooLarge {
            max_size: self.limiter.max_size,
        })))
    }
}

impl Stream for SizeLimited {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        if std::mem::take(&mut this.too_large_next) {
            return this.too_large();
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => {
                this.failed = true;
                Poll::Ready(Some(Err(BodyError::Read(error.without_url()))))
            }
            Poll::Ready(Some(Ok(chunk))) => match this.limiter.observe(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(0) => this.too_large(),
                Err(complete) => {
                    this.too_large_next = true;
                    Poll::Ready(Some(Ok(chunk.slice(..complete))))
                }
            },
        }
    }
}

/// Counts the bytes the SSE parser keeps for the current event (field lines; comment lines
/// only while unfinished) across chunks; a blank line starts a new event. Lines end with CR,
/// LF or CRLF.
#[derive(Debug)]
struct EventSizeLimiter {
    max_size: usize,
    retained: usize,
    line: usize,
    line_is_comment: bool,
    after_cr: bool,
}

impl EventSizeLimiter {
    fn new(max_size: usize) -> Self {
        Self {
            max_size,
            retained: 0,
            line: 0,
            line_is_comment: false,
            after_cr: false,
        }
    }

    /// Feed a chunk. Once the current event (or line) exceeds the limit: `Err(n)`, where the
    /// chunk's first `n` bytes end with a blank line (complete events, safe to parse).
    fn observe(&mut self, chunk: &[u8]) -> Result<(), usize> {
        let mut complete = 0;
        for (i, &byte) in chunk.iter().enumerate() {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\r' | b'\n' => {
                    if self.line == 0 {
                        complete = i + 1;
                    }
                    self.end_line();
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    if self.line == 0 {
                        self.line_is_comment = byte == b':';
                    }
                    self.line += 1;
                }
            }
            if self.retained.saturating_add(self.line) > self.max_size {
                return Err(complete);
            }
        }
        Ok(())
    }

    fn end_line(&mut self) {
        if self.line == 0 {
            self.retained = 0;
        } else if !self.line_is_comment {
            // The parser joins data lines with a newline.
            self.retained = self.retained.saturating_add(self.line + 1);
        }
        self.line = 0;
        self.line_is_comment = false;
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
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_one_event_at_a_time() {
        let mut limiter = EventSizeLimiter::new(20);
        assert_eq!(limiter.observe(b"data: 0123456789\n\n"), Ok(()));
        assert_eq!(limiter.observe(b"data: 0123456789\r\n\r\n"), Ok(()));
        // Finished comment lines are not kept by the parser, so they do not add up.
        for _ in 0..5 {
            assert_eq!(limiter.observe(b": comment, 15 b\n"), Ok(()));
        }
        assert_eq!(limiter.observe(b"\ndata: 01234"), Ok(()));
        assert_eq!(limiter.observe(b"56789\n"), Ok(()));
        assert_eq!(limiter.observe(b"data: more\n"), Err(0));
    }

    #[test]
    fn limiter_passes_the_complete_events_before_an_oversized_one() {
        let mut limiter = EventSizeLimiter::new(20);
        let chunk = b"data: a\r\n\r\ndata: b\n\ndata: 0123456789abcdefghij\n\n";
        let complete = limiter.observe(chunk).unwrap_err();
        assert_eq!(&chunk[..complete], b"data: a\r\n\r\ndata: b\n\n");
    }

    #[test]
    fn limiter_stops_a_line_without_end() {
        let mut limiter = EventSizeLimiter::new(8);
        assert_eq!(limiter.observe(b"data: 0123456789"), Err(0));
    }

    #[test]
    fn preview_is_bounded_and_single_line() {
        let long = "x".repeat(1000);
        let shown = preview(&long, PREVIEW_CHARS);
        assert_eq!(shown.chars().count(), PREVIEW_CHARS);
        assert!(shown.ends_with('…'));
        assert_eq!(preview("a\n  b\tc", 10), "a b c");
        assert_eq!(preview("abcdef", 6), "abcdef");
        assert_eq!(preview("abcdefg", 6), "abcde…");
    }

    #[test]
    fn endpoint_must_share_the_origin() {
        let sse = Url::parse("http://127.0.0.1:8080/sse?token=x").unwrap();
        let ok = resolve_endpoint(&sse, "/message?sessionId=1").unwrap();
        assert_eq!(ok.as_str(), "http://127.0.0.1:8080/message?sessionId=1");
        assert!(resolve_endpoint(&sse, "http://127.0.0.1:8080/m").is_ok());
        for other in [
            "http://127.0.0.1:8081/m",
            "https://127.0.0.1:8080/m",
            "//evil.example/m",
            "data:text/plain,x",
        ] {
            assert!(
                matches!(
                    resolve_endpoint(&sse, other),
                    Err(SseTransportError::CrossOriginEndpoint { .. })
                ),
                "{other} must be refused"
            );
        }
    }

    #[test]
    fn redacted_url_hides_query_and_credentials() {
        let url = Url::parse("https://user:pw@example.com/sse?key=secret").unwrap();
        assert_eq!(redacted_url(&url), "https://example.com/sse?…");
    }

    #[test]
    fn status_text_has_the_shape_the_core_parses() {
        assert_eq!(describe_status(404, ""), "HTTP 404 Not Found");
        assert_eq!(
            describe_status(500, "boom"),
            "HTTP 500 Internal Server Error: boom"
        );
    }
}
