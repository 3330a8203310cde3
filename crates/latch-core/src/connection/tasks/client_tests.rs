//! Unit tests for the task host: a fake server on channels sends task-augmented requests and
//! `tasks/*` requests through [`TaskHost`], the test plays the host (rmcp) on the other side.

use tokio::sync::mpsc;

use super::*;

/// The server's side of a transport: what it sends Latch, and what Latch sends it.
struct Fake {
    from_server: mpsc::UnboundedReceiver<ServerJsonRpcMessage>,
    to_server: mpsc::UnboundedSender<ClientJsonRpcMessage>,
}

impl Transport<RoleClient> for Fake {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = self.to_server.send(item).map_err(std::io::Error::other);
        async move { sent }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        self.from_server.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

struct Peer {
    host: TaskHost<Fake>,
    server: mpsc::UnboundedSender<ServerJsonRpcMessage>,
    sent: mpsc::UnboundedReceiver<ClientJsonRpcMessage>,
}

fn peer() -> Peer {
    let (server, from_server) = mpsc::unbounded_channel();
    let (to_server, sent) = mpsc::unbounded_channel();
    Peer {
        host: TaskHost::new(Fake {
            from_server,
            to_server,
        }),
        server,
        sent,
    }
}

impl Peer {
    /// The server sends `message` (raw JSON, as on the wire, through [`mark`]).
    fn server_sends(&self, message: Value) {
        let data = mark(message.to_string());
        self.server
            .send(serde_json::from_str(&data).unwrap())
            .unwrap();
    }

    /// What Latch sent the server next, as JSON.
    async fn server_gets(&mut self) -> Value {
        serde_json::to_value(self.sent.recv().await.unwrap()).unwrap()
    }
}

fn sampling(id: u64) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "sampling/createMessage",
        "params": {
            "task": { "ttl": 60000 },
            "messages": [{ "role": "user", "content": { "type": "text", "text": "hi" } }],
            "maxTokens": 10,
        },
    })
}

fn tasks_request(id: u64, method: &str, task_id: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": { "taskId": task_id } })
}

/// The server asks for sampling as a task: Latch answers with a handle and hands the request,
/// without `task`, to the host; the task id and the host-side request.
async fn started(peer: &mut Peer) -> (String, ServerJsonRpcMessage) {
    peer.server_sends(sampling(7));
    let handed = peer.host.receive().await.unwrap();
    let handle = peer.server_gets().await;
    assert_eq!(handle["id"], 7);
    assert_eq!(handle["result"]["task"]["status"], "working");
    assert_eq!(handle["result"]["task"]["ttl"], 60000);
    assert!(handle["result"]["task"]["pollInterval"].is_u64());
    let task_id = handle["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    (task_id, handed)
}

#[tokio::test]
async fn a_task_request_gets_a_handle_and_tasks_result_gets_the_hosts_answer() {
    let mut peer = peer();
    let (task_id, handed) = started(&mut peer).await;
    let handed = serde_json::to_value(&handed).unwrap();
    assert_eq!(handed["method"], "sampling/createMessage");
    assert_ne!(handed["id"], 7, "the host answers under an internal id");
    assert!(handed["params"].get("task").is_none(), "{handed}");
    assert!(handed["params"].get("_meta").is_none(), "{handed}");

    // Before the host answers: working, and tasks/result waits.
    peer.server_sends(tasks_request(8, "tasks/get", &task_id));
    peer.server_sends(tasks_request(9, "tasks/result", &task_id));
    peer.server_sends(json!({ "jsonrpc": "2.0", "id": 10, "method": "ping" }));
    let ping = peer.host.receive().await.unwrap();
    assert_eq!(serde_json::to_value(&ping).unwrap()["method"], "ping");
    let status = peer.server_gets().await;
    assert_eq!(status["id"], 8);
    assert_eq!(status["result"]["status"], "working");
    assert!(
        peer.sent.try_recv().is_err(),
        "tasks/result waits for the answer"
    );

    // The host answers: not sent as such, but as the waiting tasks/result's answer.
    let reply: ClientJsonRpcMessage = serde_json::from_value(json!({
        "jsonrpc": "2.0", "id": handed["id"],
        "result": { "role": "assistant", "model": "person", "content": { "type": "text", "text": "hello" } },
    }))
    .unwrap();
    peer.host.send(reply).await.unwrap();
    let result = peer.server_gets().await;
    assert_eq!(result["id"], 9);
    assert_eq!(result["result"]["content"]["text"], "hello");
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task_id.as_str()
    );

    // Afterwards: completed, listed, and tasks/result answers at once.
    peer.server_sends(tasks_request(11, "tasks/get", &task_id));
    peer.server_sends(json!({ "jsonrpc": "2.0", "id": 12, "method": "tasks/list" }));
    peer.server_sends(tasks_request(13, "tasks/result", &task_id));
    peer.server_sends(json!({ "jsonrpc": "2.0", "id": 14, "method": "ping" }));
    peer.host.receive().await.unwrap();
    assert_eq!(peer.server_gets().await["result"]["status"], "completed");
    let list = peer.server_gets().await;
    assert_eq!(list["result"]["tasks"][0]["taskId"], task_id.as_str());
    assert_eq!(
        peer.server_gets().await["result"]["content"]["text"],
        "hello"
    );
}

