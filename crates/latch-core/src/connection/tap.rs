//! The protocol log: every JSON-RPC message a connection sends and receives, and every HTTP
//! exchange under it, kept per server so a person testing a server by hand can see the raw
//! traffic (as MCP Inspector shows it). Recording is always on and bounded: each server keeps
//! its last [`CAPACITY`] entries, the oldest dropped first.
//!
//! Messages are taken by [`Tapped`], a wrapper around any rmcp client transport (stdio,
//! Streamable HTTP, legacy SSE alike); HTTP exchanges by [`http::TappedHttp`] (the layer of a
//! Streamable HTTP connection's client stack right above the client that sends) and by the
//! legacy SSE transport's own recorder. Nothing secret is ever kept: header values that carry
//! credentials (`Authorization`, `DPoP`, cookies, the server's configured headers, any value
//! that looks like a token) and secret-looking URL query values become `[redacted]` before an
//! entry exists.

pub(crate) mod http;
pub(crate) mod redact;

use std::{
    borrow::Cow,
    collections::{HashMap, VecDeque},
    future::Future,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

pub use redact::REDACTED;

/// How many entries each server keeps.
pub const CAPACITY: usize = 2_000;

/// A message body larger than this is kept as a preview, not whole.
const MAX_KEPT_BODY: usize = 256 * 1024;

/// The bytes of messages a server keeps at most: beyond, the oldest entries go even when
/// fewer than [`CAPACITY`] are kept (a long-running bridge moving large results stays small).
const MAX_KEPT_BYTES: u64 = 32 * 1024 * 1024;

/// Whether an entry is a JSON-RPC message or an HTTP exchange.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum EntryKind {
    Message,
    Http,
}

/// Which way an entry went: a message sent to or received from the server, or an HTTP
/// exchange (a request and its answer).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Direction {
    Sent,
    Received,
    Exchange,
}

/// One header of an HTTP exchange, its value `[redacted]` when it may carry a secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
#[ts(export)]
pub struct HeaderView {
    pub name: String,
    pub value: String,
}

/// One HTTP request and what came back.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HttpExchange {
    /// `POST`, `GET` or `DELETE`.
    pub method: String,
    /// The URL, with secret-looking query values redacted.
    pub url: String,
    /// The HTTP status, when one came back.
    pub status: Option<u16>,
    pub request_headers: Vec<HeaderView>,
    pub response_headers: Vec<HeaderView>,
    /// Bytes of the request body.
    #[ts(type = "number")]
    pub request_size: u64,
    /// Bytes of the response body, when it was one JSON message (an event stream goes on).
    #[ts(type = "number | null")]
    pub response_size: Option<u64>,
    /// Why the exchange failed, in words, when it did.
    pub error: Option<String>,
}

/// One entry of a server's protocol log.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProtocolEntry {
    /// Increases by one per entry, across all servers.
    #[ts(type = "number")]
    pub seq: u64,
    /// When (unix milliseconds).
    #[ts(type = "number")]
    pub at_ms: u64,
    pub kind: EntryKind,
    pub direction: Direction,
    /// One line: the method, "response to 3", or "POST 200".
    pub summary: String,
    /// The JSON-RPC method (of the request a response answers, for a response).
    pub method: Option<String>,
    /// The JSON-RPC id, as text.
    pub id: Option<String>,
    /// A JSON-RPC error, or an HTTP exchange that failed or got a 4xx/5xx.
    pub is_error: bool,
    /// Bytes of the message (or of the request body, for an exchange).
    #[ts(type = "number")]
    pub size: u64,
    /// For a response: how long after its request it came; for an exchange: until its
    /// answer's headers.
    #[ts(type = "number | null")]
    pub latency_ms: Option<u64>,
    /// The JSON-RPC message as it went on the wire (a preview when it was very large).
    #[ts(type = "unknown")]
    pub message: Option<Value>,
    pub http: Option<HttpExchange>,
}

/// One server's ring of entries.
#[derive(Default)]
struct Ring {
    entries: VecDeque<ProtocolEntry>,
    /// The bytes of the kept messages.
    bytes: u64,
    /// The log level the person chose for the server's messages, if any.
    level: Option<String>,
}

/// Every server's log, and the live feed of new entries.
struct Logs {
    rings: Mutex<HashMap<String, Arc<Mutex<Ring>>>>,
    live: broadcast::Sender<(String, ProtocolEntry)>,
    seq: AtomicU64,
}

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| Logs {
        rings: Mutex::default(),
        live: broadcast::channel(1024).0,
        seq: AtomicU64::new(1),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where one server's entries go. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Log {
    server: Arc<str>,
    ring: Arc<Mutex<Ring>>,
}

impl Log {
    /// The log of the server named `server` in the config.
    pub(crate) fn of(server: &str) -> Self {
        let ring = lock(&logs().rings)
            .entry(server.to_owned())
            .or_default()
            .clone();
        Self {
            server: server.into(),
            ring,
        }
    }

