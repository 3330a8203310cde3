use super::*;
use crate::config::{ServerConfig, import_file};

const LATCH: &str = "/opt/latch/bin/latch";

fn latch() -> &'static Path {
    Path::new(LATCH)
}

fn config(dir: &Path) -> ConfigFile {
    let mut c = ConfigFile::new(dir.join("servers.json"));
    c.add_server("notion", ServerConfig::remote("https://mcp.notion.com/mcp"))
        .unwrap();
    c.add_server("everything", ServerConfig::command("npx", ["-y", "pkg"]))
        .unwrap();
    c
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn parse(text: &str) -> Value {
    serde_json::from_str(&jsonc::strip(text)).unwrap()
}

#[test]
fn claude_and_cursor_get_mcp_servers_entries_in_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    for app in [ExternalApp::Claude, ExternalApp::Cursor] {
        let file = dir.path().join(format!("{}.json", app.as_str()));
        let plan = plan_export(&c, app, &[], latch(), Some(&file), false).unwrap();
        assert_eq!(plan.old_text, None);
        assert_eq!(plan.added, ["notion", "everything"]);
        assert_eq!(
            parse(&plan.new_text),
            serde_json::json!({"mcpServers": {
                "notion": {"command": LATCH, "args": ["bridge", "notion"]},
                "everything": {"command": LATCH, "args": ["bridge", "everything"]},
            }})
        );
        assert!(plan.diff.starts_with("--- /dev/null\n"), "{}", plan.diff);
        assert!(!file.exists(), "planning writes nothing");
        let done = apply(&plan).unwrap();
        assert!(done.written && done.backup.is_none());
        assert_eq!(fs::read_to_string(&file).unwrap(), plan.new_text);
    }
}

#[test]
fn vscode_gets_typed_servers_entries() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("mcp.json");
    let plan = plan_export(
        &c,
        ExternalApp::VsCode,
        &names(&["notion"]),
        latch(),
        Some(&file),
        false,
    )
    .unwrap();
    assert_eq!(
        parse(&plan.new_text),
        serde_json::json!({"servers": {
            "notion": {"type": "stdio", "command": LATCH, "args": ["bridge", "notion"]},
        }})
    );
}

#[test]
fn other_entries_keys_order_and_formatting_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("claude_desktop_config.json");
    let old = r#"{
    "_comment": "mine",
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {
        "_note": "do not touch",
        "github": {"command": "docker", "args": ["run", "gh"], "env": {"TOKEN": "x"}},
        "files": { "command": "npx", "args": ["fs", "/home"] }
    },
    "zLast": [1, 2, 3]
}
"#;
    fs::write(&file, old).unwrap();
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    // Only additions: every old line is still there, the last entry gains a comma.
    let removed: Vec<&str> = plan
        .diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    assert_eq!(
        removed,
        ["-        \"files\": { \"command\": \"npx\", \"args\": [\"fs\", \"/home\"] }"],
        "{}",
        plan.diff
    );
    assert!(plan.new_text.contains(
        "        \"files\": { \"command\": \"npx\", \"args\": [\"fs\", \"/home\"] },\n        \"notion\": {\n            \"command\""
    ), "{}", plan.new_text);
    let v = parse(&plan.new_text);
    let top: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(top, ["_comment", "globalShortcut", "mcpServers", "zLast"]);
    let servers: Vec<&String> = v["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(
        servers,
        ["_note", "github", "files", "notion", "everything"]
    );
    assert_eq!(v["mcpServers"]["github"]["env"]["TOKEN"], "x");
    assert_eq!(v["zLast"], serde_json::json!([1, 2, 3]));
}

#[test]
fn vscode_comments_and_trailing_commas_survive() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("mcp.json");
    let old = "// My servers\n{\n  \"inputs\": [],\n  \"servers\": {\n    // the GitHub one\n    \"github\": {\"type\": \"http\", \"url\": \"https://api.githubcopilot.com/mcp/\"}, /* keep */\n  },\n}\n";
    fs::write(&file, old).unwrap();
    let plan = plan_export(
        &c,
        ExternalApp::VsCode,
        &names(&["notion"]),
        latch(),
        Some(&file),
        false,
    )
    .unwrap();
    for kept in [
        "// My servers",
        "// the GitHub one",
        "/* keep */",
        "\"inputs\": []",
    ] {
        assert!(plan.new_text.contains(kept), "{kept}: {}", plan.new_text);
    }
    let v = parse(&plan.new_text);
    assert_eq!(v["servers"]["notion"]["type"], "stdio");
    assert_eq!(v["servers"]["github"]["type"], "http");
}

