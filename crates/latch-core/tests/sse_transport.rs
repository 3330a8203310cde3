//! Tests for the legacy HTTP+SSE client transport (`latch_core::connection::sse`): end to end
//! against the real `@modelcontextprotocol/server-everything` in SSE mode, and against a tiny
//! scripted HTTP/1.1 server defined here, which records what the client sends and misbehaves on
//! demand (foreign endpoints, error statuses, noise, oversized events).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use http::HeaderValue;
use latch_core::connection::sse::{SseClientConfig, SseClientTransport, SseTransportError};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, ClientJsonRpcMessage},
    transport::Transport,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
    task::JoinHandle,
};
use url::Url;

const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// The real server: @modelcontextprotocol/server-everything, `sse` mode.
// ---------------------------------------------------------------------------------------------

/// Preload that makes `listen(port)` / `listen(port, callback)` bind 127.0.0.1 instead of all
/// interfaces, so the test server is never exposed on the network.
const BIND_LOCALHOST: &str = r#"'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const port = args[0];
  const isPort = typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port));
  const rest = args.slice(1);
  if (isPort && (rest.length === 0 || (rest.length === 1 && typeof rest[0] === 'function'))) {
    return listen.call(this, Number(port), '127.0.0.1', ...rest);
  }
  return listen.apply(this, args);
};
"#;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Node the test peers were installed with, else `node` on PATH.
fn find_node() -> Option<PathBuf> {
    let bundled = repo_root().join("tests/peers/node_modules/.bin/node");
    if bundled.exists() {
        return Some(bundled);
    }
    std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| PathBuf::from("node"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Everything {
    child: tokio::process::Child,
    port: u16,
    log: tempfile::NamedTempFile,
    _preload: tempfile::TempPath,
}

impl Everything {
    /// Start the server, or `None` (test skipped) when there is no Node.
    async fn start() -> Option<Self> {
        let Some(node) = find_node() else {
            eprintln!("SKIPPED: Node.js is not installed; the server-everything test needs it");
            return None;
        };
        let script = repo_root()
            .join("tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        assert!(
            script.exists(),
            "server-everything is not installed: run `npm ci` in tests/peers"
        );
        let preload = tempfile::Builder::new()
            .prefix("latch-bind-localhost-")
            .suffix(".cjs")
            .tempfile()
            .unwrap();
        std::fs::write(preload.path(), BIND_LOCALHOST).unwrap();
        let preload = preload.into_temp_path();
        let log = tempfile::NamedTempFile::new().unwrap();
        let port = free_port();
        let child = tokio::process::Command::new(&node)
            .arg("--require")
            .arg(&*preload)
            .arg(&script)
            .arg("sse")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn node");
        let mut server = Self {
            child,
            port,
            log,
            _preload: preload,
        };
        server.wait_listening().await;
        Some(server)
    }

    async fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "server-everything exited ({status}) before listening:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "server-everything did not listen on port {} within 30 s:\n{}",
                self.port,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn sse_url(&self) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}/sse", self.port)).unwrap()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[tokio::test]
async fn everything_server_lists_tools_and_sums_over_legacy_sse() {
    let Some(server) = Everything::start().await else {
        return;
    };
    let transport = SseClientTransport::connect(
        reqwest::Client::new(),
        SseClientConfig::new(server.sse_url()),
    )
    .await
    .expect("the SSE stream opens and names an endpoint");
    assert_eq!(transport.endpoint().path(), "/message");
    assert!(
        transport
            .endpoint()
            .query()
            .is_some_and(|q| q.starts_with("sessionId=")),
        "endpoint carries the session id"
    );

    let client = ().serve(transport).await.expect("initialize over SSE");
    let info = client.peer_info().expect("server info after initialize");
    let name = info.server_info.as_ref().map(|i| i.name.as_str());
    assert!(name.is_some_and(|n| !n.is_empty()), "server info: {info:?}");

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"echo"), "tools: {names:?}");
    assert!(names.contains(&"get-sum"), "tools: {names:?}");

    let arguments = json!({ "a": 2, "b": 3 }).as_object().unwrap().clone();
    let result = client
        .call_tool(CallToolRequestParams::new("get-sum").with_arguments(arguments))
        .await
        .expect("tools/call get-sum");
    let wire = serde_json::to_value(&result).unwrap();
    let texts: Vec<&str> = wire["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert!(texts.iter().any(|t| t.contains('5')), "result: {wire}");

    let arguments = json!({ "message": "hello over sse" })
        .as_object()
        .unwrap()
        .clone();
    let echoed = client
        .call_tool(CallToolRequestParams::new("echo").with_arguments(arguments))
        .await
        .expect("tools/call echo");
    assert!(
        serde_json::to_string(&echoed)
            .unwrap()
            .contains("hello over sse")
    );

    client.cancel().await.expect("close the session");
    server.stop().await;
}

/// Opened with `connect_logged`, the `GET` of the event stream and each `POST` are in the
/// server's protocol log (what the app's Log view shows), with their statuses, and the token
/// and a configured header shown as `[redacted]`, never as they are.
#[tokio::test]
async fn everything_over_sse_records_its_http_exchanges() {
    const TOKEN: &str = "sse-token-value-never-shown";
    const TENANT: &str = "sse-tenant-value-never-shown";
    let Some(server) = Everything::start().await else {
        return;
    };
    let mut config = SseClientConfig::new(server.sse_url());
    let bearer = HeaderValue::from_str(&format!("Bearer {TOKEN}")).unwrap();
    config.headers.insert(http::header::AUTHORIZATION, bearer);
    config
        .headers
        .insert("x-tenant", HeaderValue::from_static(TENANT));
    let transport =
        SseClientTransport::connect_logged(reqwest::Client::new(), config, "sse-logged")
            .await
            .expect("the SSE stream opens and names an endpoint");
    let client = ().serve(transport).await.expect("initialize over SSE");
    client.list_all_tools().await.expect("tools/list");
    client.cancel().await.expect("close the session");

    let entries = latch_core::connection::tap::entries("sse-logged");
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(TENANT), "{text}");
    let exchanges: Vec<_> = entries.iter().filter(|e| e.http.is_some()).collect();
    let shown = |entry: &latch_core::connection::tap::ProtocolEntry, name: &str| {
        let http = entry.http.as_ref().unwrap();
        http.request_headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value.clone())
    };
    let get = exchanges[0];
    let http = get.http.as_ref().unwrap();
    assert_eq!((http.method.as_str(), http.status), ("GET", Some(200)));
    assert_eq!(http.url, server.sse_url().as_str());
    assert_eq!(get.summary, "GET 200");
    assert!(
        http.response_headers
            .iter()
            .any(|h| h.name == "content-type" && h.value.starts_with("text/event-stream")),
        "{http:?}"
    );
    assert_eq!(shown(get, "accept").as_deref(), Some("text/event-stream"));
    for name in ["authorization", "x-tenant"] {
        assert_eq!(shown(get, name).as_deref(), Some("[redacted]"), "{name}");
    }
    for method in ["initialize", "notifications/initialized", "tools/list"] {
        let post = exchanges
            .iter()
            .find(|e| e.method.as_deref() == Some(method))
            .unwrap_or_else(|| panic!("the POST of {method}: {exchanges:#?}"));
        let http = post.http.as_ref().unwrap();
        assert_eq!((http.method.as_str(), http.status), ("POST", Some(202)));
        assert_eq!(post.summary, format!("POST 202 ({method})"));
        assert!(!post.is_error && http.error.is_none(), "{post:?}");
        assert!(http.request_size > 0 && post.latency_ms.is_some());
        let message = format!("http://127.0.0.1:{}/message?", server.port);
        assert!(http.url.starts_with(&message), "{}", http.url);
        assert_eq!(shown(post, "authorization").as_deref(), Some("[redacted]"));
        assert_eq!(
            shown(post, "content-type").as_deref(),
            Some("application/json")
        );
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A scripted HTTP/1.1 + SSE server.
// ---------------------------------------------------------------------------------------------

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    target: String,
    /// Names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the fake answers a `GET` with.
#[derive(Clone)]
enum GetReply {
    /// 200 with this content type; `events` is written right away, and the stream stays open.
    Stream {
        content_type: &'static str,
        events: String,
    },
    /// A plain response.
    Status {
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        body: String,
    },
}

#[derive(Clone)]
struct Script {
    get: GetReply,
    post_status: u16,
    post_headers: Vec<(&'static str, &'static str)>,
    post_body: String,
}

impl Script {
    /// A well-behaved server whose stream starts with `events`.
    fn stream(events: impl Into<String>) -> Self {
        Self {
            get: GetReply::Stream {
                content_type: "text/event-stream",
                events: events.into(),
            },
            post_status: 202,
            post_headers: Vec::new(),
            post_body: "Accepted".into(),
        }
    }

    fn get_status(status: u16, headers: Vec<(&'static str, &'static str)>, body: &str) -> Self {
        Self {
            get: GetReply::Status {
                status,
                headers,
                body: body.into(),
            },
            ..Self::stream("")
        }
    }
}

const ENDPOINT: &str = "event: endpoint\ndata: /message?sessionId=abc\n\n";

struct State {
    script: Script,
    requests: Mutex<Vec<Recorded>>,
    /// Writes onto the open SSE stream.
    push: Mutex<Option<mpsc::UnboundedSender<String>>>,
    stream_closed: watch::Sender<bool>,
}

struct Fake {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Fake {
    async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            script,
            requests: Mutex::new(Vec::new()),
            push: Mutex::new(None),
            stream_closed: watch::channel(false).0,
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = serving.clone();
                tokio::spawn(async move {
                    let _ = handle(stream, state).await;
                });
            }
        });
        Self { addr, state, task }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    fn config(&self) -> SseClientConfig {
        let mut config = SseClientConfig::new(self.url("/sse"));
        config.connect_timeout = WAIT;
        config
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    async fn wait_stream_closed(&self) {
        let mut closed = self.state.stream_closed.subscribe();
        tokio::time::timeout(WAIT, closed.wait_for(|c| *c))
            .await
            .expect("the client dropped the SSE stream in time")
            .unwrap();
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    read.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    read.read_exact(&mut body).await?;
    let request = Recorded {
        method,
        target,
        headers,
        body,
    };
    state.requests.lock().unwrap().push(request.clone());

    let script = &state.script;
    match (request.method.as_str(), &script.get) {
        (
            "GET",
            GetReply::Stream {
                content_type,
                events,
            },
        ) => {
            let (tx, mut rx) = mpsc::unbounded_channel();
            *state.push.lock().unwrap() = Some(tx);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"
            );
            write.write_all(head.as_bytes()).await?;
            write.write_all(events.as_bytes()).await?;
            write.flush().await?;
            let mut scratch = [0u8; 256];
            loop {
                tokio::select! {
                    read = read.read(&mut scratch) => {
                        if matches!(read, Ok(0) | Err(_)) {
                            break;
                        }
                    }
                    Some(text) = rx.recv() => {
                        if write.write_all(text.as_bytes()).await.is_err() {
                            break;
                        }
                        let _ = write.flush().await;
                    }
                }
            }
            state.stream_closed.send_replace(true);
        }
        (
            "GET",
            GetReply::Status {
                status,
                headers,
                body,
            },
        ) => respond(&mut write, *status, headers, body).await?,
        ("POST", _) => {
            respond(
                &mut write,
                script.post_status,
                &script.post_headers,
                &script.post_body,
            )
            .await?;
            // Answer pings on the stream, as a 2024-11-05 server answers everything.
            if (200..300).contains(&script.post_status)
                && let Ok(message) = serde_json::from_slice::<Value>(&request.body)
                && message["method"] == "ping"
            {
                let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": {} });
                push(&state, format!("event: message\ndata: {reply}\n\n"));
            }
        }
        _ => respond(&mut write, 405, &[], "").await?,
    }
    Ok(())
}

