//! Several accounts on one server, end to end against a real authorization server (the
//! oidc-provider peer, signed in to with `--browser headless`): `latch login NAME --account
//! LABEL` keeps one grant per account, `status` lists each, `tools`/`call`/`bridge --account`
//! use that account's grant, signing out of one leaves the others, the sign-in without a label
//! still works, and a bad label is refused. Then the same through the app's `Latch`.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use common::{assert_ok, latch_at, latch_command, oidc::OidcPeer};
use latch_core::{
    ConnectionState,
    app::{AuthView, CallStatus, ServerEntryInput},
    secrets::{SecretStore, list_accounts},
};
use serde_json::{Value, json};

fn latch(home: &Path, args: &[&str]) -> Output {
    latch_command(home).args(args).output().expect("latch runs")
}

fn ok_json(home: &Path, args: &[&str]) -> Value {
    let out = assert_ok(&latch(home, args));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("`latch {args:?}` printed {out} ({e})"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The access token stored for `account` of server `oidc`.
fn access_token(home: &Path, account: Option<&str>) -> Option<String> {
    let grant = latch_core::app::grant(&SecretStore::file(home), "oidc", account);
    let credentials = grant.load_blocking().unwrap()?;
    let json = serde_json::to_value(&credentials).unwrap();
    json["token_response"]["access_token"]
        .as_str()
        .map(str::to_owned)
}

/// `latch call oidc add a=A b=B [--account LABEL] --json`, its text.
fn add(home: &Path, account: Option<&str>, a: u32, b: u32) -> Output {
    let (a, b) = (format!("a={a}"), format!("b={b}"));
    let mut args = vec!["call", "oidc", "add", a.as_str(), b.as_str()];
    if let Some(account) = account {
        args.extend(["--account", account]);
    }
    latch(home, &args)
}

/// The (account, signed in) rows `status --json` shows for server `oidc`.
fn status_rows(home: &Path) -> Vec<(String, bool)> {
    let status = ok_json(home, &["status", "--json"]);
    status["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "oidc")
        .map(|s| {
            assert!(
                s["state"]["state"] == "connected" || s["signIn"].is_null(),
                "a signed-in account connects: {s}"
            );
            (
                s["account"].as_str().unwrap().to_owned(),
                !s["signIn"].is_null(),
            )
        })
        .collect()
}

#[test]
fn two_accounts_on_one_server_from_the_cli() {
    let peer = OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));

    // A bad label is refused before anything happens, with what a label may be.
    for bad in ["two words", "a/b", &"x".repeat(65)] {
        let refused = latch(
            home,
            &["login", "oidc", "--account", bad, "--browser", "headless"],
        );
        assert!(!refused.status.success());
        let message = stderr(&refused);
        assert!(
            message.contains("is not a usable account label") && message.contains("64"),
            "{message}"
        );
    }
    let refused = latch(home, &["call", "oidc", "add", "--account", "a:b"]);
    assert!(stderr(&refused).contains("not a usable account label"));
    assert!(
        list_accounts(&SecretStore::file(home), "oidc")
            .unwrap()
            .is_empty()
    );

    // Two labelled accounts, and the one without a label.
    for account in ["work", "home"] {
        let login = ok_json(
            home,
            &[
                "login",
                "oidc",
                "--account",
                account,
                "--browser",
                "headless",
                "--json",
            ],
        );
        assert_eq!(login["account"], account, "{login}");
        assert_eq!(login["tools"], 3, "{login}");
    }
    let text = assert_ok(&latch(home, &["login", "oidc", "--browser", "headless"]));
    assert!(
        text.contains("Signed in to oidc") && !text.contains(" as "),
        "{text}"
    );

    // Three grants, three different access tokens, three accounts listed.
    let work = access_token(home, Some("work")).expect("work's grant");
    let home_token = access_token(home, Some("home")).expect("home's grant");
    let default = access_token(home, None).expect("the default grant");
    assert_ne!(work, home_token);
    assert_ne!(work, default);
    assert_ne!(home_token, default);
    assert_eq!(
        list_accounts(&SecretStore::file(home), "oidc").unwrap(),
        ["default", "work", "home"]
    );
    assert_eq!(
        status_rows(home),
        [
            ("default".to_owned(), true),
            ("work".to_owned(), true),
            ("home".to_owned(), true)
        ]
    );
    let table = assert_ok(&latch(home, &["status"]));
    assert!(
        table.contains("ACCOUNT") && table.contains("work") && table.contains("home"),
        "{table}"
    );

    // Each account's grant works; an account never signed in says how to sign in as it.
    assert!(assert_ok(&add(home, Some("work"), 2, 3)).contains('5'));
    assert!(assert_ok(&add(home, Some("home"), 4, 3)).contains('7'));
    assert!(assert_ok(&add(home, None, 1, 1)).contains('2'));
    let tools = ok_json(home, &["tools", "oidc", "--account", "home", "--json"]);
    assert_eq!(tools.as_array().unwrap().len(), 3);
    let nobody = add(home, Some("nobody"), 1, 1);
    assert!(!nobody.status.success());
    assert!(
        stderr(&nobody).contains("latch login oidc --account nobody"),
        "{}",
        stderr(&nobody)
    );

    // Signing out of one account keeps the others.
    let logout = ok_json(home, &["logout", "oidc", "--account", "work", "--json"]);
    assert_eq!(logout["account"], "work");
    assert_eq!(logout["hadGrant"], true);
    assert!(access_token(home, Some("work")).is_none());
    let gone = add(home, Some("work"), 2, 3);
    assert!(!gone.status.success(), "work is signed out");
    assert!(
        stderr(&gone).contains("needs sign-in as work"),
        "{}",
        stderr(&gone)
    );
    assert!(assert_ok(&add(home, Some("home"), 4, 3)).contains('7'));
    assert!(assert_ok(&add(home, None, 1, 1)).contains('2'));
    assert_eq!(access_token(home, Some("home")).as_ref(), Some(&home_token));
    assert_eq!(
        status_rows(home),
        [("default".to_owned(), true), ("home".to_owned(), true)]
    );

    // And the default account's sign-out leaves `home`.
    assert_ok(&latch(home, &["logout", "oidc"]));
    assert!(!add(home, None, 1, 1).status.success());
    assert!(assert_ok(&add(home, Some("home"), 4, 3)).contains('7'));
    assert_eq!(status_rows(home), [("home".to_owned(), true)]);
}

/// Start `latch bridge oidc ARGS`, say `initialize` and ask `tools/list`; the answer to it.
fn bridge_tools_list(home: &Path, args: &[&str]) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
        .args(["bridge", "oidc"])
        .args(args)
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the bridge starts");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(message) = serde_json::from_str(&line)
                && tx.send(message).is_err()
            {
                break;
            }
        }
    });
    let send = |stdin: &mut std::process::ChildStdin, message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    };
    let answer = |id: u64| loop {
        let message = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the bridge answers within 30 s");
        if message["id"] == id {
            break message;
        }
    };
    send(
        &mut stdin,
        json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "accounts-test", "version": "1" }
            }
        }),
    );
    let initialized = answer(1);
    assert!(initialized.get("result").is_some(), "{initialized}");
    send(
        &mut stdin,
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    );
    send(
        &mut stdin,
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {} }),
    );
    let listed = answer(2);
    drop(stdin);
    let _ = child.wait();
    listed
}

