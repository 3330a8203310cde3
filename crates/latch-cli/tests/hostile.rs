//! Hostile servers against the `latch` CLI (`tests/peers/hostile-auth-server.mjs`, one scenario
//! per peer, on 127.0.0.1): unsafe or SSRF endpoints in the metadata, mismatched resource or
//! issuer, forged and replayed callbacks, huge, slow, endless and invalid bodies, 10,000 tools,
//! recursive schemas, a 50 MB image, a redirect that would carry a secret header to another
//! origin, revocation endpoints that refuse (RFC 7009) or point at the metadata service. Each
//! time Latch refuses or bounds it with a clear error,
//! exits by itself (no signal, within a time limit), keeps its memory bounded, and runs nothing
//! (the shell payloads try to create a marker file).
//!
//! Private ranges: a server on loopback may name loopback endpoints (local servers are
//! legitimate), a server on a private address private ones; nothing may send Latch to a
//! link-local or metadata-service address, nor a public server to this machine or the local
//! network (see `latch-core/src/auth/endpoints.rs`). The SSRF scenarios only *name* such
//! addresses: Latch refuses them before connecting, so no test sends traffic off loopback.

mod common;
mod hostile_peer;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use common::{assert_ok, oidc};
use hostile_peer::{HostilePeer, Measured, run_measured};

/// A generous bound for commands that must fail fast.
const QUICK: Duration = Duration::from_secs(60);
/// Peak memory allowed for a command facing a 100 MB (or endless) body. Latch's own baseline is
/// ~20 MiB; this leaves room for one bounded copy, and catches a process that buffers without
/// limit (an endless body would pass 1 GiB within the time limit).
const BODY_BOUND_MIB: u64 = 700;

fn add_server(home: &Path, name: &str, url: &str) {
    assert_ok(
        &common::latch_command(home)
            .args(["servers", "add", name, url])
            .output()
            .unwrap(),
    );
}

/// `latch login hostile --browser headless` against `scenario`; the peer, the outcome and the
/// marker file's path.
fn login(scenario: &str) -> (HostilePeer, Measured, tempfile::TempDir) {
    let home = common::latch_home();
    let marker = home.path().join("pwned");
    let peer = HostilePeer::start(scenario, &[("HOSTILE_MARKER", marker.to_str().unwrap())]);
    add_server(home.path(), "hostile", &peer.url);
    let run = run_measured(
        home.path(),
        &["login", "hostile", "--browser", "headless"],
        QUICK,
    );
    assert!(
        run.output.status.code().is_some(),
        "{scenario}: latch died from a signal: {}",
        run.stderr()
    );
    assert!(
        !marker.exists(),
        "{scenario}: a shell payload ran (the marker exists)"
    );
    (peer, run, home)
}

/// The login failed with a one-line reason containing one of `words`, and the peer saw no
/// request to any of `untouched`.
fn assert_refused(scenario: &str, words: &[&str], untouched: &[&str]) {
    let (peer, run, _home) = login(scenario);
    let stderr = run.stderr();
    assert!(
        !run.output.status.success(),
        "{scenario}: the login succeeded:\n{}{stderr}",
        run.stdout()
    );
    assert!(
        words.iter().any(|w| stderr.contains(w)),
        "{scenario}: the error names none of {words:?}:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "{scenario}: latch panicked:\n{stderr}"
    );
    let seen = peer.requests();
    for path in untouched {
        assert!(
            !seen.iter().any(|(_, p, _)| p == path),
            "{scenario}: the peer got a request to {path}: {seen:?}"
        );
    }
    eprintln!(
        "{scenario}: refused in {:?}: {}",
        run.elapsed,
        stderr.lines().last().unwrap_or_default()
    );
}

#[test]
fn unsafe_endpoints_in_metadata_are_refused_before_use() {
    let nothing = ["/authorize", "/token", "/register"];
    for scenario in [
        "authorize-javascript",
        "authorize-file",
        "authorize-data",
        "authorize-shell",
        "authorize-shell-host",
        "authorize-credentials",
        "token-javascript",
        "token-file",
        "token-credentials",
        "token-shell",
        "register-javascript",
        "register-data",
        "register-shell",
    ] {
        assert_refused(scenario, &["unsafe", "refusing", "not a URL"], &nothing);
    }
}

