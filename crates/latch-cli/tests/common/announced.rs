//! A test peer that says where it listens: started with its stdout piped, it prints one JSON
//! line `{"url": "http://127.0.0.1:PORT/..."}` first; everything else it prints goes to a log
//! file. The 2026-07-28 servers of `sdk2.rs` and the one-off peers of single test files
//! (`reissue.rs`) start this way.

use std::{
    fs::{self, File},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    time::Duration,
};

use super::first_line_then_log;

/// A running peer on 127.0.0.1. Dropping it kills the process and waits for it.
pub struct Announced {
    /// The URL it announced, on `http://127.0.0.1:`.
    pub url: String,
    child: Child,
    /// Held open: a peer that watches its stdin exits when this test process dies.
    _stdin: Option<ChildStdin>,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl Announced {
    /// Starts `command` (named `what` in messages) and returns once it announced a URL on
    /// 127.0.0.1. Panics with its log if it fails to start, exits first or says nothing within
    /// `within`.
    pub fn start(what: &str, command: &mut Command, within: Duration) -> Announced {
        let logs = tempfile::Builder::new()
            .prefix("latch-peer-")
            .tempdir()
            .expect("a temp dir for the server's log");
        let log_path = logs.path().join("server.log");
        let log = File::create(&log_path).expect("the server's log file");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("the log file, again"))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
        let stdin = child.stdin.take();
        let first = first_line_then_log(child.stdout.take().expect("piped stdout"), log);
        let url = first
            .recv_timeout(within)
            .ok()
            .and_then(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
            .and_then(|v| v["url"].as_str().map(str::to_owned));
        match url {
            Some(url) if url.starts_with("http://127.0.0.1:") => Announced {
                url,
                child,
                _stdin: stdin,
                log_path,
                _logs: logs,
            },
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{what} did not say where it listens; its log:\n{}",
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        }
    }

    /// What the peer printed so far (stderr, and stdout after its first line).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Announced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
