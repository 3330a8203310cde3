//! The desktop app's core (`latch_core::app::Latch`, what every Tauri command calls) against
//! real peers: server-everything for adding, probing, connecting, calling with progress and
//! cancel, the history kept across restarts, the doctor and the raw config editor; the
//! oidc-provider peer for "needs sign-in" → sign in → signed in → sign out.

mod common;

use std::time::Duration;

use common::{Everything, Mode, latch_at, oidc::OidcPeer};
use latch_core::{
    ConnectionState,
    app::{AppEvent, AuthView, CallStatus, ServerEntryInput, SignInKind, StepStatus},
};
use serde_json::json;
use tokio::sync::broadcast;

fn remote(url: &str) -> ServerEntryInput {
    ServerEntryInput {
        url: Some(url.to_owned()),
        ..ServerEntryInput::default()
    }
}

/// Every event that arrived so far.
fn drain(events: &mut broadcast::Receiver<AppEvent>) -> Vec<AppEvent> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

fn text_of(record: &latch_core::app::CallRecord) -> String {
    record.result.as_ref().map(|r| r.text()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_connect_call_cancel_and_keep_the_history() {
    let everything = Everything::start(Mode::StreamableHttp);
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    let mut events = latch.subscribe();

    // First run: the demo card appears once; a later start leaves the file alone.
    assert!(latch.ensure_demo("http://127.0.0.1:9/mcp").unwrap());
    assert!(!latch.ensure_demo("http://127.0.0.1:9/mcp").unwrap());
    assert_eq!(latch.list_servers().await.unwrap()[0].name, "demo");
    latch.remove_server("demo").await.unwrap();

    let probe = latch_core::app::probe(&everything.url()).await;
    assert!(probe.reachable && !probe.needs_sign_in, "{probe:?}");
    assert!(
        probe.summary.contains("without asking for a sign-in"),
        "{}",
        probe.summary
    );

    let added = latch
        .add_server("everything", remote(&everything.url()))
        .await
        .unwrap();
    assert_eq!(added.state, ConnectionState::Disconnected);
    assert_eq!(added.host, format!("127.0.0.1:{}", everything.port));
    let duplicate = latch
        .add_server("everything", remote(&everything.url()))
        .await;
    assert!(duplicate.is_err(), "a taken name is refused");

    let view = latch.connect("everything").await.unwrap();
    assert!(
        matches!(view.state, ConnectionState::Connected { .. }),
        "{:?}",
        view.state
    );
    assert!(view.tool_count.unwrap() >= 12, "{view:?}");
    assert_eq!(view.auth, AuthView::None);
    assert_eq!(
        view.sign_in,
        SignInKind::None,
        "it answered without a token"
    );
    let connected_event = drain(&mut events).into_iter().any(|e| {
        matches!(e, AppEvent::ServerChanged { server } if server.name == "everything"
            && matches!(server.state, ConnectionState::Connected { .. }))
    });
    assert!(
        connected_event,
        "the card changed to connected through an event"
    );

    let sum = latch
        .call_tool("everything", "get-sum", json!({"a": 2, "b": 3}), "call-1")
        .await
        .unwrap();
    assert_eq!(sum.status, CallStatus::Ok);
    assert!(text_of(&sum).contains('5'), "{}", text_of(&sum));

    let invalid = latch
        .call_tool("everything", "get-sum", json!({"a": "two"}), "call-2")
        .await
        .unwrap_err();
    assert_eq!(invalid.kind, "invalidArguments", "{invalid}");

    // Progress reaches the UI tagged with the UI's call id.
    let long = latch
        .call_tool(
            "everything",
            "trigger-long-running-operation",
            json!({"duration": 1, "steps": 4}),
            "call-3",
        )
        .await
        .unwrap();
    assert_eq!(long.status, CallStatus::Ok, "{long:?}");
    let progress: Vec<f64> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e {
            AppEvent::Progress {
                call_id, progress, ..
            } if call_id == "call-3" => Some(progress),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 3, "progress events: {progress:?}");

    // Cancel a long call once it reports progress.
    let calling = {
        let latch = latch.clone();
        tokio::spawn(async move {
            latch
                .call_tool(
                    "everything",
                    "trigger-long-running-operation",
                    json!({"duration": 30, "steps": 30}),
                    "call-4",
                )
                .await
        })
    };
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events.recv().await {
                Ok(AppEvent::Progress { call_id, .. }) if call_id == "call-4" => break,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("progress of the long call");
    latch.cancel_call("call-4");
    let cancelled = tokio::time::timeout(Duration::from_secs(10), calling)
        .await
        .expect("the cancelled call returns at once")
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, CallStatus::Cancelled);

    let history = latch.history("everything").await.unwrap();
    let ids: Vec<&str> = history.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["call-4", "call-3", "call-1"],
        "newest first; refused calls not kept"
    );

    let doctor = latch.doctor("everything");
    assert!(
        doctor
            .steps
            .iter()
            .any(|s| s.name == "List the tools" && s.status == StepStatus::Ok),
        "{doctor:?}"
    );

    // The raw editor: a broken text is refused with its line and the file is left alone.
    let before = std::fs::read_to_string(home.path().join("servers.json")).unwrap();
    let broken = latch
        .save_config("{\n  \"mcpServers\": {,\n}")
        .await
        .unwrap_err();
    assert!(
        broken.message.contains("servers.json:2:"),
        "line and column: {broken}"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join("servers.json")).unwrap(),
        before
    );
    assert!(
        latch
            .read_config()
            .await
            .unwrap()
            .text
            .contains("everything")
    );

    latch.shutdown().await;

    // A restart: the history is still there.
    let again = latch_at(home.path());
    assert_eq!(again.history("everything").await.unwrap().len(), 3);
    again.clear_history("everything").await.unwrap();
    assert!(again.history("everything").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_sign_in_then_signed_in_then_signed_out() {
    let peer = OidcPeer::start(3600);
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    let mut events = latch.subscribe();

    let probe = latch_core::app::probe(&peer.mcp_url).await;
    assert!(probe.needs_sign_in, "{probe:?}");
    let issuer_host = peer.issuer.trim_start_matches("http://").to_owned();
    assert_eq!(probe.sign_in_with.as_deref(), Some(issuer_host.as_str()));
    assert!(
        probe.summary.contains("browser will open"),
        "{}",
        probe.summary
    );

    latch
        .add_server("oidc", remote(&peer.mcp_url))
        .await
        .unwrap();
    let refused = latch.connect("oidc").await.unwrap_err();
    assert_eq!(refused.kind, "needsSignIn", "{refused}");
    let view = latch.server_view("oidc").await.unwrap();
    assert!(
        matches!(view.auth, AuthView::NeedsSignIn { .. }),
        "{view:?}"
    );
    let doctor = latch.doctor("oidc");
    let failed = doctor
        .steps
        .iter()
        .find(|s| s.status == StepStatus::Failed)
        .expect("a failed step");
    assert!(
        failed.fix.as_deref().unwrap().contains("Sign in"),
        "{failed:?}"
    );

    let view = latch.sign_in("oidc", None, None).await.unwrap();
    assert!(
        matches!(view.state, ConnectionState::Connected { .. }),
        "{view:?}"
    );
    let AuthView::SignedIn {
        expires_at,
        refreshable,
        issuer,
        ..
    } = &view.auth
    else {
        panic!("signed in: {view:?}");
    };
    assert!(expires_at.is_some() && *refreshable);
    assert_eq!(issuer.as_deref(), Some(peer.issuer.as_str()));
    let seen = drain(&mut events);
    assert!(
        seen.iter()
            .any(|e| matches!(e, AppEvent::ServerChanged { server }
            if server.name == "oidc" && server.state == ConnectionState::SigningIn)),
        "the card showed the sign-in under way"
    );
    assert!(seen.iter().any(
        |e| matches!(e, AppEvent::SignInFinished { server, ok: true, .. } if server == "oidc")
    ));
    let tools = latch.list_tools("oidc").await.unwrap();
    assert!(!tools.is_empty());

    let view = latch.sign_out("oidc", None).await.unwrap();
    assert_eq!(view.auth, AuthView::None);
    assert_eq!(view.state, ConnectionState::Disconnected);
    assert_eq!(
        latch.connect("oidc").await.unwrap_err().kind,
        "needsSignIn",
        "the tokens are gone"
    );
    latch.shutdown().await;
}
