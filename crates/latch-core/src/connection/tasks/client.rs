//! The client side of 2025-11-25 tasks: a server may send Latch a `sampling/createMessage` or
//! `elicitation/create` carrying `params.task`, asking Latch to run it as a task — answer at
//! once with a task handle, then serve the server's `tasks/get`, `tasks/result`, `tasks/list`
//! and `tasks/cancel` for it. server-everything offers two tools only to clients that
//! announce this (`tasks.requests.sampling.createMessage`, `tasks.requests.elicitation.create`).
//!
//! rmcp 3.11 has none of it (its `ClientCapabilities` has no `tasks`, it drops `params.task`,
//! its handler answers only with the plain result), so it is done around rmcp, on Streamable
//! HTTP, in two pieces. [`TaskMarks`], a layer of the connection's HTTP client, works on the
//! wire: [`announce`] adds the capability to the `initialize` as it is posted (2025 era only,
//! and only the kinds the host answers — those it already declares), and [`mark_events`] moves
//! a request's `task` into a private `_meta` key before rmcp parses it. [`TaskHost`], a
//! wrapper around the client transport, answers such a request with a task handle, hands it
//! on to the host under an internal id (the person answers it as usual), keeps the host's
//! answer as the task's result and serves the `tasks/*` requests itself. The store is bounded
//! and forgets a task after its ttl. Nothing of the person's answer is logged.
//!
//! Over stdio and the legacy SSE transport there is no HTTP layer: the same [`mark`] runs on
//! each raw line or event data before it is parsed, and [`Announce`] wraps the transport to
//! [`announce`] the capability on the `initialize` it sends.

use std::{
    borrow::Cow,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use futures::StreamExt;
use rmcp::{
    RoleClient,
    model::{
        ClientJsonRpcMessage, ClientRequest, ClientResult, CustomRequest, CustomResult, ErrorCode,
        ErrorData, JsonRpcError, JsonRpcMessage, JsonRpcResponse, JsonRpcVersion2_0, RequestId,
        ServerJsonRpcMessage,
    },
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::{
        Transport,
        streamable_http_client::{StreamableHttpClient, StreamableHttpPostResponse},
    },
};
use serde_json::{Map, Value, json};

use crate::connection::http::layer::{
    Error, Events, Get, Layer, Post, Request, streamable_http_client,
};

/// The private `_meta` key a request's `task` rides in between [`mark_events`] and [`TaskHost`].
const TASK_KEY: &str = "dev.latch/task";
/// How many tasks are kept at most.
const MAX_TASKS: usize = 64;
/// The ttl when the server asks none, and the bounds on what it may ask.
const DEFAULT_TTL: Duration = Duration::from_secs(300);
const MIN_TTL: Duration = Duration::from_secs(1);
const MAX_TTL: Duration = Duration::from_secs(3600);
/// How often the server is told to poll (ms).
const POLL_MS: u64 = 1000;

/// The methods a server may ask Latch to run as a task.
const TASK_METHODS: [&str; 2] = ["sampling/createMessage", "elicitation/create"];

/// The layer of a connection's Streamable HTTP client that carries tasks across the wire: the
/// capability [`announce`]d in `initialize`, the server's task-augmented requests marked
/// ([`mark_events`]) on every event stream, of a `POST` or a `GET`.
#[derive(Clone)]
pub(crate) struct TaskMarks<C>(C);

impl<C> TaskMarks<C> {
    pub(crate) fn new(inner: C) -> Self {
        Self(inner)
    }
}

impl<C> Layer for TaskMarks<C>
where
    C: StreamableHttpClient<Error = reqwest::Error> + Sync,
{
    type Inner = C;

    fn inner(&self) -> &C {
        &self.0
    }

    async fn post(&self, mut request: Request<Post>) -> Result<StreamableHttpPostResponse, Error> {
        request.kind.message = announce(request.kind.message);
        request.send(&self.0).await.map(mark_post)
    }

    async fn get(&self, request: Request<Get>) -> Result<Events, Error> {
        request.send(&self.0).await.map(mark_events)
    }
}

streamable_http_client!(TaskMarks<C>);

/// `message` with `tasks.requests` added to its capabilities when it is a 2025-era
/// `initialize` whose client samples or elicits; any other message unchanged.
pub(crate) fn announce(message: ClientJsonRpcMessage) -> ClientJsonRpcMessage {
    let JsonRpcMessage::Request(request) = &message else {
        return message;
    };
    if !matches!(request.request, ClientRequest::InitializeRequest(_)) {
        return message;
    }
    let Ok(mut body) = serde_json::to_value(&request.request) else {
        return message;
    };
    let Some(params) = body.get_mut("params").and_then(Value::as_object_mut) else {
        return message;
    };
    let era_2025 = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("2025-"));
    let Some(caps) = params
        .get_mut("capabilities")
        .and_then(Value::as_object_mut)
    else {
        return message;
    };
    let mut requests = Map::new();
    if caps.contains_key("sampling") {
        requests.insert("sampling".into(), json!({ "createMessage": {} }));
    }
    if caps.contains_key("elicitation") {
        requests.insert("elicitation".into(), json!({ "create": {} }));
    }
    if !era_2025 || requests.is_empty() || caps.contains_key("tasks") {
        return message;
    }
    caps.insert(
        "tasks".into(),
        json!({ "list": {}, "cancel": {}, "requests": requests }),
    );
    let params = body.get("params").and_then(Value::as_object).cloned();
    JsonRpcMessage::Request(rmcp::model::JsonRpcRequest {
        jsonrpc: JsonRpcVersion2_0,
        id: request.id.clone(),
        request: ClientRequest::CustomRequest(CustomRequest::new(
            "initialize",
            params.map(Value::Object),
        )),
    })
}

