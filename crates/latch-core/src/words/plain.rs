//! rmcp's errors in plain words. rmcp's own messages name Rust types (`Transport
//! [rmcp::transport::worker::WorkerTransport<…>] error: Transport channel closed, when send
//! initialized notification`) and steps of its code; a person needs what happened and where.
//! Each variant we know is said in words here; the raw chain goes to the log (`-v`), and what is
//! left over as a last resort passes through [`without_type_paths`].

use rmcp::service::ClientInitializeError;
use rmcp::transport::auth::AuthError;

use super::{StreamableError, WorkerError, causes};

/// Why the handshake failed, for the part of a message after "{server} did not complete the
/// MCP handshake: ".
pub(crate) fn handshake_reason(error: &ClientInitializeError) -> String {
    use ClientInitializeError as E;
    match error {
        E::ConnectionClosed(_) => "the server closed the connection (for a command: it exited — run it by hand to see why)".to_owned(),
        E::JsonRpcError(data) => refusal(data),
        E::ExpectedInitResponse(_) | E::ExpectedInitResult(_) => {
            "it answered `initialize` with something other than an MCP initialize result — is the URL an MCP server's?".to_owned()
        }
        E::ConflictInitResponseId(..) | E::UncorrelatedErrorResponse { .. } => {
            "it answered with the id of a request Latch did not send — the server does not follow MCP".to_owned()
        }
        E::NoCompatibleProtocolVersion {
            server_supported, ..
        } => {
            let offered: Vec<String> = server_supported.iter().map(ToString::to_string).collect();
            if offered.is_empty() {
                "it speaks none of the MCP versions Latch speaks".to_owned()
            } else {
                format!(
                    "it speaks none of the MCP versions Latch speaks (it offers {})",
                    offered.join(", ")
                )
            }
        }
        E::NoPreferredProtocolVersion => {
            "Latch offered no MCP version to the server (a bug in Latch — please report it)"
                .to_owned()
        }
        E::Cancelled => "the handshake was cancelled".to_owned(),
        E::LegacyFallbackFailed { fallback, .. } => handshake_reason(fallback),
        E::TransportError { error, context } => {
            format!("{}, {}", step(context), transport_reason(error))
        }
        other => {
            let text = without_type_paths(&other.to_string());
            if text.is_empty() {
                "it did not answer the way MCP says".to_owned()
            } else {
                text
            }
        }
    }
}

/// Why a request on an open session failed (a call, a listing), for the part of a message
/// after "the connection was lost while …: ".
pub(crate) fn service_reason(error: &rmcp::ServiceError) -> String {
    use rmcp::ServiceError as E;
    match error {
        E::TransportSend(error) => transport_reason(error),
        E::TransportClosed => "the connection closed".to_owned(),
        E::McpError(data) => refusal(data),
        E::UnexpectedResponse => "it answered with a result of the wrong kind".to_owned(),
        E::Timeout { timeout } => format!("no answer within {} s", timeout.as_secs()),
        E::Cancelled { .. } => "the request was cancelled".to_owned(),
        E::SubscriptionLagged { capacity } => {
            format!("Latch fell behind the server's messages (more than {capacity} were waiting)")
        }
        E::InputRequiredRoundsExceeded { max_rounds } => format!(
            "the server kept asking for more input ({max_rounds} rounds) and never answered"
        ),
        other => without_type_paths(&other.to_string()),
    }
}

/// A JSON-RPC error the server answered with, in words: the codes MCP defines (2026-07-28
/// renumbered them into -32020…-32022, and made "resource not found" -32602) say what to do;
/// any other code passes the server's own message on.
pub(crate) fn refusal(data: &rmcp::model::ErrorData) -> String {
    use rmcp::model::ErrorCode as C;
    let message = without_type_paths(&data.message);
    let listed = |key: &str| -> Option<String> {
        let items: Vec<String> = data
            .data
            .as_ref()?
            .get(key)?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        (!items.is_empty()).then(|| items.join(", "))
    };
    match data.code {
        C::UNSUPPORTED_PROTOCOL_VERSION => {
            let requested = data
                .data
                .as_ref()
                .and_then(|d| d.get("requested"))
                .and_then(|v| v.as_str())
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            match listed("supported") {
                Some(supported) => format!(
                    "it does not speak MCP version{requested} (it speaks {supported}) — set the server's \"protocol\" to one of those, or to \"auto\""
                ),
                None => format!(
                    "it does not speak MCP version{requested} — set the server's \"protocol\" to \"auto\" so Latch finds out which it speaks"
                ),
            }
        }
        C::MISSING_REQUIRED_CLIENT_CAPABILITY => match listed("requiredCapabilities") {
            Some(needed) => format!(
                "it needs a client capability Latch did not announce ({needed}), so it refused the request"
            ),
            None => format!(
                "it needs a client capability Latch did not announce ({message}), so it refused the request"
            ),
        },
        C::HEADER_MISMATCH => format!(
            "it found the request's Mcp-* HTTP headers do not match its body ({message}) — is a proxy in between rewriting headers?"
        ),
        C::RESOURCE_NOT_FOUND => format!("it has no such resource ({message})"),
        C::METHOD_NOT_FOUND => format!("it does not offer that request ({message})"),
        C::INVALID_PARAMS => format!("it refused the request's parameters: {message}"),
        C(-32042) => format!("it needs you to open a page in the browser first ({message})"),
        _ => format!("it answered with an error: {message}"),
    }
}