fn push(state: &State, text: String) {
    if let Some(tx) = state.push.lock().unwrap().as_ref() {
        let _ = tx.send(text);
    }
}

async fn respond(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    write.write_all(head.as_bytes()).await?;
    write.write_all(body.as_bytes()).await?;
    write.shutdown().await
}

fn ping(id: u64) -> ClientJsonRpcMessage {
    serde_json::from_value(json!({ "jsonrpc": "2.0", "id": id, "method": "ping" })).unwrap()
}

async fn receive(transport: &mut SseClientTransport) -> Option<Value> {
    tokio::time::timeout(WAIT, transport.receive())
        .await
        .expect("receive settles in time")
        .map(|m| serde_json::to_value(m).unwrap())
}

async fn connect_err(config: SseClientConfig) -> SseTransportError {
    SseClientTransport::connect(reqwest::Client::new(), config)
        .await
        .expect_err("connect must fail")
}

// ---------------------------------------------------------------------------------------------
// Tests against the fake.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn static_headers_go_on_get_and_post() {
    let fake = Fake::start(Script::stream(ENDPOINT)).await;
    let mut config = fake.config();
    config
        .headers
        .insert("x-latch-test", HeaderValue::from_static("1"));
    let mut transport = SseClientTransport::connect(reqwest::Client::new(), config)
        .await
        .unwrap();
    assert_eq!(
        transport.endpoint(),
        &fake.url("/message?sessionId=abc"),
        "the relative endpoint resolves against the SSE URL"
    );

    transport.send(ping(7)).await.expect("POST accepted");
    let reply = receive(&mut transport).await.expect("the ping's answer");
    assert_eq!(reply, json!({ "jsonrpc": "2.0", "id": 7, "result": {} }));

    let requests = fake.requests();
    let get = requests.iter().find(|r| r.method == "GET").unwrap();
    let post = requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(get.target, "/sse");
    assert_eq!(get.header("x-latch-test"), Some("1"));
    assert_eq!(get.header("accept"), Some("text/event-stream"));
    assert_eq!(post.target, "/message?sessionId=abc");
    assert_eq!(post.header("x-latch-test"), Some("1"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<Value>(&post.body).unwrap(),
        json!({ "jsonrpc": "2.0", "id": 7, "method": "ping" })
    );

    transport.close().await.unwrap();
}

