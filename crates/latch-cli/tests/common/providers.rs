//! `Providers`: real OAuth software set up the way hosted MCP providers run it, on 127.0.0.1 —
//! an authorization server on django-oauth-toolkit (`/o/token/`, introspection, revocation,
//! RFC 8414 metadata, open registration) and two MCP servers on the Python `mcp` SDK that check
//! tokens by introspection there: one publishing protected-resource metadata (Notion-like), one
//! publishing none (Madgicx-like). See `tests/peers/providers/README.md`.
//!
//! The Python packages are pinned in `tests/peers/providers/requirements.lock`; the first test
//! that needs them installs them into a venv under `target/tmp/` (once, under a lock directory,
//! even when test processes start together). Each server runs in its own process group; dropping
//! `Providers` (also while a test panics) kills the groups, and the servers exit by themselves
//! when this test process dies, because they watch the stdin pipe we hold.

use std::{
    fs::{self, File},
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{OnceLock, mpsc},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{oidc::http_request, venv::Venv, workspace_root};

/// How long a server may take to print its JSON line (the AS migrates its database first).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The three running servers. Fields drop in order: the MCP servers before the AS.
pub struct Providers {
    /// `http://127.0.0.1:P` (no trailing slash): the authorization server, RFC 8414 at its root.
    pub issuer: String,
    /// `{issuer}/o/token/`.
    pub token_url: String,
    /// `{issuer}/o/authorize/`.
    pub authorization_url: String,
    /// `{issuer}/o/revoke_token/`.
    pub revocation_url: String,
    /// `http://127.0.0.1:P2/mcp`: the MCP server with protected-resource metadata.
    pub notion_url: String,
    /// `http://127.0.0.1:P3/mcp`: the MCP server without metadata (its 401 names nothing).
    pub madgicx_url: String,
    admin_url: String,
    notion: Peer,
    madgicx: Peer,
    auth: Peer,
}

impl Providers {
    /// Starts the authorization server (access tokens live `access_ttl_secs` seconds) and both
    /// MCP servers; returns once all three printed where they listen.
    pub fn start(access_ttl_secs: u64) -> Providers {
        let python = providers_python();
        let dir = providers_dir();
        let (auth, info) = Peer::spawn(
            "auth_server.py",
            Command::new(&python)
                .arg(dir.join("auth_server.py"))
                .arg("--access-ttl")
                .arg(access_ttl_secs.to_string()),
        );
        let field = |name: &str| -> String {
            info[name]
                .as_str()
                .unwrap_or_else(|| panic!("the AS's JSON line lacks {name}: {info}"))
                .to_owned()
        };
        let issuer = field("issuer");
        let mcp = |mode: &str| {
            let mut command = Command::new(&python);
            command
                .arg(dir.join("mcp_server.py"))
                .arg(mode)
                .arg("--issuer")
                .arg(&issuer)
                .arg("--introspection-url")
                .arg(field("introspectionUrl"))
                .env("INTROSPECTION_CLIENT_ID", field("introspectionClientId"))
                .env(
                    "INTROSPECTION_CLIENT_SECRET",
                    field("introspectionClientSecret"),
                );
            let (peer, info) = Peer::spawn("mcp_server.py", &mut command);
            let url = info["mcpUrl"]
                .as_str()
                .unwrap_or_else(|| panic!("mcp_server.py's JSON line lacks mcpUrl: {info}"))
                .to_owned();
            (peer, url)
        };
        let (notion, notion_url) = mcp("--metadata");
        let (madgicx, madgicx_url) = mcp("--no-metadata");
        Providers {
            token_url: field("tokenUrl"),
            authorization_url: field("authorizationUrl"),
            revocation_url: field("revocationUrl"),
            admin_url: field("adminUrl"),
            issuer,
            notion_url,
            madgicx_url,
            notion,
            madgicx,
            auth,
        }
    }

    /// `GET /__test/stats`: `tokenRequests`, `tokenRequestsByGrant`, `tokenErrors` (by OAuth
    /// error), `registrations`, `registeredClientIds`, `introspections`, `revocations`,
    /// `revocationErrors`.
    pub fn stats(&self) -> Value {
        self.admin("GET", "/stats", 200)
    }

    /// One number of the stats by JSON pointer (`/tokenErrors/invalid_client`), 0 when absent.
    pub fn stat(&self, pointer: &str) -> u64 {
        self.stats()
            .pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    /// The client ids dynamic registration handed out, oldest first.
    pub fn registered_client_ids(&self) -> Vec<String> {
        self.stats()["registeredClientIds"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A new confidential client-credentials application: `(client_id, client_secret)`.
    pub fn create_client_credentials(&self) -> (String, String) {
        let answer = self.admin("POST", "/clients/client-credentials", 201);
        let get = |k: &str| answer[k].as_str().expect("id and secret").to_owned();
        (get("client_id"), get("client_secret"))
    }

    /// A new public authorization-code application whose redirect URI is
    /// `http://127.0.0.1/callback` on any port (a published client id, no registration).
    pub fn create_public_client(&self) -> String {
        let answer = self.admin("POST", "/clients/public", 201);
        answer["client_id"]
            .as_str()
            .expect("a client id")
            .to_owned()
    }

    /// The AS forgets the application (and its tokens): a refresh then gets `invalid_client`.
    pub fn delete_client(&self, client_id: &str) {
        self.admin("POST", &format!("/clients/{client_id}/delete"), 200);
    }

    /// What the three servers wrote to stderr so far.
    pub fn log(&self) -> String {
        format!(
            "--- auth server ---\n{}\n--- notion-like MCP ---\n{}\n--- madgicx-like MCP ---\n{}",
            self.auth.log(),
            self.notion.log(),
            self.madgicx.log()
        )
    }

    fn admin(&self, method: &str, path: &str, status: u16) -> Value {
        let url = format!("{}{path}", self.admin_url);
        let response = http_request(method, &url, &[], None);
        assert_eq!(response.status, status, "{method} {url}: {}", response.body);
        response.json()
    }
}

/// One server process, in its own process group, with its stderr in a log file.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl Peer {
    /// Starts `command` and waits for the first stdout line, which must be JSON.
    fn spawn(what: &str, command: &mut Command) -> (Peer, Value) {
        let logs = tempfile::Builder::new()
            .prefix("latch-providers-")
            .tempdir()
            .expect("a temp dir for the server's log");
        let log_path = logs.path().join("server.log");
        let log = File::create(&log_path).expect("the server's log file");
        let mut child = command
            .current_dir(providers_dir())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("the log file, again"))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the server's stdout");
        let rx = super::first_line_then_log(stdout, log);
        let mut peer = Peer {
            child,
            stdin,
            log_path,
            _logs: logs,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Some(status) = peer.child.try_wait().expect("the server's status") {
                        panic!("{what} exited early ({status}); its log:\n{}", peer.log());
                    }
                }
                Err(_) => panic!(
                    "{what} printed no line within {START_TIMEOUT:?}; its log:\n{}",
                    peer.log()
                ),
            }
        };
        let info = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "{what} printed {line:?}, not JSON ({e}); its log:\n{}",
                peer.log()
            )
        });
        (peer, info)
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // The whole group: anything the server started goes too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `<workspace>/tests/peers/providers`.
pub fn providers_dir() -> PathBuf {
    workspace_root().join("tests/peers/providers")
}

/// The venv's python with `requirements.lock` installed (under `target/tmp/`), installing it
/// the first time. Panics with pip's output when Python 3.10+ or PyPI is missing.
pub fn providers_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(install_venv).clone()
}

fn install_venv() -> PathBuf {
    Venv {
        name: "providers",
        what: "the provider peers",
        lock_file: providers_dir().join("requirements.lock"),
        require_hashes: false,
    }
    .install()
}
