//! What the app does for the person while a server or a sign-in needs them: a server's
//! request for input (elicitation) or for a model reply (sampling) goes to the UI as an event
//! with an id, and waits — for the person's answer, or five minutes — before it is cancelled
//! (nothing is answered automatically; with no window it is declined); the roots a server asks
//! for are the folders kept in its entry (`app/roots.rs`); a page is opened in the system
//! browser only through the checked opener, and the UI hears whether that worked, so it never
//! says the browser opened when it did not. Nothing here knows about Tauri.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{broadcast, oneshot};

use super::dto::{AppEvent, ElicitationAnswer, SamplingAnswer, SamplingMessageView, SamplingView};
use crate::host::{
    ElicitationRequest, ElicitationResponse, Host, HostCapabilities, HostFuture, Root,
    SamplingRequest, SamplingResponse,
};

const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the system's opener may take to say it failed. An opener still running after
/// this has handed the page to a browser that runs in its foreground (`xdg-open` can).
const OPENER_GRACE: Duration = Duration::from_secs(5);

/// Open the sign-in page `url` in the system browser; `false` when it could not be opened
/// (a URL Latch refuses to open, no opener, or the opener reported a failure: no browser).
pub async fn open_browser(url: &str) -> bool {
    match crate::auth::check_url_to_open(url) {
        Ok(checked) => opener_succeeds(crate::auth::system_opener(&checked)).await,
        Err(reason) => {
            tracing::warn!(%reason, "refused to open the sign-in page");
            false
        }
    }
}

/// Run an opener and say whether it took the page: it exited with success, or still runs
/// after [`OPENER_GRACE`].
async fn opener_succeeds(command: std::process::Command) -> bool {
    use std::process::Stdio;
    let mut command = tokio::process::Command::from(command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            tracing::warn!(%error, "could not start the program that opens the browser");
            return false;
        }
    };
    match tokio::time::timeout(OPENER_GRACE, child.wait()).await {
        Ok(Ok(status)) if status.success() => true,
        Ok(Ok(status)) => {
            tracing::warn!(%status, "the program that opens the browser failed");
            false
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "lost the program that opens the browser");
            false
        }
        // Still running: it has handed the page to a browser.
        Err(_) => true,
    }
}

/// Requests waiting for the person's answer, by id.
type Pending<T> = Mutex<HashMap<String, oneshot::Sender<T>>>;

/// A [`Host`] that asks the person through the UI.
pub struct AppHost {
    events: broadcast::Sender<AppEvent>,
    pending: Pending<ElicitationResponse>,
    sampling: Pending<SamplingResponse>,
    /// The servers file whose entries' `roots` are offered; `None`: no roots.
    servers_file: Option<PathBuf>,
    next_id: AtomicU64,
}

/// Why a sampling request got no reply, as the server is told.
const DECLINED_BY_PERSON: &str = "the person declined to answer";
const NO_WINDOW: &str = "no Latch window is open to ask the person";
const NOBODY_ANSWERED: &str = "nobody answered within five minutes";

impl AppHost {
    /// A host with no roots to offer (tests).
    pub fn new(events: broadcast::Sender<AppEvent>) -> Arc<Self> {
        Self::with_servers_file(events, None)
    }

    /// A host that offers each server the `roots` of its entry in `servers_file`.
    pub fn with_servers_file(
        events: broadcast::Sender<AppEvent>,
        servers_file: Option<PathBuf>,
    ) -> Arc<Self> {
        Arc::new(Self {
            events,
            pending: Mutex::default(),
            sampling: Mutex::default(),
            servers_file,
            next_id: AtomicU64::new(1),
        })
    }

    /// Hand the person's answer to the request `id`. `false` when nothing waits for it
    /// (answered already, or timed out).
    pub fn answer(&self, id: &str, answer: ElicitationAnswer) -> bool {
        let Some(waiting) = self.pending.lock().unwrap().remove(id) else {
            return false;
        };
        waiting
            .send(match answer {
                ElicitationAnswer::Accept { content } => ElicitationResponse::Accept(content),
                ElicitationAnswer::Decline => ElicitationResponse::Decline,
                ElicitationAnswer::Cancel => ElicitationResponse::Cancel,
            })
            .is_ok()
    }

    /// Hand the person's reply to the sampling request `id`; `false` when nothing waits.
    pub fn answer_sampling(&self, id: &str, answer: SamplingAnswer) -> bool {
        let Some(waiting) = self.sampling.lock().unwrap().remove(id) else {
            return false;
        };
        waiting
            .send(match answer {
                SamplingAnswer::Reply { text, model } => SamplingResponse::Reply { text, model },
                SamplingAnswer::Decline => SamplingResponse::Decline {
                    reason: DECLINED_BY_PERSON.to_owned(),
                },
            })
            .is_ok()
    }

