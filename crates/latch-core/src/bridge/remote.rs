//! The bridge's side toward the remote server: one session at a time, opened with the stored
//! grant (so refreshes go through the shared grant store and its cross-process lock), opened
//! again when it ends, and every request forwarded through it. Idempotent requests are sent
//! again once on a fresh session when the old one died under them; a tool call never is —
//! it may have run — and its agent is told so. A new session gets the agent's log level and
//! subscriptions again, and the agent is told its lists may have changed (a restarted server
//! may offer others). While the server is out of reach, requests get that answer at once for
//! a short, growing while rather than each waiting through an attempt of its own. A 401 that
//! refresh could not cure is the agent's "sign in" error, or with `--login-if-needed` one
//! browser sign-in and the request again (a 401 means it did not run).

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use rmcp::{
    ErrorData, RoleServer,
    model::{
        CallToolRequest, CancelledNotificationParam, ClientRequest, ProgressNotificationParam,
        RequestId, RequestMetaObject, ServerResult,
    },
    service::{PeerRequestOptions, RequestContext},
};
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;
// `resources/subscribe` is legacy-only from 2026-07-28 on; the bridge serves older versions.
#[allow(deprecated)]
use rmcp::model::{SubscribeRequest, SubscribeRequestParams};

use super::{
    agent::AgentLink,
    error::{self, Failure},
};
use crate::{
    Connection,
    auth::BrowserMode,
    config::ServerConfig,
    connection::{Relay, RunningCall},
    events::EventBus,
    secrets::SecretStore,
    tools::Progress,
};

/// How long a finished call that reported progress waits for a last report in flight (such
/// calls are slow anyway; calls without progress never wait).
const PROGRESS_SETTLE: Duration = Duration::from_millis(20);

/// After the server could not be reached, requests are answered with that error at once for a
/// while, instead of each waiting through a connection attempt of its own: 1 s, then twice as
/// long after each failed attempt, at most 8 s.
const RETRY_AFTER_FIRST: Duration = Duration::from_secs(1);
const RETRY_AFTER_MAX: Duration = Duration::from_secs(8);

/// The remote server NAME and the session with it.
pub(crate) struct Remote {
    name: String,
    /// Which of the server's accounts (`None`: the default one).
    account: Option<String>,
    server: ServerConfig,
    secrets: SecretStore,
    login_if_needed: bool,
    agent: Arc<AgentLink>,
    events: EventBus,
    /// The live session; the lock also makes opening one single-flight.
    current: tokio::sync::Mutex<Option<Arc<Connection>>>,
    /// The browser sign-in of `--login-if-needed` runs at most once per bridge.
    sign_in_tried: AtomicBool,
    /// The agent was answered without the server (it could not be reached or needs sign-in):
    /// once a session opens, the agent is told the lists changed.
    degraded: AtomicBool,
    /// A session was open before: the next one replaces it (the server may have restarted).
    had_session: AtomicBool,
    /// The server could not be reached: until when requests get that answer at once.
    down: Mutex<Option<Down>>,
    /// What the agent asked the session to keep, replayed on a new session.
    log_level: Mutex<Option<ClientRequest>>,
    subscriptions: Mutex<BTreeSet<String>>,
}

/// The server was out of reach at the last attempt.
struct Down {
    error: ErrorData,
    retry_at: Instant,
    /// How long the next failure keeps requests away.
    next_wait: Duration,
}

/// Whether a failed request may be sent again on a new session.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reading or listing: sending it twice changes nothing.
    Idempotent,
    /// A tool call that may have reached the server: never again.
    Never,
}

