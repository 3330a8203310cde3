//! "What will happen if I add this URL?" — asked before a server is added, answered in plain
//! words: Latch sends the 2026 `server/discover` without a token (and, when the server
//! answers it the way a 2025 server does, the 2025 `initialize`) and reads the answer (a 401
//! and the sign-in server behind it, a plain answer, an old SSE server, nothing at all).

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde_json::json;
use url::Url;

use super::dto::ProbeView;
use crate::net::{check_url_to_open, client_for};

const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Probe `url`. Never fails: an unusable URL is a `ProbeView` that says so.
pub async fn probe(url: &str) -> ProbeView {
    let url = url.trim();
    let mut view = ProbeView {
        url: url.to_owned(),
        reachable: false,
        needs_sign_in: false,
        sign_in_with: None,
        summary: String::new(),
        suggested_name: suggested_name(url),
    };
    let parsed = match check_url_to_open(url) {
        Ok(parsed) => parsed,
        Err(reason) => {
            view.summary = format!(
                "That is not a server address Latch can use ({reason}). Paste the full URL, starting with https://"
            );
            return view;
        }
    };
    let host = host_label(&parsed);
    let client = client_for(&parsed, false);
    let response = match send_discover(&client, &parsed).await {
        // Not a 2026 server (or not an MCP server at all): ask the 2025 way.
        Ok(r) if matches!(r.status().as_u16(), 400 | 404 | 405) => {
            send_initialize(&client, &parsed).await
        }
        other => other,
    };
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            view.summary = format!(
                "Latch could not reach {host}: {}. Check the address and that you are online.",
                crate::words::network_reason(&error)
            );
            return view;
        }
    };
    view.reachable = true;
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Don't leave a session open on servers that answered without a token.
    if let Some(session) = response.headers().get("mcp-session-id").cloned() {
        let _ = client
            .delete(parsed.clone())
            .header("mcp-session-id", session)
            .timeout(PROBE_TIMEOUT)
            .send()
            .await;
    }
    view.summary = match status {
        StatusCode::UNAUTHORIZED => {
            view.needs_sign_in = true;
            match crate::auth::discover_for_probe(url, challenge.as_deref()).await {
                Ok(issuer) => {
                    let who = brand(&issuer);
                    view.sign_in_with = Some(who.clone());
                    format!(
                        "This server uses sign-in with {who}. Your browser will open so you can approve Latch; Latch keeps the sign-in fresh after that."
                    )
                }
                Err(reason) => format!(
                    "This server asks for a sign-in, but Latch could not find where to sign in ({reason}). If you have an API key for it, add it as a header."
                ),
            }
        }
        StatusCode::FORBIDDEN => "The server refused access (HTTP 403). It probably needs an API key: add it as a header below.".to_owned(),
        s if s.is_success() => format!(
            "{host} answered without asking for a sign-in. Latch will connect and list its tools."
        ),
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            if legacy_sse(&client, parsed).await {
                format!(
                    "{host} is an older MCP server (HTTP+SSE). Latch will use that transport."
                )
            } else {
                format!(
                    "{host} answered HTTP {} — this address may not be an MCP server. Check the URL (it often ends in /mcp or /sse).",
                    status.as_u16()
                )
            }
        }
        s => format!(
            "{host} answered HTTP {}. It may be down for now; you can add it and connect later.",
            s.as_u16()
        ),
    };
    view
}

/// The 2026-07-28 `server/discover`, with the request metadata and headers that era asks for.
async fn send_discover(client: &reqwest::Client, url: &Url) -> reqwest::Result<reqwest::Response> {
    let discover = json!({
        "jsonrpc": "2.0", "id": 0, "method": "server/discover",
        "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": crate::CLIENT_NAME, "version": crate::CLIENT_VERSION}
        }}
    });
    client
        .post(url.clone())
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "server/discover")
        .json(&discover)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
}

/// The 2025 `initialize`.
async fn send_initialize(
    client: &reqwest::Client,
    url: &Url,
) -> reqwest::Result<reqwest::Response> {
    let initialize = json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": crate::CLIENT_NAME, "version": crate::CLIENT_VERSION}
        }
    });
    client
        .post(url.clone())
        .header(header::ACCEPT, "application/json, text/event-stream")
        .json(&initialize)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
}

/// Does the server open an SSE stream on GET (the 2024-11-05 transport)?
async fn legacy_sse(client: &reqwest::Client, url: Url) -> bool {
    let Ok(response) = client
        .get(url)
        .header(header::ACCEPT, "text/event-stream")
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
    else {
        return false;
    };
    response.status().is_success()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// The host as people say it, with the port when it is not the default.
fn host_label(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => url.to_string(),
    }
}

/// The name people know a sign-in server by.
fn brand(issuer: &str) -> String {
    let host = Url::parse(issuer)
        .ok()
        .map(|u| host_label(&u))
        .unwrap_or_else(|| issuer.to_owned());
    let known = [
        ("notion", "Notion"),
        ("madgicx", "Madgicx"),
        ("google", "Google"),
        ("facebook", "Facebook"),
        ("github", "GitHub"),
        ("atlassian", "Atlassian"),
        ("linear", "Linear"),
        ("figma", "Figma"),
        ("127.0.0.1:4717", "the Latch demo"),
    ];
    known
        .iter()
        .find(|(needle, _)| host.contains(needle))
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or(host)
}

/// A name for the server from its URL: `https://mcp.notion.com/mcp` → `notion`.
pub(crate) fn suggested_name(url: &str) -> String {
    let Some(host) = Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    else {
        return "server".to_owned();
    };
    if host == "127.0.0.1" || host == "localhost" || host == "[::1]" {
        return "local".to_owned();
    }
    let labels: Vec<&str> = host
        .split('.')
        .filter(|l| !matches!(*l, "www" | "mcp" | "api" | "app"))
        .collect();
    let label = match labels.len() {
        0 => host.as_str(),
        1 => labels[0],
        n => labels[n - 2],
    };
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        "server".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_host() {
        assert_eq!(suggested_name("https://mcp.notion.com/mcp"), "notion");
        assert_eq!(
            suggested_name("https://mcp-google-ads.madgicx.com/mcp"),
            "madgicx"
        );
        assert_eq!(suggested_name("http://127.0.0.1:4717/mcp"), "local");
        assert_eq!(suggested_name("not a url"), "server");
    }

    #[test]
    fn known_sign_in_servers_get_their_brand() {
        assert_eq!(brand("https://mcp.notion.com"), "Notion");
        assert_eq!(brand("https://auth.example.org/realm"), "auth.example.org");
    }

    #[tokio::test]
    async fn a_bad_url_says_what_to_paste() {
        let view = probe("javascript:alert(1)").await;
        assert!(!view.reachable);
        assert!(view.summary.contains("https://"), "{}", view.summary);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let view = probe(&format!("http://127.0.0.1:{port}/mcp")).await;
        assert!(!view.reachable);
        assert!(view.summary.contains("could not reach"), "{}", view.summary);
    }
}
