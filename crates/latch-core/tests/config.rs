//! The servers file as a user has it: load, edit, save (atomic, `.bak`, never over a broken
//! file), placeholders, and import from / export to Claude Desktop, VS Code and Cursor.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use latch_core::config::{
    CommandServer, ConfigError, ConfigFile, ExternalApp, NoSecrets, RemoteServer, ServerConfig,
    TransportKind, expand, export, import_file, import_from_paths,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

/// A temp folder holding a copy of a fixture as `servers.json`.
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("servers.json");
    fs::copy(fixture(name), &path).unwrap();
    (dir, path)
}

fn write_servers(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("servers.json");
    fs::write(&path, text).unwrap();
    (dir, path)
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn names(servers: &[(String, ServerConfig)]) -> Vec<&str> {
    servers.iter().map(|(n, _)| n.as_str()).collect()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- load

#[test]
fn missing_or_blank_file_is_an_empty_config() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").join("servers.json");
    let cfg = ConfigFile::load(&missing).unwrap();
    assert!(cfg.servers().is_empty());
    assert_eq!(cfg.path(), missing);

    let (_dir, blank) = write_servers("  \n");
    assert!(ConfigFile::load(&blank).unwrap().servers().is_empty());
}

#[test]
fn servers_in_file_order_with_their_fields() {
    let cfg = ConfigFile::load(&fixture("servers.json")).unwrap();
    let servers = cfg.servers();
    assert_eq!(
        names(&servers),
        ["notion", "figma", "madgicx", "everything"]
    );
    assert!(!cfg.contains("_note"));
    assert!(cfg.contains("figma"));

    let ServerConfig::Remote(figma) = cfg.server("figma").unwrap() else {
        panic!("figma is remote")
    };
    assert_eq!(figma.url, "https://figma.example/mcp");
    assert_eq!(
        figma.transport,
        TransportKind::Http,
        "streamable-http is read as http"
    );
    assert_eq!(figma.headers["X-Figma-Token"], "${secret:figma}");
    assert_eq!(
        keys(&Value::Object(figma.extra.clone())),
        ["timeoutSecs"],
        "`_why` is a comment, not extra"
    );

    let ServerConfig::Remote(madgicx) = cfg.server("madgicx").unwrap() else {
        panic!("madgicx is remote")
    };
    assert_eq!(madgicx.transport, TransportKind::Auto);
    assert_eq!(madgicx.auth.unwrap()["credentials"], "madgicx");

    let ServerConfig::Command(everything) = cfg.server("everything").unwrap() else {
        panic!("everything is a command")
    };
    assert_eq!(everything.command, "npx");
    assert_eq!(
        everything.args,
        ["-y", "@modelcontextprotocol/server-everything"]
    );
    assert_eq!(everything.env["DEBUG"], "1");
    assert_eq!(everything.cwd.as_deref(), Some("/tmp"));
}

#[test]
fn unknown_server_error_lists_known_names() {
    let cfg = ConfigFile::load(&fixture("servers.json")).unwrap();
    let err = cfg.server("nope").unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownServer { name, .. } if name == "nope"));
    assert_eq!(
        err.to_string(),
        "no server named `nope` (known: notion, figma, madgicx, everything) — run `latch servers list`"
    );
    assert!(matches!(
        cfg.server("_note"),
        Err(ConfigError::UnknownServer { .. })
    ));
}

// ---------------------------------------------------------------- save

