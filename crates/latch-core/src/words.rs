//! Errors in words a person can act on. The libraries' messages name Rust types and steps of
//! their code, keep some causes out of `source()`, and put URLs with secrets in their queries;
//! here an error becomes one line of plain words ([`chain`]), or the raw chain for the log
//! ([`raw_chain`]), for every part of Latch that reports errors (sign-in, connections, the
//! bridge). It depends on no other part of Latch.

pub(crate) mod plain;

use rmcp::service::ClientInitializeError;

pub use plain::without_type_paths;

pub(crate) type StreamableError =
    rmcp::transport::streamable_http_client::StreamableHttpError<reqwest::Error>;
pub(crate) type WorkerError = rmcp::transport::worker::WorkerQuitReason<StreamableError>;

/// The causes of an error, outermost first. rmcp keeps some causes out of `source()`
/// (a transport's error inside the initialize error, the HTTP client's error inside the
/// streamable one), so this looks inside those too.
pub(crate) fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        if out.len() > 16 {
            break;
        }
        out.push(e);
        current =
            if let Some(ClientInitializeError::TransportError { error, .. }) = e.downcast_ref() {
                Some(error as &(dyn std::error::Error + 'static))
            } else if let Some(StreamableError::Client(inner)) = e.downcast_ref() {
                Some(inner as &(dyn std::error::Error + 'static))
            } else if let Some(WorkerError::Fatal { error, .. }) = e.downcast_ref() {
                Some(error as &(dyn std::error::Error + 'static))
            } else {
                e.source()
            };
    }
    out
}

/// The causes of an error on one line, without repeats, in words a person may see: Rust type
/// paths are left out (the raw chain is [`raw_chain`], for the log).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    // rmcp's errors we have words for.
    if let Some(service) = error.downcast_ref::<rmcp::ServiceError>() {
        tracing::debug!(error = %raw_chain(error), "a request failed");
        return plain::service_reason(service);
    }
    if let Some(init) = error.downcast_ref::<ClientInitializeError>() {
        return plain::handshake_reason(init);
    }
    let mut parts: Vec<String> = Vec::new();
    for e in causes(error) {
        let text = plain::without_url_queries(&without_type_paths(&e.to_string()));
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        return "an error without a description".to_owned();
    }
    parts.join(": ")
}

/// The causes of an error on one line, as the libraries wrote them: for the log only.
pub(crate) fn raw_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in causes(error) {
        let text = plain::without_url_queries(&e.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// Why `error` (a request that did not reach its server) failed, in plain words.
pub(crate) fn network_reason(error: &reqwest::Error) -> String {
    plain::network_reason(&causes(error))
}