#[test]
fn shell_metacharacters_in_a_valid_url_stay_inert() {
    // An http URL whose query is full of shell syntax is a valid URL: Latch may use it, but it
    // never reaches a shell (the marker check is in `login`).
    let (_peer, run, _home) = login("authorize-shell-query");
    assert!(
        run.output.status.code().is_some(),
        "latch died: {}",
        run.stderr()
    );
}

#[test]
fn ssrf_endpoints_and_redirects_are_refused() {
    let nothing = ["/authorize", "/token", "/register"];
    for scenario in [
        "authorize-metadata-ip",
        "authorize-private",
        "token-metadata-ip",
        "token-private",
        "register-metadata-host",
    ] {
        assert_refused(scenario, &["refusing"], &nothing);
    }
    // The sign-in page redirects the headless agent to the metadata service or the LAN.
    for scenario in ["redirect-metadata-ip", "redirect-private"] {
        assert_refused(scenario, &["refusing"], &["/token"]);
    }
    // Every metadata document "moved" to 169.254.169.254: rmcp follows no cross-origin
    // redirect during discovery; the fallback endpoints on the server answer 404.
    assert_refused(
        "metadata-redirect-ssrf",
        &["sign", "redirect", "metadata", "HTTP"],
        &["/token"],
    );
}

/// `latch tools hostile` against `scenario`; the peer is kept for its request log.
fn tools_via(scenario: &str, env: &[(&str, &str)]) -> (HostilePeer, Measured, tempfile::TempDir) {
    let home = common::latch_home();
    let peer = HostilePeer::start(scenario, env);
    add_server(home.path(), "hostile", &peer.url);
    let run = run_measured(home.path(), &["tools", "hostile"], QUICK);
    assert!(
        run.output.status.code().is_some() && !run.stderr().contains("panicked"),
        "{scenario}: {}",
        run.stderr()
    );
    (peer, run, home)
}

#[test]
fn redirects_of_the_mcp_endpoint_are_bounded_and_kept_off_private_addresses() {
    // Five redirects on the server's own origin are followed (307: method and body kept).
    let (peer, run, _home) = tools_via("mcp-redirect-chain", &[("HOSTILE_HOPS", "5")]);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(run.stdout().contains("echo"), "{}", run.stdout());
    assert!(peer.requests().iter().any(|(_, p, _)| p == "/hop/5"));

    // A sixth is not: a clear error, and the sixth hop is never requested.
    let (peer, run, _home) = tools_via("mcp-redirect-chain", &[("HOSTILE_HOPS", "6")]);
    let stderr = run.stderr();
    assert!(!run.output.status.success(), "{stderr}");
    assert!(
        stderr.contains("stopped after 5 redirects") && stderr.contains("check the server's URL"),
        "{stderr}"
    );
    let seen = peer.requests();
    assert!(seen.iter().any(|(_, p, _)| p == "/hop/5"), "{seen:?}");
    assert!(!seen.iter().any(|(_, p, _)| p == "/hop/6"), "{seen:?}");

    // The MCP endpoint sends Latch to the cloud metadata service, the LAN, a local file: each
    // is refused before any connection, with the reason and what to do.
    for (scenario, words) in [
        (
            "mcp-redirect-metadata-ip",
            "refusing 169.254.169.254: a link-local, metadata-service or reserved address",
        ),
        (
            "mcp-redirect-private",
            "refusing 10.0.0.1: a server that is not on the local network",
        ),
        // reqwest itself stops at a non-http Location (the policy refuses it too).
        (
            "mcp-redirect-file",
            "answered HTTP 307, a redirect Latch does not follow",
        ),
    ] {
        let (_peer, run, _home) = tools_via(scenario, &[]);
        let stderr = run.stderr();
        assert!(!run.output.status.success(), "{scenario}: {stderr}");
        assert!(stderr.contains("redirect"), "{scenario}: {stderr}");
        assert!(stderr.contains(words), "{scenario}: {stderr}");
        assert!(
            stderr.contains("check the server's URL"),
            "{scenario}: {stderr}"
        );
        assert!(
            !stderr.contains("security-credentials"),
            "{scenario}: no path shown: {stderr}"
        );
        eprintln!(
            "{scenario}: refused in {:?}: {}",
            run.elapsed,
            stderr.lines().last().unwrap_or_default()
        );
    }
}

