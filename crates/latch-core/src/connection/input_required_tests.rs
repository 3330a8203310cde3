//! The rounds of a multi round-trip request against rmcp's own server side (which returns
//! `input_required` only to a 2026-07-28 peer), over an in-memory stream: answers from a test
//! host for elicitation, sampling and roots, `requestState` echoed (and omitted when none was
//! sent), a new request id each round, and the round limit.

#![allow(deprecated)] // sampling and roots are deprecated by SEP-2577, still asked for by servers

use std::sync::{Arc, Mutex};

use rmcp::{
    ClientHandler, RoleClient, RoleServer, ServerHandler,
    model::*,
    service::{Peer, RequestContext, RunningService, serve_directly},
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Continuation, Round, drive};
use crate::{
    connection::{CallError, LatchHandler, Shared},
    events::EventBus,
    host::{
        ElicitationRequest, ElicitationResponse, Host, HostCapabilities, HostFuture, Root,
        SamplingRequest, SamplingResponse,
    },
};

/// What the server saw of one `tools/call`.
#[derive(Debug, Clone)]
struct Seen {
    id: NumberOrString,
    tool: String,
    state: Option<String>,
    responses: Option<InputResponses>,
}

#[derive(Clone, Default)]
struct MrtrServer {
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn elicitation(message: &str) -> InputRequest {
    serde_json::from_value(json!({"method": "elicitation/create", "params": {
        "mode": "form", "message": message,
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}},
                            "required": ["name"]}
    }}))
    .unwrap()
}

fn asking(requests: Vec<(&str, InputRequest)>, state: Option<&str>) -> CallToolResponse {
    let requests: InputRequests = requests
        .into_iter()
        .map(|(key, request)| (key.to_owned(), request))
        .collect();
    InputRequiredResult::new(Some(requests), state.map(str::to_owned)).into()
}

fn done(text: String) -> CallToolResponse {
    CallToolResult::success(vec![ContentBlock::text(text)]).into()
}

impl ServerHandler for MrtrServer {
    fn get_info(&self) -> ServerInfo {
        let mut info = ServerInfo::new(ServerCapabilities::builder().enable_tools().build());
        info.protocol_version = ProtocolVersion::V_2026_07_28;
        info
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.seen.lock().unwrap().push(Seen {
            id: context.id.clone(),
            tool: request.name.to_string(),
            state: request.request_state.clone(),
            responses: request.input_responses.clone(),
        });
        let responses = request.input_responses.unwrap_or_default();
        Ok(
            match (request.name.as_ref(), request.request_state.as_deref()) {
                ("three_rounds", None) => asking(vec![("who", elicitation("Name?"))], Some("r1")),
                ("three_rounds", Some("r1")) => {
                    let sampling = CreateMessageRequest::new(CreateMessageRequestParams::new(
                        vec![SamplingMessage::user_text("Capital of France?")],
                        50,
                    ));
                    asking(
                        vec![
                            ("reply", InputRequest::CreateMessage(sampling)),
                            (
                                "where",
                                InputRequest::ListRoots(ListRootsRequest::default()),
                            ),
                        ],
                        // Opaque: dots, quotes, spaces and a newline must come back byte for byte.
                        Some("r2.\"opaque\" state\n+/="),
                    )
                }
                ("three_rounds", Some("r2.\"opaque\" state\n+/=")) => done(format!(
                    "reply={} roots={}",
                    responses["reply"]["content"]["text"], responses["where"]["roots"]
                )),
                ("no_state", _) if responses.is_empty() => {
                    asking(vec![("who", elicitation("Name?"))], None)
                }
                ("no_state", _) => done(format!("name={}", responses["who"]["content"]["name"])),
                ("forever", _) => asking(vec![("who", elicitation("Again?"))], Some("again")),
                ("sampling", _) => {
                    let sampling = CreateMessageRequest::new(CreateMessageRequestParams::new(
                        vec![SamplingMessage::user_text("Hi?")],
                        10,
                    ));
                    asking(vec![("reply", InputRequest::CreateMessage(sampling))], None)
                }
                (other, state) => {
                    return Err(ErrorData::invalid_params(
                        format!("unexpected {other} with state {state:?}"),
                        None,
                    ));
                }
            },
        )
    }
}

