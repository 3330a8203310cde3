//! Ctrl-C on a running `latch`, as a person would press it: `latch ARGS` started with its
//! stderr read line by line until a line says it got where the test wants it, then SIGINT
//! (`kill -INT`) and the rest of its stderr collected. The tests of cancelling a running task
//! (`tasks.rs`, `tasks_extension.rs`) share it. Unix only.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, ChildStderr, Command, ExitStatus, Stdio},
};

/// A `latch` run that got as far as a line of its stderr; killed when dropped if still running.
pub struct Running {
    child: Child,
    stderr: BufReader<ChildStderr>,
    /// Its stderr so far, up to and with the line waited for.
    seen: String,
}

/// `latch ARGS` with `home` as `LATCH_HOME`, the file store and `RUST_LOG=log`, once a line
/// of its stderr contains `line` (fails the test if latch ends first).
pub fn latch_until(home: &Path, args: &[&str], log: &str, line: &str) -> Running {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("latch"))
        .args(args)
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env("RUST_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("latch runs");
    let mut running = Running {
        stderr: BufReader::new(child.stderr.take().unwrap()),
        child,
        seen: String::new(),
    };
    loop {
        let mut next = String::new();
        let n = running.stderr.read_line(&mut next).unwrap();
        assert!(n > 0, "latch ended before {line:?}: {}", running.seen);
        running.seen.push_str(&next);
        if next.contains(line) {
            return running;
        }
    }
}

impl Running {
    /// SIGINT, then latch's exit status and its whole stderr.
    pub fn interrupt(&mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success(), "kill -INT {pid}");
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        (status, format!("{}{rest}", self.seen))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
