//! rmcp's errors, built by hand, come out as one line of plain words naming the server, with no
//! Rust type path in them.

use std::any::TypeId;

use rmcp::model::{ErrorData, ProtocolVersion};
use rmcp::service::ClientInitializeError;
use rmcp::transport::DynamicTransportError;

use super::*;
use crate::words::{WorkerError, network_reason, without_type_paths};

const URL: &str = "http://127.0.0.1:9/mcp";
/// What rmcp names the Streamable HTTP transport Latch uses.
const TRANSPORT: &str = "rmcp::transport::worker::WorkerTransport<rmcp::transport::streamable_http_client::StreamableHttpClientWorker<latch_core::connection::http::refresh_once::RefreshOnce>>";

fn transport_error(error: StreamableError, context: &'static str) -> ClientInitializeError {
    ClientInitializeError::TransportError {
        error: DynamicTransportError::from_parts(TRANSPORT, TypeId::of::<()>(), Box::new(error)),
        context: context.into(),
    }
}

/// The person's line for `error`, checked to be one plain line naming the server.
fn said(error: ClientInitializeError) -> String {
    let text = ConnectError::from_init(error, URL).to_string();
    assert!(text.contains(URL), "{text}");
    assert!(!text.contains('\n'), "{text}");
    assert!(!text.contains("::"), "{text}");
    assert!(!text.contains("rmcp"), "{text}");
    assert!(!text.contains("Error"), "{text}");
    text
}

#[test]
fn a_channel_closed_after_initialize_says_where_it_happened() {
    let text = said(transport_error(
        StreamableError::TransportChannelClosed,
        "send initialized notification",
    ));
    assert_eq!(
        text,
        format!(
            "{URL} did not complete the MCP handshake: after `initialize`, while Latch confirmed \
             the session (`notifications/initialized`), the connection closed"
        )
    );
}

#[test]
fn a_worker_that_quit_is_said_in_words() {
    let fatal = WorkerError::Fatal {
        error: StreamableError::UnexpectedEndOfStream,
        context: "process initialize response".into(),
    };
    let error = ClientInitializeError::TransportError {
        error: DynamicTransportError::from_parts(TRANSPORT, TypeId::of::<()>(), Box::new(fatal)),
        context: "send initialize request".into(),
    };
    let text = said(error);
    assert!(
        text.ends_with(
            "while Latch sent `initialize`, it ended its answer before the handshake finished"
        ),
        "{text}"
    );
    let idle = WorkerError::IdleTimeout(std::time::Duration::from_secs(300));
    let error = ClientInitializeError::TransportError {
        error: DynamicTransportError::from_parts(TRANSPORT, TypeId::of::<()>(), Box::new(idle)),
        context: "send initialize request".into(),
    };
    assert!(said(error).contains("after 300 s without traffic"));
}

#[test]
fn each_transport_failure_has_its_words() {
    let json = serde_json::from_str::<serde_json::Value>("<html>").unwrap_err();
    let cases = [
        (
            StreamableError::UnexpectedContentType(Some("text/html".into())),
            "content type `text/html`, not JSON or an event stream",
        ),
        (
            StreamableError::Deserialize(json),
            "its answer is not valid JSON-RPC",
        ),
        (
            StreamableError::MissingSessionIdInResponse,
            "had no session id (the `Mcp-Session-Id` header)",
        ),
        (
            StreamableError::ResponseBodyTooLarge { max_size: 1024 },
            "larger than the 1024 bytes Latch accepts",
        ),
        (
            StreamableError::ReservedHeaderConflict("accept".into()),
            "header `accept` is one Latch sets itself",
        ),
        (
            StreamableError::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            )),
            "the connection failed (connection reset by peer)",
        ),
        (
            StreamableError::Auth(rmcp::transport::auth::AuthError::TokenRefreshRejected(
                "invalid_grant".into(),
            )),
            "the stored refresh token was refused — run `latch login` again",
        ),
    ];
    for (error, words) in cases {
        let text = said(transport_error(error, "send initialize request"));
        assert!(text.contains(words), "{text} lacks {words}");
    }
}

