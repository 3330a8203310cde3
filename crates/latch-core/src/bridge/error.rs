//! What can go wrong in a bridge, in two shapes: [`BridgeError`] ends the bridge (the CLI
//! prints it on stderr), and the JSON-RPC errors the agent gets for one request — a needed
//! sign-in, a lost connection, a cancelled call — worded so a person reading the agent's log
//! knows what to do.

use rmcp::{
    ErrorData, ServiceError,
    model::{ErrorCode, RequestId},
};
use serde_json::json;

use crate::ConnectError;

/// Why the bridge stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    #[error("the agent did not complete the MCP handshake: {reason}")]
    Handshake { reason: String },
    #[error("the bridge stopped: {reason}")]
    Stopped { reason: String },
}

/// JSON-RPC error code for "needs sign-in" (implementation-defined server error range).
pub(crate) const NEEDS_SIGN_IN: ErrorCode = ErrorCode(-32001);
/// JSON-RPC error code for "the connection to the server was lost".
pub(crate) const CONNECTION_LOST: ErrorCode = ErrorCode(-32003);
/// JSON-RPC error code for a request the agent cancelled (as LSP's `RequestCancelled`).
pub(crate) const REQUEST_CANCELLED: ErrorCode = ErrorCode(-32800);

/// The agent's error while `server` (signed in as `account`, `None` for the default account)
/// needs a sign-in.
pub(crate) fn needs_sign_in(server: &str, account: Option<&str>) -> ErrorData {
    ErrorData::new(
        NEEDS_SIGN_IN,
        super::sign_in_message_for(server, account),
        Some(json!({ "latch": "needs-sign-in", "server": server, "account": account })),
    )
}

/// The agent's error when connecting to `server` (as `account`) failed.
pub(crate) fn from_connect(server: &str, account: Option<&str>, error: &ConnectError) -> ErrorData {
    if error.is_auth_required() {
        return needs_sign_in(server, account);
    }
    ErrorData::new(
        CONNECTION_LOST,
        format!("Latch: could not connect to {server}: {error}"),
        Some(json!({ "latch": "unreachable", "server": server })),
    )
}

/// The agent's error when the session with `server` ended under a request: a tool call is
/// never sent again (it may have run); a read was, once, on a new session (`repeated`).
pub(crate) fn connection_lost(server: &str, reason: &str, repeated: bool) -> ErrorData {
    let message = if repeated {
        format!(
            "Latch: the connection to {server} was lost (the server may have restarted), and \
             the request failed again on a new session: {reason}"
        )
    } else {
        format!(
            "Latch: the connection to {server} was lost (the server may have restarted); the \
             call may or may not have run and was not repeated — try again ({reason})"
        )
    };
    ErrorData::new(
        CONNECTION_LOST,
        message,
        Some(json!({ "latch": "connection-lost", "server": server, "repeated": repeated })),
    )
}

/// The agent's error for a request it cancelled.
pub(crate) fn cancelled(id: &RequestId) -> ErrorData {
    ErrorData::new(
        REQUEST_CANCELLED,
        format!("request {id} was cancelled"),
        None,
    )
}

/// How a failed remote request is handled.
pub(crate) enum Failure {
    /// The server answered with a JSON-RPC error: pass it on as it is.
    Answered(ErrorData),
    /// The server refused the request for want of a sign-in (401): it did not run.
    AuthRequired,
    /// The session is gone (transport closed or broken): the request may or may not have run.
    Lost(String),
    /// Anything else (cancelled, timed out, unexpected answer).
    Other(ErrorData),
}

impl Failure {
    pub(crate) fn classify(error: ServiceError) -> Self {
        if error.auth_challenge().is_some() {
            return Self::AuthRequired;
        }
        match error {
            ServiceError::McpError(data) => Self::Answered(data),
            ServiceError::TransportClosed => Self::Lost("the session ended".to_owned()),
            // What the transport said, without rmcp's wrapper (which names Rust types).
            ServiceError::TransportSend(error) => {
                Self::Lost(crate::words::chain(error.error.as_ref()))
            }
            other => Self::Other(ErrorData::internal_error(
                format!("Latch: {}", crate::words::chain(&other)),
                None,
            )),
        }
    }
}
