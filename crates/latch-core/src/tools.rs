//! What a server's tool is to Latch: its view (name, schema, annotations), its input schema
//! compiled for checking arguments before anything is sent, the cached list (kept until the
//! server says it changed, or its `ttlMs` ends), the arguments typed from `KEY=VALUE` words,
//! a result in parts, and a call's progress reports. Listing and calling happen on a
//! connection ([`crate::Connection::call_tool`], in `connection/call.rs`).

pub mod coerce;
mod list;
mod result;
pub mod schema;
mod view;

pub use result::{ContentView, ResourceContents, ToolResult};
pub(crate) use view::app_only_refusal;
pub use view::{CallOrigin, ToolAnnotations, ToolUi, ToolView, listed};

pub(crate) use list::ToolList;

/// One progress report of a running call.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
    /// The task's status (`working`, `input_required`, …) when the server runs the call as a
    /// task; `message` is then the task's status message.
    pub task: Option<String>,
}

impl Progress {
    /// The report in words for a one-line display: `working: Counting notes…` for a task.
    pub fn words(&self) -> Option<String> {
        match (&self.task, &self.message) {
            (Some(task), Some(message)) => Some(format!("{task}: {message}")),
            (Some(task), None) => Some(task.clone()),
            (None, message) => message.clone(),
        }
    }
}
