//! The protocol log of a server as the app shows it: the entries kept by the connection's tap
//! ([`crate::connection::tap`]), cleared or exported as a JSON file, new ones forwarded live to
//! the UI; and the level of the server's own log messages, set the way its era allows
//! (`logging/setLevel` on a 2025 session, the request `_meta` on the 2026 wire).
//!
//! The chosen level is kept per server for the app session (in the tap, with the log), not in
//! the server's entry: a 2025 session forgets it when it ends, so each new connection (a
//! reconnect, a sign-in, the server restarted) is told it again ([`Latch::restore_log_level`]);
//! the 2026 wire carries it in every request anyway.

// Logging is deprecated in rmcp (SEP-2577) but the 2025 wire still has `logging/setLevel`.
#![allow(deprecated)]

use std::path::Path;

use rmcp::model::{ClientRequest, LoggingLevel, SetLevelRequest, SetLevelRequestParams};
use tokio::sync::broadcast;

use super::{AppError, AppEvent, Latch, Result};
use crate::{
    Connection,
    connection::tap::{self, ProtocolEntry},
};

/// The levels a server's log messages may be filtered at, lowest first.
pub const LOG_LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

impl Latch {
    /// The server's protocol log, oldest first (at most the last 2,000 entries).
    pub fn protocol_log(&self, name: &str) -> Vec<ProtocolEntry> {
        tap::entries(name)
    }

    pub fn clear_protocol_log(&self, name: &str) {
        tap::clear(name)
    }

    /// Write the server's protocol log to `path` as a JSON array; how many entries it holds.
    pub async fn export_protocol_log(&self, name: &str, path: &Path) -> Result<usize> {
        let entries = tap::entries(name);
        let text = serde_json::to_string_pretty(&entries).map_err(|e| AppError::new("log", e))?;
        tokio::fs::write(path, text).await.map_err(|e| {
            AppError::new(
                "log",
                format!("Could not write the log to {}: {e}", path.display()),
            )
        })?;
        Ok(entries.len())
    }

    /// The level chosen for the server's log messages, if one was.
    pub fn log_level(&self, name: &str) -> Option<String> {
        tap::level(name)
    }

    /// Ask the server for its log messages from `level` up: on a 2025 session with
    /// `logging/setLevel` now; on the 2026 wire in each request's `_meta` from now on.
    pub async fn set_log_level(&self, name: &str, level: &str) -> Result<()> {
        let parsed: LoggingLevel =
            serde_json::from_value(serde_json::Value::String(level.to_owned())).map_err(|_| {
                AppError::new(
                    "invalidArguments",
                    format!(
                        "\"{level}\" is not a log level (one of {}).",
                        LOG_LEVELS.join(", ")
                    ),
                )
            })?;
        tap::set_level(name, Some(level.to_owned()));
        // A new connection is told the chosen level as it opens (`restore_log_level`).
        let fresh = self.live_connection(name).is_none();
        let connection = self.connection(name).await?;
        if connection.server_info().stateless {
            return Ok(());
        }
        if !offers_logging(&connection) {
            return Err(AppError::new(
                "log",
                format!("{name} does not send log messages, so it has no log level to set."),
            ));
        }
        if fresh {
            return Ok(());
        }
        send_level(&connection, parsed).await.map_err(|e| {
            AppError::new(
                "log",
                format!(
                    "{name} refused the log level: {}",
                    crate::connection::without_type_paths(&e.to_string())
                ),
            )
        })
    }

    /// Tell a new connection to `name` the log level chosen for it, if one was: a 2025 session
    /// starts at the server's default. Called as each connection opens; a refusal is only
    /// logged (the connection is still good).
    pub(super) async fn restore_log_level(&self, name: &str, connection: &Connection) {
        let Some(level) = tap::level(name) else {
            return;
        };
        if connection.server_info().stateless || !offers_logging(connection) {
            return;
        }
        let Ok(parsed) = serde_json::from_value::<LoggingLevel>(serde_json::Value::String(level))
        else {
            return;
        };
        if let Err(error) = send_level(connection, parsed).await {
            tracing::info!(server = name, %error, "the chosen log level could not be set again");
        }
    }

    /// Forward new protocol log entries to the UI as they are recorded.
    pub(super) fn forward_protocol_log(&self) {
        let mut entries = tap::subscribe();
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let (server, entry) = match entries.recv().await {
                    Ok(next) => next,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                let Some(inner) = weak.upgrade() else { break };
                let latch = Latch { inner };
                latch.emit(AppEvent::ProtocolEntry {
                    server,
                    entry: Box::new(entry),
                });
            }
        });
    }
}

/// The server said it sends log messages.
fn offers_logging(connection: &Connection) -> bool {
    connection
        .peer_info()
        .is_some_and(|info| info.capabilities.logging.is_some())
}

/// `logging/setLevel` on a 2025 session.
async fn send_level(
    connection: &Connection,
    level: LoggingLevel,
) -> std::result::Result<(), rmcp::ServiceError> {
    let request =
        ClientRequest::SetLevelRequest(SetLevelRequest::new(SetLevelRequestParams::new(level)));
    connection.peer().send_request(request).await.map(|_| ())
}
