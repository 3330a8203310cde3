//! The two eras of MCP, side by side, and the one choice between them. Above this module
//! nothing differs: a [`Connection`](super::Connection) is a `Connection`, whichever it speaks.
//!
//! | | 2026-07-28 ([`Era::Modern`]) | 2025-11-25 and older ([`Era::Legacy`]) |
//! |---|---|---|
//! | start | `server/discover` (optional) | `initialize` + `notifications/initialized` |
//! | state | none: protocol version, capabilities and client info in every request's `_meta`, plus the `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*` headers (rmcp) | a session id ([`super::http`]'s session watch ends a lost one) |
//! | the server asks the client | an `input_required` result, answered and sent again ([`super::input_required`]) | a request on the session's streams ([`super::handler`]) |
//! | list changes | a `subscriptions/listen` stream ([`listen`]) | the session's GET stream (rmcp) |
//! | a broken response stream | the request is sent again with a new id ([`super::http`]'s reissue) | resumed with `Last-Event-ID` (rmcp) |
//!
//! Which one a server gets ([`Plan`]): the config's `"protocol"`, else the era found last time
//! ([`memory`]), else a probe — `server/discover` first, the handshake when the server answers
//! the way only an older server does ([`refused`]).

pub(crate) mod listen;
pub(crate) mod memory;

use rmcp::{
    model::{ErrorCode, ProtocolVersion},
    service::{ClientInitializeError, ClientLifecycleMode},
};
use serde::{Deserialize, Serialize};

use crate::config::ProtocolChoice;

/// One era of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Era {
    /// 2026-07-28: stateless, `server/discover`, per-request `_meta`.
    #[serde(rename = "2026-07-28")]
    Modern,
    /// 2025-11-25 and older: the `initialize` handshake and a session.
    #[serde(rename = "2025-11-25")]
    Legacy,
}

impl Era {
    /// The rmcp lifecycle that opens a session in this era.
    pub(crate) fn lifecycle(self) -> ClientLifecycleMode {
        match self {
            Self::Modern => ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
            Self::Legacy => ClientLifecycleMode::Initialize,
        }
    }

    /// The era a negotiated protocol version belongs to.
    pub(crate) fn of(version: &ProtocolVersion) -> Self {
        if version.has_initialize() {
            Self::Legacy
        } else {
            Self::Modern
        }
    }

    /// The version Latch asks for in this era.
    pub(crate) fn version(self) -> &'static str {
        match self {
            Self::Modern => "2026-07-28",
            Self::Legacy => "2025-11-25",
        }
    }
}

/// The lifecycle that finds the era out: `server/discover` first; on an answer only an older
/// server gives (or none within 10 s), the 2025 handshake on the same connection.
pub(crate) fn probe() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::V_2025_11_25),
    }
}

/// How to open a session with one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The config pins this era: only it is tried.
    Pinned(Era),
    /// The era found last time: tried first, and probed again if the server refuses it.
    Remembered(Era),
    /// Nothing known: probe.
    Probe,
}

impl Plan {
    pub(crate) fn new(choice: &ProtocolChoice, remembered: Option<Era>) -> Self {
        match choice {
            ProtocolChoice::Pinned(version) if version == Era::Modern.version() => {
                Self::Pinned(Era::Modern)
            }
            ProtocolChoice::Pinned(_) => Self::Pinned(Era::Legacy),
            ProtocolChoice::Auto => remembered.map_or(Self::Probe, Self::Remembered),
        }
    }
}

