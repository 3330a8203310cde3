//! `OidcPeer`: a real OAuth authorization server (oidc-provider 9) with a protected MCP server in
//! front of it, both on 127.0.0.1, from `tests/peers/oidc/start.mjs` (see its README.md for
//! what it configures and the `/__test` admin endpoints). Dropping it kills the process and
//! waits for it; the process also exits by itself when this test process dies, because it
//! watches the stdin pipe we hold.
//!
//! Also: a plain HTTP/1.1 client over `TcpStream` for the tests' own requests to the peers
//! (`http_get`, `http_post_form`), so no HTTP crate is needed here.

use std::{
    collections::HashMap,
    fs::{self, File},
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use super::{node, peers_dir};

/// How long the peer may take to print its JSON line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `approve-device.mjs` may take.
const APPROVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Read/write timeout of the plain HTTP client.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `tests/peers/oidc/start.mjs`.
pub struct OidcPeer {
    /// `http://127.0.0.1:P1` (no trailing slash), the authorization server.
    pub issuer: String,
    /// `http://127.0.0.1:P2/mcp`, the protected MCP server (Streamable HTTP).
    pub mcp_url: String,
    /// The resource indicator tokens are bound to: equal to `mcp_url`.
    pub resource: String,
    /// `http://127.0.0.1:P1/__test`, the admin endpoints.
    pub admin_url: String,
    child: Child,
    stdin: Option<ChildStdin>,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl OidcPeer {
    /// Starts the peer with access tokens that live `access_ttl_secs` seconds and returns once it
    /// printed its URLs. Panics with its log if it exits or stays silent for 30 s.
    pub fn start(access_ttl_secs: u64) -> OidcPeer {
        OidcPeer::start_with(access_ttl_secs, &[])
    }

    /// Like `start`, with more environment for the peer, e.g. `("OIDC_ROTATE_REFRESH", "0")`,
    /// `("OIDC_DCR_GRANT_DEVICE_CODE", "1")`, `("OIDC_DEVICE_INTERVAL", "0")` (see README.md).
    pub fn start_with(access_ttl_secs: u64, env: &[(&str, &str)]) -> OidcPeer {
        let peers = peers_dir();
        let script = peers.join("oidc").join("start.mjs");
        // `peers_dir()` installs when node_modules is missing, not when it predates these.
        for package in ["oidc-provider", "jose"] {
            assert!(
                peers
                    .join("node_modules")
                    .join(package)
                    .join("package.json")
                    .is_file(),
                "{package} is missing from {}/node_modules: run `npm ci` there",
                peers.display()
            );
        }
        let logs = tempfile::Builder::new()
            .prefix("latch-oidc-peer-")
            .tempdir()
            .expect("a temp dir for the peer's log");
        let log_path = logs.path().join("oidc-peer.log");
        let log = File::create(&log_path).expect("the peer's log file");
        let mut command = Command::new(node());
        command
            .arg("--require")
            .arg(peers.join("bind-localhost.cjs"))
            .arg(&script)
            .env("OIDC_ACCESS_TTL", access_ttl_secs.to_string())
            .env_remove("OIDC_PORT")
            .env_remove("MCP_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("the log file, again"));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!("could not start {} with {}: {e}", script.display(), node())
        });
        let stdin = child.stdin.take();

        // The first stdout line is the JSON; anything after it goes to the log.
        let stdout = child.stdout.take().expect("the peer's stdout");
        let rx = super::first_line_then_log(stdout, log);

        let deadline = Instant::now() + START_TIMEOUT;
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Some(status) = child.try_wait().expect("the peer's status") {
                        fail(&mut child, &log_path, &format!("exited early ({status})"));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    fail(
                        &mut child,
                        &log_path,
                        &format!("printed nothing within {START_TIMEOUT:?}"),
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    fail(&mut child, &log_path, "closed its stdout without a line");
                }
            }
        };
        let info: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            fail(
                &mut child,
                &log_path,
                &format!("printed {line:?}, not JSON ({e})"),
            )
        });
        let field = |name: &str| -> String {
            info[name]
                .as_str()
                .unwrap_or_else(|| panic!("the peer's JSON line lacks {name}: {line}"))
                .to_owned()
        };
        OidcPeer {
            issuer: field("issuer"),
            mcp_url: field("mcpUrl"),
            resource: field("resource"),
            admin_url: field("adminUrl"),
            child,
            stdin,
            log_path,
            _logs: logs,
        }
    }

    /// The peer's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The authorization server's port.
    pub fn issuer_port(&self) -> u16 {
        parse_http_url(&self.issuer).1
    }

    /// The MCP server's port.
    pub fn mcp_port(&self) -> u16 {
        parse_http_url(&self.mcp_url).1
    }

    /// What the peer wrote to stderr so far (set `OIDC_DEBUG=1` for more).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `GET /__test/stats`: token requests by grant type, refresh-token reuse, revoked grants,
    /// revocations, registrations, the MCP server's 401s (`mcp.expiredToken`, …). See README.md.
    pub fn stats(&self) -> serde_json::Value {
        self.admin_json("GET", "/stats")
    }

    /// `GET /__test/clients`: the pre-registered clients (`client_secret_basic`,
    /// `client_secret_post`, `private_key_jwt` with its `private_key_pem` and `alg`,
    /// `public_native`), `token_endpoint`, `resource`, `scope`.
    pub fn clients(&self) -> serde_json::Value {
        self.admin_json("GET", "/clients")
    }

    /// `POST /__test/reset`: zeroes the counters.
    pub fn reset_stats(&self) {
        self.admin_json("POST", "/reset");
    }

    /// `POST /__test/interaction?mode=…`: from now on sign-ins are approved (`true`) or end in
    /// `access_denied` (`false`).
    pub fn set_approve_sign_ins(&self, approve: bool) {
        let mode = if approve { "approve" } else { "deny" };
        self.admin_json("POST", &format!("/interaction?mode={mode}"));
    }

    /// `POST /__test/clients/{id}/rotate-secret`: a new secret for `latch-m2m` or
    /// `latch-m2m-post`; the old one stops working. Returns the new secret.
    pub fn rotate_secret(&self, client_id: &str) -> String {
        let answer = self.admin_json("POST", &format!("/clients/{client_id}/rotate-secret"));
        answer["client_secret"]
            .as_str()
            .unwrap_or_else(|| panic!("rotate-secret answered {answer}"))
            .to_owned()
    }

    /// Approves the device authorization with `user_code` through the provider's device page
    /// (`approve-device.mjs`). True when the provider confirmed it.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.run_approve_device(user_code, false)
    }

    /// Refuses it instead: the client's next poll gets `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.run_approve_device(user_code, true)
    }

    fn run_approve_device(&self, user_code: &str, deny: bool) -> bool {
        let script = peers_dir().join("oidc").join("approve-device.mjs");
        let mut command = Command::new(node());
        command.arg(&script);
        if deny {
            command.arg("--deny");
        }
        let mut child = command
            .arg(user_code)
            .arg(&self.issuer)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", script.display()));
        let output = collect_output(&mut child);
        let deadline = Instant::now() + APPROVE_TIMEOUT;
        let status: ExitStatus = loop {
            if let Some(status) = child.try_wait().expect("approve-device's status") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                eprintln!("approve-device.mjs {user_code}: no answer within {APPROVE_TIMEOUT:?}");
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        };
        let text = output.join().unwrap_or_default();
        if !status.success() {
            eprintln!("approve-device.mjs {user_code} ({status}):\n{text}");
        }
        status.success()
    }

    fn admin_json(&self, method: &str, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.admin_url);
        let response = http_request(method, &url, &[], None);
        assert_eq!(response.status, 200, "{method} {url}: {}", response.body);
        response.json()
    }
}