#[tokio::test]
async fn endpoint_on_another_origin_is_refused() {
    for endpoint in [
        "http://127.0.0.1:1/message?sessionId=abc",
        "http://evil.example/message",
        "https://127.0.0.1/message",
        "//evil.example/message",
    ] {
        let fake = Fake::start(Script::stream(format!(
            "event: endpoint\ndata: {endpoint}\n\n"
        )))
        .await;
        let error = connect_err(fake.config()).await;
        assert!(
            matches!(error, SseTransportError::CrossOriginEndpoint { .. }),
            "{endpoint}: {error:?}"
        );
        assert_eq!(error.status(), None);
    }
}

#[tokio::test]
async fn not_found_on_get_reports_the_status() {
    let fake = Fake::start(Script::get_status(404, vec![], "Cannot GET /sse")).await;
    let error = connect_err(fake.config()).await;
    assert_eq!(error.status(), Some(404), "{error:?}");
    assert!(!error.is_auth_required());
    assert_eq!(error.to_string(), "HTTP 404 Not Found: Cannot GET /sse");
}

#[tokio::test]
async fn unauthorized_on_get_asks_for_sign_in() {
    let challenge =
        r#"Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource""#;
    let fake = Fake::start(Script::get_status(
        401,
        vec![("www-authenticate", challenge)],
        "no",
    ))
    .await;
    let error = connect_err(fake.config()).await;
    assert_eq!(error.status(), Some(401));
    assert!(error.is_auth_required());
    assert_eq!(error.auth_challenge(), Some(challenge));
}

