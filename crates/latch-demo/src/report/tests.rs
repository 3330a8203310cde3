//! `make_report` driven over the demo's real HTTP endpoint by rmcp's own client — an
//! independent peer — signed in with a token from the demo's authorization server: as a task
//! (poll, answer the question, cancel) for a client that declared the extension, and as a plain
//! call for one that did not.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams,
        ClientCapabilities, ClientConfig, DetailedTask, ElicitRequestParams, ElicitResult,
        ElicitationAction, ElicitationCapability, ErrorData, GetTaskParams, Implementation,
        InputRequest, ProtocolVersion, TaskPayload, TaskStatus, UpdateTaskParams,
    },
    service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService},
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{POLL_INTERVAL_MS, QUESTION_KEY};
use crate::{DemoOptions, DemoServer, oauth::Authorization};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT: &str = "http://127.0.0.1:5000/callback";

async fn demo() -> DemoServer {
    DemoServer::start(DemoOptions {
        port: 0,
        ..DemoOptions::default()
    })
    .await
    .unwrap()
}

/// An access token from the demo's own authorization server (code + PKCE, in process).
fn access_token(demo: &DemoServer) -> String {
    let form = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let client = demo
        .auth
        .register(&json!({ "redirect_uris": [REDIRECT], "client_name": "report tests" }))
        .unwrap();
    let client_id = client["client_id"].as_str().unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let resource = demo.url();
    let Authorization::Redirect(to) = demo.auth.authorize(&form(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "s"),
        ("resource", &resource),
    ])) else {
        panic!("the demo refused to sign in")
    };
    let code = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = demo
        .auth
        .token(&form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("resource", &resource),
        ]))
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// A client that answers an `elicitation/create` with "yes, include them".
#[derive(Clone)]
struct Client {
    config: ClientConfig,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        self.config.clone()
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, .. } = request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        assert_eq!(message, "Include the deleted notes too?");
        Ok(ElicitResult::new(ElicitationAction::Accept)
            .with_content(json!({ "include_deleted": true })))
    }
}

/// A client of the 2026-07-28 era (`server/discover`, capabilities sent with each request)
/// or, given an older version, one that starts with `initialize`.
async fn connect(
    demo: &DemoServer,
    capabilities: ClientCapabilities,
    version: ProtocolVersion,
) -> RunningService<RoleClient, Client> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(demo.url()).auth_header(access_token(demo)),
    );
    let config = ClientConfig::new(capabilities, Implementation::new("report-tests", "1"))
        .with_protocol_version(version.clone());
    let client = Client { config };
    if version == ProtocolVersion::V_2026_07_28 {
        let lifecycle = ClientLifecycleMode::Discover {
            preferred_versions: vec![version],
        };
        client
            .serve_with_lifecycle(transport, lifecycle)
            .await
            .unwrap()
    } else {
        client.serve(transport).await.unwrap()
    }
}

fn with_tasks() -> ClientCapabilities {
    ClientCapabilities::builder()
        .enable_elicitation_with(ElicitationCapability::default())
        .enable_tasks()
        .build()
}

fn make_report(seconds: u32) -> CallToolRequestParams {
    CallToolRequestParams::new("make_report")
        .with_arguments(json!({ "seconds": seconds }).as_object().unwrap().clone())
}

fn text_of(result: &CallToolResult) -> String {
    result.content[0].as_text().unwrap().text.clone()
}

/// `tasks/get` again (every poll interval the task asked for) until `done` says it is.
async fn poll_until(
    client: &RunningService<RoleClient, Client>,
    task_id: &str,
    done: impl Fn(&DetailedTask) -> bool,
) -> DetailedTask {
    loop {
        let task = client
            .peer()
            .get_task(GetTaskParams::new(task_id))
            .await
            .unwrap()
            .task;
        if done(&task) {
            return task;
        }
        tokio::time::sleep(std::time::Duration::from_millis(POLL_INTERVAL_MS / 5)).await;
    }
}

async fn start_task(client: &RunningService<RoleClient, Client>, seconds: u32) -> String {
    let CallToolResponse::Task(created) =
        client.call_tool_once(make_report(seconds)).await.unwrap()
    else {
        panic!("a client that declared the tasks extension gets a task")
    };
    assert_eq!(created.task.status, TaskStatus::Working);
    assert_eq!(created.task.poll_interval_ms, Some(POLL_INTERVAL_MS));
    assert_eq!(
        created.task.status_message.as_deref(),
        Some("Counting notes…")
    );
    created.task.task_id
}