#[test]
fn rmcp_s_own_handshake_failures_have_words() {
    let cases = [
        (
            ClientInitializeError::ExpectedInitResult(None),
            "something other than an MCP initialize result",
        ),
        (
            ClientInitializeError::JsonRpcError(ErrorData::internal_error("database down", None)),
            "it answered with an error: database down",
        ),
        (
            ClientInitializeError::NoCompatibleProtocolVersion {
                client_supported: vec![ProtocolVersion::V_2025_11_25],
                server_supported: vec![ProtocolVersion::V_2024_11_05],
            },
            "none of the MCP versions Latch speaks (it offers 2024-11-05)",
        ),
        (
            ClientInitializeError::Cancelled,
            "the handshake was cancelled",
        ),
        (
            ClientInitializeError::ConnectionClosed("eof".into()),
            "the server closed the connection",
        ),
    ];
    for (error, words) in cases {
        let text = said(error);
        assert!(text.contains(words), "{text} lacks {words}");
    }
}

#[test]
fn type_paths_are_taken_out_of_a_message() {
    assert_eq!(
        without_type_paths(&format!(
            "Send message error Transport [{TRANSPORT}] error: Transport channel closed, when send initialized notification"
        )),
        "Send message error Transport error: Transport channel closed, when send initialized notification"
    );
    // A path cut short, as a person might paste it.
    assert_eq!(
        without_type_paths(
            "Transport [rmcp::transport::worker::WorkerTransport<…RefreshOnce>>>] error: closed"
        ),
        "Transport error: closed"
    );
    assert_eq!(without_type_paths("rmcp::service::ServiceError"), "");
}

#[test]
fn words_addresses_and_short_paths_stay() {
    for text in [
        "could not reach http://[fe80::1]:8080/mcp: Connection refused (os error 111)",
        "http://[::1]:3000/mcp answered HTTP 500",
        "see std::io for why",
        "a: b: c",
    ] {
        assert_eq!(without_type_paths(text), text);
    }
}

#[test]
fn a_chain_is_one_line_without_paths_or_url_queries() {
    let error = std::io::Error::other(
        "see https://example.com/mcp?key=sk-secret for rmcp::model::Thing<u8> details",
    );
    let text = chain(&error);
    assert_eq!(text, "see https://example.com/mcp?[REDACTED] for details");
    // The raw chain keeps rmcp's words (for the log), never a URL's query.
    let init = transport_error(
        StreamableError::UnexpectedServerResponse(
            "see https://example.com/mcp?key=sk-secret".into(),
        ),
        "send initialize request",
    );
    let raw = raw_chain(&init);
    assert!(raw.contains("WorkerTransport"), "{raw}");
    assert!(!raw.contains("sk-secret"), "{raw}");
    assert_eq!(
        chain(&init),
        "while Latch sent `initialize`, it answered with something that is not MCP"
    );
}

#[test]
fn a_request_on_an_open_session_fails_in_words() {
    let closed = rmcp::ServiceError::TransportSend(DynamicTransportError::from_parts(
        TRANSPORT,
        TypeId::of::<()>(),
        Box::new(StreamableError::TransportChannelClosed),
    ));
    assert_eq!(chain(&closed), "the connection closed");
    let refused = rmcp::ServiceError::TransportSend(DynamicTransportError::from_parts(
        TRANSPORT,
        TypeId::of::<()>(),
        Box::new(StreamableError::SessionExpired),
    ));
    assert_eq!(chain(&refused), "it no longer knows the session (HTTP 404)");
    assert_eq!(
        chain(&rmcp::ServiceError::UnexpectedResponse),
        "it answered with a result of the wrong kind"
    );
}