#[test]
fn round_trip_keeps_unknown_keys_comments_and_order() {
    let (dir, path) = copy_fixture("servers.json");
    let original_text = fs::read_to_string(&path).unwrap();
    let original: Value = serde_json::from_str(&original_text).unwrap();

    let cfg = ConfigFile::edit(&path, |cfg| {
        cfg.upsert_server("new-one", ServerConfig::remote("https://new.example/mcp"))?;
        // Replace an existing entry in place: its comment and position stay.
        let mut notion = RemoteServer {
            url: "https://mcp.notion.com/v2/mcp".into(),
            ..Default::default()
        };
        notion.headers.insert("X-Trace".into(), "on".into());
        cfg.upsert_server("notion", ServerConfig::Remote(notion))?;
        // Editing figma through its typed form keeps `_why` and the unknown `timeoutSecs`.
        let ServerConfig::Remote(mut figma) = cfg.server("figma")? else {
            panic!()
        };
        figma.url = "https://figma.example/v2/mcp".into();
        cfg.upsert_server("figma", ServerConfig::Remote(figma))?;
        Ok::<_, ConfigError>(cfg.clone())
    })
    .unwrap();

    let saved_text = fs::read_to_string(&path).unwrap();
    assert!(saved_text.ends_with("}\n"), "trailing newline");
    assert!(
        saved_text.contains("\n  \"mcpServers\": {\n    \"_note\""),
        "2-space indent:\n{saved_text}"
    );

    let saved: Value = serde_json::from_str(&saved_text).unwrap();
    assert_eq!(keys(&saved), ["_comment", "theme", "mcpServers", "zzz"]);
    assert_eq!(saved["_comment"], original["_comment"]);
    assert_eq!(saved["zzz"], original["zzz"]);
    let servers = &saved["mcpServers"];
    assert_eq!(
        keys(servers),
        [
            "_note",
            "notion",
            "figma",
            "madgicx",
            "everything",
            "new-one"
        ]
    );
    assert_eq!(servers["_note"], "work servers first");
    assert_eq!(servers["madgicx"], original["mcpServers"]["madgicx"]);
    assert_eq!(servers["everything"], original["mcpServers"]["everything"]);
    assert_eq!(
        servers["notion"],
        json!({"url": "https://mcp.notion.com/v2/mcp", "headers": {"X-Trace": "on"}})
    );
    assert_eq!(
        keys(&servers["figma"]),
        ["_why", "url", "headers", "transport", "timeoutSecs"]
    );
    assert_eq!(servers["figma"]["_why"], "the token lives in the keychain");
    assert_eq!(servers["figma"]["timeoutSecs"], 30);
    assert_eq!(servers["figma"]["url"], "https://figma.example/v2/mcp");
    assert_eq!(
        servers["new-one"],
        json!({"url": "https://new.example/mcp"})
    );

    // Loading again gives the same servers.
    let again = ConfigFile::load(&path).unwrap();
    assert_eq!(again.servers(), cfg.servers());
    assert_eq!(again.document(), cfg.document());

    // The previous file is kept, byte for byte; no temp files are left behind (the lock
    // file stays, empty).
    assert_eq!(
        fs::read_to_string(dir.path().join("servers.json.bak")).unwrap(),
        original_text
    );
    assert_eq!(
        dir_entries(dir.path()),
        ["servers.json", "servers.json.bak", "servers.json.lock"]
    );
}

#[test]
fn bak_holds_the_previous_save() {
    let (dir, path) = copy_fixture("servers.json");
    ConfigFile::edit(&path, |cfg| cfg.remove_server("notion")).unwrap();
    let first = fs::read_to_string(&path).unwrap();

    ConfigFile::edit(&path, |cfg| cfg.remove_server("figma")).unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join("servers.json.bak")).unwrap(),
        first
    );
    let names = ConfigFile::load(&path).unwrap().names();
    assert_eq!(names, ["madgicx", "everything"]);
}

#[test]
fn save_creates_the_folder_without_a_bak() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("servers.json");
    ConfigFile::edit(&path, |cfg| {
        cfg.upsert_server("everything", ServerConfig::command("npx", ["-y", "pkg"]))
    })
    .unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "{\n  \"mcpServers\": {\n    \"everything\": {\n      \"command\": \"npx\",\n      \"args\": [\n        \"-y\",\n        \"pkg\"\n      ]\n    }\n  }\n}\n"
    );
    assert_eq!(
        dir_entries(path.parent().unwrap()),
        ["servers.json", "servers.json.lock"]
    );
}

#[cfg(unix)]
#[test]
fn saved_file_and_bak_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = copy_fixture("servers.json");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    ConfigFile::edit(&path, |cfg| cfg.remove_server("notion")).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("servers.json.bak")), 0o600);
}

#[test]
fn broken_file_names_line_and_column() {
    let path = fixture("broken.json");
    let err = ConfigFile::load(&path).unwrap_err();
    let ConfigError::Parse {
        line,
        column,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (4, 5));
    assert_eq!(message, "expected `,` or `}`");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:4:5: expected `,` or `}}` — fix the file (Latch will not overwrite it)",
            path.display()
        )
    );
    assert!(err.is_broken_file());
}

