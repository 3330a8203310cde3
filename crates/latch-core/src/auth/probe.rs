//! The server's own `WWW-Authenticate` challenge, for a sign-in that starts without one
//! (`latch login`, the app's sign-in button). Its `scope` is what the server wants asked for
//! (SPEC: scopes — the challenge first, then the resource metadata), and its
//! `resource_metadata` says where to look. rmcp's discovery probes with a `GET` of the MCP URL,
//! which a 2026-07-28 server need not serve (404/405: no stream there any more), so the
//! challenge was lost and the sign-in asked for the wrong scopes. Here the probe is a `POST` of
//! `server/discover` without a token: harmless on both eras (it reads, and opens no session),
//! and refused with the challenge by any server that wants a sign-in.

use std::time::Duration;

/// How long the probe may take; without an answer the sign-in goes on without a challenge.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The challenge the server at `url` answers an unauthenticated request with, if it does
/// (HTTP 401, or 403 with a challenge). Any failure means "no challenge": discovery goes on
/// as before.
pub(crate) async fn challenge(url: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROBE_TIMEOUT)
        .user_agent(concat!("latch/", env!("CARGO_PKG_VERSION")))
        .build()
        .ok()?;
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "server/discover",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {
                    "name": "latch",
                    "version": env!("CARGO_PKG_VERSION"),
                },
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        }
    });
    let response = client
        .post(url)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", "server/discover")
        .json(&body)
        .send()
        .await
        .map_err(|e| tracing::debug!(error = %e.without_url(), "the sign-in probe failed"))
        .ok()?;
    read_challenge(response.status().as_u16(), response.headers())
}

/// The `Bearer` challenge of an answer with `status`, when it asks for a sign-in or scopes.
fn read_challenge(status: u16, headers: &reqwest::header::HeaderMap) -> Option<String> {
    if status != 401 && status != 403 {
        return None;
    }
    headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(WWW_AUTHENTICATE, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_a_bearer_challenge_of_a_refusal_counts() {
        let bearer = r#"Bearer scope="mcp:basic", resource_metadata="http://127.0.0.1/x""#;
        assert_eq!(
            read_challenge(401, &headers(&[r#"Basic realm="x""#, bearer])).as_deref(),
            Some(bearer)
        );
        assert_eq!(
            read_challenge(403, &headers(&[bearer])).as_deref(),
            Some(bearer)
        );
        assert_eq!(read_challenge(200, &headers(&[bearer])), None);
        assert_eq!(read_challenge(404, &headers(&[bearer])), None);
        assert_eq!(read_challenge(401, &headers(&[r#"Basic realm="x""#])), None);
        assert_eq!(read_challenge(401, &HeaderMap::new()), None);
    }
}
