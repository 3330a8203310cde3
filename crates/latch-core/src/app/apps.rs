//! MCP Apps (SEP-1865, `io.modelcontextprotocol/ui`): a tool whose `_meta.ui.resourceUri`
//! names a `ui://` resource shows that resource, an HTML page, after it is called. Here Latch
//! reads the page from the server, keeps what its `_meta.ui` asks for (the origins it needs,
//! the permissions it wants), and holds the page under an unguessable id until the shell's
//! `latch-app:` scheme serves it, with the Content-Security-Policy of [`csp`], into a
//! sandboxed frame. What the page may then do (call the server's tools, open a link) goes
//! through the same facade methods, and the same confirmations, as the person's own actions.

mod asks;
mod csp;

use std::{collections::VecDeque, sync::Mutex, time::Duration};

use base64::Engine;
use rmcp::model::{ReadResourceRequestParams, ReadResourceResponse};
use serde::Serialize;
use serde_json::Value;

pub use csp::AppCsp;

use super::{AppError, Latch, Result};
use crate::Connection;

/// The mime type of an MCP App's page.
pub const APP_MIME_TYPE: &str = "text/html;profile=mcp-app";
/// The extension Latch announces to servers when it can show apps.
pub const UI_EXTENSION: &str = "io.modelcontextprotocol/ui";
/// A page bigger than this is not shown.
const MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;
/// Pages kept for the scheme to serve; the oldest go first.
const KEPT_PAGES: usize = 32;
/// How long reading the page may take.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// An app ready to show: where the shell serves it and what it asked for.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppView {
    /// The page's id: the shell serves it at `latch-app://localhost/<id>`.
    pub id: String,
    pub server: String,
    pub tool: String,
    /// The `ui://` resource.
    pub uri: String,
    /// The origins it may reach, as accepted.
    pub csp: AppCsp,
    /// The browser permissions it asks for (camera, microphone, geolocation,
    /// clipboardWrite). None is granted: Latch's frames get no permissions.
    pub permissions: Vec<String>,
    /// Whether it wants a border drawn around it (`None`: Latch decides).
    pub prefers_border: Option<bool>,
}

/// A page as the scheme serves it: the shell copies the bytes and sends the policy as a
/// header.
#[derive(Debug, Clone, PartialEq)]
pub struct AppPage {
    /// The page, its policy already in it as the first `<meta>` of its head (for engines
    /// that read only that).
    pub html: String,
    /// The `Content-Security-Policy` header.
    pub policy: String,
}

/// The pages waiting to be served.
#[derive(Default)]
pub(super) struct Pages(Mutex<VecDeque<(String, AppPage)>>);

impl Pages {
    fn keep(&self, page: AppPage) -> String {
        let id = page_id();
        let mut pages = self.0.lock().unwrap();
        while pages.len() >= KEPT_PAGES {
            pages.pop_front();
        }
        pages.push_back((id.clone(), page));
        id
    }

    fn get(&self, id: &str) -> Option<AppPage> {
        let pages = self.0.lock().unwrap();
        pages
            .iter()
            .find(|(kept, _)| kept == id)
            .map(|(_, page)| page.clone())
    }
}

