//! A failing `latch` says so in one line: run for real against a server nobody listens for, a
//! server answering HTTP 500, one answering a web page, an unknown server name and a servers
//! file that does not parse — with stderr sent to a file, as a script or an agent would. Each
//! time stderr holds exactly `latch: …` (no log line before it, no colour codes, no Rust type
//! path), `--json` puts only the error object on stdout, `-v` adds the details, and the log
//! file got the log lines.

mod common;

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::{self, JoinHandle},
};

use common::{assert_ok, latch_command, latch_home};

/// What one `latch` run left: its exit status, stdout, and stderr (written to a file).
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `latch ARGS` with stderr redirected to a file (never a terminal), colour allowed by
/// the environment (`NO_COLOR` unset) and no `RUST_LOG`.
fn latch_to_file(home: &Path, args: &[&str]) -> Run {
    let stderr_path = home.join("stderr.txt");
    let stderr = File::create(&stderr_path).expect("a file for stderr");
    let output = Command::new(env!("CARGO_BIN_EXE_latch"))
        .args(args)
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stderr(stderr)
        .output()
        .expect("latch runs");
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: std::fs::read_to_string(&stderr_path).expect("stderr's file"),
    }
}

/// The run failed with exactly one plain line on stderr; returns it.
fn one_plain_line(run: &Run) -> &str {
    assert!(!run.ok, "the command should fail: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line:\n{}", run.stderr);
    let line = lines[0];
    assert!(line.starts_with("latch: "), "{line}");
    assert!(!line.contains('\x1b'), "colour codes: {line:?}");
    assert!(!line.contains("rmcp"), "{line}");
    assert!(!line.contains("::"), "a type path: {line}");
    assert!(!line.contains("WARN") && !line.contains("ERROR"), "{line}");
    line
}

/// The same failure with `--json`: stdout is the error object only, stderr the same one line.
fn fails_the_same_with_json(home: &Path, args: &[&str], line: &str) {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let run = latch_to_file(home, &with_json);
    assert_eq!(one_plain_line(&run), line);
    let value: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {:?}", run.stdout));
    assert_eq!(
        value["error"].as_str(),
        line.strip_prefix("latch: "),
        "{value}"
    );
}

/// With `-v` the details come on stderr too (the line stays the last one); returns stderr.
fn details_with_verbose(home: &Path, args: &[&str], line: &str) -> String {
    let mut verbose = args.to_vec();
    verbose.push("-v");
    let run = latch_to_file(home, &verbose);
    assert!(!run.ok);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines.len() > 1, "-v added nothing:\n{}", run.stderr);
    assert_eq!(lines.last().copied(), Some(line), "{}", run.stderr);
    assert!(
        !run.stderr.contains('\x1b'),
        "colour codes: {:?}",
        run.stderr
    );
    assert!(run.stderr.contains("the command failed"), "{}", run.stderr);
    run.stderr
}

fn log_file(home: &Path) -> String {
    let path = home.join("logs").join("latch.log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("the log file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the log file's mode: {mode:o}");
    }
    let text = std::fs::read_to_string(&path).expect("the log file");
    assert!(!text.contains('\x1b'), "colour codes in the log file");
    text
}

/// A server on 127.0.0.1 that answers every request with `status` and `body` of `content_type`;
/// stopped when dropped.
struct Answering {
    url: String,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<JoinHandle<()>>,
}

impl Answering {
    fn start(status: &'static str, content_type: &'static str, body: &'static str) -> Answering {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                thread::spawn(move || answer(stream, status, content_type, body));
            }
        });
        Answering {
            url: format!("http://127.0.0.1:{port}/mcp"),
            stop,
            port,
            thread: Some(thread),
        }
    }
}