/// `latch` with `home`, its output.
fn latch(home: &Path, args: &[&str]) -> std::process::Output {
    common::latch_command(home).args(args).output().unwrap()
}

/// The one line of a failing command's stderr, checked to be one line with no escape codes.
fn one_line(what: &str, stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: not one line:\n{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "{what}: {stderr:?}"
    );
    lines[0].to_owned()
}

#[test]
fn secret_headers_never_follow_a_redirect_to_another_origin() {
    const SECRET: &str = "hostile-api-key-4f1d2c";
    // The MCP endpoint answers 307 to the same path on another port: another origin.
    let home = common::latch_home();
    let peer = HostilePeer::start("mcp-redirect-other-origin", &[]);
    assert_ok(&latch(
        home.path(),
        &[
            "servers",
            "add",
            "hostile",
            &peer.url,
            "--header",
            &format!("X-Api-Key={SECRET}"),
        ],
    ));
    let run = run_measured(home.path(), &["tools", "hostile"], QUICK);
    let stderr = run.stderr();
    assert!(!run.output.status.success(), "{stderr}");
    let line = one_line("tools", &stderr);
    let other = peer.log().iter().find(|r| r["origin"] == "other").cloned();
    assert!(other.is_none(), "the other origin got {other:?}");
    assert!(
        line.contains("refusing a redirect to http://127.0.0.1:")
            && line.contains("the server has secret headers"),
        "{line}"
    );
    assert!(line.contains("check the server's URL"), "{line}");
    assert!(
        !line.contains("collect") && !line.contains(SECRET),
        "no query, no secret: {line}"
    );
    assert!(!run.stdout().contains(SECRET));
    eprintln!("refused: {line}");

    // A server without custom headers is redirected as before, and it works.
    let home = common::latch_home();
    let peer = HostilePeer::start("mcp-redirect-other-origin", &[]);
    add_server(home.path(), "hostile", &peer.url);
    let run = run_measured(home.path(), &["tools", "hostile"], QUICK);
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(run.stdout().contains("echo"), "{}", run.stdout());
    let log = peer.log();
    assert!(
        log.iter()
            .any(|r| r["origin"] == "other" && r["apiKey"].is_null()),
        "{log:?}"
    );
}

#[test]
fn a_refused_revocation_shows_the_servers_words_and_the_registration_is_reused() {
    let (peer, run, home) = login("revoke-refused");
    assert!(run.output.status.success(), "{}", run.stderr());
    let logout = latch(home.path(), &["logout", "hostile"]);
    let stdout = assert_ok(&logout);
    assert!(
        stdout.contains(
            "unsupported_token_type — Revocation is off for this client [31m (ask the admin)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}/revoke answered HTTP 400", peer.base)),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert_eq!(stdout.trim_end().lines().count(), 1, "{stdout}");
    assert!(
        logout.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&logout.stderr)
    );
    let revokes = |peer: &HostilePeer| {
        peer.requests()
            .iter()
            .filter(|(m, p, _)| m == "POST" && p == "/revoke")
            .count()
    };
    assert_eq!(revokes(&peer), 1);

    // The next sign-in uses the registration kept at logout: no second /register.
    let again = run_measured(
        home.path(),
        &["login", "hostile", "--browser", "headless"],
        QUICK,
    );
    assert!(again.output.status.success(), "{}", again.stderr());
    let registrations = peer
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/register")
        .count();
    assert_eq!(registrations, 1, "{:?}", peer.requests());
    assert!(assert_ok(&latch(home.path(), &["tools", "hostile"])).contains("echo"));
}