#[test]
fn save_never_overwrites_a_file_that_broke_after_load() {
    let (dir, path) = copy_fixture("servers.json");
    // The user breaks the file in an editor (which takes no lock) while Latch edits it.
    let broken = fs::read(fixture("broken.json")).unwrap();
    let edit = |bytes: &[u8]| {
        ConfigFile::edit(&path, |cfg| {
            cfg.upsert_server("x", ServerConfig::remote("https://x.example"))?;
            fs::write(&path, bytes).unwrap();
            Ok::<_, ConfigError>(())
        })
    };
    let err = edit(&broken).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Parse {
                line: 4,
                column: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), broken, "byte-identical");
    assert_eq!(
        dir_entries(dir.path()),
        ["servers.json", "servers.json.lock"],
        "no .bak, no temp file"
    );
    // Nor is it loaded for the next edit.
    let err = ConfigFile::edit(&path, |_| Ok::<_, ConfigError>(())).unwrap_err();
    assert!(err.is_broken_file(), "{err}");
    assert_eq!(fs::read(&path).unwrap(), broken, "byte-identical");

    // A file that parses but has the wrong shape is not overwritten either.
    fs::copy(fixture("servers.json"), &path).unwrap();
    let wrong = br#"{"mcpServers": {"a": {"url": 5}}}"#;
    assert!(matches!(edit(wrong), Err(ConfigError::Invalid { .. })));
    assert_eq!(fs::read(&path).unwrap(), wrong);
}

#[test]
fn an_edit_that_fails_or_changes_nothing_writes_nothing() {
    let (dir, path) = copy_fixture("servers.json");
    let before = fs::read(&path).unwrap();
    let err = ConfigFile::edit(&path, |cfg| {
        cfg.remove_server("notion")?;
        cfg.add_server("figma", ServerConfig::remote("https://f.example"))
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::AlreadyExists { .. }), "{err}");
    ConfigFile::edit(&path, |cfg| Ok::<_, ConfigError>(cfg.names())).unwrap();
    assert_eq!(fs::read(&path).unwrap(), before, "byte-identical");
    assert_eq!(
        dir_entries(dir.path()),
        ["servers.json", "servers.json.lock"],
        "no .bak: nothing was saved"
    );
}

#[test]
fn edits_from_many_threads_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("servers.json");
    std::thread::scope(|scope| {
        for i in 0..16 {
            let path = &path;
            scope.spawn(move || {
                ConfigFile::edit(path, |cfg| {
                    let url = format!("http://127.0.0.1:{}/mcp", 42_000 + i);
                    cfg.add_server(&format!("s{i}"), ServerConfig::remote(url))
                })
                .unwrap();
            });
        }
    });
    assert_eq!(ConfigFile::load(&path).unwrap().names().len(), 16);
}

// ---------------------------------------------------------------- typed errors

fn invalid(text: &str) -> (PathBuf, ConfigError) {
    let (dir, path) = write_servers(text);
    let err = ConfigFile::load(&path).unwrap_err();
    drop(dir);
    (path, err)
}

#[test]
fn url_that_is_a_number_names_server_key_and_position() {
    let (path, err) = invalid("{\n  \"mcpServers\": {\n    \"notion\": { \"url\": 5 }\n  }\n}\n");
    let ConfigError::Invalid {
        line,
        column,
        server,
        key,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (3, 24));
    assert_eq!(server.as_deref(), Some("notion"));
    assert_eq!(key.as_deref(), Some("url"));
    assert_eq!(
        message,
        "invalid type: integer `5`, expected an http:// or https:// URL as a string"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:24: server `notion`, key `url`: invalid type: integer `5`, expected an http:// or https:// URL as a string — fix the file (Latch will not overwrite it)",
            path.display()
        )
    );
}