/// A host that answers everything, and remembers what it was asked.
#[derive(Default)]
struct AnsweringHost {
    asked: Mutex<Vec<String>>,
}

impl Host for AnsweringHost {
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("elicit {}", request.message));
        let mut values = serde_json::Map::new();
        values.insert("name".into(), json!("Ada"));
        Box::pin(async move { ElicitationResponse::Accept(values) })
    }

    fn capabilities(&self) -> HostCapabilities {
        HostCapabilities {
            open_pages: true,
            sampling: true,
            roots: true,
        }
    }

    fn sample(&self, request: SamplingRequest) -> HostFuture<'_, SamplingResponse> {
        let first = &request.messages[0];
        self.asked
            .lock()
            .unwrap()
            .push(format!("sample {}: {}", first.role, first.text));
        Box::pin(async {
            SamplingResponse::Reply {
                text: "Paris".into(),
                model: "test".into(),
            }
        })
    }

    fn roots(&self, server: String) -> HostFuture<'_, Vec<Root>> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("roots for {server}"));
        Box::pin(async {
            vec![Root {
                uri: "file:///work/project".into(),
                name: Some("project".into()),
            }]
        })
    }
}

/// A host that answers forms but has no model.
struct FormsOnly;

impl Host for FormsOnly {
    fn elicit(&self, _: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        Box::pin(async { ElicitationResponse::Decline })
    }
}

struct Pair {
    handler: LatchHandler,
    client: RunningService<RoleClient, LatchHandler>,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn pair(host: Arc<dyn Host>) -> Pair {
    let handler = LatchHandler {
        shared: Arc::new(Shared {
            server: "mrtr".into(),
            events: EventBus::new(),
            host,
            tools: Default::default(),
            calls: Default::default(),
            relay: None,
        }),
    };
    let server = MrtrServer::default();
    let seen = server.seen.clone();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let client_says = InitializeRequestParams::new(
        handler.get_info().capabilities,
        Implementation::new("latch-test", "0"),
    )
    .with_protocol_version(ProtocolVersion::V_2026_07_28);
    let server_says = server.get_info();
    let server = tokio::spawn(async move {
        let running =
            serve_directly::<RoleServer, _, _, _, _>(server, server_io, Some(client_says));
        let _ = running.waiting().await;
    });
    let client = serve_directly::<RoleClient, _, _, _, _>(
        handler.clone(),
        client_io,
        Some(server_says.into()),
    );
    Pair {
        handler,
        client,
        seen,
        server,
    }
}

/// One round of `tools/call` as its own request.
async fn send(
    peer: &Peer<RoleClient>,
    tool: &str,
    next: Continuation,
) -> Result<Round<String>, CallError> {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    params.input_responses = next.input_responses;
    params.request_state = next.request_state;
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
    match peer.send_request(request).await {
        Ok(ServerResult::CallToolResult(result)) => Ok(Round::Complete(
            result.content[0].as_text().unwrap().text.clone(),
        )),
        Ok(ServerResult::InputRequiredResult(asked)) => Ok(Round::InputRequired(asked)),
        other => panic!("unexpected answer {other:?}"),
    }
}

async fn call(pair: &Pair, tool: &str) -> Result<String, CallError> {
    let peer = pair.client.peer().clone();
    drive(
        &pair.handler,
        &CancellationToken::new(),
        super::MAX_ROUNDS,
        |next| {
            let peer = peer.clone();
            let tool = tool.to_owned();
            async move { send(&peer, &tool, next).await }
        },
    )
    .await
}

#[tokio::test]
async fn three_rounds_answer_elicitation_sampling_and_roots_and_echo_the_state() {
    let host = Arc::new(AnsweringHost::default());
    let pair = pair(host.clone());
    let text = call(&pair, "three_rounds").await.unwrap();
    assert_eq!(
        text,
        r#"reply="Paris" roots=[{"uri":"file:///work/project","name":"project"}]"#
    );
    let seen = pair.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "three rounds: {seen:?}");
    assert_eq!(seen[0].state, None);
    assert_eq!(seen[0].responses, None);
    assert_eq!(seen[1].state.as_deref(), Some("r1"));
    let first = seen[1].responses.as_ref().unwrap();
    assert_eq!(
        first["who"],
        json!({"action": "accept", "content": {"name": "Ada"}})
    );
    assert_eq!(seen[2].state.as_deref(), Some("r2.\"opaque\" state\n+/="));
    assert_eq!(seen[2].responses.as_ref().unwrap().len(), 2);
    let ids: std::collections::HashSet<String> =
        seen.iter().map(|s| format!("{:?}", s.id)).collect();
    assert_eq!(ids.len(), 3, "every round is a new request id: {seen:?}");
    let mut asked = host.asked.lock().unwrap().clone();
    asked.sort();
    assert_eq!(
        asked,
        [
            "elicit Name?",
            "roots for mrtr",
            "sample user: Capital of France?"
        ]
    );
}

