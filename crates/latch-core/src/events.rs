//! Events the core publishes while it works — connection state changes, tool-call progress,
//! tool-list changes, server log lines — and the state types they carry. The desktop shell
//! forwards them to the UI, the CLI prints them, the tray shows them. Publishing never blocks:
//! slow listeners lag, they don't stall a connection. This module sits below everything that
//! publishes (auth, connection, keeper) and imports none of them.

use serde::Serialize;
use tokio::sync::broadcast;

/// Where a connection stands. Published as [`Event::StateChanged`].
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
#[non_exhaustive]
pub enum ConnectionState {
    Disconnected,
    Connecting,
    NeedsSignIn,
    SigningIn,
    #[serde(rename_all = "camelCase")]
    Connected {
        transport: TransportUsed,
    },
    #[serde(rename_all = "camelCase")]
    Failed {
        reason: String,
    },
}

/// The transport a connection ended up on.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum TransportUsed {
    /// Streamable HTTP (MCP 2025-03-26 and later).
    StreamableHttp,
    /// The legacy HTTP+SSE transport (MCP 2024-11-05).
    Sse,
    /// A local command speaking MCP over stdin/stdout.
    Stdio,
}

impl std::fmt::Display for TransportUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::StreamableHttp => "streamable-http",
            Self::Sse => "sse",
            Self::Stdio => "stdio",
        })
    }
}

/// Something that happened on one server's connection.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Event {
    /// The connection moved to a new state.
    #[serde(rename_all = "camelCase")]
    StateChanged {
        server: String,
        state: ConnectionState,
    },
    /// A running tool call reported progress.
    #[serde(rename_all = "camelCase")]
    Progress {
        server: String,
        call_id: u64,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    },
    /// The server said its tool list changed; the cached list was dropped.
    #[serde(rename_all = "camelCase")]
    ToolsChanged { server: String },
    /// A resource the connection follows changed (2025 `notifications/resources/updated`, or
    /// the same on a 2026 `subscriptions/listen` stream); read it again to see how.
    #[serde(rename_all = "camelCase")]
    ResourceUpdated { server: String, uri: String },
    /// A sign-in needs the person to open this authorization URL (it carries no secret).
    #[serde(rename_all = "camelCase")]
    SignInUrl { server: String, url: String },
    /// A device sign-in waits for the person to enter `user_code` at `verification_uri`.
    #[serde(rename_all = "camelCase")]
    DeviceCode {
        server: String,
        user_code: String,
        verification_uri: String,
        verification_uri_complete: Option<String>,
        expires_in: u64,
    },
    /// The server sent a log message (`notifications/message`).
    #[serde(rename_all = "camelCase")]
    ServerLog {
        server: String,
        level: String,
        logger: Option<String>,
        data: serde_json::Value,
    },
    /// The keeper refreshed the server's token ahead of expiry.
    #[serde(rename_all = "camelCase")]
    TokenRefreshed {
        server: String,
        /// When the new token expires (unix seconds), when the server said.
        expires_at: Option<u64>,
    },
    /// The server's sign-in can no longer be refreshed (the refresh token was refused, the
    /// credentials were rejected…): a person must sign in again. `reason` is plain words.
    #[serde(rename_all = "camelCase")]
    NeedsSignIn { server: String, reason: String },
    /// A refresh ahead of expiry failed for now (network, server error, timeout); the old
    /// token is kept and the keeper tries again in `retry_in_secs`.
    #[serde(rename_all = "camelCase")]
    RefreshFailed {
        server: String,
        reason: String,
        retry_in_secs: u64,
    },
}

/// A cheap, cloneable broadcast channel of [`Event`]s.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus that keeps the last 256 events for listeners that fall behind.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(256);
        Self { sender }
    }

    /// Publish an event; it is dropped when nobody listens.
    pub fn publish(&self, event: Event) {
        tracing::trace!(?event, "event");
        let _ = self.sender.send(event);
    }

    /// Listen to every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