    /// Send the event `make(id)` and wait for the answer put in `pending` under `id`:
    /// `no_window` when no window listens, `timed_out` after five minutes.
    async fn ask<T>(
        &self,
        prefix: &str,
        pending: &Pending<T>,
        make: impl FnOnce(String) -> AppEvent,
        no_window: T,
        timed_out: T,
    ) -> T {
        let id = format!("{prefix}-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (sender, receiver) = oneshot::channel();
        pending.lock().unwrap().insert(id.clone(), sender);
        if self.events.send(make(id.clone())).is_err() {
            // No window to ask in: decline rather than leave the server waiting.
            pending.lock().unwrap().remove(&id);
            return no_window;
        }
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, receiver).await;
        pending.lock().unwrap().remove(&id);
        match answer {
            Ok(Ok(response)) => response,
            _ => timed_out,
        }
    }
}

impl Host for AppHost {
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        Box::pin(async move {
            let make = |id| AppEvent::Elicitation {
                id,
                server: request.server,
                message: request.message,
                schema: request.schema,
                url: request.url,
            };
            self.ask(
                "elicit",
                &self.pending,
                make,
                ElicitationResponse::Decline,
                ElicitationResponse::Cancel,
            )
            .await
        })
    }

    fn capabilities(&self) -> HostCapabilities {
        HostCapabilities {
            open_pages: true,
            sampling: true,
            roots: true,
        }
    }

    fn shows_apps(&self) -> bool {
        true
    }

    fn sample(&self, request: SamplingRequest) -> HostFuture<'_, SamplingResponse> {
        Box::pin(async move {
            let make = |id| AppEvent::Sampling {
                id,
                server: request.server,
                request: SamplingView {
                    messages: request
                        .messages
                        .into_iter()
                        .map(|m| SamplingMessageView {
                            role: m.role,
                            text: m.text,
                        })
                        .collect(),
                    system_prompt: request.system_prompt,
                    model_preferences: request.model_preferences,
                    max_tokens: request.max_tokens,
                    tools: request.tools,
                },
            };
            let declined = |reason: &str| SamplingResponse::Decline {
                reason: reason.to_owned(),
            };
            self.ask(
                "sample",
                &self.sampling,
                make,
                declined(NO_WINDOW),
                declined(NOBODY_ANSWERED),
            )
            .await
        })
    }

    fn roots(&self, server: String) -> HostFuture<'_, Vec<Root>> {
        Box::pin(async move {
            let Some(path) = self.servers_file.clone() else {
                return Vec::new();
            };
            tokio::task::spawn_blocking(move || super::roots::offered(&path, &server))
                .await
                .unwrap_or_default()
        })
    }
}