#[test]
fn url_and_command_together_is_an_error_at_the_second_key() {
    let (_, err) = invalid(
        "{\n  \"mcpServers\": {\n    \"x\": {\n      \"url\": \"https://x.example\",\n      \"command\": \"npx\"\n    }\n  }\n}\n",
    );
    let ConfigError::Invalid {
        line,
        server,
        key,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 5);
    assert_eq!(server.as_deref(), Some("x"));
    assert_eq!(key.as_deref(), Some("command"));
    assert!(
        message.contains("either `url`") && message.contains("not both"),
        "{message}"
    );
}

#[test]
fn url_with_another_scheme_is_an_error_at_the_url() {
    let (_, err) =
        invalid("{\"mcpServers\": {\n\"files\": {\"url\": \"ftp://files.example/mcp\"}}}");
    let ConfigError::Invalid {
        line,
        column,
        server,
        key,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (2, 42));
    assert_eq!(server.as_deref(), Some("files"));
    assert_eq!(key.as_deref(), Some("url"));
    assert_eq!(
        message,
        "the URL must start with http:// or https:// (this one uses `ftp:`)"
    );
}

#[test]
fn other_shape_errors() {
    let cases = [
        (
            r#"{"mcpServers": {"a": {"url": "not a url"}}}"#,
            "not a valid URL",
        ),
        (
            r#"{"mcpServers": {"a": {"url": "https://a", "headers": {"Bad Name": "v"}}}}"#,
            "not a valid HTTP header name",
        ),
        (
            r#"{"mcpServers": {"a": {"command": "x", "args": "-y"}}}"#,
            "expected a sequence",
        ),
        (
            r#"{"mcpServers": {"a": {"url": "https://a", "transport": "ws"}}}"#,
            "unknown variant `ws`",
        ),
        (
            r#"{"mcpServers": {"a": {"command": ""}}}"#,
            "the command is empty",
        ),
        (r#"{"mcpServers": {"a": {}}}"#, "missing `url`"),
        (
            r#"{"mcpServers": {"a": "https://a"}}"#,
            "expected a server entry",
        ),
    ];
    for (text, expected) in cases {
        let (_, err) = invalid(text);
        let msg = err.to_string();
        assert!(
            matches!(err, ConfigError::Invalid { line: 1, .. }),
            "{text}: {err:?}"
        );
        assert!(msg.contains("server `a`"), "{text}: {msg}");
        assert!(msg.contains(expected), "{text}: {msg}");
    }
}

#[test]
fn header_values_never_appear_in_errors_or_debug() {
    let (_, err) = invalid(
        r#"{"mcpServers": {"a": {"url": "https://a", "headers": {"X-Key": "hunter2\n"}}}}"#,
    );
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("X-Key") && !shown.contains("hunter2"),
        "{shown}"
    );

    let cfg = ConfigFile::load(&fixture("servers.json")).unwrap();
    let debug = format!("{cfg:?} {:?}", cfg.servers());
    assert!(
        debug.contains("X-Figma-Token") && !debug.contains("${secret:figma}"),
        "{debug}"
    );
}

// ---------------------------------------------------------------- edits

#[test]
fn upsert_validates_names_and_servers() {
    let mut cfg = ConfigFile::new("unused.json");
    let err = cfg
        .upsert_server("bad/name", ServerConfig::remote("https://a.example"))
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidName { .. }));
    assert!(err.to_string().contains("letters, digits"), "{err}");
    let err = cfg
        .upsert_server("-x", ServerConfig::remote("https://a.example"))
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidName { .. }));
    let err = cfg
        .upsert_server("ok", ServerConfig::remote("mailto:a@b"))
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidServer { .. }), "{err:?}");
    assert!(cfg.servers().is_empty());

    cfg.upsert_server(
        "ok.name_1-a",
        ServerConfig::command("uvx", ["mcp-server-fetch"]),
    )
    .unwrap();
    // Switching a server from command to remote drops the command keys.
    cfg.upsert_server("ok.name_1-a", ServerConfig::remote("https://a.example"))
        .unwrap();
    assert_eq!(
        cfg.document()["mcpServers"]["ok.name_1-a"],
        json!({"url": "https://a.example"})
    );
    assert!(matches!(
        cfg.remove_server("missing"),
        Err(ConfigError::UnknownServer { .. })
    ));
}

