//! Checks the test fixture itself (`tests/common`): server-everything starts in each mode,
//! answers on the URL the fixture gives, listens on 127.0.0.1 only, and is gone once dropped;
//! its stdio command line starts a working server.

mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream},
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use common::{Everything, Mode};

/// Sends one HTTP/1.1 request and returns the status line and headers.
fn http_head(port: u16, request: &str) -> String {
    let mut stream =
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connects to 127.0.0.1");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The machine's non-loopback addresses (`hostname -I`); empty if there are none.
fn non_loopback_addresses() -> Vec<IpAddr> {
    let Ok(output) = Command::new("hostname").arg("-I").output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|word| word.parse::<IpAddr>().ok())
        .filter(|ip| !ip.is_loopback())
        .collect()
}

fn accepts(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok()
}

fn check_mode(mode: Mode) {
    let server = Everything::start(mode);
    let port = server.port;
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert!(accepts(loopback), "127.0.0.1:{port} accepts connections");

    // The URL points at the transport's endpoint.
    let url = server.url();
    match mode {
        Mode::StreamableHttp => {
            assert_eq!(url, format!("http://127.0.0.1:{port}/mcp"));
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"peers-smoke","version":"0"}}}"#;
            let head = http_head(
                port,
                &format!(
                    "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
                     Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                ),
            );
            assert!(
                head.starts_with("HTTP/1.1 200"),
                "initialize answered: {head}"
            );
            assert!(
                head.to_ascii_lowercase().contains("mcp-session-id"),
                "a session id: {head}"
            );
        }
        Mode::Sse => {
            assert_eq!(url, format!("http://127.0.0.1:{port}/sse"));
            let head = http_head(
                port,
                &format!(
                    "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
                ),
            );
            assert!(
                head.starts_with("HTTP/1.1 200"),
                "the SSE stream opens: {head}"
            );
            assert!(
                head.contains("text/event-stream"),
                "an event stream: {head}"
            );
        }
    }

    // Not reachable through the machine's other addresses: bound to 127.0.0.1 only.
    let others = non_loopback_addresses();
    if others.is_empty() {
        eprintln!("no non-loopback address (hostname -I): skipping the exposure check");
    }
    for ip in others {
        let address = SocketAddr::new(ip, port);
        assert!(
            !accepts(address),
            "{address} must refuse: the server listens on all interfaces"
        );
    }

    // Drop stops the process and frees the port.
    let pid = server.pid();
    drop(server);
    let proc_dir = format!("/proc/{pid}");
    assert!(
        !Path::new(&proc_dir).exists(),
        "pid {pid} is gone after drop"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while accepts(loopback) {
        assert!(
            Instant::now() < deadline,
            "127.0.0.1:{port} still accepts after drop"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn everything_streamable_http_on_loopback_only_and_stopped_on_drop() {
    check_mode(Mode::StreamableHttp);
}

#[test]
fn everything_sse_on_loopback_only_and_stopped_on_drop() {
    check_mode(Mode::Sse);
}

#[test]
fn two_servers_run_side_by_side() {
    let a = Everything::start(Mode::StreamableHttp);
    let b = Everything::start(Mode::StreamableHttp);
    assert_ne!(a.port, b.port);
    assert!(accepts(SocketAddr::from((Ipv4Addr::LOCALHOST, a.port))));
    assert!(accepts(SocketAddr::from((Ipv4Addr::LOCALHOST, b.port))));
}

#[test]
fn everything_stdio_command_answers_initialize() {
    let (node, args) = common::everything_stdio_command();
    let mut child = Command::new(&node)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{node} {args:?} starts: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"peers-smoke","version":"0"}}}}}}"#
    )
    .unwrap();
    // Read lines on a thread so a silent server fails the test instead of hanging it.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let answer = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(r#""id":1"#) => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let answer =
        answer.unwrap_or_else(|| panic!("no initialize result within 20 s; stdout: {seen:?}"));
    assert!(answer.contains("serverInfo"), "initialize result: {answer}");
}

#[test]
fn latch_home_is_an_empty_directory() {
    let home = common::latch_home();
    assert!(home.path().is_dir());
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[test]
fn peers_dir_has_the_pinned_node() {
    let peers = common::peers_dir();
    assert!(peers.join("package-lock.json").is_file());
    assert!(peers.join("bind-localhost.cjs").is_file());
    let version = Command::new(common::node())
        .arg("--version")
        .output()
        .expect("node runs");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.starts_with("v22."),
        "Node 22 runs the peers, got {version}"
    );
}
