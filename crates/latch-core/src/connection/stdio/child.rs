//! A local server's child process as an rmcp client transport, spawned by Latch rather than
//! by rmcp's `TokioChildProcess`: each line the server writes must pass through a rewrite
//! (the 2025 client-side task marks, `tasks::client::mark`) before rmcp parses it, and rmcp's
//! child transport reads the child's stdout with no place for that. A pump task reads the
//! child's stdout line by line, rewrites each whole line and writes it into an in-memory pipe
//! that rmcp's `AsyncRwTransport` reads with its usual newline framing and line limit; a line
//! over that limit is passed on untouched, as it comes, for rmcp to discard as it always did.
//!
//! The child's lifecycle is the one rmcp gives its own: on close, its stdin is closed and it
//! has 3 s to exit, then (Unix) it is sent SIGTERM and has 3 s more, then it is killed and
//! reaped. Dropped without a close (or with the close cut short), it is killed (tokio's
//! `kill_on_drop`, which also reaps it).

use std::{borrow::Cow, io, process::Stdio, time::Duration};

use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::{
        Transport,
        async_rw::{AsyncRwTransport, DEFAULT_MAX_LINE_LENGTH},
    },
};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream},
    process::{Child, ChildStderr, ChildStdin, Command},
};

/// How long the child may take to exit after its stdin closes, and after SIGTERM.
const WAIT_FOR_EXIT: Duration = Duration::from_secs(3);
/// The in-memory pipe between the pump and rmcp's reader.
const PIPE_BYTES: usize = 64 * 1024;

/// A spawned child process speaking MCP over its stdin and (rewritten) stdout.
pub(crate) struct ChildTransport {
    /// `None` once it has exited (or been killed) and been reaped.
    child: Option<Child>,
    transport: AsyncRwTransport<RoleClient, DuplexStream, ChildStdin>,
}

impl ChildTransport {
    /// Spawn `command` with its stdin and stdout piped to the transport and its stderr piped
    /// (returned), each stdout line passed through `rewrite`.
    pub(crate) fn spawn(
        mut command: Command,
        rewrite: fn(String) -> String,
    ) -> io::Result<(Self, Option<ChildStderr>)> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other(
                "the child's stdin or stdout was not piped",
            ));
        };
        let stderr = child.stderr.take();
        let (read, write) = tokio::io::duplex(PIPE_BYTES);
        tokio::spawn(pump(stdout, write, rewrite, DEFAULT_MAX_LINE_LENGTH));
        let transport = AsyncRwTransport::new_client(read, stdin);
        Ok((
            Self {
                child: Some(child),
                transport,
            },
            stderr,
        ))
    }

    /// Close stdin, wait for the child to exit; SIGTERM, wait; kill. The child stays in
    /// `self` until it is gone, so a close cut short still kills it on drop.
    async fn shut_down(&mut self) -> io::Result<()> {
        self.transport.close().await?;
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        if exited(child).await {
            self.child = None;
            return Ok(());
        }
        #[cfg(unix)]
        if let Some(pid) = child.id() {
            terminate(pid).await;
            if exited(child).await {
                self.child = None;
                return Ok(());
            }
        }
        let killed = child.kill().await;
        self.child = None;
        killed
    }
}

/// Whether `child` exited (and was reaped) within [`WAIT_FOR_EXIT`].
async fn exited(child: &mut Child) -> bool {
    match tokio::time::timeout(WAIT_FOR_EXIT, child.wait()).await {
        Ok(Ok(status)) => {
            tracing::debug!(%status, "the local server exited");
            true
        }
        Ok(Err(error)) => {
            tracing::info!(%error, "waiting for the local server failed");
            false
        }
        Err(_) => false,
    }
}

/// Send SIGTERM to `pid` (rustix: the crate forbids `unsafe`, and std cannot).
#[cfg(unix)]
async fn terminate(pid: u32) {
    let sent = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .map(|pid| rustix::process::kill_process(pid, rustix::process::Signal::TERM));
    if !matches!(sent, Some(Ok(()))) {
        tracing::info!(pid, "the local server could not be sent SIGTERM");
    }
}

/// Copy `from` to `to` line by line, each whole line of at most `max` bytes through
/// `rewrite`; longer ones, and a last line without a newline, unchanged. Ends when `from`
/// ends or fails, or `to` is closed.
pub(crate) async fn pump(
    from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    rewrite: fn(String) -> String,
    max: usize,
) {
    let mut from = BufReader::new(from);
    let mut line = Vec::new();
    // Inside a line over `max`: passed on as it comes until its newline.
    let mut passing = false;
    loop {
        let available = match from.fill_buf().await {
            Ok(available) => available,
            Err(error) => {
                tracing::debug!(%error, "reading the local server's stdout failed");
                break;
            }
        };
        if available.is_empty() {
            let _ = to.write_all(&line).await;
            break;
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let take = newline.map_or(available.len(), |at| at + 1);
        let chunk = &available[..take];
        let written = if passing || line.len().saturating_add(take) > max {
            passing = newline.is_none();
            let started = std::mem::take(&mut line);
            match to.write_all(&started).await {
                Ok(()) => to.write_all(chunk).await,
                error => error,
            }
        } else {
            line.extend_from_slice(chunk);
            if newline.is_some() {
                to.write_all(&rewritten(std::mem::take(&mut line), rewrite))
                    .await
            } else {
                Ok(())
            }
        };
        from.consume(take);
        if written.is_err() {
            tracing::debug!("nobody reads the local server's messages any more");
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// `line` (ending in a newline) through `rewrite`, without its line ending, newline-ended
/// again; a line that is not UTF-8 unchanged.
fn rewritten(line: Vec<u8>, rewrite: fn(String) -> String) -> Vec<u8> {
    let text = match String::from_utf8(line) {
        Ok(text) => text,
        Err(error) => return error.into_bytes(),
    };
    let body = text.trim_end_matches(['\r', '\n']);
    let mut out = rewrite(body.to_owned()).into_bytes();
    out.push(b'\n');
    out
}

impl Transport<RoleClient> for ChildTransport {
    type Error = io::Error;

    fn name() -> Cow<'static, str> {
        "ChildTransport".into()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.transport.send(item)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.transport.receive()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.shut_down()
    }
}

#[cfg(test)]
#[path = "child_tests.rs"]
mod tests;
