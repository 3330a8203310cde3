//! The `latch-app:` scheme: it serves the MCP App pages the core keeps (`Latch::app_page`) to
//! the sandboxed frames the UI makes for them, each with its Content-Security-Policy as a
//! header (the core already put it in the page as its first `<meta>`, for engines that read
//! only that). The scheme's pages are on their own origin, which no capability lists: Tauri
//! injects its IPC into the main frame only, and a call without the main frame's invoke key
//! is refused.

use latch_core::app::Latch;
use tauri::{
    Manager, Runtime, UriSchemeContext, UriSchemeResponder,
    http::{Request, Response, header},
};

/// The scheme's name (`latch-app://localhost/<id>`; `http://latch-app.localhost/<id>` on
/// Windows).
pub const SCHEME: &str = "latch-app";

/// Answer one request of the scheme: the page whose id is the path, or 404.
pub fn serve<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let id = request.uri().path().trim_start_matches('/').to_owned();
    let page = ctx
        .app_handle()
        .try_state::<Latch>()
        .and_then(|latch| latch.app_page(&id));
    let response = match page {
        Some(page) => Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header("Content-Security-Policy", &page.policy)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::REFERRER_POLICY, "no-referrer")
            .header(header::CACHE_CONTROL, "no-store")
            .header(
                "Permissions-Policy",
                "camera=(), microphone=(), geolocation=(), clipboard-write=()",
            )
            .body(page.html.into_bytes()),
        None => Response::builder()
            .status(404)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(b"No such app page.".to_vec()),
    };
    match response {
        Ok(response) => responder.respond(response),
        Err(error) => tracing::warn!(%error, "could not build an app page's response"),
    }
}

/// A tool call an MCP App makes from its frame (the UI's bridge relays it): the core applies
/// the rules for apps (a tool only for people and agents is refused).
#[tauri::command]
pub async fn call_tool_from_app(
    latch: tauri::State<'_, Latch>,
    name: String,
    tool: String,
    arguments: serde_json::Value,
    call_id: String,
) -> Result<latch_core::app::CallRecord, latch_core::app::AppError> {
    latch
        .call_tool_from_app(&name, &tool, arguments, &call_id)
        .await
}

/// Write a file an MCP App offered (`ui/download-file`) to the path the person chose in the
/// save dialog; the bytes written.
#[tauri::command]
pub async fn save_app_file(
    latch: tauri::State<'_, Latch>,
    file: latch_core::tools::ResourceContents,
    path: String,
) -> Result<u64, latch_core::app::AppError> {
    latch.save_app_file(file, &path).await
}