#[tokio::test]
async fn no_state_from_the_server_means_none_in_the_retry() {
    let pair = pair(Arc::new(AnsweringHost::default()));
    assert_eq!(call(&pair, "no_state").await.unwrap(), r#"name="Ada""#);
    let seen = pair.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.state.is_none()), "{seen:?}");
}

#[tokio::test]
async fn a_server_that_keeps_asking_is_stopped_after_the_round_limit() {
    let pair = pair(Arc::new(AnsweringHost::default()));
    let error = call(&pair, "forever").await.unwrap_err();
    assert!(
        matches!(error, CallError::KeptAskingForInput { rounds: 10 }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("kept asking for input"),
        "{error}"
    );
    assert_eq!(pair.seen.lock().unwrap().len(), 10);
}

#[tokio::test]
async fn a_host_without_a_model_declines_sampling_and_the_call_stops() {
    let pair = pair(Arc::new(FormsOnly));
    assert!(
        pair.handler.get_info().capabilities.sampling.is_none(),
        "sampling is not announced by a host that cannot answer it"
    );
    let error = call(&pair, "sampling").await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("a model reply (sampling)") && message.contains("no model"),
        "{message}"
    );
    assert_eq!(pair.seen.lock().unwrap().len(), 1, "nothing was sent again");
}

#[tokio::test]
async fn parallel_calls_keep_their_own_answers_and_state() {
    let pair = pair(Arc::new(AnsweringHost::default()));
    let (a, b) = tokio::join!(call(&pair, "three_rounds"), call(&pair, "no_state"));
    a.unwrap();
    b.unwrap();
    let seen = pair.seen.lock().unwrap().clone();
    let no_state: Vec<&Seen> = seen.iter().filter(|s| s.tool == "no_state").collect();
    assert_eq!(no_state.len(), 2);
    assert!(no_state.iter().all(|s| s.state.is_none()), "{seen:?}");
    assert!(
        no_state
            .iter()
            .filter_map(|s| s.responses.as_ref())
            .all(|r| r.keys().eq(["who"])),
        "{seen:?}"
    );
}

#[test]
fn the_host_capabilities_decide_what_is_announced() {
    let handler = |host: Arc<dyn Host>| LatchHandler {
        shared: Arc::new(Shared {
            server: "s".into(),
            events: EventBus::new(),
            host,
            tools: Default::default(),
            calls: Default::default(),
            relay: None,
        }),
    };
    let all = handler(Arc::new(AnsweringHost::default())).get_info();
    assert!(all.capabilities.sampling.is_some() && all.capabilities.roots.is_some());
    let elicitation = all.capabilities.elicitation.unwrap();
    assert!(elicitation.form.is_some() && elicitation.url.is_some());
    let forms = handler(Arc::new(FormsOnly)).get_info();
    assert!(forms.capabilities.sampling.is_none() && forms.capabilities.roots.is_none());
    let wire: Value = serde_json::to_value(&forms.capabilities).unwrap();
    assert!(wire["elicitation"]["form"].is_object(), "{wire}");
    assert!(wire["elicitation"].get("url").is_none(), "{wire}");
}
