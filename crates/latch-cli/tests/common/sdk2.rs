//! The MCP 2026-07-28 servers of `tests/peers/sdk2/`: one on the TypeScript SDK 2.x
//! (`server.mjs`, modern-only with `--legacy reject` or serving both eras by default) and one on
//! the Python SDK 2.x (`server.py`), each on 127.0.0.1 and stopped when dropped, plus the TS
//! server's stdio command line. Tests of the CLI and the bridge talk to these as to any server
//! written today.
//!
//! The Python packages are pinned with hashes in `tests/peers/sdk2/requirements.lock`; the first
//! test that needs them installs them into a venv under `target/tmp/` (once, under a lock
//! directory, so parallel test processes share it).

use std::{path::PathBuf, process::Command, sync::OnceLock, time::Duration};

use super::{announced::Announced, node, peers_dir, venv::Venv, workspace_root};

/// How long a server may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Which 2026-07-28 server to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk2 {
    /// `server.mjs --legacy reject`: speaks 2026-07-28 only; `initialize` gets "Unsupported
    /// protocol version".
    TsModernOnly,
    /// `server.mjs` with the SDK's default (`legacy: "stateless"`): both eras.
    TsDefault,
    /// `server.py`: the Python SDK 2.x, both eras.
    Python,
}

impl Sdk2 {
    pub fn label(self) -> &'static str {
        match self {
            Sdk2::TsModernOnly => "ts-modern-only",
            Sdk2::TsDefault => "ts-default",
            Sdk2::Python => "python",
        }
    }
}

/// A running 2026-07-28 server on 127.0.0.1. Dropping it kills the process and waits for it.
pub struct Sdk2Server {
    pub kind: Sdk2,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    peer: Announced,
}

impl Sdk2Server {
    /// Starts the server on a port it picks and returns once it said where it listens.
    /// Panics with its log if it exits first or says nothing within a minute.
    pub fn start(kind: Sdk2) -> Sdk2Server {
        let script_dir = sdk2_dir();
        let mut command = match kind {
            Sdk2::TsModernOnly | Sdk2::TsDefault => {
                let mut command = Command::new(node());
                command
                    .arg(script_dir.join("server.mjs"))
                    .args(["--port", "0"]);
                if kind == Sdk2::TsModernOnly {
                    command.args(["--legacy", "reject"]);
                }
                command
            }
            Sdk2::Python => {
                let mut command = Command::new(sdk2_python());
                command
                    .arg(script_dir.join("server.py"))
                    .args(["--port", "0"]);
                command
            }
        };
        command.current_dir(&script_dir);
        let what = format!("the {} server", kind.label());
        let peer = Announced::start(&what, &mut command, START_TIMEOUT);
        Sdk2Server {
            kind,
            url: peer.url.clone(),
            peer,
        }
    }

    /// What the server printed so far (stderr, and stdout after its first line).
    pub fn log(&self) -> String {
        self.peer.log()
    }
}

/// `<workspace>/tests/peers/sdk2`.
pub fn sdk2_dir() -> PathBuf {
    workspace_root().join("tests/peers/sdk2")
}

/// The TypeScript SDK 2.x server as a stdio command server:
/// `(node, [".../server.mjs", "--stdio"])`, plus `--legacy reject` when `modern_only`.
pub fn sdk2_ts_stdio_command(modern_only: bool) -> (String, Vec<String>) {
    let _ = peers_dir(); // the npm packages it imports
    let mut args = vec![
        sdk2_dir().join("server.mjs").to_string_lossy().into_owned(),
        "--stdio".to_owned(),
    ];
    if modern_only {
        args.extend(["--legacy".to_owned(), "reject".to_owned()]);
    }
    (node(), args)
}

/// The venv's python with `requirements.lock` installed (under `target/tmp/`), installing it
/// the first time. Panics with pip's output when Python 3.10+ or PyPI is missing.
pub fn sdk2_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(install_venv).clone()
}

fn install_venv() -> PathBuf {
    Venv {
        name: "sdk2",
        what: "the Python SDK 2.x peer",
        lock_file: sdk2_dir().join("requirements.lock"),
        require_hashes: true,
    }
    .install()
}