/// 128 random bits, hex.
fn page_id() -> String {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Latch {
    /// The app the tool `tool` of `server` shows, read from the server now; `None` when the
    /// tool names no app.
    pub async fn app_for_tool(&self, server: &str, tool: &str) -> Result<Option<AppView>> {
        let connection = self.connection(server).await?;
        let tools = connection
            .list_tools()
            .await
            .map_err(|e| AppError::new("app", e))?;
        let Some(uri) = tools
            .iter()
            .find(|t| t.name == tool)
            .and_then(|t| t.ui.as_ref())
            .and_then(|ui| ui.resource_uri.clone())
        else {
            return Ok(None);
        };
        let contents = read_page(&connection, &uri).await?;
        let (html, meta) = page_of(&uri, contents)?;
        let ui = meta.as_ref().and_then(|m| m.get("ui"));
        let csp = AppCsp::from_meta(ui.and_then(|ui| ui.get("csp")));
        if !csp.refused.is_empty() {
            tracing::warn!(server, %uri, refused = ?csp.refused, "an app asked for sources that are not plain origins; left out");
        }
        let permissions = ui
            .and_then(|ui| ui.get("permissions"))
            .and_then(Value::as_object)
            .map(|p| p.keys().take(8).cloned().collect())
            .unwrap_or_default();
        let policy = csp.policy();
        let id = self.inner.apps.keep(AppPage {
            html: with_policy_meta(&html, &policy),
            policy,
        });
        Ok(Some(AppView {
            id,
            server: server.to_owned(),
            tool: tool.to_owned(),
            uri,
            csp,
            permissions,
            prefers_border: ui
                .and_then(|ui| ui.get("prefersBorder"))
                .and_then(Value::as_bool),
        }))
    }

    /// The page kept under `id` (what the `latch-app:` scheme serves).
    pub fn app_page(&self, id: &str) -> Option<AppPage> {
        self.inner.apps.get(id)
    }
}

/// The contents of the resource `uri` as sent (with their `_meta`, which Latch's resource
/// view leaves out). A server that asks for input before it answers shows no app.
async fn read_page(connection: &Connection, uri: &str) -> Result<Vec<Value>> {
    let failed = |said: String| {
        AppError::new(
            "app",
            format!("Could not read the app {uri} from the server: {said}"),
        )
    };
    let response = tokio::time::timeout(
        READ_TIMEOUT,
        connection
            .peer()
            .read_resource_once(ReadResourceRequestParams::new(uri)),
    )
    .await
    .map_err(|_| failed(format!("no answer in {} seconds", READ_TIMEOUT.as_secs())))?
    .map_err(|e| failed(crate::words::without_type_paths(&e.to_string())))?;
    let ReadResourceResponse::Complete(result) = response else {
        return Err(failed("it asked for input first".to_owned()));
    };
    let wire = serde_json::to_value(result).unwrap_or_default();
    Ok(match wire.get("contents") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    })
}

