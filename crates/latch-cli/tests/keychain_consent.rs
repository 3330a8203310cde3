//! No keychain running and no `LATCH_TOKEN_STORE`: `latch login` (and `latch credentials set`)
//! write no secret anywhere until the person agrees to a file. Not at a terminal, they are
//! refused with a message that says how to agree (`--keep-in-file`); with the flag, the file
//! `secrets.json` is created (0600) and every later command — without the flag — uses it.
//! Against the bundled demo server, run in this process (no Node needed).

mod common;

use std::{os::unix::fs::PermissionsExt, path::Path, process::Output};

use common::{assert_ok, latch_command};
use latch_core::secrets::FILE_NAME;
use latch_demo::{DemoOptions, DemoServer};
use serde_json::Value;

/// `latch ARGS` with no Secret Service (the session bus points nowhere), no
/// `LATCH_TOKEN_STORE`, and stdin not a terminal (empty, or `stdin`).
fn no_keychain(home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = latch_command(home);
    command
        .env_remove("LATCH_TOKEN_STORE")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/latch-test-bus",
        )
        .env("HOME", home)
        .args(args);
    if let Some(stdin) = stdin {
        command.write_stdin(stdin);
    }
    command.output().expect("latch runs")
}

fn refused(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("latch said: {}", stderr.trim_end());
    assert_eq!(output.status.code(), Some(1), "refused: {stderr}");
    stderr
}

#[test]
fn without_a_keychain_nothing_is_kept_until_keep_in_file_then_the_file_is_used() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let demo = runtime
        .block_on(DemoServer::start(DemoOptions {
            port: 0,
            ..DemoOptions::default()
        }))
        .expect("the demo starts");
    let home = common::latch_home();
    let home = home.path();
    let file = home.join(FILE_NAME);
    assert_ok(&no_keychain(
        home,
        &["servers", "add", "demo", &demo.url()],
        None,
    ));

    // Not at a terminal, no flag: refused before the sign-in starts, saying how to agree.
    let stderr = refused(&no_keychain(
        home,
        &["login", "demo", "--browser", "headless"],
        None,
    ));
    assert!(
        stderr.contains("no keychain is running")
            && stderr.contains("start one")
            && stderr.contains("run `latch login demo --keep-in-file`")
            && stderr.contains(&file.display().to_string()),
        "the error says what to do: {stderr}"
    );
    assert!(!stderr.contains("[y/N]"), "no question without a terminal");
    let stderr = refused(&no_keychain(
        home,
        &[
            "login",
            "demo",
            "--account",
            "work",
            "--browser",
            "headless",
        ],
        None,
    ));
    assert!(
        stderr.contains("`latch login demo --account work --keep-in-file`"),
        "{stderr}"
    );
    let stderr = refused(&no_keychain(
        home,
        &["credentials", "set", "pair", "--client-id", "id"],
        Some("s3cret"),
    ));
    assert!(
        stderr.contains("add `--keep-in-file` to `latch credentials set pair`"),
        "{stderr}"
    );
    assert!(!file.exists(), "no secrets file was created");
    let stats = demo.stats();
    assert_eq!(
        (stats.clients_registered, stats.codes_issued),
        (0, 0),
        "nothing was asked of the server"
    );

    // With the flag: the file is created, private, and the sign-in is kept in it.
    let output = no_keychain(
        home,
        &["login", "demo", "--browser", "headless", "--keep-in-file"],
        None,
    );
    let stdout = assert_ok(&output);
    assert!(stdout.contains("Signed in to demo"), "{stdout}");
    assert!(stdout.contains("file store"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Sign-ins are kept in") && stderr.contains(FILE_NAME),
        "{stderr}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "secrets.json is readable by its owner only");
    assert!(
        std::fs::read(&file).unwrap().len() > 100,
        "the grant is in the file"
    );

    // From now on, without the flag: calls, status, another login, credentials.
    let tools = assert_ok(&no_keychain(home, &["tools", "demo"], None));
    assert!(tools.contains("add"), "{tools}");
    let status: Value = serde_json::from_str(&assert_ok(&no_keychain(
        home,
        &["status", "demo", "--json"],
        None,
    )))
    .unwrap();
    assert_eq!(status["tokenStore"], "file", "{status}");
    let warning = status["tokenStoreWarning"].as_str().unwrap_or_default();
    assert!(warning.contains("readable only by you"), "{status}");
    assert_ok(&no_keychain(
        home,
        &[
            "login",
            "demo",
            "--account",
            "work",
            "--browser",
            "headless",
        ],
        None,
    ));
    let call = assert_ok(&no_keychain(
        home,
        &["call", "demo", "add", "a=2", "b=3", "--account", "work"],
        None,
    ));
    assert!(call.contains('5'), "{call}");
    assert_ok(&no_keychain(
        home,
        &["credentials", "set", "pair", "--client-id", "id"],
        Some("s3cret"),
    ));
    let kept = latch_core::secrets::SecretStore::file(home)
        .get(&latch_core::secrets::credential_key("pair"))
        .unwrap();
    assert!(kept.is_some(), "the credentials are in the file");

    runtime.block_on(demo.stop());
}

#[test]
fn login_help_says_how_to_keep_sign_ins_in_a_file() {
    let home = common::latch_home();
    let help = assert_ok(
        &latch_command(home.path())
            .args(["login", "--help"])
            .output()
            .unwrap(),
    );
    assert!(help.contains("--keep-in-file"), "{help}");
    assert!(help.contains("No keychain running"), "{help}");
}
