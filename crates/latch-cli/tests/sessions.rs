//! What goes over the wire around a session, checked against the real server-everything:
//! the configured headers ride on every request (POST, GET and DELETE alike), a Streamable
//! HTTP session ends with DELETE, and a command server's process is gone when `latch` exits.

mod common;

use std::{
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    path::Path,
    process::Output,
    sync::{Arc, Mutex},
    thread,
};

use assert_cmd::Command;
use common::{Everything, Mode};

/// A TCP relay on 127.0.0.1 in front of `upstream` that keeps a copy of every byte the client
/// sent, so the test can read the requests' header blocks.
struct Recorder {
    port: u16,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = sent.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let record = record.clone();
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut s_read, mut c_write) = (server, client);
                thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 || s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = s_write.shutdown(Shutdown::Write);
                });
                thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(Shutdown::Write);
                });
            }
        });
        Self { port, sent }
    }

    /// Each request the client sent: (request line, header block in lower case).
    fn requests(&self) -> Vec<(String, String)> {
        // The relay threads may still be copying the last bytes: wait until nothing more comes.
        let mut seen = usize::MAX;
        for _ in 0..30 {
            let now = self.sent.lock().unwrap().len();
            if now == seen {
                break;
            }
            seen = now;
            thread::sleep(std::time::Duration::from_millis(100));
        }
        let text = String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned();
        let mut out = Vec::new();
        for (i, _) in text.match_indices(" HTTP/1.1\r\n") {
            // A request line may follow the previous body on the same connection with no
            // newline in between: find the method right before the target.
            let line_start = ["GET /", "POST /", "DELETE /"]
                .iter()
                .filter_map(|m| text[..i].rfind(m))
                .max();
            let Some(line_start) = line_start else {
                continue;
            };
            let line = &text[line_start..i];
            if line.contains('\n') {
                continue;
            }
            let end = text[i..]
                .find("\r\n\r\n")
                .map(|e| i + e)
                .unwrap_or(text.len());
            out.push((line.to_owned(), text[i..end].to_ascii_lowercase()));
        }
        out
    }
}

fn latch(home: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("latch")
        .unwrap()
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .unwrap()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn headers_on_every_request(mode: Mode, transport: &str) {
    let server = Everything::start(mode);
    let recorder = Recorder::start(server.port);
    let url = server
        .url()
        .replace(&server.port.to_string(), &recorder.port.to_string());
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(
        home,
        &[
            "servers",
            "add",
            "rec",
            &url,
            "--transport",
            transport,
            "--header",
            "X-Latch-Test=yes-${env:LATCH_TEST_SUFFIX}",
        ],
    ));
    let output = Command::cargo_bin("latch")
        .unwrap()
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env("LATCH_TEST_SUFFIX", "expanded")
        .args(["call", "rec", "get-sum", "a=2", "b=3"])
        .output()
        .unwrap();
    assert_ok(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains('5'));

    let requests = recorder.requests();
    assert!(requests.len() >= 3, "{requests:?}");
    for (line, headers) in &requests {
        assert!(
            headers.contains("\r\nx-latch-test: yes-expanded"),
            "{line} lacks the header: {headers}"
        );
    }
    let methods: Vec<&str> = requests
        .iter()
        .map(|(l, _)| l.split(' ').next().unwrap())
        .collect();
    assert!(
        methods.contains(&"POST") && methods.contains(&"GET"),
        "{methods:?}"
    );
    if transport == "http" {
        assert!(
            methods.contains(&"DELETE"),
            "the session ends with DELETE: {methods:?}"
        );
        assert!(
            server
                .log()
                .contains("Received session termination request"),
            "{}",
            server.log()
        );
    }
}

#[test]
fn streamable_http_sends_headers_everywhere_and_deletes_the_session() {
    headers_on_every_request(Mode::StreamableHttp, "http");
}

#[test]
fn sse_sends_headers_on_the_stream_and_every_post() {
    headers_on_every_request(Mode::Sse, "sse");
}

#[cfg(unix)]
#[test]
fn a_command_server_does_not_outlive_latch() {
    let (node, args) = common::everything_stdio_command();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!(
        "echo $$ > '{}'; exec '{}' {}",
        pid_file.display(),
        node,
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(
        home,
        &["servers", "add", "local", "--command", "sh", "-c", &script],
    ));
    assert_ok(&latch(home, &["tools", "local"]));
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(!pid.is_empty());
    let alive = std::process::Command::new("kill")
        .args(["-0", &pid])
        .status()
        .unwrap()
        .success();
    assert!(
        !alive,
        "the server process {pid} is still running after latch exited"
    );
}

#[test]
fn secret_placeholders_come_from_the_token_store_and_never_reach_a_log() {
    let server = Everything::start(Mode::StreamableHttp);
    let recorder = Recorder::start(server.port);
    let url = server
        .url()
        .replace(&server.port.to_string(), &recorder.port.to_string());
    let home = common::latch_home();
    let home = home.path();
    let secret = "s3cr3t-static-token-0123456789";
    latch_core::secrets::SecretStore::file(home)
        .put(&latch_core::secrets::secret_key("demo"), secret.as_bytes())
        .unwrap();
    assert_ok(&latch(
        home,
        &[
            "servers",
            "add",
            "rec",
            &url,
            "--header",
            "X-Demo-Token=Bearer ${secret:demo}",
        ],
    ));
    // The file keeps the placeholder, not the value.
    let config = std::fs::read_to_string(home.join("servers.json")).unwrap();
    assert!(config.contains("${secret:demo}") && !config.contains(secret));

    let output = Command::cargo_bin("latch")
        .unwrap()
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env("RUST_LOG", "trace")
        .args(["call", "rec", "get-sum", "a=2", "b=3"])
        .output()
        .unwrap();
    assert_ok(&output);
    for (line, headers) in recorder.requests() {
        assert!(
            headers.contains(&format!("x-demo-token: bearer {secret}")),
            "{line}"
        );
    }
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains(secret), "the secret reached the output");

    // A missing secret is a clear error that says how to store it.
    assert_ok(&latch(
        home,
        &[
            "servers",
            "add",
            "other",
            &url,
            "--header",
            "X-Demo-Token=${secret:absent}",
        ],
    ));
    let missing = latch(home, &["tools", "other"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("latch credentials set absent"));
}