impl Remote {
    pub(crate) fn new(
        name: &str,
        server: ServerConfig,
        secrets: SecretStore,
        login_if_needed: bool,
        account: Option<String>,
        agent: Arc<AgentLink>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            account,
            server,
            secrets,
            login_if_needed,
            agent,
            events: EventBus::new(),
            current: tokio::sync::Mutex::new(None),
            sign_in_tried: AtomicBool::new(false),
            degraded: AtomicBool::new(false),
            had_session: AtomicBool::new(false),
            down: Mutex::new(None),
            log_level: Mutex::new(None),
            subscriptions: Mutex::new(BTreeSet::new()),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn events(&self) -> &EventBus {
        &self.events
    }

    pub(crate) fn mark_degraded(&self) {
        self.degraded.store(true, Ordering::SeqCst);
    }

    /// The live session, opening one when there is none (or it ended). While the server
    /// cannot be reached, the last attempt's error comes back at once for a short while (see
    /// [`RETRY_AFTER_FIRST`]).
    pub(crate) async fn connection(&self) -> Result<Arc<Connection>, ErrorData> {
        let mut current = self.current.lock().await;
        if let Some(connection) = current.as_ref()
            && !connection.is_closed()
        {
            return Ok(connection.clone());
        }
        current.take();
        if let Some(error) = self.still_down() {
            return Err(error);
        }
        let connection = match self.open().await {
            Ok(connection) => Arc::new(connection),
            Err(error) => {
                self.went_down(&error);
                return Err(error);
            }
        };
        *self.down.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let replaced = self.had_session.swap(true, Ordering::SeqCst);
        if replaced {
            tracing::info!(server = %self.name, "opened a new session with the server");
            self.replay(&connection).await;
        }
        *current = Some(connection.clone());
        drop(current);
        // A new session may come with other tools, resources and prompts (a restarted or
        // updated server), and an agent answered without the server has none yet.
        if self.degraded.swap(false, Ordering::SeqCst) || replaced {
            self.agent.lists_changed().await;
        }
        Ok(connection)
    }

    /// The last attempt's error, while it is too soon to try again.
    fn still_down(&self) -> Option<ErrorData> {
        let down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        let down = down.as_ref()?;
        let wait = down.retry_at.checked_duration_since(Instant::now())?;
        let mut error = down.error.clone();
        error.message = format!(
            "{} (Latch tries again in {:.1} s)",
            error.message,
            wait.as_secs_f32().max(0.1)
        )
        .into();
        Some(error)
    }

    /// Keep requests away for a while after an attempt found the server out of reach (not
    /// after one that needs a sign-in: that is for a person, and no wait helps).
    fn went_down(&self, error: &ErrorData) {
        if error.code != error::CONNECTION_LOST {
            return;
        }
        let mut down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        let wait = down.as_ref().map_or(RETRY_AFTER_FIRST, |d| d.next_wait);
        tracing::info!(server = %self.name, "the server is out of reach; next attempt in {wait:?}");
        *down = Some(Down {
            error: error.clone(),
            retry_at: Instant::now() + wait,
            next_wait: (wait * 2).min(RETRY_AFTER_MAX),
        });
    }

    /// The session, if one is open (for notifications, which never open one).
    pub(crate) async fn current(&self) -> Option<Arc<Connection>> {
        self.current.lock().await.clone()
    }

    /// Forget `stale` (when it is still the current session), so the next request opens a
    /// new one.
    async fn discard(&self, stale: &Arc<Connection>) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, stale)) {
            *current = None;
        }
    }

    async fn open(&self) -> Result<Connection, ErrorData> {
        let mut options = crate::app::connect_options_for(
            &self.secrets,
            &self.name,
            self.account.as_deref(),
            &self.server,
        );
        options.events = self.events.clone();
        let relay: Arc<dyn Relay> = self.agent.clone();
        match Connection::connect_relayed(
            &self.name,
            &self.server,
            options.clone(),
            Some(relay.clone()),
        )
        .await
        {
            Ok(connection) => Ok(connection),
            Err(error) if error.is_auth_required() && self.may_sign_in() => {
                tracing::warn!(server = %self.name, "the server needs a sign-in; opening the browser (--login-if-needed)");
                options.sign_in = Some(BrowserMode::System);
                let connection =
                    Connection::connect_relayed(&self.name, &self.server, options, Some(relay))
                        .await
                        .map_err(|e| {
                            error::from_connect(&self.name, self.account.as_deref(), &e)
                        })?;
                // The sign-in made a grant for this account: list it with the others.
                if let Some(account) = self.account.clone() {
                    let secrets = self.secrets.clone();
                    let name = self.name.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        crate::secrets::add_account(&secrets, &name, &account)
                    })
                    .await;
                }
                Ok(connection)
            }
            Err(error) => {
                tracing::warn!(server = %self.name, %error, "could not connect");
                Err(error::from_connect(
                    &self.name,
                    self.account.as_deref(),
                    &error,
                ))
            }
        }
    }

    /// Whether this 401 may start the one browser sign-in.
    fn may_sign_in(&self) -> bool {
        self.login_if_needed && !self.sign_in_tried.swap(true, Ordering::SeqCst)
    }

    /// Give a new session what the agent set on the old one: log level, subscriptions.
    #[allow(deprecated)]
    async fn replay(&self, connection: &Connection) {
        let level = self
            .log_level
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let uris: Vec<String> = self
            .subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        // On the 2026 wire the level goes with each request instead (`level_in_meta`).
        let level = level.filter(|_| !is_stateless(connection));
        let requests = level.into_iter().chain(uris.into_iter().map(|uri| {
            ClientRequest::SubscribeRequest(SubscribeRequest::new(SubscribeRequestParams::new(uri)))
        }));
        for request in requests {
            if let Err(error) = connection.peer().send_request(request).await {
                tracing::warn!(server = %self.name, %error, "could not restore a setting on the new session");
            }
        }
    }

    /// Whether the server's session (opened now if there is none) is on the 2026 wire.
    pub(crate) async fn is_stateless(&self) -> bool {
        self.connection()
            .await
            .is_ok_and(|connection| is_stateless(&connection))
    }

    /// The 2026 wire has no `logging/setLevel`: the level a 2025 agent set travels in each
    /// request's `_meta` instead (unless the request names its own).
    #[allow(deprecated)]
    fn level_in_meta(
        &self,
        connection: &Connection,
        mut meta: RequestMetaObject,
    ) -> RequestMetaObject {
        let level = match &*self.log_level.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(ClientRequest::SetLevelRequest(request)) => Some(request.params.level),
            _ => None,
        };
        if let Some(level) = level
            && meta.log_level().is_none()
            && is_stateless(connection)
        {
            meta.set_log_level(level);
        }
        meta
    }

    /// Remember what a new session must be told again.
    pub(crate) fn remember(&self, request: &ClientRequest) {
        match request {
            ClientRequest::SetLevelRequest(_) => {
                *self.log_level.lock().unwrap_or_else(|e| e.into_inner()) = Some(request.clone());
            }
            ClientRequest::SubscribeRequest(r) => {
                self.subscriptions
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(r.params.uri.clone());
            }
            ClientRequest::UnsubscribeRequest(r) => {
                self.subscriptions
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&r.params.uri);
            }
            _ => {}
        }
    }

    /// Decide what a failure means: `Ok(())` to send the request again on a new session.
    async fn after_failure(
        &self,
        connection: &Arc<Connection>,
        failure: Failure,
        retry: Retry,
        retried: &mut bool,
    ) -> Result<(), ErrorData> {
        match failure {
            Failure::Answered(data) | Failure::Other(data) => Err(data),
            Failure::AuthRequired => {
                // Refreshing did not help (rmcp refreshes and retries once by itself): the
                // grant is gone. A new session re-reads the store (another process may have
                // signed in) and, when allowed, signs in once. The request did not run.
                self.discard(connection).await;
                if !*retried && (self.login_if_needed || self.has_grant().await) {
                    *retried = true;
                    return Ok(());
                }
                Err(error::needs_sign_in(&self.name, self.account.as_deref()))
            }
            Failure::Lost(reason) => {
                tracing::warn!(server = %self.name, %reason, "the session with the server ended");
                self.discard(connection).await;
                if retry == Retry::Idempotent && !*retried {
                    *retried = true;
                    return Ok(());
                }
                Err(error::connection_lost(
                    &self.name,
                    &reason,
                    retry == Retry::Idempotent,
                ))
            }
        }
    }

    /// Whether the store holds a grant (which a new session could use).
    async fn has_grant(&self) -> bool {
        crate::app::grant_store(&self.secrets, &self.name, self.account.as_deref())
            .load()
            .await
            .is_ok_and(|g| g.is_some_and(|g| g.token_response.is_some()))
    }

    /// Forward `request` and return the server's answer.
    pub(crate) async fn forward(
        &self,
        request: ClientRequest,
        meta: RequestMetaObject,
        retry: Retry,
    ) -> Result<ServerResult, ErrorData> {
        let mut retried = false;
        loop {
            let connection = self.connection().await?;
            let options = PeerRequestOptions::no_options()
                .with_meta(self.level_in_meta(&connection, forwarded_meta(meta.clone())));
            let sent = async {
                connection
                    .peer()
                    .send_request_with_option(request.clone(), options)
                    .await?
                    .await_response()
                    .await
            };
            match sent.await {
                Ok(result) => return Ok(result),
                Err(error) => {
                    self.after_failure(&connection, Failure::classify(error), retry, &mut retried)
                        .await?
                }
            }
        }
    }

    /// Forward a tool call: the server's progress goes back under the agent's progress token,
    /// the agent's cancellation cancels the call on the server, and a call that was sent when
    /// the session died is reported, not repeated.
    pub(crate) async fn call_tool(
        &self,
        request: CallToolRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        let agent_token = context.meta.get_progress_token();
        let peer = context.peer.clone();
        let outcome = self
            .run_call(
                request,
                context.meta.clone(),
                &context.ct,
                |progress| {
                    let peer = peer.clone();
                    let token = agent_token.clone();
                    async move { relay_progress(&peer, token.as_ref(), progress).await }
                },
                |_| {},
            )
            .await;
        match outcome {
            Err(CallFailure::Cancelled) => Err(error::cancelled(&context.id)),
            Err(CallFailure::Error(error)) => Err(error),
            Ok(result) => Ok(result),
        }
    }

    /// Send one tool call to the server and wait for its answer: each progress report goes to
    /// `on_progress` (all of them before the answer), `on_sent` learns the id the request
    /// went out with, and `cancel` firing tells the server the call is cancelled.
    pub(crate) async fn run_call<P, F>(
        &self,
        request: CallToolRequest,
        meta: RequestMetaObject,
        cancel: &CancellationToken,
        mut on_progress: P,
        mut on_sent: impl FnMut(&RequestId),
    ) -> Result<ServerResult, CallFailure>
    where
        P: FnMut(Progress) -> F,
        F: Future<Output = ()>,
    {
        let meta = forwarded_meta(meta);
        let mut retried = false;
        loop {
            let connection = self.connection().await?;
            let peer = connection.peer().clone();
            let options = PeerRequestOptions::no_options()
                .with_meta(self.level_in_meta(&connection, meta.clone()));
            let handle = match peer
                .send_request_with_option(ClientRequest::CallToolRequest(request.clone()), options)
                .await
            {
                Ok(handle) => handle,
                // Nothing was sent: safe to try again on a new session.
                Err(error) => {
                    self.after_failure(
                        &connection,
                        Failure::classify(error),
                        Retry::Idempotent,
                        &mut retried,
                    )
                    .await?;
                    continue;
                }
            };
            let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<Progress>();
            let token = handle.progress_token.clone();
            let id = handle.id.clone();
            on_sent(&id);
            connection.shared.track_call(
                token.clone(),
                RunningCall {
                    call_id: 0,
                    progress: Some(progress_tx),
                    reported: false,
                },
            );
            let response = handle.await_response();
            tokio::pin!(response);
            let mut reported = false;
            let outcome = loop {
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break None,
                    Some(progress) = progress_rx.recv() => {
                        reported = true;
                        on_progress(progress).await;
                    }
                    result = &mut response => break Some(result),
                }
            };
            // rmcp hands each notification to a task of its own but the answer straight to
            // us, so a call's last progress report may still be on its way when the answer
            // is here. When the call reports progress, wait until it has been quiet for a
            // moment, so the agent gets every report before the answer (and none after it).
            if reported {
                while let Ok(Some(progress)) =
                    tokio::time::timeout(PROGRESS_SETTLE, progress_rx.recv()).await
                {
                    on_progress(progress).await;
                }
            }
            connection.shared.forget_call(&token);
            while let Ok(progress) = progress_rx.try_recv() {
                on_progress(progress).await;
            }
            match outcome {
                None => {
                    tracing::debug!(server = %self.name, "the agent cancelled a tool call");
                    let notice = CancelledNotificationParam::new(
                        Some(id),
                        Some("cancelled by the agent".to_owned()),
                    );
                    if let Err(error) = peer.notify_cancelled(notice).await {
                        tracing::warn!(server = %self.name, %error, "could not tell the server the call was cancelled");
                    }
                    return Err(CallFailure::Cancelled);
                }
                Some(Ok(result)) => return Ok(result),
                Some(Err(error)) => {
                    self.after_failure(
                        &connection,
                        Failure::classify(error),
                        Retry::Never,
                        &mut retried,
                    )
                    .await?
                }
            }
        }
    }

    /// End the session properly (`DELETE` for Streamable HTTP).
    pub(crate) async fn close(&self) {
        let Some(connection) = self.current.lock().await.take() else {
            return;
        };
        match Arc::try_unwrap(connection) {
            Ok(connection) => connection.close().await,
            Err(shared) => drop(shared),
        }
    }
}

