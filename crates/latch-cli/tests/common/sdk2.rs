//! The MCP 2026-07-28 servers of `tests/peers/sdk2/`: one on the TypeScript SDK 2.x
//! (`server.mjs`, modern-only with `--legacy reject` or serving both eras by default) and one on
//! the Python SDK 2.x (`server.py`), each on 127.0.0.1 and stopped when dropped, plus the TS
//! server's stdio command line. Tests of the CLI and the bridge talk to these as to any server
//! written today.
//!
//! The Python packages are pinned with hashes in `tests/peers/sdk2/requirements.lock`; the first
//! test that needs them installs them into a venv under `target/tmp/` (once, under a lock
//! directory, so parallel test processes share it).

use std::{
    fs::{self, File},
    io::ErrorKind,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::OnceLock,
    thread,
    time::{Duration, Instant, SystemTime},
};

use super::{first_line_then_log, node, peers_dir, workspace_root};

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
    child: Child,
    _stdin: Option<ChildStdin>,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
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
        let logs = tempfile::Builder::new()
            .prefix("latch-sdk2-")
            .tempdir()
            .expect("a temp dir for the server's log");
        let log_path = logs.path().join(format!("{}.log", kind.label()));
        let log = File::create(&log_path).expect("the server's log file");
        let mut child = command
            .current_dir(&script_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("the log file, again"))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start the {} server: {e}", kind.label()));
        let stdin = child.stdin.take();
        let first = first_line_then_log(child.stdout.take().expect("piped stdout"), log);
        let announced = first.recv_timeout(START_TIMEOUT);
        let url = announced
            .ok()
            .and_then(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
            .and_then(|v| v["url"].as_str().map(str::to_owned));
        match url {
            Some(url) if url.starts_with("http://127.0.0.1:") => Sdk2Server {
                kind,
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
                    "the {} server did not announce its URL; its log:\n{}",
                    kind.label(),
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        }
    }

    /// What the server printed so far (stderr, and stdout after its first line).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Sdk2Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = target.join("sdk2-python-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.installed");
    let lock_file = sdk2_dir().join("requirements.lock");
    let wanted = fs::read_to_string(&lock_file)
        .unwrap_or_else(|e| panic!("could not read {}: {e}", lock_file.display()));
    let ready = || fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str());
    if ready() && python.is_file() {
        return python;
    }
    let lock = target.join("sdk2-venv.lock");
    let _lock = DirLock::acquire(&lock, &ready);
    if ready() && python.is_file() {
        return python;
    }
    let system_python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import sys; sys.exit(sys.version_info < (3, 10))"])
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("the Python SDK 2.x peer needs Python 3.10+ on PATH");
    let _ = fs::remove_dir_all(&venv);
    eprintln!(
        "installing the Python SDK 2.x peer: a venv in {} from {}",
        venv.display(),
        lock_file.display()
    );
    run(Command::new(system_python).args(["-m", "venv"]).arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--require-hashes", "-r"])
        .arg(&lock_file));
    fs::write(&stamp, &wanted).expect("the venv's stamp");
    python
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("could not run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A lock directory (creating one is atomic across processes), removed when dropped. A lock
/// older than 10 minutes was left by a holder that died and is taken over.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: &Path, done: &dyn Fn() -> bool) -> Option<DirLock> {
        fs::create_dir_all(path.parent().expect("the lock's parent")).expect("target/tmp");
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            match fs::create_dir(path) {
                Ok(()) => return Some(DirLock(path.to_owned())),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if done() {
                        return None;
                    }
                    let age = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|age| age > Duration::from_secs(600)) {
                        let _ = fs::remove_dir(path);
                    }
                    assert!(
                        Instant::now() < deadline,
                        "waited 15 min for {}",
                        path.display()
                    );
                    thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("could not create {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}
