//! `HostilePeer`: `tests/peers/hostile-auth-server.mjs` playing one scenario on 127.0.0.1, and
//! `run_measured`, which runs `latch` while watching its peak memory (VmHWM). Used by
//! `hostile.rs` and `faults.rs` (`mod hostile_peer;`).

#![allow(dead_code)] // each test binary uses only part of it

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, ChildStdin, Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use crate::common::{self, oidc};

/// A running hostile peer. Dropping it kills it.
pub struct HostilePeer {
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub port: u16,
    child: Child,
    _stdin: Option<ChildStdin>,
}

impl HostilePeer {
    /// Starts `scenario` (see the script's header), with more environment.
    pub fn start(scenario: &str, env: &[(&str, &str)]) -> HostilePeer {
        let script = common::peers_dir().join("hostile-auth-server.mjs");
        let mut command = Command::new(common::node());
        command
            .arg(&script)
            .env("HOSTILE_SCENARIO", scenario)
            .env_remove("HOSTILE_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the peer's stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("the hostile peer ({scenario}) printed nothing in 20 s"));
        let info: serde_json::Value = serde_json::from_str(&line).expect("the peer's JSON line");
        HostilePeer {
            url: info["url"].as_str().expect("url").to_owned(),
            base: info["base"].as_str().expect("base").to_owned(),
            port: info["port"].as_u64().expect("port") as u16,
            child,
            _stdin: stdin,
        }
    }

    /// The requests the peer saw: `(method, path, grant_type)`.
    pub fn requests(&self) -> Vec<(String, String, Option<String>)> {
        let log = oidc::http_get(&format!("{}/__log", self.base)).json();
        log.as_array()
            .expect("a list")
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_owned(),
                    r["path"].as_str().unwrap_or_default().to_owned(),
                    r["grant"].as_str().map(str::to_owned),
                )
            })
            .collect()
    }

    /// The requests the peer saw, as it logged them (`method`, `path`, `grant`, and for the
    /// second origin of `mcp-redirect-other-origin`: `origin: "other"`, `apiKey`).
    pub fn log(&self) -> Vec<serde_json::Value> {
        let log = oidc::http_get(&format!("{}/__log", self.base)).json();
        log.as_array().expect("a list").clone()
    }

    /// How the token endpoint answers refresh requests from now on: `ok`, `500` or `hang`.
    pub fn set_refresh(&self, mode: &str) {
        oidc::http_request(
            "POST",
            &format!("{}/__set?refresh={mode}", self.base),
            &[],
            None,
        );
    }
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `run_measured` saw.
pub struct Measured {
    pub output: Output,
    /// Peak resident memory of the latch process, in KiB.
    pub peak_kib: u64,
    pub elapsed: Duration,
}

impl Measured {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn peak_mib(&self) -> u64 {
        self.peak_kib / 1024
    }
}

/// Run `latch ARGS` with `home` as LATCH_HOME, sampling its VmHWM every 20 ms; kill it and fail
/// the test if it runs longer than `limit`.
pub fn run_measured(home: &Path, args: &[&str], limit: Duration) -> Measured {
    let binary = env!("CARGO_BIN_EXE_latch");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(args)
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("latch starts");
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = out.read_to_end(&mut buffer);
        buffer
    });
    let err = thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = err.read_to_end(&mut buffer);
        buffer
    });
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = vm_hwm(pid) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("latch's status") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "latch {args:?} still ran after {limit:?} (peak {} MiB); stderr:\n{}",
                peak_kib / 1024,
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Measured {
        output: Output {
            status,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        },
        peak_kib,
        elapsed: started.elapsed(),
    }
}

/// `VmHWM` of a live process, in KiB.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