#[test]
fn merge_adds_new_names_and_skips_existing() {
    let mut cfg = ConfigFile::load(&fixture("servers.json")).unwrap();
    let before = cfg.server("notion").unwrap();
    let report = cfg.merge(vec![
        (
            "notion".into(),
            ServerConfig::remote("https://other.example"),
        ),
        (
            "fetch".into(),
            ServerConfig::command("uvx", ["mcp-server-fetch"]),
        ),
        ("bad name".into(), ServerConfig::remote("https://b.example")),
    ]);
    assert_eq!(report.added, ["fetch"]);
    assert_eq!(report.skipped, ["notion"]);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].0, "bad name");
    assert_eq!(
        cfg.server("notion").unwrap(),
        before,
        "existing servers are not overwritten"
    );
    assert_eq!(cfg.names().last().map(String::as_str), Some("fetch"));
}

// ---------------------------------------------------------------- placeholders

#[test]
fn placeholders_expand_from_env_and_secrets() {
    let path = std::env::var("PATH").expect("PATH is set for tests");
    let secrets = HashMap::from([("figma".to_owned(), "tok-123".to_owned())]);
    assert_eq!(
        expand("p=${env:PATH};t=${secret:figma}", &secrets).unwrap(),
        format!("p={path};t=tok-123")
    );

    let err = expand("${env:LATCH_TEST_SURELY_UNSET_VARIABLE}", &secrets).unwrap_err();
    assert!(
        matches!(&err, ConfigError::MissingEnv { name } if name == "LATCH_TEST_SURELY_UNSET_VARIABLE")
    );
    assert!(
        err.to_string()
            .starts_with("environment variable LATCH_TEST_SURELY_UNSET_VARIABLE is not set")
    );

    let err = expand("Bearer ${secret:notion}", &NoSecrets).unwrap_err();
    assert!(matches!(&err, ConfigError::MissingSecret { name } if name == "notion"));
    assert_eq!(
        err.to_string(),
        "secret notion is not stored — run `latch credentials set notion`"
    );

    for bad in [
        "${foo}",
        "${secret:x",
        "${}",
        "${secret:}",
        "a ${env:A B} b",
    ] {
        let err = expand(bad, &secrets).unwrap_err();
        assert!(
            matches!(err, ConfigError::BadPlaceholder { .. }),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("${env:NAME}"), "{bad}: {err}");
    }
}

#[test]
fn resolved_headers_env_and_args() {
    let secrets = HashMap::from([
        ("figma".to_owned(), "tok-123".to_owned()),
        ("multiline".to_owned(), "tok\nevil: 1".to_owned()),
    ]);
    let mut remote = RemoteServer {
        url: "https://a.example".into(),
        ..Default::default()
    };
    remote
        .headers
        .insert("X-Token".into(), "${secret:figma}".into());
    remote.headers.insert("Accept".into(), "text/plain".into());
    assert_eq!(
        remote.resolved_headers(&secrets).unwrap(),
        [
            ("Accept".to_owned(), "text/plain".to_owned()),
            ("X-Token".to_owned(), "tok-123".to_owned())
        ]
    );
    remote
        .headers
        .insert("X-Token".into(), "${secret:multiline}".into());
    let err = remote.resolved_headers(&secrets).unwrap_err();
    assert!(matches!(&err, ConfigError::InvalidHeaderValue { header } if header == "X-Token"));
    assert!(!format!("{err} {err:?}").contains("tok"), "{err}");

    let mut command = CommandServer {
        command: "server".into(),
        args: vec!["--token".into(), "${secret:figma}".into()],
        ..Default::default()
    };
    command.env.insert("TOKEN".into(), "${secret:figma}".into());
    assert_eq!(
        command.resolved_args(&secrets).unwrap(),
        ["--token", "tok-123"]
    );
    assert_eq!(
        command.resolved_env(&secrets).unwrap(),
        [("TOKEN".to_owned(), "tok-123".to_owned())]
    );
    assert!(matches!(
        command.resolved_env(&NoSecrets),
        Err(ConfigError::MissingSecret { .. })
    ));
}

// ---------------------------------------------------------------- import