#[test]
fn a_revocation_endpoint_at_the_metadata_service_is_not_called() {
    let (peer, run, home) = login("revoke-metadata-ip");
    assert!(run.output.status.success(), "{}", run.stderr());
    let logout = latch(home.path(), &["logout", "hostile", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&logout.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&logout.stderr)));
    assert_eq!(json["hadGrant"], true);
    assert_eq!(json["revoked"], false);
    let problem = json["revokeProblem"].as_str().unwrap();
    assert!(
        problem.starts_with(
            "the revocation endpoint http://169.254.169.254/latest/meta-data/revoke was not used: refusing 169.254.169.254: a link-local, metadata-service or reserved address"
        ),
        "{problem}"
    );
    // The tokens are gone here all the same: the server asks for a sign-in again.
    let tools = latch(home.path(), &["tools", "hostile"]);
    assert!(!tools.status.success());
    assert!(
        String::from_utf8_lossy(&tools.stderr).contains("latch login"),
        "{}",
        String::from_utf8_lossy(&tools.stderr)
    );
    assert!(!peer.requests().iter().any(|(_, p, _)| p.contains("revoke")));
}

/// `login`, `logout`, `login` against a real authorization server (`oidc-provider`): one
/// client registration, reused by the second sign-in, which works.
#[test]
fn logging_in_after_a_logout_reuses_the_client_registration() {
    let peer = oidc::OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    add_server(home, "oidc", &peer.mcp_url);
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    let logout = assert_ok(&latch(home, &["logout", "oidc"]));
    assert!(logout.contains("revoked the grant"), "{logout}");
    assert!(!latch(home, &["call", "oidc", "whoami"]).status.success());
    assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    assert_eq!(peer.stats()["registrations"], 1, "{}", peer.stats());
    assert!(assert_ok(&latch(home, &["call", "oidc", "whoami"])).contains("alice"));
}

// Names that resolve to this machine or the LAN ("DNS-name SSRF") are tested in latch-core
// (`auth::resolver`, and `connection::http::clients` on real sockets with a fixed lookup): a
// CLI test would need a public server whose name resolves to 127.0.0.1, which this machine
// can only fake by changing its system resolver — and every peer here is on loopback, whose
// servers may legitimately use loopback names.

#[test]
fn resource_and_issuer_mismatches_are_refused() {
    assert_refused(
        "prm-resource-mismatch",
        &["resource", "Resource"],
        &["/authorize", "/token", "/register"],
    );
    assert_refused(
        "issuer-mismatch",
        &["issuer", "Issuer"],
        &["/authorize", "/token", "/register"],
    );
    // A callback whose `iss` names another issuer (RFC 9207 mix-up), or a forged `state`: the
    // code is never exchanged.
    assert_refused("iss-mixup", &["iss", "issuer", "Issuer"], &["/token"]);
    assert_refused("wrong-state", &["state", "CSRF", "csrf"], &["/token"]);
}

#[test]
fn huge_metadata_is_bounded() {
    let (_peer, run, _home) = login("huge-metadata");
    assert!(!run.output.status.success(), "{}", run.stdout());
    assert!(
        run.peak_mib() < 200,
        "100 MB metadata took {} MiB",
        run.peak_mib()
    );
    eprintln!(
        "huge-metadata: refused in {:?}, peak {} MiB: {}",
        run.elapsed,
        run.peak_mib(),
        run.stderr().lines().last().unwrap_or_default()
    );
}

