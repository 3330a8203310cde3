//! The HTTP side of the protocol log for the legacy HTTP+SSE transport: the `GET` that opens
//! the event stream and each `POST` of a message, recorded as the Streamable HTTP tap records
//! its exchanges ([`crate::connection::tap::http`]): the same entry, the same redaction.
//!
//! Here the raw response is at hand, so the status and every response header are shown as the
//! server sent them (credentials `[redacted]`). The request headers shown are the ones this
//! transport sets: the configured headers and, on a signed-in connection, the `Authorization`
//! header carrying the token — all marked sensitive, so all shown as `[redacted]`. An exchange
//! that ends before its answer (the `endpoint` wait timed out, the send was cancelled) is
//! recorded too, as failed.

use std::time::Instant;

use http::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::connection::tap::{
    Direction, EntryKind, HeaderView, HttpExchange, Log, ProtocolEntry,
    redact::{self, Configured},
};

/// Where one SSE connection's exchanges are recorded. Cheap to clone.
#[derive(Clone)]
pub(super) struct Recorder {
    log: Log,
    configured: std::sync::Arc<Configured>,
}

impl Recorder {
    /// Record in `log`; `configured`: the server's configured headers, always hidden.
    pub(super) fn new(log: Log, configured: &HeaderMap) -> Self {
        Self {
            log,
            configured: std::sync::Arc::new(Configured::new(configured.keys())),
        }
    }

    fn shown(&self, headers: &HeaderMap) -> Vec<HeaderView> {
        headers
            .iter()
            .map(|(name, value)| HeaderView {
                name: name.as_str().to_owned(),
                value: self.configured.header(name, value),
            })
            .collect()
    }

    /// The `GET` of the event stream, starting now.
    pub(super) fn get(&self, url: &Url, headers: &HeaderMap) -> Pending {
        Pending::new(self, "GET", url, self.shown(headers), 0, None)
    }

    /// The `POST` of `message` (`size` bytes), starting now.
    pub(super) fn post(
        &self,
        url: &Url,
        headers: &HeaderMap,
        message: &impl serde::Serialize,
        size: usize,
    ) -> Pending {
        let value = serde_json::to_value(message).ok();
        Pending::new(
            self,
            "POST",
            url,
            self.shown(headers),
            size as u64,
            value.as_ref(),
        )
    }
}

/// An exchange under way; recorded once, when it is finished or dropped.
pub(super) struct Pending {
    recorder: Recorder,
    method: &'static str,
    url: String,
    request_headers: Vec<HeaderView>,
    request_size: u64,
    rpc_method: Option<String>,
    id: Option<String>,
    started: Instant,
    status: Option<u16>,
    response_headers: Vec<HeaderView>,
    latency_ms: Option<u64>,
    recorded: bool,
}

impl Pending {
    fn new(
        recorder: &Recorder,
        method: &'static str,
        url: &Url,
        request_headers: Vec<HeaderView>,
        request_size: u64,
        message: Option<&Value>,
    ) -> Self {
        let rpc_method = message
            .and_then(|m| m.get("method"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let id = message
            .and_then(|m| m.get("id"))
            .filter(|id| !id.is_null())
            .map(|id| match id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        Self {
            recorder: recorder.clone(),
            method,
            url: redact::url(url.as_str()),
            request_headers,
            request_size,
            rpc_method,
            id,
            started: Instant::now(),
            status: None,
            response_headers: Vec::new(),
            latency_ms: None,
            recorded: false,
        }
    }

    /// The answer's status and headers came.
    pub(super) fn answered(&mut self, response: &reqwest::Response) {
        self.latency_ms = Some(self.started.elapsed().as_millis() as u64);
        self.status = Some(response.status().as_u16());
        self.response_headers = self.recorder.shown(response.headers());
        for header in &mut self.response_headers {
            if header.name == "www-authenticate" {
                // A challenge names no secret, but an error description may echo one.
                header.value = redact::text(&header.value);
            }
        }
    }

    /// Record the exchange: `response_size` bytes of body read, or failed with `error`.
    pub(super) fn finish(
        mut self,
        response_size: Option<u64>,
        error: Option<&dyn std::fmt::Display>,
    ) {
        let error = error.map(|e| redact::text(&e.to_string()));
        self.record(response_size, error);
    }

    fn record(&mut self, response_size: Option<u64>, error: Option<String>) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let is_error = error.is_some() || self.status.is_some_and(|s| s >= 400);
        let status = self
            .status
            .map_or_else(|| "failed".to_owned(), |s| s.to_string());
        let what = self
            .rpc_method
            .as_deref()
            .map_or(String::new(), |m| format!(" ({m})"));
        let latency_ms = self
            .latency_ms
            .unwrap_or_else(|| self.started.elapsed().as_millis() as u64);
        self.recorder.log.record(ProtocolEntry {
            seq: 0,
            at_ms: 0,
            kind: EntryKind::Http,
            direction: Direction::Exchange,
            summary: format!("{} {status}{what}", self.method),
            method: self.rpc_method.take(),
            id: self.id.take(),
            is_error,
            size: self.request_size,
            latency_ms: Some(latency_ms),
            message: None,
            http: Some(HttpExchange {
                method: self.method.to_owned(),
                url: std::mem::take(&mut self.url),
                status: self.status,
                request_headers: std::mem::take(&mut self.request_headers),
                response_headers: std::mem::take(&mut self.response_headers),
                request_size: self.request_size,
                response_size,
                error,
            }),
        });
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.recorded {
            let why = if self.status.is_some() {
                "ended while its answer was read"
            } else {
                "ended before the server answered"
            };
            self.record(None, Some(why.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderName, HeaderValue, header};

    use super::*;
    use crate::connection::tap::{REDACTED, entries};

    #[test]
    fn an_unanswered_exchange_is_recorded_as_failed_and_hides_credentials() {
        let mut headers = HeaderMap::new();
        let mut tenant = HeaderValue::from_static("tenant-value-never-shown");
        tenant.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-tenant"), tenant.clone());
        let recorder = Recorder::new(Log::of("sse-record-unanswered"), &headers);
        let mut token = HeaderValue::from_static("Bearer token-never-shown");
        token.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, token);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        let url = Url::parse("http://127.0.0.1:9/sse?access_token=abc").unwrap();
        drop(recorder.get(&url, &headers));

        let kept = entries("sse-record-unanswered");
        assert_eq!(kept.len(), 1);
        let text = serde_json::to_string(&kept).unwrap();
        for secret in ["tenant-value", "token-never", "abc"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let entry = &kept[0];
        assert_eq!(entry.summary, "GET failed");
        assert!(entry.is_error);
        let http = entry.http.as_ref().unwrap();
        let shown = |name: &str| {
            http.request_headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.as_str())
        };
        assert_eq!(shown("authorization"), Some(REDACTED));
        assert_eq!(shown("x-tenant"), Some(REDACTED));
        assert_eq!(shown("accept"), Some("text/event-stream"));
        assert_eq!(
            http.error.as_deref(),
            Some("ended before the server answered")
        );
    }
}
