//! A server's tools: listing them (every page, cached until the server says the list
//! changed), checking arguments against a tool's input schema before anything is sent, and
//! calling a tool with progress, a timeout that progress resets, and cancellation.

mod call;
pub mod coerce;
mod list;
mod result;
pub mod schema;
mod view;

pub use call::{CallError, CallOptions, Progress};
pub use result::{ContentView, ResourceContents, ToolResult};
pub use view::{ToolAnnotations, ToolView};

pub(crate) use list::ToolList;