    /// Keep `entry` (its `seq` and `at_ms` filled in) and tell who listens.
    pub(crate) fn record(&self, mut entry: ProtocolEntry) {
        entry.seq = logs().seq.fetch_add(1, Ordering::Relaxed);
        entry.at_ms = now_ms();
        {
            let mut ring = lock(&self.ring);
            ring.bytes += kept_bytes(&entry);
            ring.entries.push_back(entry.clone());
            while ring.entries.len() > CAPACITY
                || (ring.bytes > MAX_KEPT_BYTES && ring.entries.len() > 1)
            {
                let Some(dropped) = ring.entries.pop_front() else {
                    break;
                };
                ring.bytes = ring.bytes.saturating_sub(kept_bytes(&dropped));
            }
        }
        let _ = logs().live.send((self.server.to_string(), entry));
    }
}

/// About how many bytes an entry's message takes.
fn kept_bytes(entry: &ProtocolEntry) -> u64 {
    entry
        .message
        .as_ref()
        .map_or(0, |_| entry.size.min(MAX_KEPT_BODY as u64))
}

/// The entries kept for `server`, oldest first.
pub fn entries(server: &str) -> Vec<ProtocolEntry> {
    let ring = lock(&logs().rings).get(server).cloned();
    ring.map(|ring| lock(&ring).entries.iter().cloned().collect())
        .unwrap_or_default()
}

/// Forget what was kept for `server`.
pub fn clear(server: &str) {
    if let Some(ring) = lock(&logs().rings).get(server).cloned() {
        let mut ring = lock(&ring);
        ring.entries.clear();
        ring.bytes = 0;
    }
}

/// The log level chosen for `server`'s messages.
pub fn level(server: &str) -> Option<String> {
    lock(&Log::of(server).ring).level.clone()
}

/// Choose the level of `server`'s log messages. On the 2026-07-28 wire, which has no
/// `logging/setLevel`, it rides in each request's `_meta` from now on (see [`Tapped`]).
pub fn set_level(server: &str, level: Option<String>) {
    lock(&Log::of(server).ring).level = level;
}

/// On the 2026 wire (the request carries the client context in `_meta`), the chosen level,
/// put into a request's `_meta` unless it names its own.
fn with_level(item: TxJsonRpcMessage<RoleClient>, level: &str) -> TxJsonRpcMessage<RoleClient> {
    const VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    const LEVEL: &str = "io.modelcontextprotocol/logLevel";
    let Ok(mut value) = serde_json::to_value(&item) else {
        return item;
    };
    let Some(meta) = value
        .pointer_mut("/params/_meta")
        .and_then(Value::as_object_mut)
        .filter(|meta| meta.contains_key(VERSION) && !meta.contains_key(LEVEL))
    else {
        return item;
    };
    meta.insert(LEVEL.to_owned(), Value::String(level.to_owned()));
    serde_json::from_value(value).unwrap_or(item)
}