/// Which step of the handshake rmcp's `context` names.
fn step(context: &str) -> &'static str {
    match context {
        "send initialize request" => "while Latch sent `initialize`",
        "send initialized notification" => {
            "after `initialize`, while Latch confirmed the session (`notifications/initialized`)"
        }
        "send discover request" => "while Latch asked which MCP versions it speaks",
        "send pre-init ping response" => "while Latch answered its ping",
        _ => "during the handshake",
    }
}

/// What went wrong under a transport: the first cause we can say in words.
pub(crate) fn transport_reason(error: &(dyn std::error::Error + 'static)) -> String {
    for e in causes(error) {
        if let Some(streamable) = e.downcast_ref::<StreamableError>()
            && let Some(reason) = streamable_reason(streamable)
        {
            return reason;
        }
        if let Some(worker) = e.downcast_ref::<WorkerError>()
            && let Some(reason) = worker_reason(worker)
        {
            return reason;
        }
        if let Some(http) = e.downcast_ref::<reqwest::Error>() {
            return reqwest_reason(http);
        }
        if let Some(auth) = e.downcast_ref::<AuthError>() {
            return auth_reason(auth);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return format!("the connection failed ({io})");
        }
    }
    "the connection failed".to_owned()
}

/// `None` when the cause lies further in (the HTTP client's error, a worker's fatal error).
fn streamable_reason(error: &StreamableError) -> Option<String> {
    use StreamableError as S;
    Some(match error {
        S::Client(_) => return None,
        S::Auth(auth) => auth_reason(auth),
        S::Io(io) => format!("the connection failed ({io})"),
        S::Sse(_) => "its event stream could not be read".to_owned(),
        S::HttpStatus(status) => format!("it answered HTTP {}", status.status),
        S::UnexpectedEndOfStream => "it ended its answer before the handshake finished".to_owned(),
        S::UnexpectedServerResponse(detail) if detail.contains("recursion limit") => {
            "its answer is nested deeper than Latch reads (the JSON recursion limit)".to_owned()
        }
        S::UnexpectedServerResponse(_) => "it answered with something that is not MCP".to_owned(),
        S::ResponseBodyTooLarge { max_size } => {
            format!("its answer was larger than the {max_size} bytes Latch accepts")
        }
        S::UnexpectedContentType(kind) => match kind {
            Some(kind) => format!(
                "it answered with content type `{}`, not JSON or an event stream — is the URL an MCP server's?",
                kind.chars().take(64).collect::<String>()
            ),
            None => "it answered without a content type, not with JSON or an event stream — is the URL an MCP server's?".to_owned(),
        },
        S::ServerDoesNotSupportSse => "it offers no event stream".to_owned(),
        S::ServerDoesNotSupportDeleteSession => "it does not let sessions be ended".to_owned(),
        S::TokioJoinError(_) => "a task of Latch's stopped unexpectedly".to_owned(),
        S::Deserialize(_) => "its answer is not valid JSON-RPC".to_owned(),
        S::TransportChannelClosed => "the connection closed".to_owned(),
        S::MissingSessionIdInResponse => {
            "its answer had no session id (the `Mcp-Session-Id` header)".to_owned()
        }
        S::AuthRequired(_) => "it asks for sign-in (HTTP 401) — run `latch login` for it".to_owned(),
        S::InsufficientScope(_) => {
            "it says the sign-in lacks a permission it needs (insufficient scope) — sign in again with `latch login`".to_owned()
        }
        S::ReservedHeaderConflict(name) => format!(
            "header `{name}` is one Latch sets itself — remove it from the server's headers"
        ),
        S::SessionExpired => "it no longer knows the session (HTTP 404)".to_owned(),
        S::SessionRecoveryTimeout => {
            "a new session could not be started in time (the last request may have been carried out)".to_owned()
        }
        S::ReinitializationFailed(data) => format!(
            "it refused to start a new session: {}",
            without_type_paths(&data.message)
        ),
        S::ControlRequestTimeout => "a cancellation or reply was not accepted in time".to_owned(),
        other => without_type_paths(&other.to_string()),
    })
}

fn worker_reason(error: &WorkerError) -> Option<String> {
    use rmcp::transport::worker::WorkerQuitReason as W;
    Some(match error {
        W::Fatal { .. } => return None,
        W::Join(_) => "a task of Latch's stopped unexpectedly".to_owned(),
        W::Cancelled | W::TransportClosed | W::HandlerTerminated => {
            "the connection closed".to_owned()
        }
        W::IdleTimeout(idle) => format!(
            "the connection was closed after {} s without traffic",
            idle.as_secs()
        ),
        other => without_type_paths(&other.to_string()),
    })
}

/// The HTTP client's error, without its URL (it may carry a secret; the message names the
/// server already).
fn reqwest_reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "the request timed out".to_owned();
    }
    if error.is_connect() {
        return "the connection could not be made".to_owned();
    }
    if error.is_redirect() {
        return "it redirected too many times".to_owned();
    }
    if let Some(status) = error.status() {
        return format!("it answered HTTP {}", status.as_u16());
    }
    if error.is_body() || error.is_decode() {
        return "its answer broke off or could not be read".to_owned();
    }
    // The innermost cause says it in words ("connection closed before message completed").
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    if std::ptr::addr_eq(innermost, error as &(dyn std::error::Error + 'static)) {
        "the request failed".to_owned()
    } else {
        format!(
            "the request failed: {}",
            without_type_paths(&innermost.to_string())
        )
    }
}

