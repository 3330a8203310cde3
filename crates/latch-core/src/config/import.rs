//! Importing servers from Claude Desktop, VS Code and Cursor. Their files are close to Latch's
//! but not the same: VS Code nests servers under `servers` (or `mcp.servers` in settings.json),
//! writes JSONC and marks each entry with `type`; Cursor may add `type` too; and any of them may
//! hold names or placeholders Latch cannot use. Import is forgiving: an entry it cannot read is
//! left out with a warning rather than failing the whole file, and names are made valid.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::model::{is_comment, validate_name};
use super::parse::bare_message;
use super::{
    CommandServer, ConfigError, ExternalApp, RemoteServer, ServerConfig, TransportKind, jsonc,
};

/// What an import found.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The file that was read.
    pub path: PathBuf,
    /// The servers, in file order, with names Latch accepts.
    pub servers: Vec<(String, ServerConfig)>,
    /// Things the user should know: entries left out, names changed, placeholders Latch
    /// cannot expand (VS Code's `${input:…}`), keys Latch does not use.
    pub warnings: Vec<String>,
}

/// Reads the servers of another app's configuration file. With `app` unknown the shape is
/// detected: `mcpServers` (Claude Desktop, Cursor, Latch) or `servers` / `mcp.servers` (VS Code).
pub fn import_file(path: &Path, app: Option<ExternalApp>) -> Result<Imported, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let doc: Value = serde_json::from_str(&jsonc::strip(text)).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: bare_message(&e),
    })?;
    let entries = locate(&doc, app).ok_or_else(|| ConfigError::ImportShape {
        path: path.to_path_buf(),
        message: shape_hint(app).to_owned(),
    })?;

    let mut imported = Imported {
        path: path.to_path_buf(),
        servers: Vec::new(),
        warnings: Vec::new(),
    };
    let mut taken = HashSet::new();
    for (raw_name, value) in entries.iter().filter(|(k, _)| !is_comment(k)) {
        let server = match read_entry(value) {
            Ok((server, unused)) => {
                for key in unused {
                    imported.warnings.push(format!(
                        "server `{raw_name}`: kept `{key}`, which Latch does not use"
                    ));
                }
                server
            }
            Err(reason) => {
                imported
                    .warnings
                    .push(format!("server `{raw_name}` was left out: {reason}"));
                continue;
            }
        };
        let name = unique_name(raw_name, &mut taken);
        if &name != raw_name {
            imported.warnings.push(format!(
                "server `{raw_name}` was renamed `{name}` (names use letters, digits, `.`, `_` and `-`)"
            ));
        }
        if let Err(e) = server.validate(&name) {
            imported.warnings.push(format!("{e}; it was left out"));
            continue;
        }
        placeholder_warnings(&name, &server, &mut imported.warnings);
        imported.servers.push((name, server));
    }
    if imported.servers.is_empty() && imported.warnings.is_empty() {
        imported
            .warnings
            .push("the file lists no servers".to_owned());
    }
    Ok(imported)
}

/// Imports from the first of `candidates` that exists (see [`ExternalApp::default_paths`]).
pub fn import_from_paths(
    app: ExternalApp,
    candidates: &[PathBuf],
) -> Result<Imported, ConfigError> {
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => import_file(path, Some(app)),
        None => Err(ConfigError::ImportNotFound {
            app: app.display_name().to_owned(),
            looked_at: candidates.to_vec(),
        }),
    }
}

/// Imports from the app's usual file: the first of [`ExternalApp::default_paths`] that exists.
pub fn import_app(app: ExternalApp) -> Result<Imported, ConfigError> {
    import_from_paths(app, &app.default_paths())
}