#[tokio::test]
async fn tasks_cancel_drops_the_hosts_question() {
    let mut peer = peer();
    let (task_id, handed) = started(&mut peer).await;
    let internal = serde_json::to_value(&handed).unwrap()["id"].clone();
    peer.server_sends(tasks_request(8, "tasks/result", &task_id));
    peer.server_sends(tasks_request(9, "tasks/cancel", &task_id));
    // The host is told its question is cancelled.
    let cancelled = serde_json::to_value(peer.host.receive().await.unwrap()).unwrap();
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], internal);
    let answer = peer.server_gets().await;
    assert_eq!(answer["id"], 9);
    assert_eq!(answer["result"]["status"], "cancelled");
    let waiting = peer.server_gets().await;
    assert_eq!(waiting["id"], 8);
    assert!(waiting["error"]["message"].is_string(), "{waiting}");
    // A late answer from the host goes nowhere.
    let late: ClientJsonRpcMessage = serde_json::from_value(json!({
        "jsonrpc": "2.0", "id": internal, "result": { "action": "decline" },
    }))
    .unwrap();
    peer.host.send(late).await.unwrap();
    assert!(peer.sent.try_recv().is_err());
}

#[tokio::test]
async fn an_unknown_task_id_is_an_error() {
    let mut peer = peer();
    for (id, method) in [(1, "tasks/get"), (2, "tasks/result"), (3, "tasks/cancel")] {
        peer.server_sends(tasks_request(id, method, "no-such-task"));
    }
    peer.server_sends(json!({ "jsonrpc": "2.0", "id": 4, "method": "ping" }));
    peer.host.receive().await.unwrap();
    for id in 1..=3 {
        let answer = peer.server_gets().await;
        assert_eq!(answer["id"], id);
        assert_eq!(answer["error"]["code"], -32602);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no-such-task")
        );
    }
}

#[test]
fn initialize_announces_only_what_the_host_answers_and_only_in_2025() {
    let init = |version: &str, caps: Value| -> ClientJsonRpcMessage {
        serde_json::from_value(json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": version, "capabilities": caps,
                "clientInfo": { "name": "latch", "version": "1" },
            },
        }))
        .unwrap()
    };
    let caps = |message: ClientJsonRpcMessage| {
        serde_json::to_value(announce(message)).unwrap()["params"]["capabilities"].clone()
    };
    let both = caps(init(
        "2025-11-25",
        json!({ "sampling": {}, "elicitation": {} }),
    ));
    assert_eq!(
        both["tasks"]["requests"]["sampling"]["createMessage"],
        json!({})
    );
    assert_eq!(
        both["tasks"]["requests"]["elicitation"]["create"],
        json!({})
    );
    let elicits = caps(init("2025-06-18", json!({ "elicitation": {} })));
    assert!(elicits["tasks"]["requests"].get("sampling").is_none());
    assert!(
        caps(init("2025-11-25", json!({ "roots": {} })))
            .get("tasks")
            .is_none()
    );
    assert!(
        caps(init("2026-07-28", json!({ "sampling": {} })))
            .get("tasks")
            .is_none()
    );
}