/// A POST's answer with [`mark`] applied to each event of its stream.
fn mark_post(response: StreamableHttpPostResponse) -> StreamableHttpPostResponse {
    match response {
        StreamableHttpPostResponse::Sse(events, session) => {
            StreamableHttpPostResponse::Sse(mark_events(events), session)
        }
        other => other,
    }
}

/// `events` with [`mark`] applied to each event's data.
fn mark_events<E: Send + 'static>(
    events: futures::stream::BoxStream<'static, Result<sse_stream::Sse, E>>,
) -> futures::stream::BoxStream<'static, Result<sse_stream::Sse, E>> {
    events
        .map(|event| {
            event.map(|mut event| {
                if let Some(data) = event.data.take() {
                    event.data = Some(mark(data));
                }
                event
            })
        })
        .boxed()
}

/// A task-augmented sampling or elicitation request with its `task` moved into `_meta`
/// (where rmcp keeps it); any other message unchanged.
pub(crate) fn mark(data: String) -> String {
    if !data.contains("\"task\"") {
        return data;
    }
    let Ok(mut value) = serde_json::from_str::<Value>(&data) else {
        return data;
    };
    let is_ours = value
        .get("method")
        .and_then(Value::as_str)
        .is_some_and(|m| TASK_METHODS.contains(&m))
        && value.get("id").is_some();
    let Some(params) = value.get_mut("params").and_then(Value::as_object_mut) else {
        return data;
    };
    let Some(task) = params.remove("task").filter(|_| is_ours) else {
        return data;
    };
    let meta = params.entry("_meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(TASK_KEY.into(), task);
    }
    serde_json::to_string(&value).unwrap_or(data)
}

/// A client transport (stdio, legacy SSE) that [`announce`]s the capability on the
/// `initialize` it sends; the transport under it [`mark`]s what it receives.
pub(crate) struct Announce<T>(pub(crate) T);

impl<T: Transport<RoleClient>> Transport<RoleClient> for Announce<T> {
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.0.send(announce(item))
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.0.receive()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.0.close()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Working,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One task Latch runs for the server.
struct Task {
    id: String,
    status: Status,
    created: SystemTime,
    updated: SystemTime,
    born: Instant,
    ttl: Duration,
    /// The id the host's answer comes back under.
    internal: RequestId,
    /// The host's answer: a result or a JSON-RPC error.
    outcome: Option<Result<Value, ErrorData>>,
    /// `tasks/result` requests waiting for the outcome.
    waiters: Vec<RequestId>,
}

impl Task {
    fn view(&self) -> Value {
        json!({
            "taskId": self.id,
            "status": self.status.as_str(),
            "createdAt": rfc3339(self.created),
            "lastUpdatedAt": rfc3339(self.updated),
            "ttl": self.ttl.as_millis() as u64,
            "pollInterval": POLL_MS,
        })
    }
}

/// `at` as an RFC 3339 UTC timestamp (days to a civil date: H. Hinnant's algorithm).
fn rfc3339(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A client transport that runs task-augmented sampling and elicitation requests as tasks.
pub(crate) struct TaskHost<T> {
    inner: T,
    tasks: Arc<Mutex<Vec<Task>>>,
    next: Arc<AtomicU64>,
}

impl<T> TaskHost<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self {
            inner,
            tasks: Arc::default(),
            next: Arc::default(),
        }
    }
}