#[test]
fn a_missing_servers_key_or_an_empty_object_is_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("a.json");
    for old in [
        "{\"theme\": \"dark\"}\n",
        "{}",
        "{\"mcpServers\": {}}",
        "{\"mcpServers\": null}",
        "  \n",
    ] {
        fs::write(&file, old).unwrap();
        let plan = plan_export(
            &c,
            ExternalApp::Cursor,
            &names(&["notion"]),
            latch(),
            Some(&file),
            false,
        )
        .unwrap();
        let v = parse(&plan.new_text);
        assert_eq!(
            v["mcpServers"]["notion"]["args"],
            serde_json::json!(["bridge", "notion"]),
            "{old}"
        );
        if old.contains("theme") {
            assert_eq!(v["theme"], "dark");
        }
    }
}

#[test]
fn a_foreign_entry_of_the_same_name_is_a_conflict_unless_replace() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("c.json");
    let old = "{\"mcpServers\": {\"notion\": {\"url\": \"https://mcp.notion.com/mcp\"}}}\n";
    fs::write(&file, old).unwrap();
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    assert_eq!(plan.conflicts, ["notion"]);
    assert_eq!(plan.added, ["everything"]);
    let v = parse(&plan.new_text);
    assert_eq!(
        v["mcpServers"]["notion"]["url"],
        "https://mcp.notion.com/mcp"
    );

    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), true).unwrap();
    assert!(plan.conflicts.is_empty());
    assert_eq!(plan.updated, ["notion"]);
    let v = parse(&plan.new_text);
    assert_eq!(
        v["mcpServers"]["notion"],
        serde_json::json!({"command": LATCH, "args": ["bridge", "notion"]})
    );
}

#[test]
fn bridge_entries_are_updated_in_place_or_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("c.json");
    let old = "{\n  \"mcpServers\": {\n    \"notion\": {\"command\": \"/old/latch\", \"args\": [\"bridge\", \"notion\"], \"env\": {\"RUST_LOG\": \"debug\"}},\n    \"everything\": {\"command\": \"/opt/latch/bin/latch\", \"args\": [\"bridge\", \"everything\"]}\n  }\n}\n";
    fs::write(&file, old).unwrap();
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    assert_eq!(plan.updated, ["notion"]);
    assert_eq!(plan.unchanged, ["everything"]);
    let v = parse(&plan.new_text);
    assert_eq!(v["mcpServers"]["notion"]["command"], LATCH);
    assert_eq!(v["mcpServers"]["notion"]["env"]["RUST_LOG"], "debug");
    apply(&plan).unwrap();

    let again = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    assert!(!again.has_changes());
    assert_eq!(again.unchanged, ["notion", "everything"]);
    assert_eq!(again.diff, "");
    let done = apply(&again).unwrap();
    assert!(!done.written && done.backup.is_none());
}

#[test]
fn a_broken_file_is_an_error_with_line_and_column_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("c.json");
    let broken = "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}\n";
    fs::write(&file, broken).unwrap();
    let e = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap_err();
    match &e {
        ConfigError::Parse { line, column, .. } => assert_eq!((*line, *column), (3, 26), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("c.json:3:26"), "{e}");
    let e = {
        fs::write(&file, "{\"mcpServers\": []}").unwrap();
        plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap_err()
    };
    assert!(
        e.to_string().contains("`mcpServers` is not an object"),
        "{e}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "{\"mcpServers\": []}");
    let backups = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("latch-backup")
        })
        .count();
    assert_eq!(backups, 0);
}