#[tokio::test]
async fn a_401_on_post_is_authorization_required_for_rmcp() {
    let mut script = Script::stream(ENDPOINT);
    script.post_status = 401;
    script.post_headers = vec![("www-authenticate", "Bearer")];
    let fake = Fake::start(script).await;
    let transport = SseClientTransport::connect(reqwest::Client::new(), fake.config())
        .await
        .unwrap();
    let error = ().serve(transport).await.expect_err("initialize fails");
    assert!(error.is_authorization_required(), "{error:?}");
    assert_eq!(error.auth_challenge(), Some("Bearer"));
}

#[tokio::test]
async fn post_failure_carries_the_status_and_a_short_body() {
    let mut script = Script::stream(ENDPOINT);
    script.post_status = 500;
    script.post_body = "E".repeat(5000);
    let fake = Fake::start(script).await;
    let mut transport = SseClientTransport::connect(reqwest::Client::new(), fake.config())
        .await
        .unwrap();
    let error = transport.send(ping(1)).await.expect_err("a 500 fails");
    assert_eq!(error.status(), Some(500));
    assert!(!error.is_auth_required());
    match &error {
        SseTransportError::HttpStatus { body, .. } => {
            assert!(
                body.chars().count() <= 256,
                "{} chars",
                body.chars().count()
            );
            assert!(body.starts_with("EEEE"));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("HTTP 500 Internal Server Error: EEE")
    );
    transport.close().await.unwrap();
}

#[tokio::test]
async fn noise_and_bad_messages_are_skipped() {
    let notification = r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#;
    let events = [
        ": a comment before anything\n\n",
        &format!("event: message\ndata: {notification}\n\n"), // before the endpoint: ignored
        ENDPOINT,
        ": keep-alive\n\n",
        "event: message\ndata:\n\n",
        "event: message\ndata: \n\n",
        "data: this is not json\n\n",
        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"bogus\":true}\n\n",
        "event: something-else\ndata: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}\n\n",
        "event: endpoint\ndata: /elsewhere\n\n",
        &format!("event: message\r\ndata: {notification}\r\n\r\n"),
        "data: {\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n\n",
    ]
    .concat();
    let fake = Fake::start(Script::stream(events)).await;
    let mut transport = SseClientTransport::connect(reqwest::Client::new(), fake.config())
        .await
        .unwrap();
    assert_eq!(transport.endpoint(), &fake.url("/message?sessionId=abc"));
    assert_eq!(
        receive(&mut transport).await,
        Some(serde_json::from_str::<Value>(notification).unwrap())
    );
    assert_eq!(
        receive(&mut transport).await,
        Some(json!({ "jsonrpc": "2.0", "id": 3, "method": "ping" }))
    );
    transport.close().await.unwrap();
}

#[tokio::test]
async fn an_oversized_event_ends_the_stream() {
    let big = format!("data: {}\n\n", "x".repeat(4096));
    let fake = Fake::start(Script::stream(format!("{ENDPOINT}{big}"))).await;
    let mut config = fake.config();
    config.max_event_size = 1024;
    let mut transport = SseClientTransport::connect(reqwest::Client::new(), config)
        .await
        .unwrap();
    assert_eq!(receive(&mut transport).await, None);
    fake.wait_stream_closed().await;

    // Before the endpoint, it fails the connect.
    let fake = Fake::start(Script::stream(format!("{big}{ENDPOINT}"))).await;
    let mut config = fake.config();
    config.max_event_size = 1024;
    let error = connect_err(config).await;
    assert!(
        matches!(error, SseTransportError::EventTooLarge { max_size: 1024 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn close_drops_the_stream() {
    let fake = Fake::start(Script::stream(ENDPOINT)).await;
    let mut transport = SseClientTransport::connect(reqwest::Client::new(), fake.config())
        .await
        .unwrap();
    transport.close().await.unwrap();
    fake.wait_stream_closed().await;
    assert_eq!(receive(&mut transport).await, None);
    assert!(matches!(
        transport.send(ping(1)).await,
        Err(SseTransportError::Closed)
    ));
    // Closing twice is harmless.
    transport.close().await.unwrap();
}

#[tokio::test]
async fn dropping_the_transport_drops_the_stream() {
    let fake = Fake::start(Script::stream(ENDPOINT)).await;
    let transport = SseClientTransport::connect(reqwest::Client::new(), fake.config())
        .await
        .unwrap();
    drop(transport);
    fake.wait_stream_closed().await;
}

#[tokio::test]
async fn no_endpoint_event_times_out() {
    let fake = Fake::start(Script::stream(": hello\n\n")).await;
    let mut config = fake.config();
    config.connect_timeout = Duration::from_millis(300);
    let error = connect_err(config).await;
    assert!(
        matches!(error, SseTransportError::EndpointTimeout { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_response_that_is_not_an_event_stream_is_refused() {
    let mut script = Script::stream("{}");
    script.get = GetReply::Stream {
        content_type: "application/json",
        events: "{}".into(),
    };
    let fake = Fake::start(script).await;
    let error = connect_err(fake.config()).await;
    assert!(
        matches!(error, SseTransportError::NotEventStream { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn unreachable_server_is_a_request_error() {
    let mut config =
        SseClientConfig::new(Url::parse(&format!("http://127.0.0.1:{}/sse", free_port())).unwrap());
    config.connect_timeout = WAIT;
    let error = connect_err(config).await;
    match &error {
        SseTransportError::Request(inner) => assert!(inner.is_connect(), "{inner:?}"),
        other => panic!("unexpected error {other:?}"),
    }
}