fn answer(id: RequestId, result: Value) -> ClientJsonRpcMessage {
    JsonRpcMessage::Response(JsonRpcResponse {
        jsonrpc: JsonRpcVersion2_0,
        id,
        result: ClientResult::CustomResult(CustomResult(result)),
    })
}

fn refuse(id: RequestId, error: ErrorData) -> ClientJsonRpcMessage {
    JsonRpcMessage::Error(JsonRpcError::new(Some(id), error))
}

fn unknown(task_id: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::INVALID_PARAMS,
        format!("no task {task_id} here"),
        None,
    )
}

/// What to do with a message from the server.
enum Incoming {
    /// Hand it to rmcp.
    Pass(ServerJsonRpcMessage),
    /// Answer the server with these, hand nothing (or this) to rmcp.
    Answer(Vec<ClientJsonRpcMessage>, Option<ServerJsonRpcMessage>),
}

impl<T> TaskHost<T> {
    fn incoming(&self, message: ServerJsonRpcMessage) -> Incoming {
        let JsonRpcMessage::Request(request) = &message else {
            return Incoming::Pass(message);
        };
        let Ok(body) = serde_json::to_value(&message) else {
            return Incoming::Pass(message);
        };
        let method = body["method"].as_str().unwrap_or_default().to_owned();
        let id = request.id.clone();
        if TASK_METHODS.contains(&method.as_str())
            && let Some(task) = body["params"]["_meta"].get(TASK_KEY)
        {
            return self.start(id, body.clone(), task.clone());
        }
        let task_id = body["params"]["taskId"].as_str().unwrap_or_default();
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| t.born.elapsed() < t.ttl);
        let found = tasks.iter_mut().find(|t| t.id == task_id);
        match (method.as_str(), found) {
            ("tasks/list", _) => {
                let list: Vec<Value> = tasks.iter().map(Task::view).collect();
                Incoming::Answer(vec![answer(id, json!({ "tasks": list }))], None)
            }
            ("tasks/get", Some(task)) => Incoming::Answer(vec![answer(id, task.view())], None),
            ("tasks/result", Some(task)) => match (&task.outcome, task.status) {
                (_, Status::Cancelled) => {
                    let error = ErrorData::internal_error("the task was cancelled", None);
                    Incoming::Answer(vec![refuse(id, error)], None)
                }
                (Some(outcome), _) => {
                    Incoming::Answer(vec![outcome_message(id, outcome, &task.id)], None)
                }
                (None, _) => {
                    task.waiters.push(id);
                    Incoming::Answer(vec![], None)
                }
            },
            ("tasks/cancel", Some(task)) => {
                if task.status != Status::Working {
                    let error = ErrorData::new(
                        ErrorCode::INVALID_PARAMS,
                        format!("task {} already ended", task.id),
                        None,
                    );
                    return Incoming::Answer(vec![refuse(id, error)], None);
                }
                task.status = Status::Cancelled;
                task.updated = SystemTime::now();
                let mut out = vec![answer(id, task.view())];
                for waiter in task.waiters.drain(..) {
                    let error = ErrorData::internal_error("the task was cancelled", None);
                    out.push(refuse(waiter, error));
                }
                // The host's pending question is dropped.
                let cancel = serde_json::from_value(json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/cancelled",
                    "params": { "requestId": task.internal, "reason": "cancelled by the server" },
                }))
                .ok();
                Incoming::Answer(out, cancel)
            }
            ("tasks/get" | "tasks/result" | "tasks/cancel", None) => {
                Incoming::Answer(vec![refuse(id, unknown(task_id))], None)
            }
            _ => {
                drop(tasks);
                Incoming::Pass(message)
            }
        }
    }

    /// Create a task for the request `body` (id `id`), answer with its handle and hand the
    /// request, without its task, to the host under an internal id.
    fn start(&self, id: RequestId, mut body: Value, task: Value) -> Incoming {
        let ttl = task["ttl"]
            .as_u64()
            .map_or(DEFAULT_TTL, Duration::from_millis)
            .clamp(MIN_TTL, MAX_TTL);
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let internal = RequestId::String(format!("latch-task-{n}").into());
        let now = SystemTime::now();
        let nanos = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let task = Task {
            id: format!("latch-{n}-{:x}", nanos & 0xffff_ffff),
            status: Status::Working,
            created: now,
            updated: now,
            born: Instant::now(),
            ttl,
            internal: internal.clone(),
            outcome: None,
            waiters: Vec::new(),
        };
        if let Some(meta) = body["params"]["_meta"].as_object_mut() {
            meta.remove(TASK_KEY);
            if meta.is_empty() {
                body["params"].as_object_mut().map(|p| p.remove("_meta"));
            }
        }
        body["id"] = serde_json::to_value(&internal).unwrap_or_default();
        let Ok(handed) = serde_json::from_value::<ServerJsonRpcMessage>(body) else {
            let error = ErrorData::invalid_params("the request could not be read", None);
            return Incoming::Answer(vec![refuse(id, error)], None);
        };
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| t.born.elapsed() < t.ttl);
        if tasks.len() >= MAX_TASKS {
            if let Some(at) = tasks.iter().position(|t| t.status != Status::Working) {
                tasks.remove(at);
            } else {
                let error = ErrorData::internal_error("too many tasks running", None);
                return Incoming::Answer(vec![refuse(id, error)], None);
            }
        }
        let handle = json!({ "task": task.view() });
        tasks.push(task);
        Incoming::Answer(vec![answer(id, handle)], Some(handed))
    }

    /// When `item` is the host's answer to a task's request: keep it as the task's outcome
    /// and return the answers for the `tasks/result` requests waiting; `None` when it is not.
    fn outgoing(&self, item: &ClientJsonRpcMessage) -> Option<Vec<ClientJsonRpcMessage>> {
        let id = match item {
            JsonRpcMessage::Response(r) => &r.id,
            JsonRpcMessage::Error(e) => e.id.as_ref()?,
            _ => return None,
        };
        let mut tasks = lock(&self.tasks);
        let task = tasks.iter_mut().find(|t| &t.internal == id)?;
        if task.status != Status::Working {
            return Some(vec![]);
        }
        let outcome = match item {
            JsonRpcMessage::Error(e) => Err(e.error.clone()),
            JsonRpcMessage::Response(r) => serde_json::to_value(&r.result)
                .map_err(|_| ErrorData::internal_error("the answer could not be read", None)),
            _ => return None,
        };
        task.status = if outcome.is_ok() {
            Status::Completed
        } else {
            Status::Failed
        };
        task.updated = SystemTime::now();
        let out = task
            .waiters
            .drain(..)
            .map(|waiter| outcome_message(waiter, &outcome, &task.id))
            .collect();
        task.outcome = Some(outcome);
        Some(out)
    }
}

