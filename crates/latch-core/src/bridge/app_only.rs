//! Tools only the server's app may call (MCP Apps, SEP-1865: `_meta.ui.visibility: ["app"]`)
//! are not the agent's: a host must keep them out of the model's tool list and refuse a call
//! to one that does not come from the app. The bridge has no app, so its `tools/list` answers
//! leave them out and its agent's calls to them are refused without reaching the server.
//! Which tools those are is decided in one place, [`ToolView::is_listed`].

use rmcp::{
    ErrorData,
    model::{CallToolRequest, ServerResult},
};

use super::remote::Remote;
use crate::{ToolView, tools::app_only_refusal};

/// A `tools/list` answer without the app-only tools.
pub(super) fn keep_listed(result: &mut ServerResult) {
    if let ServerResult::ListToolsResult(list) = result {
        list.tools.retain(ToolView::is_listed_on_wire);
    }
}

/// Refuse the agent's call when its tool is for the server's app only. The session's cached
/// tool list answers when it has the tool (as for a call's schema); otherwise the list is
/// read. When it cannot be read, the call goes on: the server answers it, or says why not.
pub(super) async fn refuse_app_only(
    remote: &Remote,
    request: &CallToolRequest,
) -> Result<(), ErrorData> {
    let tool = request.params.name.as_ref();
    let connection = remote.connection().await?;
    let cached = connection.shared.tools.read().await.clone();
    let listed = match cached.as_ref().and_then(|list| list.view(tool)) {
        Some(view) => view.is_listed(),
        None => match connection.list_tools().await {
            Ok(tools) => tools
                .iter()
                .find(|view| view.name == tool)
                .is_none_or(ToolView::is_listed),
            Err(error) => {
                tracing::debug!(%error, tool, "could not list the tools to check a call");
                true
            }
        },
    };
    if listed {
        return Ok(());
    }
    tracing::info!(
        tool,
        server = remote.name(),
        "refused an agent's call to an app-only tool"
    );
    Err(ErrorData::invalid_params(
        format!(
            "Latch bridge to {}: {}",
            remote.name(),
            app_only_refusal(remote.name(), tool, "an agent")
        ),
        None,
    ))
}