/// The HTML of an app's resource and the `_meta` it came with: the first HTML content (text
/// or a base64 blob), within [`MAX_PAGE_BYTES`].
fn page_of(uri: &str, contents: Vec<Value>) -> Result<(String, Option<Value>)> {
    let text = |c: &Value, key: &str| c.get(key).and_then(Value::as_str).map(str::to_owned);
    let is_html = |c: &Value| {
        text(c, "mimeType").is_some_and(|m| m.trim().to_ascii_lowercase().starts_with("text/html"))
    };
    let Some(content) = contents.into_iter().find(is_html) else {
        return Err(AppError::new(
            "app",
            format!("The server's app {uri} is not an HTML page ({APP_MIME_TYPE})."),
        ));
    };
    let html = match (text(&content, "text"), text(&content, "blob")) {
        (Some(text), _) => text,
        (None, Some(blob)) => base64::engine::general_purpose::STANDARD
            .decode(blob.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                AppError::new(
                    "app",
                    format!("The server's app {uri} is not readable text."),
                )
            })?,
        (None, None) => String::new(),
    };
    if html.len() > MAX_PAGE_BYTES {
        return Err(AppError::new(
            "app",
            format!(
                "The server's app {uri} is larger than {} MB; Latch does not show it.",
                MAX_PAGE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok((html, content.get("_meta").cloned()))
}

/// The page with its policy as a `<meta http-equiv>` right after `<head>` (or first, when it
/// has no head). `frame-ancestors` is header-only; the header carries it.
fn with_policy_meta(html: &str, policy: &str) -> String {
    let meta_policy: String = policy
        .split("; ")
        .filter(|d| !d.starts_with("frame-ancestors"))
        .collect::<Vec<_>>()
        .join("; ");
    let meta = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        meta_policy.replace('"', "&quot;")
    );
    let lower = html.to_ascii_lowercase();
    // `<head>` or `<head …>`, not `<header>`.
    let at = lower
        .match_indices("<head")
        .map(|(start, _)| start)
        .find(|&start| {
            lower[start + 5..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c.is_ascii_whitespace())
        })
        .and_then(|start| lower[start..].find('>').map(|end| start + end + 1));
    match at {
        Some(at) => format!("{}{meta}{}", &html[..at], &html[at..]),
        None => format!("{meta}{html}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contents(mime: &str, text: Option<&str>, blob: Option<&str>) -> Value {
        json!({
            "uri": "ui://a/app.html",
            "mimeType": mime,
            "text": text,
            "blob": blob,
            "_meta": {"ui": {"csp": {"connectDomains": ["https://api.example"]}}},
        })
    }

    #[test]
    fn the_page_is_the_html_content_as_text_or_blob() {
        let (html, meta) = page_of(
            "ui://a/app.html",
            vec![
                contents("text/plain", Some("not me"), None),
                contents(APP_MIME_TYPE, Some("<p>hi</p>"), None),
            ],
        )
        .unwrap();
        assert_eq!(html, "<p>hi</p>");
        assert_eq!(
            meta.unwrap()["ui"]["csp"]["connectDomains"][0],
            "https://api.example"
        );
        let (html, _) = page_of(
            "ui://a/app.html",
            vec![contents(APP_MIME_TYPE, None, Some("PGI+aGk8L2I+"))],
        )
        .unwrap();
        assert_eq!(html, "<b>hi</b>");
    }

    #[test]
    fn a_page_that_is_not_html_or_too_big_is_refused_in_words() {
        let error = page_of(
            "ui://a/app.html",
            vec![contents("text/plain", Some("x"), None)],
        )
        .unwrap_err();
        assert!(error.message.contains("ui://a/app.html"), "{error}");
        let big = "x".repeat(MAX_PAGE_BYTES + 1);
        let error = page_of(
            "ui://a/app.html",
            vec![contents(APP_MIME_TYPE, Some(&big), None)],
        )
        .unwrap_err();
        assert!(error.message.contains("larger than 5 MB"), "{error}");
    }

    #[test]
    fn pages_are_kept_under_unguessable_ids_and_the_oldest_go() {
        let pages = Pages::default();
        let page = |n: usize| AppPage {
            html: format!("<p>{n}</p>"),
            policy: AppCsp::default().policy(),
        };
        let first = pages.keep(page(0));
        assert_eq!(first.len(), 32);
        assert_eq!(pages.get(&first), Some(page(0)));
        let ids: Vec<String> = (1..=KEPT_PAGES).map(|n| pages.keep(page(n))).collect();
        assert_eq!(pages.get(&first), None, "the oldest page was let go");
        assert_eq!(pages.get(&ids[0]), Some(page(1)));
        assert_ne!(ids[0], ids[1]);
        assert_eq!(pages.get("0000"), None);
    }

    #[test]
    fn the_policy_goes_first_in_the_head() {
        let page = with_policy_meta(
            "<!doctype html><HTML><Head lang=en><script>x()</script></head></html>",
            "default-src 'none'; frame-ancestors tauri://localhost",
        );
        assert_eq!(
            page,
            "<!doctype html><HTML><Head lang=en><meta http-equiv=\"Content-Security-Policy\" \
             content=\"default-src 'none'\"><script>x()</script></head></html>"
        );
        assert!(with_policy_meta("<p>hi</p>", "default-src 'none'").starts_with("<meta "));
        assert!(
            with_policy_meta("<header>x</header>", "default-src 'none'").starts_with("<meta "),
            "a <header> is no <head>"
        );
    }
}