impl super::Latch {
    /// The person's reply to a server's sampling request (or their refusal).
    pub fn answer_sampling(&self, id: &str, answer: SamplingAnswer) -> super::Result<()> {
        if self.inner.host.answer_sampling(id, answer) {
            Ok(())
        } else {
            Err(super::AppError::new(
                "expired",
                "That request is no longer waiting for a reply.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_answer_reaches_the_waiting_request() {
        let (sender, mut receiver) = broadcast::channel(8);
        let host = AppHost::new(sender);
        let asking = {
            let host = host.clone();
            tokio::spawn(async move {
                host.elicit(ElicitationRequest {
                    server: "s".into(),
                    message: "Your name?".into(),
                    schema: Some(json!({"type": "object"})),
                    url: None,
                })
                .await
            })
        };
        let AppEvent::Elicitation { id, message, .. } = receiver.recv().await.unwrap() else {
            panic!("expected an elicitation event");
        };
        assert_eq!(message, "Your name?");
        let mut content = serde_json::Map::new();
        content.insert("name".into(), json!("Ada"));
        assert!(host.answer(&id, ElicitationAnswer::Accept { content }));
        let ElicitationResponse::Accept(values) = asking.await.unwrap() else {
            panic!("expected accept");
        };
        assert_eq!(values["name"], "Ada");
        assert!(
            !host.answer(&id, ElicitationAnswer::Decline),
            "a second answer has nobody to reach"
        );
    }

    fn sampling_request() -> SamplingRequest {
        SamplingRequest {
            server: "everything".into(),
            messages: vec![crate::host::SamplingMessage {
                role: "user".into(),
                text: "Capital of France?".into(),
            }],
            system_prompt: Some("Be brief.".into()),
            max_tokens: 100,
            model_preferences: Some(json!({"hints": [{"name": "claude"}]})),
            tools: vec![json!({"name": "weather", "inputSchema": {"type": "object"}})],
        }
    }

    #[tokio::test]
    async fn a_sampling_reply_written_by_the_person_reaches_the_server() {
        let (sender, mut receiver) = broadcast::channel(8);
        let host = AppHost::new(sender);
        assert!(host.capabilities().sampling && host.capabilities().roots);
        assert!(
            host.capabilities().open_pages,
            "URL-mode elicitation is offered"
        );
        let asking = {
            let host = host.clone();
            tokio::spawn(async move { host.sample(sampling_request()).await })
        };
        let AppEvent::Sampling {
            id,
            server,
            request,
        } = receiver.recv().await.unwrap()
        else {
            panic!("expected a sampling event");
        };
        assert_eq!(server, "everything");
        assert_eq!(request.messages[0].text, "Capital of France?");
        assert_eq!(request.system_prompt.as_deref(), Some("Be brief."));
        assert_eq!(request.max_tokens, 100);
        assert_eq!(
            request.model_preferences.unwrap()["hints"][0]["name"],
            "claude"
        );
        assert_eq!(request.tools[0]["name"], "weather");
        let wire = serde_json::to_value(AppEvent::Sampling {
            id: id.clone(),
            server: "s".into(),
            request: SamplingView {
                messages: Vec::new(),
                system_prompt: None,
                model_preferences: None,
                max_tokens: 1,
                tools: Vec::new(),
            },
        })
        .unwrap();
        assert_eq!(wire["type"], "sampling");
        assert_eq!(wire["request"]["maxTokens"], 1);

        let answer: SamplingAnswer =
            serde_json::from_value(json!({"action": "reply", "text": "Paris", "model": "me"}))
                .unwrap();
        assert!(host.answer_sampling(&id, answer));
        assert_eq!(
            asking.await.unwrap(),
            SamplingResponse::Reply {
                text: "Paris".into(),
                model: "me".into()
            }
        );
        assert!(!host.answer_sampling(&id, SamplingAnswer::Decline));
    }

    #[tokio::test]
    async fn a_declined_or_unasked_sampling_request_gets_no_reply() {
        let (sender, mut receiver) = broadcast::channel(8);
        let host = AppHost::new(sender);
        let asking = {
            let host = host.clone();
            tokio::spawn(async move { host.sample(sampling_request()).await })
        };
        let AppEvent::Sampling { id, .. } = receiver.recv().await.unwrap() else {
            panic!("expected a sampling event");
        };
        assert!(host.answer_sampling(&id, SamplingAnswer::Decline));
        let SamplingResponse::Decline { reason } = asking.await.unwrap() else {
            panic!("expected a decline");
        };
        assert_eq!(reason, DECLINED_BY_PERSON);

        drop(receiver);
        let SamplingResponse::Decline { reason } = host.sample(sampling_request()).await else {
            panic!("without a window nothing is answered");
        };
        assert_eq!(reason, NO_WINDOW);
    }

    #[tokio::test]
    async fn roots_come_from_the_servers_entry() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("servers.json");
        std::fs::write(
            &file,
            r#"{"mcpServers": {"s": {"url": "https://mcp.example/mcp", "roots": ["/srv/data"]}}}"#,
        )
        .unwrap();
        let (sender, _receiver) = broadcast::channel(8);
        let host = AppHost::with_servers_file(sender.clone(), Some(file));
        let roots = host.roots("s".into()).await;
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].uri, "file:///srv/data");
        assert_eq!(roots[0].name.as_deref(), Some("data"));
        assert!(host.roots("other".into()).await.is_empty());
        assert!(AppHost::new(sender).roots("s".into()).await.is_empty());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_opener_that_fails_or_is_missing_means_the_browser_did_not_open() {
        assert!(opener_succeeds(std::process::Command::new("true")).await);
        assert!(!opener_succeeds(std::process::Command::new("false")).await);
        assert!(
            !opener_succeeds(std::process::Command::new("/nonexistent/latch-test-opener")).await
        );
    }

    #[tokio::test]
    async fn a_url_latch_refuses_to_open_is_not_opened() {
        assert!(!open_browser("file:///etc/passwd").await);
        assert!(!open_browser("https://user:pw@as.example/authorize").await);
    }

    #[tokio::test]
    async fn without_a_window_the_request_is_declined() {
        let (sender, receiver) = broadcast::channel(8);
        drop(receiver);
        let host = AppHost::new(sender);
        let response = host
            .elicit(ElicitationRequest {
                server: "s".into(),
                message: "?".into(),
                schema: None,
                url: None,
            })
            .await;
        assert_eq!(response, ElicitationResponse::Decline);
    }
}