#[test]
fn a_bridge_per_account() {
    let peer = OidcPeer::start(3600);
    let home = common::latch_home();
    let home = home.path();
    assert_ok(&latch(home, &["servers", "add", "oidc", &peer.mcp_url]));
    assert_ok(&latch(
        home,
        &[
            "login",
            "oidc",
            "--account",
            "home",
            "--browser",
            "headless",
        ],
    ));

    let listed = bridge_tools_list(home, &["--account", "home"]);
    let tools = listed["result"]["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 3, "{listed}");

    // Without the label the bridge is the default account, which never signed in.
    let refused = bridge_tools_list(home, &[]);
    assert_eq!(
        refused["error"]["data"]["latch"], "needs-sign-in",
        "{refused}"
    );
    // Another label: the agent is told how to sign in as that account.
    let refused = bridge_tools_list(home, &["--account", "work"]);
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("latch login oidc --account work"),
        "{refused}"
    );
    assert_eq!(refused["error"]["data"]["account"], "work");

    // A bad label stops the bridge before it speaks.
    let bad = latch(home, &["bridge", "oidc", "--account", "no spaces"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("not a usable account label"));
}

fn account_labels(view: &latch_core::app::ServerView) -> Vec<(String, bool, bool)> {
    view.accounts
        .iter()
        .map(|a| (a.label.clone(), a.active, a.signed_in))
        .collect()
}

fn account_of(view: &latch_core::app::ServerView) -> Option<String> {
    match &view.auth {
        AuthView::SignedIn { account, .. } => account.clone(),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_in_the_app() {
    let peer = OidcPeer::start(3600);
    let home = tempfile::tempdir().unwrap();
    let latch = latch_at(home.path());
    latch
        .add_server(
            "oidc",
            ServerEntryInput {
                url: Some(peer.mcp_url.clone()),
                ..ServerEntryInput::default()
            },
        )
        .await
        .unwrap();

    let bad = latch
        .sign_in("oidc", None, Some("no spaces".to_owned()))
        .await
        .unwrap_err();
    assert_eq!(bad.kind, "invalidAccount", "{bad}");

    let view = latch
        .sign_in("oidc", None, Some("work".to_owned()))
        .await
        .unwrap();
    assert!(
        matches!(view.state, ConnectionState::Connected { .. }),
        "{view:?}"
    );
    assert_eq!(account_of(&view).as_deref(), Some("work"));
    let view = latch
        .sign_in("oidc", None, Some("home".to_owned()))
        .await
        .unwrap();
    assert_eq!(
        account_of(&view).as_deref(),
        Some("home"),
        "the new account is in use"
    );
    assert_eq!(
        account_labels(&view),
        [
            ("work".to_owned(), false, true),
            ("home".to_owned(), true, true)
        ]
    );
    assert!(view.accounts.iter().all(|a| a.refreshable
        && a.expires_at.is_some()
        && a.issuer.as_deref().map(|i| i.trim_end_matches('/')) == Some(peer.issuer.as_str())));
    let home_token = access_token(home.path(), Some("home")).unwrap();
    assert_ne!(access_token(home.path(), Some("work")).unwrap(), home_token);

    let record = latch
        .call_tool("oidc", "add", json!({ "a": 2, "b": 3 }), "c1")
        .await
        .unwrap();
    assert_eq!(record.status, CallStatus::Ok);

    // Switch the connection to `work`; an account never signed in is refused.
    let view = latch
        .use_account("oidc", Some("work".to_owned()))
        .await
        .unwrap();
    assert_eq!(account_of(&view).as_deref(), Some("work"));
    assert!(
        matches!(view.state, ConnectionState::Connected { .. }),
        "{view:?}"
    );
    assert_eq!(latch.active_account("oidc").as_deref(), Some("work"));
    let unknown = latch
        .use_account("oidc", Some("nobody".to_owned()))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, "unknownAccount", "{unknown}");
    assert!(!latch.list_tools("oidc").await.unwrap().is_empty());

    // A restarted app finds both accounts in the store.
    let again = latch_at(home.path());
    let listed = again.server_view("oidc").await.unwrap();
    assert_eq!(
        account_labels(&listed)
            .into_iter()
            .map(|(l, _, _)| l)
            .collect::<Vec<_>>(),
        ["work", "home"]
    );

    // Signing out of `home` (not in use) leaves `work` connected.
    let view = latch
        .sign_out("oidc", Some("home".to_owned()))
        .await
        .unwrap();
    assert_eq!(account_labels(&view), [("work".to_owned(), true, true)]);
    assert!(access_token(home.path(), Some("home")).is_none());
    let record = latch
        .call_tool("oidc", "add", json!({ "a": 4, "b": 3 }), "c2")
        .await
        .unwrap();
    assert_eq!(record.status, CallStatus::Ok, "{record:?}");

    // Signing out of the account in use: none is left.
    let view = latch.sign_out("oidc", None).await.unwrap();
    assert!(view.accounts.is_empty(), "{view:?}");
    assert_eq!(view.auth, AuthView::None);
    assert_eq!(latch.active_account("oidc"), None);
    assert_eq!(latch.connect("oidc").await.unwrap_err().kind, "needsSignIn");
}
