//! The bridge's stdin and stdout, read and written without a thread hop per message.
//!
//! `tokio::io::stdin()`/`stdout()` do every read and write on the blocking thread pool (a
//! terminal or a file cannot be polled), which costs thread wake-ups on each message and most
//! of the bridge's own CPU time per call. An agent starts the bridge with pipes or socket pairs,
//! which can be polled: those are registered with the runtime directly. Anything else — a
//! terminal, a file, or a stdout that is also stderr (the log lines must not meet a
//! non-blocking descriptor) — keeps tokio's standard handles.

use std::{
    fs::File,
    io,
    os::{
        fd::{AsFd, OwnedFd},
        unix::fs::{FileTypeExt, MetadataExt},
    },
    pin::Pin,
};

use tokio::io::{AsyncRead, AsyncWrite};

type Input = Pin<Box<dyn AsyncRead + Send>>;
type Output = Pin<Box<dyn AsyncWrite + Send>>;

/// The agent's side of this process: what it writes to us, and where our answers go.
pub(super) fn agent_stdio() -> (Input, Output) {
    let input = polled_reader().unwrap_or_else(|| Box::pin(tokio::io::stdin()));
    let output = polled_writer().unwrap_or_else(|| Box::pin(tokio::io::stdout()));
    (input, output)
}

/// What kind of descriptor, and which one it is (device and inode).
fn describe(fd: &OwnedFd) -> Option<(std::fs::FileType, (u64, u64))> {
    let meta = File::from(fd.try_clone().ok()?).metadata().ok()?;
    Some((meta.file_type(), (meta.dev(), meta.ino())))
}

fn polled_reader() -> Option<Input> {
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let (kind, _) = describe(&fd)?;
    if kind.is_fifo() {
        let pipe = tokio::net::unix::pipe::Receiver::from_file(File::from(fd)).ok()?;
        Some(Box::pin(pipe))
    } else if kind.is_socket() {
        Some(Box::pin(socket(fd)?))
    } else {
        None
    }
}

fn polled_writer() -> Option<Output> {
    let fd = io::stdout().as_fd().try_clone_to_owned().ok()?;
    let (kind, id) = describe(&fd)?;
    let stderr = io::stderr().as_fd().try_clone_to_owned().ok()?;
    if describe(&stderr).is_some_and(|(_, other)| other == id) {
        return None;
    }
    if kind.is_fifo() {
        let pipe = tokio::net::unix::pipe::Sender::from_file(File::from(fd)).ok()?;
        Some(Box::pin(pipe))
    } else if kind.is_socket() {
        Some(Box::pin(socket(fd)?))
    } else {
        None
    }
}

/// A stream socket (what Node, Python and most agents hand a child as its stdio).
fn socket(fd: OwnedFd) -> Option<tokio::net::UnixStream> {
    let stream = std::os::unix::net::UnixStream::from(fd);
    stream.set_nonblocking(true).ok()?;
    tokio::net::UnixStream::from_std(stream).ok()
}