/// The loopback listener, driven like a browser would: a forged state is refused, the right
/// one accepted once, a replay refused; the sign-in then completes.
#[test]
fn the_callback_listener_answers_each_state_once() {
    let home = common::latch_home();
    let peer = HostilePeer::start("auth", &[]);
    add_server(home.path(), "hostile", &peer.url);
    let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
        .args(["login", "hostile", "--browser", "print"])
        .env("LATCH_HOME", home.path())
        .env("LATCH_TOKEN_STORE", "file")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("http") {
                let _ = tx.send(format!("http{url}"));
            }
        }
    });
    let authorization = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("latch printed the sign-in URL");
    let param = |name: &str| {
        query_param(&authorization, name).unwrap_or_else(|| panic!("no {name} in the URL"))
    };
    let (redirect, state) = (param("redirect_uri"), param("state"));
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");

    let forged = oidc::http_get(&format!("{redirect}?code=evil&state=forged"));
    assert_eq!(forged.status, 400, "a forged state is refused");
    let wrong_path = oidc::http_get(&redirect.replace("/callback", "/other"));
    assert_eq!(wrong_path.status, 404);
    // The real one: the peer's /authorize answers with a code for this state.
    let auth = oidc::http_get(&authorization);
    let location = auth.header("location").expect("a redirect to the callback");
    assert_eq!(
        query_param(location, "state").as_deref(),
        Some(state.as_str())
    );
    let first = oidc::http_get(location);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        !first.body.contains("hostile-code"),
        "the code is not echoed"
    );
    let replay = oidc::http_get(location);
    assert_eq!(replay.status, 400, "a replayed callback is refused");

    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the sign-in finished with the one callback"
    );
    let tokens = peer
        .requests()
        .iter()
        .filter(|(_, path, _)| path == "/token")
        .count();
    assert_eq!(tokens, 1, "one code exchange");
}

/// A query parameter of `url`, percent-decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Tools and calls against `scenario` (no sign-in); returns the measured run.
fn mcp(scenario: &str, args: &[&str], limit: Duration) -> (Measured, tempfile::TempDir) {
    let home = common::latch_home();
    let peer = HostilePeer::start(scenario, &[]);
    add_server(home.path(), "hostile", &peer.url);
    let mut full = args.to_vec();
    let save = home.path().join("saved");
    std::fs::create_dir_all(&save).unwrap();
    if args.first() == Some(&"call") {
        full.extend(["--save-dir", save.to_str().unwrap()]);
    }
    let run = run_measured(home.path(), &full, limit);
    drop(peer);
    assert!(
        run.output.status.code().is_some(),
        "{scenario}: latch died from a signal: {}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("panicked"),
        "{scenario}: latch panicked:\n{}",
        run.stderr()
    );
    eprintln!(
        "{scenario}: exit {:?} in {:?}, peak {} MiB: {}",
        run.output.status.code(),
        run.elapsed,
        run.peak_mib(),
        run.stderr().lines().last().unwrap_or_default()
    );
    (run, home)
}

#[test]
fn a_100_mb_answer_is_bounded() {
    for (scenario, args) in [
        ("huge-list", &["tools", "hostile"][..]),
        (
            "huge-call",
            &["call", "hostile", "echo", "--timeout", "30"][..],
        ),
        (
            "huge-event",
            &["call", "hostile", "echo", "--timeout", "30"][..],
        ),
    ] {
        let (run, _home) = mcp(scenario, args, Duration::from_secs(120));
        assert!(
            run.peak_mib() < BODY_BOUND_MIB,
            "{scenario}: peak {} MiB",
            run.peak_mib()
        );
    }
}

#[test]
fn slow_endless_and_invalid_answers_end_within_the_timeout() {
    for scenario in [
        "slow-drip",
        "never-ending-json",
        "never-ending-sse",
        "invalid-jsonrpc",
        "not-json",
    ] {
        let (run, _home) = mcp(
            scenario,
            &["call", "hostile", "echo", "--timeout", "5"],
            Duration::from_secs(45),
        );
        assert!(
            !run.output.status.success(),
            "{scenario}: the call succeeded: {}",
            run.stdout()
        );
        assert!(
            run.peak_mib() < BODY_BOUND_MIB,
            "{scenario}: peak {} MiB",
            run.peak_mib()
        );
        assert!(
            run.stderr().trim().lines().count() >= 1,
            "{scenario}: no reason given"
        );
    }
}

#[test]
fn duplicate_response_ids_give_one_answer() {
    let (run, _home) = mcp(
        "duplicate-ids",
        &["call", "hostile", "echo", "--timeout", "10"],
        QUICK,
    );
    let stdout = run.stdout();
    assert!(run.output.status.success(), "{}", run.stderr());
    assert!(stdout.contains("first answer"), "{stdout}");
    assert!(!stdout.contains("second answer") && !stdout.contains("stray"));
}