fn locate(doc: &Value, app: Option<ExternalApp>) -> Option<&Map<String, Value>> {
    let top = doc.as_object()?;
    let mcp_servers = || top.get("mcpServers").and_then(Value::as_object);
    let vscode = || {
        top.get("servers")
            .and_then(Value::as_object)
            .or_else(|| top.get("mcp")?.get("servers")?.as_object())
    };
    match app {
        Some(ExternalApp::Claude | ExternalApp::Cursor) => mcp_servers(),
        Some(ExternalApp::VsCode) => vscode(),
        None => mcp_servers().or_else(vscode),
    }
}

fn shape_hint(app: Option<ExternalApp>) -> &'static str {
    match app {
        Some(ExternalApp::Claude) => {
            "no `mcpServers` object found — is this Claude Desktop's claude_desktop_config.json?"
        }
        Some(ExternalApp::Cursor) => "no `mcpServers` object found — is this Cursor's mcp.json?",
        Some(ExternalApp::VsCode) => {
            "no `servers` object (or `mcp.servers` in settings.json) found — is this VS Code's mcp.json?"
        }
        None => {
            "found neither `mcpServers` (Claude Desktop, Cursor, Latch) nor `servers` (VS Code) — is this an MCP configuration file?"
        }
    }
}

enum Kind {
    Stdio,
    Remote(TransportKind),
}

/// One entry in any of the supported shapes; returns the server and the keys kept unused.
fn read_entry(value: &Value) -> Result<(ServerConfig, Vec<String>), String> {
    let obj = value.as_object().ok_or("the entry is not an object")?;
    let has = |k: &str| obj.contains_key(k);
    if has("url") && has("command") {
        return Err("it has both `url` and `command`".into());
    }
    let kind = match obj.get("type") {
        None | Some(Value::Null) => match obj.get("transport") {
            _ if has("command") => Kind::Stdio,
            Some(t) => Kind::Remote(
                serde_json::from_value(t.clone())
                    .map_err(|_| "unknown `transport`; use auto, http or sse")?,
            ),
            None if has("url") => Kind::Remote(TransportKind::Auto),
            None => return Err("it has neither `command` nor `url`".into()),
        },
        Some(Value::String(t)) => match t.as_str() {
            "stdio" => Kind::Stdio,
            "sse" => Kind::Remote(TransportKind::Sse),
            "http" | "streamable-http" | "streamableHttp" | "streamable_http" => {
                Kind::Remote(TransportKind::Http)
            }
            other => {
                return Err(format!(
                    "unknown `type` `{other}` (expected stdio, http or sse)"
                ));
            }
        },
        Some(_) => return Err("`type` is not a string".into()),
    };
    let used: &[&str] = match kind {
        Kind::Stdio => &["type", "command", "args", "env", "cwd"],
        Kind::Remote(_) => &["type", "transport", "url", "headers", "auth"],
    };
    let extra: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| !used.contains(&k.as_str()) && !is_comment(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unused = extra.keys().cloned().collect();
    let server = match kind {
        Kind::Stdio => ServerConfig::Command(CommandServer {
            command: string(obj, "command")?.ok_or("`type` is stdio but there is no `command`")?,
            args: match obj.get("args") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| scalar(v).ok_or("`args` must hold strings"))
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("`args` is not a list".into()),
            },
            env: string_map(obj, "env")?,
            cwd: string(obj, "cwd")?,
            protocol: Default::default(),
            extra,
        }),
        Kind::Remote(transport) => ServerConfig::Remote(RemoteServer {
            url: string(obj, "url")?.ok_or("it is a remote server but there is no `url`")?,
            headers: string_map(obj, "headers")?,
            transport,
            auth: obj.get("auth").filter(|v| !v.is_null()).cloned(),
            protocol: Default::default(),
            extra,
        }),
    };
    Ok((server, unused))
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

/// Strings, numbers and booleans as text (people write `"PORT": 8080`).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_map(obj: &Map<String, Value>, key: &str) -> Result<BTreeMap<String, String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let v = scalar(v).ok_or_else(|| format!("`{key}.{k}` is not a string"))?;
                Ok((k.clone(), v))
            })
            .collect(),
        Some(_) => Err(format!("`{key}` is not an object of names to values")),
    }
}

