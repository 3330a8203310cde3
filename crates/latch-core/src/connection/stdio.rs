//! Local command servers: spawn the child with its arguments and environment, speak MCP over
//! its stdin/stdout (rmcp's child-process transport), and pass its stderr through to our log.
//! rmcp closes stdin, waits, then terminates and reaps the child when the session ends.

use std::process::Stdio;

use rmcp::transport::{TokioChildProcess, child_process::TokioChildProcessBuilder};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

use super::ConnectError;
use crate::config::{CommandServer, SecretSource};

pub(crate) fn spawn(
    name: &str,
    server: &CommandServer,
    secrets: &dyn SecretSource,
) -> Result<TokioChildProcess, ConnectError> {
    let mut command = Command::new(&server.command);
    command.args(server.resolved_args(secrets)?);
    command.envs(server.resolved_env(secrets)?);
    if let Some(cwd) = &server.cwd {
        command.current_dir(cwd);
    }
    let builder: TokioChildProcessBuilder =
        TokioChildProcess::builder(command).stderr(Stdio::piped());
    let (transport, stderr) = builder.spawn().map_err(|source| ConnectError::Spawn {
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
    Ok(transport)
}
