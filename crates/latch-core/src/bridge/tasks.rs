//! Tasks through the bridge (the 2026 `io.modelcontextprotocol/tasks` extension, SEP-2663).
//! The agent's capabilities reach the server as they are (the connection's `Relay`), so only an
//! agent that declared the extension gets a task handle for its `tools/call`, and the bridge
//! offers the extension exactly when the server does (it passes the server's capabilities on).
//! The agent then follows the task itself: its `tasks/get`, `tasks/update` and `tasks/cancel`
//! go to the server like any other request, and the server's errors come back with the
//! agent's request id.
//!
//! What differs from a list or a read is sending one again: a `tasks/update` whose session
//! died under it may have delivered its answers already, and a second delivery would be
//! refused (the input is no longer outstanding) — so, like a tool call, it is never repeated,
//! and the agent is told it may or may not have reached the server.

use rmcp::model::ClientRequest;

use super::remote::Retry;

/// Whether `request` may be sent again on a new session after the old one died under it.
pub(super) fn retry_for(request: &ClientRequest) -> Retry {
    match request {
        ClientRequest::UpdateTaskRequest(_) => Retry::Never,
        _ => Retry::Idempotent,
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{
        CancelTaskParams, CancelTaskRequest, GetTaskParams, GetTaskRequest, UpdateTaskParams,
        UpdateTaskRequest,
    };

    use super::*;

    #[test]
    fn only_an_update_is_never_sent_twice() {
        let update = ClientRequest::UpdateTaskRequest(UpdateTaskRequest::new(
            UpdateTaskParams::new("t", Default::default()),
        ));
        let get = ClientRequest::GetTaskRequest(GetTaskRequest::new(GetTaskParams::new("t")));
        let cancel =
            ClientRequest::CancelTaskRequest(CancelTaskRequest::new(CancelTaskParams::new("t")));
        assert!(retry_for(&update) == Retry::Never);
        assert!(retry_for(&get) == Retry::Idempotent);
        assert!(retry_for(&cancel) == Retry::Idempotent);
    }
}
