//! What the app does for the person while a server or a sign-in needs them: the answer to a
//! server's request for input (elicitation) goes to the UI as an event with an id, and waits —
//! for the person's answer, or five minutes — before it is cancelled; a sign-in page is opened
//! in the system browser, and the UI hears whether that worked, so it never says the browser
//! opened when it did not. Nothing here knows about Tauri.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{broadcast, oneshot};

use super::dto::{AppEvent, ElicitationAnswer};
use crate::host::{ElicitationRequest, ElicitationResponse, Host, HostFuture};

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

/// A [`Host`] that asks the person through the UI.
pub struct AppHost {
    events: broadcast::Sender<AppEvent>,
    pending: Mutex<HashMap<String, oneshot::Sender<ElicitationResponse>>>,
    next_id: AtomicU64,
}

impl AppHost {
    pub fn new(events: broadcast::Sender<AppEvent>) -> Arc<Self> {
        Arc::new(Self {
            events,
            pending: Mutex::default(),
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
}

impl Host for AppHost {
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        Box::pin(async move {
            let id = format!("elicit-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
            let (sender, receiver) = oneshot::channel();
            self.pending.lock().unwrap().insert(id.clone(), sender);
            let listeners = self.events.send(AppEvent::Elicitation {
                id: id.clone(),
                server: request.server,
                message: request.message,
                schema: request.schema,
                url: request.url,
            });
            if listeners.is_err() {
                // No window to ask in: decline rather than leave the server waiting.
                self.pending.lock().unwrap().remove(&id);
                return ElicitationResponse::Decline;
            }
            let answer = tokio::time::timeout(ANSWER_TIMEOUT, receiver).await;
            self.pending.lock().unwrap().remove(&id);
            match answer {
                Ok(Ok(response)) => response,
                _ => ElicitationResponse::Cancel,
            }
        })
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
