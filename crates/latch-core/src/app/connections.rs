//! The app's live connections: one per server, made on first use (one connect or sign-in at
//! a time per server), dropped when the entry changes or the transport ends, and what a
//! connection attempt leaves behind — the card's state, the sign-in problem it revealed and the
//! doctor's report of it.

use std::sync::Arc;

use super::{
    AppError, AppEvent, AuthView, DoctorReport, Latch, Result, ServerView, connect_options_for,
    doctor,
};
use crate::{ConnectError, Connection, ConnectionState, auth};

impl Latch {
    /// Connect (if not connected) and report the card.
    pub async fn connect(&self, name: &str) -> Result<ServerView> {
        self.connection(name).await?;
        self.server_view(name).await
    }

    /// Close the connection.
    pub async fn disconnect(&self, name: &str) -> Result<ServerView> {
        self.drop_connection(name).await;
        self.set_state(name, ConnectionState::Disconnected);
        self.publish(name).await
    }

    pub(super) async fn drop_connection(&self, name: &str) {
        let connection = self
            .inner
            .live
            .lock()
            .unwrap()
            .get_mut(name)
            .and_then(|live| {
                live.tool_count = None;
                live.connection.take()
            });
        if let Some(connection) = connection {
            match Arc::try_unwrap(connection) {
                Ok(connection) => connection.close().await,
                // A call still holds it; it closes when that call ends.
                Err(_) => tracing::debug!(server = name, "connection dropped while in use"),
            }
        }
    }

    pub(super) fn busy_lock(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.inner
            .busy
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    /// The live connection to `name`, made now when there is none.
    pub(super) async fn connection(&self, name: &str) -> Result<Arc<Connection>> {
        let lock = self.busy_lock(name);
        let _guard = lock.lock().await;
        if let Some(connection) = self.live_connection(name) {
            return Ok(connection);
        }
        let server = self.server(name)?;
        let account = self.active_account(name);
        let mut options =
            connect_options_for(&self.inner.secrets, name, account.as_deref(), &server);
        options.events = self.inner.core_events.clone();
        options.host = self.inner.host.clone();
        options.connect_attempts = 2;
        let result = Connection::connect(name, &server, options).await;
        let grant = self.grant(name).await;
        match result {
            Ok(connection) => {
                let connection = Arc::new(connection);
                self.restore_log_level(name, &connection).await;
                let tools = connection.list_tools().await;
                let (count, tools_error) = match &tools {
                    Ok(tools) => (Some(crate::tools::listed(tools).count()), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    live.connection = Some(connection.clone());
                    live.tool_count = count.map(|n| n as u32);
                    live.server_info = Some(connection.server_info());
                    live.problem = None;
                    live.challenge = None;
                    live.open = grant.is_none();
                }
                self.record_doctor(doctor::report(
                    name,
                    &server,
                    grant.as_ref(),
                    doctor::Outcome::Connected {
                        transport: connection.transport().to_string(),
                        tools: count,
                        tools_error,
                    },
                ));
                self.changed(name).await;
                Ok(connection)
            }
            Err(error) => {
                {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    live.problem = problem_of(&error);
                    live.open = false;
                    if let ConnectError::AuthRequired { challenge, .. } = &error {
                        live.challenge = challenge.clone();
                    }
                }
                self.record_doctor(doctor::report(
                    name,
                    &server,
                    grant.as_ref(),
                    doctor::Outcome::ConnectFailed(&error),
                ));
                self.changed(name).await;
                Err(connect_error(name, &error))
            }
        }
    }

    pub(super) fn live_connection(&self, name: &str) -> Option<Arc<Connection>> {
        self.inner
            .live
            .lock()
            .unwrap()
            .get(name)
            .and_then(|l| l.connection.clone())
            // A connection whose transport ended (the server restarted, the network dropped)
            // is not live: the next use connects again.
            .filter(|c| !c.is_closed())
    }

    pub(super) fn set_state(&self, name: &str, state: ConnectionState) {
        self.inner
            .live
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .state = Some(state);
    }

    /// Publish the card of `name` again, and return it.
    pub(super) async fn publish(&self, name: &str) -> Result<ServerView> {
        let view = self.server_view(name).await?;
        self.emit(AppEvent::ServerChanged {
            server: view.clone(),
        });
        Ok(view)
    }

    /// Publish the card of `name` again.
    pub(super) async fn changed(&self, name: &str) {
        if let Ok(view) = self.server_view(name).await {
            self.emit(AppEvent::ServerChanged { server: view });
        }
    }

    pub(super) fn record_doctor(&self, report: DoctorReport) {
        self.inner
            .doctor
            .lock()
            .unwrap()
            .insert(report.server.clone(), report);
    }

    /// The steps of the last connection or sign-in of `name`.
    pub fn doctor(&self, name: &str) -> DoctorReport {
        self.inner
            .doctor
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_else(|| DoctorReport {
                server: name.to_owned(),
                at: None,
                steps: Vec::new(),
            })
    }

    /// Close every connection (on quit).
    pub async fn shutdown(&self) {
        let names: Vec<String> = self.inner.live.lock().unwrap().keys().cloned().collect();
        for name in names {
            self.drop_connection(&name).await;
        }
    }
}

fn connect_error(name: &str, error: &ConnectError) -> AppError {
    if error.is_auth_required() {
        AppError::new(
            "needsSignIn",
            format!("{name} needs you to sign in — press “Sign in”."),
        )
    } else {
        AppError::new("connect", format!("Could not connect to {name}: {error}"))
    }
}

/// The sign-in problem a failed connection reveals.
fn problem_of(error: &ConnectError) -> Option<AuthView> {
    match error {
        ConnectError::AuthRequired { .. } => Some(AuthView::NeedsSignIn {
            reason: "The server asks for a sign-in.".to_owned(),
        }),
        ConnectError::SignIn(auth::SignInError::ClientCredentials(e)) => {
            Some(AuthView::SecretRejected {
                message: e.to_string(),
            })
        }
        _ => None,
    }
}