impl Drop for OidcPeer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fail(child: &mut Child, log_path: &std::path::Path, what: &str) -> ! {
    let _ = child.kill();
    let _ = child.wait();
    let log = fs::read_to_string(log_path).unwrap_or_default();
    panic!("the oidc peer (tests/peers/oidc/start.mjs) {what}; its log:\n{log}")
}

/// Reads the child's stdout and stderr on threads; the handle yields both, stdout first.
fn collect_output(child: &mut Child) -> thread::JoinHandle<String> {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text + &err.join().unwrap_or_default()
    })
}

/// An HTTP response: status, headers (names lowercased; the last of repeated ones), body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl HttpResponse {
    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// `GET url` (http://host:port/…, no TLS), `Connection: close`.
pub fn http_get(url: &str) -> HttpResponse {
    http_request("GET", url, &[], None)
}

/// `POST url` with an `application/x-www-form-urlencoded` body made from `fields`.
pub fn http_post_form(url: &str, fields: &[(&str, &str)]) -> HttpResponse {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    http_request(
        "POST",
        url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.as_bytes()),
    )
}

/// One plain HTTP/1.1 request over a fresh connection; the response is read to the end.
pub fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> HttpResponse {
    let (host, port, path) = parse_http_url(url);
    let mut stream = TcpStream::connect((host.as_str(), port))
        .unwrap_or_else(|e| panic!("connect to {host}:{port} for {url}: {e}"));
    stream.set_read_timeout(Some(HTTP_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(HTTP_TIMEOUT)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nAccept: */*\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    if method != "GET" || !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.write_all(body))
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{method} {url}: reading the response: {e}"));
    parse_response(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {url}: not an HTTP response: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `(host, port, path-and-query)` of an `http://` URL.
fn parse_http_url(url: &str) -> (String, u16, String) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().expect("a port number")),
        None => (authority, 80),
    };
    (host.to_owned(), port, path.to_owned())
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body)?;
    }
    Some(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn form_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