#[test]
fn ten_thousand_tools_are_listed_and_endless_pages_stop() {
    let (run, _home) = mcp("many-tools", &["tools", "hostile", "--json"], QUICK);
    assert!(run.output.status.success(), "{}", run.stderr());
    let tools: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(tools.as_array().unwrap().len(), 10_000);

    let (run, _home) = mcp(
        "endless-cursor",
        &["tools", "hostile"],
        Duration::from_secs(120),
    );
    assert!(!run.output.status.success());
    assert!(run.stderr().contains("pages"), "{}", run.stderr());
}

#[test]
fn recursive_schemas_neither_hang_nor_overflow() {
    let calls: &[(&str, &[&str])] = &[
        (
            "tree",
            &[
                "--args",
                r#"{"node":{"value":1,"next":{"value":2,"next":{"value":3}}}}"#,
            ],
        ),
        ("tree", &["--args", r#"{"node":{"value":"not a number"}}"#]),
        ("loop", &["--args", r#"{"a":{"b":1}}"#]),
        ("self", &["x=1"]),
        ("deep", &["x.x.x.x=1"]),
    ];
    // A schema nested 1,000 levels deep: the JSON parser's depth limit refuses the list.
    let (run, _home) = mcp("deep-schema", &["tools", "hostile"], QUICK);
    assert!(!run.output.status.success());
    assert!(run.stderr().contains("recursion limit"), "{}", run.stderr());

    for (tool, words) in calls {
        let mut args = vec!["call", "hostile", tool, "--timeout", "10"];
        args.extend_from_slice(words);
        let (run, _home) = mcp("recursive-ref", &args, QUICK);
        assert!(
            run.output.status.code().is_some(),
            "{tool}: {}",
            run.stderr()
        );
        assert!(
            !run.stderr().contains("while listing tools"),
            "{tool}: {}",
            run.stderr()
        );
        if words.iter().any(|w| w.contains("not a number")) {
            assert!(!run.output.status.success(), "an invalid tree is refused");
            assert!(run.stderr().contains("schema"), "{}", run.stderr());
        }
    }
}

/// The files `latch call --save-dir` wrote.
fn saved_files(home: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(home.join("saved"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn a_50_mb_image_is_bounded_and_an_8_mb_one_saved() {
    // 50 MB of image is ~67 MB of JSON: past the 16 MiB cap on a response body, so it is
    // refused with a clear reason, memory bounded, nothing half-saved.
    let (run, home) = mcp(
        "big-image",
        &["call", "hostile", "image", "--timeout", "60"],
        Duration::from_secs(120),
    );
    if run.output.status.success() {
        let saved = saved_files(home.path());
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert_eq!(std::fs::metadata(&saved[0]).unwrap().len(), 50 << 20);
    } else {
        assert!(
            run.stderr()
                .contains("larger than the 16777216 bytes Latch accepts"),
            "{}",
            run.stderr()
        );
        assert!(saved_files(home.path()).is_empty());
    }
    assert!(
        run.peak_mib() < BODY_BOUND_MIB,
        "peak {} MiB",
        run.peak_mib()
    );

    let home = common::latch_home();
    let peer = HostilePeer::start("big-image", &[("HOSTILE_IMAGE_MB", "8")]);
    add_server(home.path(), "hostile", &peer.url);
    let save = home.path().join("saved");
    std::fs::create_dir_all(&save).unwrap();
    let run = run_measured(
        home.path(),
        &[
            "call",
            "hostile",
            "image",
            "--save-dir",
            save.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert!(run.output.status.success(), "{}", run.stderr());
    let saved = saved_files(home.path());
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::metadata(&saved[0]).unwrap().len(), 8 << 20);
    assert!(run.stdout().len() < 10_000, "the image is not printed");
    assert!(
        run.peak_mib() < BODY_BOUND_MIB,
        "peak {} MiB",
        run.peak_mib()
    );
    eprintln!(
        "big-image 8 MB: saved in {:?}, peak {} MiB",
        run.elapsed,
        run.peak_mib()
    );
}