#[test]
fn import_claude_desktop() {
    let imported = import_file(
        &fixture("claude_desktop_config.json"),
        Some(ExternalApp::Claude),
    )
    .unwrap();
    assert_eq!(names(&imported.servers), ["filesystem", "github", "notion"]);
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let ServerConfig::Command(github) = &imported.servers[1].1 else {
        panic!()
    };
    assert_eq!(github.command, "docker");
    assert_eq!(github.args.len(), 6);
    assert_eq!(
        github.env["GITHUB_PERSONAL_ACCESS_TOKEN"],
        "${env:GITHUB_TOKEN}"
    );
    assert_eq!(
        imported.servers[2].1,
        ServerConfig::remote("https://mcp.notion.com/mcp")
    );
    // Detected without being told.
    assert_eq!(
        import_file(&fixture("claude_desktop_config.json"), None).unwrap(),
        imported
    );
}

#[test]
fn import_vscode_jsonc() {
    let imported = import_file(&fixture("vscode_mcp.json"), Some(ExternalApp::VsCode)).unwrap();
    assert_eq!(names(&imported.servers), ["github", "legacy", "perplexity"]);

    let ServerConfig::Remote(github) = &imported.servers[0].1 else {
        panic!()
    };
    assert_eq!(
        github.url, "https://api.githubcopilot.com/mcp/",
        "`//` in a string survives"
    );
    assert_eq!(github.transport, TransportKind::Http);

    let ServerConfig::Remote(legacy) = &imported.servers[1].1 else {
        panic!()
    };
    assert_eq!(legacy.transport, TransportKind::Sse);
    assert_eq!(
        legacy.headers["Authorization"], "Bearer ${input:legacy-token}",
        "kept as written"
    );

    let ServerConfig::Command(perplexity) = &imported.servers[2].1 else {
        panic!()
    };
    assert_eq!(perplexity.command, "npx");
    assert_eq!(perplexity.args, ["-y", "server-perplexity-ask"]);
    assert_eq!(
        perplexity.env["PERPLEXITY_API_KEY"],
        "${input:perplexity-key}"
    );

    assert_eq!(imported.warnings.len(), 2, "{:?}", imported.warnings);
    assert!(
        imported.warnings[0].contains("`legacy`")
            && imported.warnings[0].contains("${input:legacy-token}")
    );
    assert!(
        imported.warnings[1].contains("`perplexity`")
            && imported.warnings[1].contains("${input:perplexity-key}")
    );
    assert!(
        imported
            .warnings
            .iter()
            .all(|w| w.contains("latch credentials set"))
    );

    assert_eq!(
        import_file(&fixture("vscode_mcp.json"), None).unwrap(),
        imported
    );
}

#[test]
fn import_vscode_settings_json() {
    let imported =
        import_file(&fixture("vscode_settings.json"), Some(ExternalApp::VsCode)).unwrap();
    assert_eq!(
        imported.servers,
        [(
            "fetch".to_owned(),
            ServerConfig::command("uvx", ["mcp-server-fetch"])
        )]
    );
    assert_eq!(
        import_file(&fixture("vscode_settings.json"), None).unwrap(),
        imported
    );
}

#[test]
fn import_cursor() {
    let imported = import_file(&fixture("cursor_mcp.json"), Some(ExternalApp::Cursor)).unwrap();
    assert_eq!(
        names(&imported.servers),
        ["linear", "context7", "sentry", "browser-tools"]
    );
    let transport = |i: usize| match &imported.servers[i].1 {
        ServerConfig::Remote(r) => r.transport,
        other => panic!("{other:?}"),
    };
    assert_eq!(transport(0), TransportKind::Sse);
    assert_eq!(transport(1), TransportKind::Auto);
    assert_eq!(transport(2), TransportKind::Http);
    assert!(matches!(&imported.servers[3].1, ServerConfig::Command(c) if c.command == "npx"));
    let w = imported.warnings.join("\n");
    assert!(
        w.contains("`browser tools` was renamed `browser-tools`"),
        "{w}"
    );
    assert!(w.contains("`broken` was left out"), "{w}");
}

