//! `latch servers export APP [NAME…]` as a process: bridge entries written into Claude
//! Desktop's, Cursor's and VS Code's files (`--file`, `--yes`), everything else in those files
//! kept, conflicts left alone, nothing written without consent, and the result readable back.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// A Latch home with a remote and a local server.
    fn new() -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        home.latch(&["servers", "add", "notion", "https://mcp.notion.com/mcp"])
            .assert()
            .success();
        home.latch(&[
            "servers",
            "add",
            "everything",
            "--command",
            "npx",
            "-y",
            "pkg",
        ])
        .assert()
        .success();
        home
    }

    fn latch(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("latch").unwrap();
        cmd.env("LATCH_HOME", self.dir.path())
            .env("LATCH_TOKEN_STORE", "memory")
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    // VS Code files may keep comments; strip whole-line `//` comments for the check.
    let plain: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&plain).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn assert_bridge(entry: &Value, name: &str) {
    let command = Path::new(entry["command"].as_str().expect("a command"));
    assert!(command.is_absolute(), "{}", command.display());
    assert!(command.is_file(), "{}", command.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(command).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{} is not executable", command.display());
    }
    assert_eq!(
        entry["args"],
        serde_json::json!(["bridge", name]),
        "{entry}"
    );
}

#[test]
fn writes_bridge_entries_into_claude_cursor_and_vscode_files() {
    let home = Home::new();
    let cases = [
        (
            "claude",
            "claude_desktop_config.json",
            "mcpServers",
            "{\n  \"globalShortcut\": \"Ctrl+Space\",\n  \"mcpServers\": {\n    \"github\": {\"command\": \"docker\", \"args\": [\"run\"]}\n  }\n}\n",
        ),
        (
            "cursor",
            "cursor-mcp.json",
            "mcpServers",
            "{\"mcpServers\": {\"github\": {\"url\": \"https://gh.example/mcp\"}}}",
        ),
        (
            "vscode",
            "mcp.json",
            "servers",
            "{\n  // mine\n  \"servers\": {\n    \"github\": {\"type\": \"http\", \"url\": \"https://gh.example/mcp\"}\n  },\n  \"inputs\": []\n}\n",
        ),
    ];
    for (app, file, key, old) in cases {
        let path = home.file(file);
        std::fs::write(&path, old).unwrap();
        let out = home
            .latch(&[
                "servers",
                "export",
                app,
                "--file",
                path.to_str().unwrap(),
                "--yes",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("+++ "), "the diff is shown: {out}");
        assert!(out.contains("Wrote "), "{out}");
        let v = read(&path);
        assert_bridge(&v[key]["notion"], "notion");
        assert_bridge(&v[key]["everything"], "everything");
        assert!(
            v[key]["github"].is_object(),
            "{app}: other entries are kept"
        );
        if app == "vscode" {
            assert_eq!(v[key]["notion"]["type"], "stdio");
            assert!(std::fs::read_to_string(&path).unwrap().contains("// mine"));
            assert_eq!(v["inputs"], serde_json::json!([]));
        }
        if app == "claude" {
            assert_eq!(v["globalShortcut"], "Ctrl+Space");
        }
        let backups: Vec<_> = std::fs::read_dir(home.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&format!("{file}.latch-backup-")))
            .collect();
        assert_eq!(backups.len(), 1, "{backups:?}");
        assert_eq!(
            std::fs::read_to_string(home.file(&backups[0])).unwrap(),
            old
        );

        // Again: nothing to change, nothing written.
        home.latch(&[
            "servers",
            "export",
            app,
            "--file",
            path.to_str().unwrap(),
            "--yes",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to change"));
    }
}

#[test]
fn names_pick_servers_and_unknown_names_fail() {
    let home = Home::new();
    let path = home.file("c.json");
    let p = path.to_str().unwrap();
    home.latch(&[
        "servers", "export", "cursor", "notion", "--file", p, "--yes",
    ])
    .assert()
    .success();
    let v = read(&path);
    assert_bridge(&v["mcpServers"]["notion"], "notion");
    assert!(v["mcpServers"].get("everything").is_none());

    home.latch(&["servers", "export", "cursor", "nope", "--file", p, "--yes"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("known: notion, everything"));
}

#[test]
fn nothing_is_written_without_consent() {
    let home = Home::new();
    let path = home.file("c.json");
    let p = path.to_str().unwrap();
    // Not a terminal and no --yes: the diff, then a refusal.
    home.latch(&["servers", "export", "claude", "--file", p])
        .write_stdin("y\n")
        .assert()
        .failure()
        .stdout(predicates::str::contains("+++ "))
        .stderr(predicates::str::contains("pass --yes"));
    assert!(!path.exists());
    home.latch(&["servers", "export", "claude", "--file", p, "--dry-run"])
        .assert()
        .success()
        .stdout(predicates::str::contains("Dry run"));
    assert!(!path.exists());

    let out = home
        .latch(&["--json", "servers", "export", "claude", "--file", p])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(plan["added"], serde_json::json!(["notion", "everything"]));
    assert_eq!(plan["written"], false);
    assert!(plan["diff"].as_str().unwrap().contains("\"bridge\""));
    assert!(!plan["diff"].as_str().unwrap().contains('\u{1b}'));
    assert!(!path.exists());

    let out = home
        .latch(&[
            "--json", "servers", "export", "claude", "--file", p, "--yes",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(plan["written"], true);
    assert_bridge(&read(&path)["mcpServers"]["notion"], "notion");
}

#[test]
fn foreign_entries_are_conflicts_unless_replace() {
    let home = Home::new();
    let path = home.file("c.json");
    let p = path.to_str().unwrap();
    let old = "{\"mcpServers\": {\"notion\": {\"url\": \"https://mcp.notion.com/mcp\"}}}\n";
    std::fs::write(&path, old).unwrap();
    home.latch(&["servers", "export", "claude", "--file", p, "--yes"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--replace"));
    let v = read(&path);
    assert_eq!(
        v["mcpServers"]["notion"]["url"],
        "https://mcp.notion.com/mcp"
    );
    assert_bridge(&v["mcpServers"]["everything"], "everything");

    home.latch(&[
        "servers",
        "export",
        "claude",
        "--file",
        p,
        "--yes",
        "--replace",
    ])
    .assert()
    .success();
    assert_bridge(&read(&path)["mcpServers"]["notion"], "notion");
}

#[test]
fn a_broken_file_is_reported_and_left_alone() {
    let home = Home::new();
    let path = home.file("c.json");
    let broken = "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}\n";
    std::fs::write(&path, broken).unwrap();
    home.latch(&[
        "servers",
        "export",
        "claude",
        "--file",
        path.to_str().unwrap(),
        "--yes",
    ])
    .assert()
    .failure()
    .stderr(predicates::str::contains("c.json:3:26"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn print_keeps_the_old_format_output() {
    let home = Home::new();
    let out = home
        .latch(&["servers", "export", "vscode", "--print"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["servers"]["notion"]["url"], "https://mcp.notion.com/mcp");
    assert_eq!(v["servers"]["everything"]["command"], "npx");
}

#[test]
fn the_written_claude_file_imports_back_as_command_servers() {
    let home = Home::new();
    let path = home.file("claude_desktop_config.json");
    home.latch(&[
        "servers",
        "export",
        "claude",
        "--file",
        path.to_str().unwrap(),
        "--yes",
    ])
    .assert()
    .success();
    let imported =
        latch_core::config::import_file(&path, Some(latch_core::config::ExternalApp::Claude))
            .unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    for (name, server) in &imported.servers {
        match server {
            latch_core::config::ServerConfig::Command(c) => {
                assert!(Path::new(&c.command).is_absolute());
                assert_eq!(c.args, ["bridge", name.as_str()]);
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    // And through the CLI, into another Latch home.
    let other = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("latch").unwrap();
    cmd.env("LATCH_HOME", other.path())
        .env("LATCH_TOKEN_STORE", "memory")
        .args(["servers", "import", path.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("Imported 2 server(s)"));
}