/// Send one progress report to the agent under its own token (when it asked for progress).
pub(crate) async fn relay_progress(
    peer: &rmcp::Peer<RoleServer>,
    token: Option<&rmcp::model::ProgressToken>,
    progress: Progress,
) {
    let Some(token) = token else {
        return;
    };
    let mut param = ProgressNotificationParam::new(token.clone(), progress.progress);
    param.total = progress.total;
    param.message = progress.words();
    if let Err(error) = peer.notify_progress(param).await {
        tracing::debug!(%error, "could not pass progress to the agent");
    }
}

/// Why a forwarded tool call ended without the server's answer.
pub(crate) enum CallFailure {
    /// The agent cancelled it (the server was told).
    Cancelled,
    /// The agent's error for it.
    Error(ErrorData),
}

impl From<ErrorData> for CallFailure {
    fn from(error: ErrorData) -> Self {
        Self::Error(error)
    }
}

/// The agent's `_meta` for the server: everything but the 2026-07-28 client context (protocol
/// version, client info and capabilities), which describes the agent's link to the bridge, not
/// the bridge's to the server — the connection sends its own.
/// Whether `connection` speaks the 2026 wire (no session to set anything on).
pub(crate) fn is_stateless(connection: &Connection) -> bool {
    connection.server_info().stateless
}

pub(crate) fn forwarded_meta(mut meta: RequestMetaObject) -> RequestMetaObject {
    for key in [
        "io.modelcontextprotocol/protocolVersion",
        "io.modelcontextprotocol/clientInfo",
        "io.modelcontextprotocol/clientCapabilities",
    ] {
        meta.0.remove(key);
    }
    meta
}