#[tokio::test]
async fn a_task_works_asks_and_completes_with_the_report() {
    let demo = demo().await;
    let client = connect(&demo, with_tasks(), ProtocolVersion::V_2026_07_28).await;
    let deleted = client
        .call_tool(
            CallToolRequestParams::new("delete_note")
                .with_arguments(json!({ "id": "note-2" }).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(deleted.is_error, Some(false), "{deleted:?}");

    let task_id = start_task(&client, 1).await;
    let asking = poll_until(&client, &task_id, |t| t.status() != TaskStatus::Working).await;
    assert_eq!(
        asking.task.status_message.as_deref(),
        Some("Writing the report… 40%")
    );
    let TaskPayload::InputRequired { input_requests } = &asking.payload else {
        panic!("expected the question, got {asking:?}")
    };
    let Some(InputRequest::Elicitation(request)) = input_requests.get(QUESTION_KEY) else {
        panic!("expected an elicitation form, got {input_requests:?}")
    };
    let form = serde_json::to_value(&request.params).unwrap();
    assert_eq!(form["mode"], "form", "{form:#}");
    assert_eq!(form["message"], "Include the deleted notes too?");
    assert_eq!(
        form["requestedSchema"]["properties"]["include_deleted"]["type"], "boolean",
        "{form:#}"
    );

    let answer = json!({ "action": "accept", "content": { "include_deleted": true } });
    client
        .peer()
        .update_task(UpdateTaskParams::new(
            task_id.clone(),
            [(QUESTION_KEY.to_owned(), answer)].into(),
        ))
        .await
        .unwrap();
    let done = poll_until(&client, &task_id, |t| t.status().is_terminal()).await;
    let TaskPayload::Completed { result } = done.payload else {
        panic!("expected the report, got {done:?}")
    };
    let result: CallToolResult = serde_json::from_value(Value::Object(result)).unwrap();
    let text = text_of(&result);
    assert!(text.starts_with("Report: 2 notes."), "{text}");
    assert!(text.contains("- `note-1`: Buy milk"), "{text}");
    assert!(
        text.contains("Deleted since the demo started: 1.\n\n- `note-2`: Call the dentist"),
        "{text}"
    );
    assert_eq!(
        result.structured_content,
        Some(json!({ "notes": 2, "deleted": 1 }))
    );
    assert_eq!(
        done.task.status_message.as_deref(),
        Some("Writing the report… 100%")
    );
    assert_eq!(demo.stats().reports_cancelled, 0);
    client.cancel().await.unwrap();
    demo.stop().await;
}

#[tokio::test]
async fn tasks_cancel_stops_it_while_working_and_while_asking() {
    let demo = demo().await;
    let client = connect(&demo, with_tasks(), ProtocolVersion::V_2026_07_28).await;

    // While working: 10 s in 1 s steps; cancel once it has written something.
    let working = start_task(&client, 10).await;
    poll_until(&client, &working, |t| {
        t.task.status_message.as_deref() == Some("Writing the report… 10%")
    })
    .await;
    client
        .peer()
        .cancel_task(CancelTaskParams::new(working.clone()))
        .await
        .unwrap();
    let stopped = poll_until(&client, &working, |t| t.status().is_terminal()).await;
    assert_eq!(stopped.status(), TaskStatus::Cancelled, "{stopped:?}");
    assert_eq!(demo.stats().reports_cancelled, 1);

    // While waiting for the answer to its question.
    let asking = start_task(&client, 1).await;
    poll_until(&client, &asking, |t| {
        t.status() == TaskStatus::InputRequired
    })
    .await;
    client
        .peer()
        .cancel_task(CancelTaskParams::new(asking.clone()))
        .await
        .unwrap();
    let stopped = poll_until(&client, &asking, |t| t.status().is_terminal()).await;
    assert_eq!(stopped.status(), TaskStatus::Cancelled, "{stopped:?}");
    assert_eq!(demo.stats().reports_cancelled, 2);
    client.cancel().await.unwrap();
    demo.stop().await;
}

#[tokio::test]
async fn a_client_without_the_extension_gets_a_plain_result() {
    let demo = demo().await;
    let elicitation = ClientCapabilities::builder()
        .enable_elicitation_with(ElicitationCapability::default())
        .build();

    // 2026 without the extension nor elicitation: no task, no question.
    let client = connect(
        &demo,
        ClientCapabilities::default(),
        ProtocolVersion::V_2026_07_28,
    )
    .await;
    client
        .call_tool(
            CallToolRequestParams::new("delete_note")
                .with_arguments(json!({ "id": "note-1" }).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    let CallToolResponse::Complete(result) = client.call_tool_once(make_report(1)).await.unwrap()
    else {
        panic!("a client without the tasks extension gets a plain result")
    };
    let text = text_of(&result);
    assert!(text.starts_with("Report: 2 notes."), "{text}");
    assert!(text.ends_with("(1 deleted note left out.)"), "{text}");
    let refused = client
        .peer()
        .get_task(GetTaskParams::new("any"))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("-32021"), "{refused}");
    client.cancel().await.unwrap();

    // 2026 with elicitation: the question comes back in an `input_required` result, and the
    // retry with the answer (rmcp's client drives it through `create_elicitation`) finishes.
    let client = connect(&demo, elicitation.clone(), ProtocolVersion::V_2026_07_28).await;
    let CallToolResponse::InputRequired(asked) =
        client.call_tool_once(make_report(1)).await.unwrap()
    else {
        panic!("a 2026 client that can elicit is asked in the result")
    };
    let requests = asked.input_requests.unwrap();
    assert!(
        matches!(
            requests.get(QUESTION_KEY),
            Some(InputRequest::Elicitation(_))
        ),
        "{requests:?}"
    );
    let result = client.call_tool(make_report(1)).await.unwrap();
    let text = text_of(&result);
    assert!(
        text.contains("Deleted since the demo started: 1.\n\n- `note-1`: Buy milk"),
        "{text}"
    );
    client.cancel().await.unwrap();

    // A 2025-era client that declared elicitation: asked with `elicitation/create`, says yes.
    let client = connect(&demo, elicitation, ProtocolVersion::V_2025_11_25).await;
    let result = client.call_tool(make_report(1)).await.unwrap();
    let text = text_of(&result);
    assert!(
        text.contains("Deleted since the demo started: 1.\n\n- `note-1`: Buy milk"),
        "{text}"
    );
    client.cancel().await.unwrap();
    assert_eq!(demo.stats().reports_cancelled, 0);
    demo.stop().await;
}