/// A valid, not yet taken name close to `raw`.
fn unique_name(raw: &str, taken: &mut HashSet<String>) -> String {
    let mut base: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    base = base
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(64)
        .collect();
    if base.is_empty() {
        base = "server".to_owned();
    }
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) || validate_name(&name).is_err() {
        let suffix = format!("-{n}");
        let keep = base.len().min(64 - suffix.len());
        name = format!("{}{suffix}", &base[..keep]);
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// Warns about `${…}` that Latch will not be able to expand (VS Code inputs and variables).
fn placeholder_warnings(name: &str, server: &ServerConfig, warnings: &mut Vec<String>) {
    let mut fields: Vec<(String, &str)> = Vec::new();
    match server {
        ServerConfig::Remote(r) => {
            fields.push(("`url`".into(), &r.url));
            fields.extend(
                r.headers
                    .iter()
                    .map(|(k, v)| (format!("header `{k}`"), v.as_str())),
            );
        }
        ServerConfig::Command(c) => {
            fields.push(("`command`".into(), &c.command));
            fields.extend(c.args.iter().map(|a| ("`args`".to_owned(), a.as_str())));
            fields.extend(
                c.env
                    .iter()
                    .map(|(k, v)| (format!("env `{k}`"), v.as_str())),
            );
            fields.extend(c.cwd.iter().map(|d| ("`cwd`".to_owned(), d.as_str())));
        }
    }
    for (field, value) in fields {
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let inner = &after[..after.find('}').unwrap_or(after.len())];
            rest = &after[inner.len().min(after.len())..];
            if inner.starts_with("env:") || inner.starts_with("secret:") {
                continue;
            }
            warnings.push(if let Some(id) = inner.strip_prefix("input:") {
                format!(
                    "server `{name}`: {field} uses `${{input:{id}}}`, a VS Code input Latch cannot ask for — store the value with `latch credentials set NAME` and write `${{secret:NAME}}` in its place"
                )
            } else {
                format!(
                    "server `{name}`: {field} uses `${{{inner}}}`, which Latch does not expand — replace it with the value, `${{env:NAME}}` or `${{secret:NAME}}`"
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_valid_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(unique_name("github", &mut taken), "github");
        assert_eq!(unique_name("github", &mut taken), "github-2");
        assert_eq!(unique_name("My Server!", &mut taken), "My-Server");
        assert_eq!(unique_name("@scope/pkg", &mut taken), "scope-pkg");
        assert_eq!(unique_name("***", &mut taken), "server");
        let long = unique_name(&"x".repeat(80), &mut taken);
        assert_eq!(long.len(), 64);
        let long2 = unique_name(&"x".repeat(80), &mut taken);
        assert!(long2.ends_with("-2") && long2.len() == 64);
    }

    #[test]
    fn entry_kinds() {
        let (s, _) = read_entry(&serde_json::json!({"url": "https://a", "type": "sse"})).unwrap();
        assert!(matches!(
            s,
            ServerConfig::Remote(RemoteServer {
                transport: TransportKind::Sse,
                ..
            })
        ));
        let (s, unused) =
            read_entry(&serde_json::json!({"command": "x", "args": ["a", 1], "env": {"P": 80}, "disabled": true}))
                .unwrap();
        match s {
            ServerConfig::Command(c) => {
                assert_eq!(c.args, ["a", "1"]);
                assert_eq!(c.env["P"], "80");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(unused, ["disabled"]);
        assert!(read_entry(&serde_json::json!({"type": "stdio", "url": "https://a"})).is_err());
        assert!(read_entry(&serde_json::json!({"type": "ws", "url": "https://a"})).is_err());
        assert!(read_entry(&serde_json::json!({"url": "https://a", "command": "x"})).is_err());
    }
}