fn auth_reason(error: &AuthError) -> String {
    match error {
        AuthError::AuthorizationRequired => {
            "it asks for sign-in (HTTP 401) — run `latch login` for it".to_owned()
        }
        AuthError::TokenRefreshRejected(_) => {
            "the sign-in could not be renewed: the stored refresh token was refused — run `latch login` again".to_owned()
        }
        AuthError::TokenRefreshFailed(detail) => format!(
            "the sign-in could not be renewed: {}",
            without_type_paths(detail)
        ),
        AuthError::CredentialStoreError(detail) => {
            format!("the token store failed: {detail}")
        }
        AuthError::HttpError(http) => reqwest_reason(http),
        other => format!("sign-in failed: {}", without_type_paths(&other.to_string())),
    }
}

/// `text` without Rust type paths (`rmcp::transport::worker::WorkerTransport<…>`, with their
/// generic arguments) — the last resort for a library's message we have no words for. A path
/// is three or more `::`-joined identifiers, so IPv6 addresses (`[fe80::1]`) stay.
pub fn without_type_paths(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_word = is_ident_start(chars[i]) && (i == 0 || !is_ident(chars[i - 1]));
        if !starts_word {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let (end, separators) = read_path(&chars, i);
        if separators < 2 {
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        i = end;
        if chars.get(i) == Some(&'<') {
            i = skip_generics(&chars, i);
        }
        while chars.get(i) == Some(&'>') {
            i += 1;
        }
    }
    tidy(&out)
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The end of the `a::b::C` path starting at `start`, and how many `::` it has.
fn read_path(chars: &[char], start: usize) -> (usize, usize) {
    let mut i = start;
    let mut separators = 0;
    loop {
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        let more = chars.get(i) == Some(&':')
            && chars.get(i + 1) == Some(&':')
            && chars.get(i + 2).is_some_and(|c| is_ident_start(*c));
        if !more {
            return (i, separators);
        }
        separators += 1;
        i += 2;
    }
}

/// The index after the `<…>` opening at `start` (the end of the text when it never closes).
fn skip_generics(chars: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in chars.iter().enumerate().skip(start) {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    chars.len()
}

/// Brackets left empty by a removed path go, and so do doubled spaces.
fn tidy(text: &str) -> String {
    let mut text = text.to_owned();
    for empty in ["[]", "()", "``", "<>"] {
        text = text.replace(empty, "");
    }
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [(" :", ":"), (" ,", ","), (": :", ":")] {
        out = out.replace(from, to);
    }
    out.trim_matches(|c: char| c == ':' || c.is_whitespace())
        .to_owned()
}

/// `text` with the query of every URL in it replaced by `[REDACTED]` (a query may carry a key).
pub(crate) fn without_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, url) = rest.split_at(at);
        out.push_str(before);
        let end = url
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '"' | '\'' | '`' | '>'))
            .unwrap_or(url.len());
        let (url, after) = url.split_at(end);
        match url.split_once('?') {
            Some((base, _)) => {
                out.push_str(base);
                out.push_str("?[REDACTED]");
            }
            None => out.push_str(url),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Why a request did not reach the server, from its chain of causes (outermost first), in
/// words: the name not found, nothing listening, no answer in time, a certificate refused —
/// not the HTTP stack's "error sending request: client error (Connect): dns error: …".
pub(crate) fn network_reason(causes: &[&(dyn std::error::Error + 'static)]) -> String {
    let refused = causes.iter().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    let timed_out = causes.iter().any(|e| {
        e.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    });
    let said = |words: &[&str]| {
        causes.iter().any(|e| {
            let text = e.to_string().to_ascii_lowercase();
            words.iter().any(|w| text.contains(w))
        })
    };
    if refused {
        "nothing answered there (connection refused)".to_owned()
    } else if timed_out {
        "it did not answer in time".to_owned()
    } else if said(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no address associated",
        "temporary failure in name resolution",
    ]) {
        "its name could not be found".to_owned()
    } else if said(&["certificate", "tls handshake", "invalid peer"]) {
        "its TLS certificate could not be verified".to_owned()
    } else {
        // The innermost cause says the rest best ("Network is unreachable (os error 101)").
        causes
            .last()
            .map(|e| without_type_paths(&e.to_string()))
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| "the connection failed".to_owned())
    }
}
