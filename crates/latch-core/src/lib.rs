//! Latch's core: everything that decides anything — the servers file, transports, tools,
//! and the events the CLI, the desktop shell and the tray react to. It never depends on Tauri,
//! so it builds and tests fast; the shell and the CLI only translate intent in and events out.

pub mod app;
pub mod auth;
pub mod bridge;
pub mod config;
pub mod connection;
pub mod events;
pub mod history;
pub mod host;
pub mod keeper;
pub mod logging;
mod net;
pub mod secrets;
pub mod tools;
mod words;

pub use connection::{CallError, CallOptions};
pub use connection::{ConnectError, ConnectOptions, Connection, ConnectionState, TransportUsed};
pub use events::{Event, EventBus};
pub use host::{DefaultsHost, ElicitationRequest, ElicitationResponse, Host};
pub use tools::{ContentView, Progress, ToolResult, ToolView};

/// Name and version Latch announces to servers in `initialize`.
pub const CLIENT_NAME: &str = "latch";
/// The version of this build, sent as `clientInfo.version`.
pub const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");