#[test]
fn only_a_task_augmented_sampling_or_elicitation_is_marked() {
    let marked: Value = serde_json::from_str(&mark(sampling(1).to_string())).unwrap();
    assert!(marked["params"].get("task").is_none());
    assert_eq!(marked["params"]["_meta"][TASK_KEY]["ttl"], 60000);
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "x", "task": {} } });
    assert_eq!(mark(call.to_string()), call.to_string());
}

#[test]
fn timestamps_are_rfc3339() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_650_000);
    assert_eq!(rfc3339(at), "2025-12-02T04:33:20Z");
}

/// A server's wire: keeps what was posted, answers every `POST` and `GET` with a stream of one
/// event, a task-augmented sampling request.
#[derive(Clone, Default)]
struct Wire(Arc<Mutex<Vec<Value>>>);

impl Wire {
    fn stream() -> crate::connection::http::layer::Events {
        let event = sse_stream::Sse {
            data: Some(sampling(3).to_string()),
            ..sse_stream::Sse::default()
        };
        futures::stream::iter([Ok(event)]).boxed()
    }
}

impl StreamableHttpClient for Wire {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        _uri: Arc<str>,
        message: ClientJsonRpcMessage,
        _session_id: Option<Arc<str>>,
        _token: Option<String>,
        _headers: crate::connection::http::layer::Headers,
    ) -> Result<StreamableHttpPostResponse, Error> {
        lock(&self.0).push(serde_json::to_value(message).unwrap());
        Ok(StreamableHttpPostResponse::Sse(Self::stream(), None))
    }

    async fn delete_session(
        &self,
        _uri: Arc<str>,
        _session_id: Arc<str>,
        _token: Option<String>,
        _headers: crate::connection::http::layer::Headers,
    ) -> Result<(), Error> {
        Ok(())
    }

    async fn get_stream(
        &self,
        _uri: Arc<str>,
        _session_id: Option<Arc<str>>,
        _last_event_id: Option<String>,
        _token: Option<String>,
        _headers: crate::connection::http::layer::Headers,
    ) -> Result<crate::connection::http::layer::Events, Error> {
        Ok(Self::stream())
    }
}

/// The first event's data, as JSON.
async fn first(events: crate::connection::http::layer::Events) -> Value {
    let event = events.boxed().next().await.unwrap().unwrap();
    serde_json::from_str(&event.data.unwrap()).unwrap()
}

#[tokio::test]
async fn task_marks_announce_and_mark_on_their_own_without_the_protocol_log() {
    let wire = Wire::default();
    let client = TaskMarks::new(wire.clone());
    let uri: Arc<str> = "http://127.0.0.1:9/mcp".into();
    let init: ClientJsonRpcMessage = serde_json::from_value(json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": { "sampling": {} },
            "clientInfo": { "name": "latch", "version": "1" },
        },
    }))
    .unwrap();
    let answer = client
        .post_message(uri.clone(), init, None, None, Default::default())
        .await
        .unwrap();
    let posted = lock(&wire.0)[0].clone();
    assert_eq!(
        posted["params"]["capabilities"]["tasks"]["requests"]["sampling"]["createMessage"],
        json!({})
    );
    let StreamableHttpPostResponse::Sse(events, _) = answer else {
        panic!("the stream is passed on");
    };
    let marked = first(events).await;
    assert!(marked["params"].get("task").is_none());
    assert_eq!(marked["params"]["_meta"][TASK_KEY]["ttl"], 60000);

    let events = client
        .get_stream(uri, Some("s".into()), None, None, Default::default())
        .await
        .unwrap();
    let marked = first(events).await;
    assert_eq!(marked["params"]["_meta"][TASK_KEY]["ttl"], 60000);
}