/// Reads one request (headers and body) and answers it.
fn answer(stream: TcpStream, status: &str, content_type: &str, body: &str) {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut request_body = vec![0; length];
    let _ = reader.read_exact(&mut request_body);
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn an_unreachable_server_is_one_line_naming_it() {
    let home = latch_home();
    let home = home.path();
    // A port nobody listens on: bound, then let go.
    let url = format!("http://127.0.0.1:{}/mcp", common::free_port());
    assert_ok(
        &latch_command(home)
            .args(["servers", "add", "down", &url])
            .output()
            .unwrap(),
    );

    let args = ["tools", "down"];
    let run = latch_to_file(home, &args);
    let line = one_plain_line(&run);
    assert!(
        line.contains("could not reach") && line.contains(&url),
        "{line}"
    );
    fails_the_same_with_json(home, &args, line);
    details_with_verbose(home, &args, line);
    let log = log_file(home);
    assert!(
        log.contains("the command failed") && log.contains(&url),
        "the log file lacks the failure:\n{log}"
    );
}

#[test]
fn a_server_answering_500_is_one_line_naming_it() {
    let home = latch_home();
    let home = home.path();
    let server = Answering::start("500 Internal Server Error", "text/plain", "oops");
    assert_ok(
        &latch_command(home)
            .args(["servers", "add", "broken", &server.url])
            .output()
            .unwrap(),
    );

    let args = ["call", "broken", "echo", "message=hi"];
    let run = latch_to_file(home, &args);
    let line = one_plain_line(&run);
    assert!(line.contains(&server.url) && line.contains("500"), "{line}");
    fails_the_same_with_json(home, &args, line);
    let details = details_with_verbose(home, &args, line);
    assert!(details.contains("handshake failed"), "{details}");
    assert!(log_file(home).contains("handshake failed"));
}

#[test]
fn a_web_page_instead_of_mcp_is_one_plain_line() {
    let home = latch_home();
    let home = home.path();
    let server = Answering::start("200 OK", "text/html", "<html><body>Hello</body></html>");
    assert_ok(
        &latch_command(home)
            .args(["servers", "add", "page", &server.url])
            .output()
            .unwrap(),
    );

    let args = ["tools", "page"];
    let run = latch_to_file(home, &args);
    let line = one_plain_line(&run);
    assert!(line.contains(&server.url), "{line}");
    assert!(
        line.contains("text/html") || line.contains("not MCP"),
        "the line does not say what came back: {line}"
    );
    fails_the_same_with_json(home, &args, line);
    // The raw chain, rmcp's words, is for -v and the log.
    let details = details_with_verbose(home, &args, line);
    assert!(details.contains("handshake failed"), "{details}");
}

#[test]
fn an_unknown_server_name_is_one_line() {
    let home = latch_home();
    let home = home.path();
    for args in [
        &["tools", "nosuch"][..],
        &["call", "nosuch", "echo"],
        &["bridge", "nosuch"],
    ] {
        let run = latch_to_file(home, args);
        let line = one_plain_line(&run);
        assert!(line.contains("nosuch"), "{line}");
        if args[0] == "bridge" {
            // The bridge's stderr is its log for the agent: -v adds lines, still no colour.
            details_with_verbose(home, args, line);
        } else {
            fails_the_same_with_json(home, args, line);
        }
    }
}

#[test]
fn a_servers_file_that_does_not_parse_is_one_line() {
    let home = latch_home();
    let home = home.path();
    std::fs::write(home.join("servers.json"), "{\"mcpServers\": {\"a\": }").unwrap();
    for args in [&["servers", "list"][..], &["status"]] {
        let run = latch_to_file(home, args);
        let line = one_plain_line(&run);
        assert!(line.contains("servers.json"), "{line}");
        fails_the_same_with_json(home, args, line);
    }
    assert!(log_file(home).contains("the command failed"));
}

/// `latch servers list | head -0`: the reader is gone before Latch writes. Latch ends the way
/// Unix tools do — status 141, nothing on stderr — instead of panicking.
#[test]
fn a_closed_stdout_ends_latch_quietly() {
    let home = latch_home();
    assert_ok(
        &latch_command(home.path())
            .args(["servers", "add", "x", "http://127.0.0.1:9/mcp"])
            .output()
            .unwrap(),
    );
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(assert_cmd::cargo::cargo_bin("latch"))
        .args(["servers", "list"])
        .env("LATCH_HOME", home.path())
        .env("LATCH_TOKEN_STORE", "file")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("latch runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