/// New entries as they are recorded, with the server's name.
pub fn subscribe() -> broadcast::Receiver<(String, ProtocolEntry)> {
    logs().live.subscribe()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn millis(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// A message as kept: whole, or a preview when very large; with its size in bytes.
fn kept(message: &impl Serialize) -> (Value, u64) {
    let text = serde_json::to_string(message).unwrap_or_default();
    let size = text.len() as u64;
    if text.len() <= MAX_KEPT_BODY {
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        return (value, size);
    }
    let mut end = 4096;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let preview = serde_json::json!({
        "truncated": format!("{size} bytes; the first 4096 shown"),
        "preview": &text[..end],
    });
    (preview, size)
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Requests waiting for their response, by id: their method and when they went.
type Waiting = Arc<Mutex<HashMap<String, (String, Instant)>>>;

/// The entry for one message; `asked` holds requests sent the same way this message goes
/// (a request joins it), `answered` those sent the other way (a response leaves it).
fn message_entry(
    message: &impl Serialize,
    direction: Direction,
    asked: &Waiting,
    answered: &Waiting,
) -> ProtocolEntry {
    let (value, size) = kept(message);
    let id = value.get("id").filter(|id| !id.is_null()).map(id_text);
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let is_error = value.get("error").is_some();
    let mut latency_ms = None;
    let (summary, method) = match (&method, &id) {
        (Some(method), Some(id)) => {
            lock(asked).insert(id.clone(), (method.clone(), Instant::now()));
            (method.clone(), Some(method.clone()))
        }
        (Some(method), None) => (method.clone(), Some(method.clone())),
        (None, Some(id)) => {
            let request = lock(answered).remove(id);
            latency_ms = request.as_ref().map(|(_, at)| millis(*at));
            let what = if is_error { "error for" } else { "response to" };
            match request {
                Some((method, _)) => (format!("{what} {method} #{id}"), Some(method)),
                None => (format!("{what} #{id}"), None),
            }
        }
        (None, None) if is_error => ("error".to_owned(), None),
        (None, None) => ("message".to_owned(), None),
    };
    ProtocolEntry {
        seq: 0,
        at_ms: 0,
        kind: EntryKind::Message,
        direction,
        summary,
        method,
        id,
        is_error,
        size,
        latency_ms,
        message: Some(value),
        http: None,
    }
}

/// A client transport whose messages are recorded in a server's log.
pub(crate) struct Tapped<T> {
    inner: T,
    log: Log,
    /// Our requests waiting for the server's response.
    ours: Waiting,
    /// The server's requests waiting for ours.
    theirs: Waiting,
}

impl<T> Tapped<T> {
    pub(crate) fn new(inner: T, log: Log) -> Self {
        Self {
            inner,
            log,
            ours: Waiting::default(),
            theirs: Waiting::default(),
        }
    }
}

impl<T> Transport<RoleClient> for Tapped<T>
where
    T: Transport<RoleClient>,
{
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let level = lock(&self.log.ring).level.clone();
        let item = match level {
            Some(level) if matches!(item, TxJsonRpcMessage::<RoleClient>::Request(_)) => {
                with_level(item, &level)
            }
            _ => item,
        };
        let entry = message_entry(&item, Direction::Sent, &self.ours, &self.theirs);
        self.log.record(entry);
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        let message = self.inner.receive().await;
        if let Some(message) = &message {
            let entry = message_entry(message, Direction::Received, &self.theirs, &self.ours);
            self.log.record(entry);
        }
        message
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(summary: &str) -> ProtocolEntry {
        ProtocolEntry {
            seq: 0,
            at_ms: 0,
            kind: EntryKind::Message,
            direction: Direction::Sent,
            summary: summary.to_owned(),
            method: None,
            id: None,
            is_error: false,
            size: 0,
            latency_ms: None,
            message: None,
            http: None,
        }
    }

    #[test]
    fn a_server_keeps_its_last_entries_and_drops_the_oldest() {
        let log = Log::of("tap-ring-test");
        for n in 0..CAPACITY + 5 {
            log.record(entry(&n.to_string()));
        }
        let kept = entries("tap-ring-test");
        assert_eq!(kept.len(), CAPACITY);
        assert_eq!(kept[0].summary, "5", "the five oldest were dropped");
        assert_eq!(kept[CAPACITY - 1].summary, (CAPACITY + 4).to_string());
        assert!(kept.windows(2).all(|w| w[0].seq < w[1].seq));
        // Another server's log is its own.
        assert!(entries("tap-ring-other").is_empty());
        clear("tap-ring-test");
        assert!(entries("tap-ring-test").is_empty());
    }

    #[test]
    fn large_messages_are_bounded_by_bytes_too() {
        let log = Log::of("tap-bytes-test");
        let big = MAX_KEPT_BODY as u64;
        for n in 0..200 {
            log.record(ProtocolEntry {
                size: big,
                message: Some(Value::Null),
                ..entry(&n.to_string())
            });
        }
        let kept = entries("tap-bytes-test");
        assert_eq!(kept.len() as u64, MAX_KEPT_BYTES / big);
        assert_eq!(kept.last().unwrap().summary, "199");
    }

    #[test]
    fn a_response_names_its_request_and_how_long_it_took() {
        let (ours, theirs) = (Waiting::default(), Waiting::default());
        let request = serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"});
        let sent = message_entry(&request, Direction::Sent, &ours, &theirs);
        assert_eq!(sent.summary, "tools/list");
        assert_eq!(sent.id.as_deref(), Some("7"));
        let response = serde_json::json!({"jsonrpc": "2.0", "id": 7, "result": {"tools": []}});
        let got = message_entry(&response, Direction::Received, &theirs, &ours);
        assert_eq!(got.summary, "response to tools/list #7");
        assert_eq!(got.method.as_deref(), Some("tools/list"));
        assert!(got.latency_ms.is_some());
        assert!(!got.is_error);
        assert_eq!(
            got.size,
            serde_json::to_string(&response).unwrap().len() as u64
        );
        let error =
            serde_json::json!({"jsonrpc": "2.0", "id": 8, "error": {"code": -1, "message": "no"}});
        let got = message_entry(&error, Direction::Received, &theirs, &ours);
        assert!(got.is_error);
        assert_eq!(got.summary, "error for #8");
    }

    #[test]
    fn a_huge_message_is_kept_as_a_preview() {
        let big = serde_json::json!({"jsonrpc": "2.0", "method": "x", "params": {"blob": "a".repeat(MAX_KEPT_BODY)}});
        let (value, size) = kept(&big);
        assert!(size > MAX_KEPT_BODY as u64);
        assert!(value.get("truncated").is_some());
        assert!(serde_json::to_string(&value).unwrap().len() < 10_000);
    }
}