/// The answer to a `tasks/result`: the host's result (tagged with its task) or its error.
fn outcome_message(
    id: RequestId,
    outcome: &Result<Value, ErrorData>,
    task_id: &str,
) -> ClientJsonRpcMessage {
    match outcome {
        Ok(result) => {
            let mut result = result.clone();
            if let Some(object) = result.as_object_mut() {
                let meta = object.entry("_meta").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert(
                        "io.modelcontextprotocol/related-task".into(),
                        json!({ "taskId": task_id }),
                    );
                }
            }
            answer(id, result)
        }
        Err(error) => refuse(id, error.clone()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T: Transport<RoleClient>> TaskHost<T> {
    /// Send `answer` to the server without waiting (a lost one is the server's timeout).
    fn spawn_send(&mut self, answer: ClientJsonRpcMessage) {
        let send = self.inner.send(answer);
        tokio::spawn(async move {
            if send.await.is_err() {
                tracing::info!("a task answer could not be sent to the server");
            }
        });
    }
}

impl<T> Transport<RoleClient> for TaskHost<T>
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
        match self.outgoing(&item) {
            None => futures::future::Either::Left(self.inner.send(item)),
            Some(answers) => {
                for answer in answers {
                    self.spawn_send(answer);
                }
                futures::future::Either::Right(futures::future::ready(Ok(())))
            }
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            let message = self.inner.receive().await?;
            match self.incoming(message) {
                Incoming::Pass(message) => return Some(message),
                Incoming::Answer(answers, handed) => {
                    for answer in answers {
                        self.spawn_send(answer);
                    }
                    if let Some(handed) = handed {
                        return Some(handed);
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.inner.close().await
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