#[test]
fn import_errors() {
    let err = import_file(
        &fixture("claude_desktop_config.json"),
        Some(ExternalApp::VsCode),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::ImportShape { .. }), "{err:?}");
    assert!(err.to_string().contains("`servers`"), "{err}");

    let err = import_file(&fixture("broken.json"), None).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Parse {
                line: 4,
                column: 5,
                ..
            }
        ),
        "{err:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let candidates = [dir.path().join("a.json"), dir.path().join("b.json")];
    let err = import_from_paths(ExternalApp::Cursor, &candidates).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::ImportNotFound { .. }));
    assert!(
        msg.contains("Cursor") && msg.contains("a.json") && msg.contains("b.json"),
        "{msg}"
    );

    fs::copy(fixture("cursor_mcp.json"), &candidates[1]).unwrap();
    let found = import_from_paths(ExternalApp::Cursor, &candidates).unwrap();
    assert_eq!(found.path, candidates[1]);
    assert_eq!(found.servers.len(), 4);
}

// ---------------------------------------------------------------- export

fn sample_servers() -> Vec<(String, ServerConfig)> {
    let mut figma = RemoteServer {
        url: "https://figma.example/mcp".into(),
        transport: TransportKind::Http,
        ..Default::default()
    };
    figma
        .headers
        .insert("X-Figma-Token".into(), "${secret:figma}".into());
    let legacy = RemoteServer {
        url: "http://localhost:3001/sse".into(),
        transport: TransportKind::Sse,
        ..Default::default()
    };
    let mut everything = CommandServer {
        command: "npx".into(),
        args: vec![
            "-y".into(),
            "@modelcontextprotocol/server-everything".into(),
        ],
        ..Default::default()
    };
    everything
        .env
        .insert("TOKEN".into(), "${env:EVERYTHING_TOKEN}".into());
    vec![
        (
            "notion".into(),
            ServerConfig::remote("https://mcp.notion.com/mcp"),
        ),
        ("figma".into(), ServerConfig::Remote(figma)),
        ("legacy".into(), ServerConfig::Remote(legacy)),
        ("everything".into(), ServerConfig::Command(everything)),
        (
            "bare".into(),
            ServerConfig::command("uvx", ["mcp-server-fetch"]),
        ),
    ]
}

#[test]
fn export_then_import_gives_the_same_servers() {
    let servers = sample_servers();
    let dir = tempfile::tempdir().unwrap();
    for app in ExternalApp::ALL {
        let value = export(app, &servers);
        let text = serde_json::to_string_pretty(&value).unwrap();
        assert!(
            text.contains("${secret:figma}") && text.contains("${env:EVERYTHING_TOKEN}"),
            "{text}"
        );
        let path = dir.path().join(format!("{}.json", app.as_str()));
        fs::write(&path, &text).unwrap();

        let imported = import_file(&path, Some(app)).unwrap();
        assert!(
            imported.warnings.is_empty(),
            "{app}: {:?}",
            imported.warnings
        );
        let mut expected = servers.clone();
        if app == ExternalApp::VsCode {
            // VS Code requires a type; its `http` already falls back to SSE.
            if let ServerConfig::Remote(r) = &mut expected[0].1 {
                r.transport = TransportKind::Http;
            }
        }
        assert_eq!(imported.servers, expected, "{app}");
        assert_eq!(
            import_file(&path, None).unwrap().servers,
            expected,
            "{app}, detected"
        );
    }
}

#[test]
fn export_shapes() {
    let servers = sample_servers();
    let claude = export(ExternalApp::Claude, &servers);
    assert_eq!(keys(&claude), ["mcpServers"]);
    assert_eq!(
        claude["mcpServers"]["notion"],
        json!({"url": "https://mcp.notion.com/mcp"})
    );
    assert_eq!(claude["mcpServers"]["legacy"]["type"], "sse");
    assert_eq!(
        claude["mcpServers"]["bare"],
        json!({"command": "uvx", "args": ["mcp-server-fetch"]})
    );
    assert_eq!(export(ExternalApp::Cursor, &servers), claude);

    let code = export(ExternalApp::VsCode, &servers);
    assert_eq!(keys(&code), ["servers"]);
    assert_eq!(
        code["servers"]["figma"],
        json!({"type": "http", "url": "https://figma.example/mcp", "headers": {"X-Figma-Token": "${secret:figma}"}})
    );
    assert_eq!(code["servers"]["everything"]["type"], "stdio");
    assert_eq!(code["servers"]["notion"]["type"], "http");
}