/// A request that did not reach its server, said in words: a refused port for real (nothing
/// listens on 127.0.0.1:9), the other causes as the HTTP stack chains them.
#[tokio::test]
async fn network_failures_are_said_in_words() {
    let refused = reqwest::Client::new()
        .get("http://127.0.0.1:9/mcp")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        network_reason(&refused),
        "nothing answered there (connection refused)"
    );

    #[derive(Debug)]
    struct Wrapped(&'static str, std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.1)
        }
    }
    let reason = |outer: &'static str, inner: std::io::Error| {
        let error = Wrapped(outer, inner);
        plain::network_reason(&causes(&error))
    };
    assert_eq!(
        reason(
            "client error (Connect)",
            std::io::Error::other(
                "dns error: failed to lookup address information: Name or service not known"
            ),
        ),
        "its name could not be found"
    );
    assert_eq!(
        reason(
            "client error (Connect)",
            std::io::Error::other("invalid peer certificate: UnknownIssuer"),
        ),
        "its TLS certificate could not be verified"
    );
    assert_eq!(
        reason(
            "client error (Connect)",
            std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out"),
        ),
        "it did not answer in time"
    );
    assert_eq!(
        reason(
            "client error (Connect)",
            std::io::Error::other("Network is unreachable (os error 101)"),
        ),
        "Network is unreachable (os error 101)"
    );
}

/// The error codes MCP 2026-07-28 defines come out as what to do, not as numbers.
#[test]
fn the_2026_error_codes_have_words() {
    use rmcp::model::ErrorCode;
    let error = |code: i32, message: &str, data: Option<serde_json::Value>| {
        ErrorData::new(ErrorCode(code), message.to_owned(), data)
    };
    let cases = [
        (
            error(
                -32022,
                "Unsupported protocol version",
                Some(serde_json::json!({"supported": ["2025-11-25"], "requested": "2026-07-28"})),
            ),
            "it does not speak MCP version 2026-07-28 (it speaks 2025-11-25) — set the server's \"protocol\"",
        ),
        (
            error(-32022, "Unsupported protocol version", None),
            "it does not speak MCP version — set the server's \"protocol\" to \"auto\"",
        ),
        (
            error(
                -32021,
                "Missing capability",
                Some(serde_json::json!({"requiredCapabilities": ["sampling"]})),
            ),
            "it needs a client capability Latch did not announce (sampling)",
        ),
        (
            error(-32020, "Mcp-Name does not match params.name", None),
            "headers do not match its body (Mcp-Name does not match params.name) — is a proxy",
        ),
        (
            error(-32602, "Resource not found: file:///x", None),
            "it refused the request's parameters: Resource not found: file:///x",
        ),
        (
            error(-32002, "Resource not found", None),
            "it has no such resource (Resource not found)",
        ),
    ];
    for (data, words) in cases {
        let handshake = said(ClientInitializeError::JsonRpcError(data.clone()));
        assert!(handshake.contains(words), "{handshake} lacks {words}");
        assert!(handshake.contains(URL), "{handshake} names the server");
        assert!(!handshake.contains('\n'), "one line: {handshake}");
        let service = plain::service_reason(&rmcp::ServiceError::McpError(data));
        assert!(service.contains(words), "{service} lacks {words}");
    }
}

#[test]
fn a_challenge_with_the_dpop_scheme_alone_is_told_apart() {
    use super::challenges_dpop_only;
    assert!(challenges_dpop_only(
        r#"DPoP error="invalid_token", error_description="DPoP-bound tokens only", algs="ES256""#
    ));
    assert!(challenges_dpop_only(r#"dpop algs="ES256""#));
    assert!(!challenges_dpop_only(
        r#"Bearer resource_metadata="https://x/.well-known/oauth-protected-resource", DPoP algs="ES256""#
    ));
    assert!(!challenges_dpop_only(r#"Bearer error="invalid_token""#));
    assert!(!challenges_dpop_only(""));
}