#[test]
fn apply_backs_up_then_writes_private_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("c.json");
    let old = "{\"mcpServers\": {}}\n";
    fs::write(&file, old).unwrap();
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    let done = apply(&plan).unwrap();
    let backup = done.backup.expect("a backup");
    let name = backup.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("c.json.latch-backup-"), "{name}");
    assert!(name["c.json.latch-backup-".len()..].parse::<u64>().unwrap() > 1_600_000_000);
    assert_eq!(fs::read_to_string(&backup).unwrap(), old);
    assert_eq!(fs::read_to_string(&file).unwrap(), plan.new_text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [&backup, &file] {
            let mode = fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
    // A second backup in the same second gets its own name.
    let plan2 = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), true).unwrap();
    let mut forced = plan2.clone();
    forced.new_text.push('\n');
    let again = apply(&forced).unwrap().backup.unwrap();
    assert_ne!(again, backup);
    assert_eq!(fs::read_to_string(&again).unwrap(), plan.new_text);
    let leftovers = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn apply_refuses_a_file_changed_since_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("c.json");
    fs::write(&file, "{\"mcpServers\": {}}\n").unwrap();
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    let theirs = "{\"mcpServers\": {\"theirs\": {\"command\": \"x\"}}}\n";
    fs::write(&file, theirs).unwrap();
    let e = apply(&plan).unwrap_err();
    assert!(e.to_string().contains("changed since"), "{e}");
    assert_eq!(fs::read_to_string(&file).unwrap(), theirs);

    // Created meanwhile counts as changed too.
    let missing = dir.path().join("new.json");
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&missing), false).unwrap();
    fs::write(&missing, "{}").unwrap();
    assert!(apply(&plan).is_err());
    assert_eq!(fs::read_to_string(&missing).unwrap(), "{}");
}

#[test]
fn unknown_names_list_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let e = plan_export(
        &c,
        ExternalApp::Claude,
        &names(&["notion", "nope"]),
        latch(),
        Some(&dir.path().join("x.json")),
        false,
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::UnknownServer { .. }));
    assert!(e.to_string().contains("known: notion, everything"), "{e}");
}

#[test]
fn crlf_and_bom_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("c.json");
    fs::write(
        &file,
        "\u{feff}{\r\n  \"mcpServers\": {\r\n    \"a\": {\"command\": \"x\"}\r\n  }\r\n}\r\n",
    )
    .unwrap();
    let plan = plan_export(
        &c,
        ExternalApp::Cursor,
        &names(&["notion"]),
        latch(),
        Some(&file),
        false,
    )
    .unwrap();
    assert!(plan.new_text.starts_with('\u{feff}'));
    assert!(
        !plan.new_text.replace("\r\n", "").contains('\n'),
        "{:?}",
        plan.new_text
    );
    let v = parse(plan.new_text.trim_start_matches('\u{feff}'));
    assert_eq!(v["mcpServers"]["notion"]["command"], LATCH);
}

#[test]
fn the_written_claude_entry_imports_back_as_a_command_server() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let file = dir.path().join("claude_desktop_config.json");
    let plan = plan_export(&c, ExternalApp::Claude, &[], latch(), Some(&file), false).unwrap();
    apply(&plan).unwrap();
    let imported = import_file(&file, Some(ExternalApp::Claude)).unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let names: Vec<&str> = imported.servers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["notion", "everything"]);
    for (name, server) in &imported.servers {
        match server {
            ServerConfig::Command(cmd) => {
                assert_eq!(cmd.command, LATCH);
                assert_eq!(cmd.args, ["bridge", name.as_str()]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn bridge_entries_are_recognised() {
    let yes = serde_json::json!({"command": "C:\\Tools\\latch.exe", "args": ["bridge", "a"]});
    assert!(is_bridge_entry(&yes, "a"));
    assert!(!is_bridge_entry(&yes, "b"));
    let typed = serde_json::json!({"type": "stdio", "command": "latch", "args": ["bridge", "a"]});
    assert!(is_bridge_entry(&typed, "a"));
    for no in [
        serde_json::json!({"url": "https://a"}),
        serde_json::json!({"command": "/usr/bin/notlatch", "args": ["bridge", "a"]}),
        serde_json::json!({"command": "latch", "args": ["bridge", "a", "--x"]}),
        serde_json::json!({"type": "http", "command": "latch", "args": ["bridge", "a"]}),
    ] {
        assert!(!is_bridge_entry(&no, "a"), "{no}");
    }
}
