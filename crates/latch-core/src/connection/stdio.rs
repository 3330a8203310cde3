//! Local command servers: spawn the child with its arguments and environment, speak MCP over
//! its stdin/stdout ([`child`]), and pass its stderr through to our log. Closing the session
//! closes stdin, waits, then terminates and reaps the child.
//!
//! The transport is built as Streamable HTTP's is: the server's 2025 task-augmented requests
//! marked on each raw line and the capability announced on `initialize`
//! ([`crate::connection::tasks::client`]), the messages logged, those requests answered as
//! tasks ([`TaskHost`]).

mod child;

use rmcp::{RoleClient, transport::Transport};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

use self::child::ChildTransport;
use super::{
    ConnectError, tap,
    tasks::client::{Announce, TaskHost, mark},
};
use crate::config::{CommandServer, SecretSource};

/// Spawn the server `name` runs and return the transport to it, its messages logged in `log`.
pub(crate) fn spawn(
    name: &str,
    server: &CommandServer,
    secrets: &dyn SecretSource,
    log: tap::Log,
) -> Result<impl Transport<RoleClient> + use<>, ConnectError> {
    let mut command = Command::new(&server.command);
    command.args(server.resolved_args(secrets)?);
    command.envs(server.resolved_env(secrets)?);
    if let Some(cwd) = &server.cwd {
        command.current_dir(cwd);
    }
    let (transport, stderr) =
        ChildTransport::spawn(command, mark).map_err(|source| ConnectError::Spawn {
            command: server.command.clone(),
            source,
        })?;
    if let Some(stderr) = stderr {
        let name = name.to_owned();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(server = %name, "stderr: {line}");
            }
        });
    }
    Ok(TaskHost::new(tap::Tapped::new(Announce(transport), log)))
}
