//! The protocol log of a server as the app shows it: the entries kept by the connection's tap
//! ([`crate::connection::tap`]), cleared or exported as a JSON file, new ones forwarded live to
//! the UI; and the level of the server's own log messages, set the way its era allows
//! (`logging/setLevel` on a 2025 session, the request `_meta` on the 2026 wire).

// Logging is deprecated in rmcp (SEP-2577) but the 2025 wire still has `logging/setLevel`.
#![allow(deprecated)]

use std::path::Path;

use rmcp::model::{ClientRequest, LoggingLevel, SetLevelRequest, SetLevelRequestParams};
use tokio::sync::broadcast;

use super::{AppError, AppEvent, Latch, Result};
use crate::connection::tap::{self, ProtocolEntry};

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
        let connection = self.connection(name).await?;
        if connection.server_info().stateless {
            return Ok(());
        }
        let offers_logging = connection
            .peer_info()
            .is_some_and(|info| info.capabilities.logging.is_some());
        if !offers_logging {
            return Err(AppError::new(
                "log",
                format!("{name} does not send log messages, so it has no log level to set."),
            ));
        }
        let request = ClientRequest::SetLevelRequest(SetLevelRequest::new(
            SetLevelRequestParams::new(parsed),
        ));
        connection
            .peer()
            .send_request(request)
            .await
            .map(|_| ())
            .map_err(|e| {
                AppError::new(
                    "log",
                    format!(
                        "{name} refused the log level: {}",
                        crate::connection::without_type_paths(&e.to_string())
                    ),
                )
            })
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