/// Whether the server turned the start of a session opened with `lifecycle` down the way a
/// server of the other era does. To `server/discover` (the 2026 wire): any JSON-RPC error but
/// the two only a 2026 server gives (a missing client capability, a header mismatch) — 2025
/// servers say "method not found", "server not initialized", "bad request" — as rmcp's own
/// probe judges; an answer that is not a discover result; no version in common; or HTTP 400,
/// 404 or 405. To `initialize` (the 2025
/// handshake): "unsupported protocol version" (-32022, or any error that says so), "method not
/// found" or "invalid request", or HTTP 400, 404 or 405.
pub(crate) fn refused(error: &ClientInitializeError, lifecycle: &ClientLifecycleMode) -> bool {
    const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
    let modern = !matches!(lifecycle, ClientLifecycleMode::Initialize);
    match error {
        ClientInitializeError::JsonRpcError(data) if modern => !matches!(
            data.code,
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY | ErrorCode::HEADER_MISMATCH
        ),
        ClientInitializeError::JsonRpcError(data) => {
            data.code == ErrorCode(UNSUPPORTED_PROTOCOL_VERSION)
                || data.code == ErrorCode::METHOD_NOT_FOUND
                || data.code == ErrorCode::INVALID_REQUEST
                || data
                    .message
                    .to_ascii_lowercase()
                    .contains("protocol version")
        }
        // Any answer to `server/discover` but a discover result: servers that answer every
        // unknown method with `{}` are 2025 servers too.
        ClientInitializeError::ExpectedInitResult(_) if modern => true,
        ClientInitializeError::NoCompatibleProtocolVersion { .. } => true,
        ClientInitializeError::LegacyFallbackFailed { fallback, .. } => {
            refused(fallback, &ClientLifecycleMode::Initialize)
        }
        other => matches!(super::error::http_status_of(other), Some(400 | 404 | 405)),
    }
}

#[cfg(test)]
mod tests {
    use rmcp::ErrorData;

    use super::*;

    #[test]
    fn the_config_decides_before_memory() {
        let pinned = |v: &str| ProtocolChoice::Pinned(v.to_owned());
        assert_eq!(
            Plan::new(&pinned("2026-07-28"), Some(Era::Legacy)),
            Plan::Pinned(Era::Modern)
        );
        assert_eq!(
            Plan::new(&pinned("2025-11-25"), Some(Era::Modern)),
            Plan::Pinned(Era::Legacy)
        );
        assert_eq!(
            Plan::new(&ProtocolChoice::Auto, Some(Era::Legacy)),
            Plan::Remembered(Era::Legacy)
        );
        assert_eq!(Plan::new(&ProtocolChoice::Auto, None), Plan::Probe);
    }

    #[test]
    fn the_other_eras_refusals_are_recognised() {
        let rpc = |code: i32, message: &'static str| {
            ClientInitializeError::JsonRpcError(ErrorData::new(ErrorCode(code), message, None))
        };
        let handshake = Era::Legacy.lifecycle();
        assert!(refused(
            &rpc(-32022, "Unsupported protocol version"),
            &handshake
        ));
        assert!(refused(
            &rpc(-32601, "Method not found: initialize"),
            &handshake
        ));
        assert!(refused(
            &rpc(
                -32000,
                "Bad Request: Unsupported protocol version: 2025-11-25"
            ),
            &handshake
        ));
        assert!(!refused(&rpc(-32603, "database down"), &handshake));
        // To `server/discover`, what 2025 servers answer (server-everything: -32000).
        for lifecycle in [Era::Modern.lifecycle(), probe()] {
            assert!(refused(
                &rpc(-32000, "Bad Request: Server not initialized"),
                &lifecycle
            ));
            assert!(refused(&rpc(-32601, "Method not found"), &lifecycle));
            assert!(!refused(
                &rpc(
                    ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY.0,
                    "needs sampling"
                ),
                &lifecycle
            ));
        }
        assert!(refused(
            &ClientInitializeError::ExpectedInitResult(None),
            &Era::Modern.lifecycle()
        ));
        assert!(!refused(
            &ClientInitializeError::ExpectedInitResult(None),
            &handshake
        ));
        assert!(!refused(
            &ClientInitializeError::ConnectionClosed("initialize response".into()),
            &handshake
        ));
    }

    #[test]
    fn versions_map_to_eras() {
        assert_eq!(Era::of(&ProtocolVersion::V_2026_07_28), Era::Modern);
        assert_eq!(Era::of(&ProtocolVersion::V_2025_11_25), Era::Legacy);
        assert_eq!(Era::of(&ProtocolVersion::V_2024_11_05), Era::Legacy);
    }
}
