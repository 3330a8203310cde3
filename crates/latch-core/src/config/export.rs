//! Writing Latch's servers in another app's shape, so the user can hand the same servers to
//! Claude Desktop, Cursor or VS Code. Placeholders are written as they are — an export never
//! contains a secret — and Latch-only keys (`auth`, unknown keys) are left out.

use serde_json::{Map, Value};

use super::{ExternalApp, ServerConfig, TransportKind};

/// The servers as `app` expects them. Claude Desktop and Cursor get
/// `{"mcpServers": {name: {command, args, env} | {url, headers, type}}}` (no `type` for
/// automatic transport); VS Code gets `{"servers": {name: {"type": "stdio", …} |
/// {"type": "http" | "sse", url, headers}}}` — VS Code requires a type, and its `http` already
/// falls back to SSE, so an automatic transport is exported as `http`.
pub fn export(app: ExternalApp, servers: &[(String, ServerConfig)]) -> Value {
    let entries: Map<String, Value> = servers
        .iter()
        .map(|(name, server)| (name.clone(), Value::Object(entry(app, server))))
        .collect();
    let key = match app {
        ExternalApp::VsCode => "servers",
        ExternalApp::Claude | ExternalApp::Cursor => "mcpServers",
    };
    let mut top = Map::new();
    top.insert(key.into(), Value::Object(entries));
    Value::Object(top)
}

fn entry(app: ExternalApp, server: &ServerConfig) -> Map<String, Value> {
    let vscode = app == ExternalApp::VsCode;
    let mut m = Map::new();
    match server {
        ServerConfig::Command(c) => {
            if vscode {
                m.insert("type".into(), "stdio".into());
            }
            m.insert("command".into(), c.command.clone().into());
            m.insert("args".into(), c.args.clone().into());
            if !c.env.is_empty() {
                m.insert("env".into(), strings(&c.env));
            }
            if let Some(cwd) = &c.cwd {
                m.insert("cwd".into(), cwd.clone().into());
            }
        }
        ServerConfig::Remote(r) => {
            let ty = match r.transport {
                TransportKind::Sse => Some("sse"),
                TransportKind::Http => Some("http"),
                TransportKind::Auto if vscode => Some("http"),
                TransportKind::Auto => None,
            };
            if let Some(ty) = ty {
                m.insert("type".into(), ty.into());
            }
            m.insert("url".into(), r.url.clone().into());
            if !r.headers.is_empty() {
                m.insert("headers".into(), strings(&r.headers));
            }
        }
    }
    m
}

fn strings(map: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let servers = vec![
            (
                "a".to_owned(),
                ServerConfig::remote("https://a.example/mcp"),
            ),
            ("b".to_owned(), ServerConfig::command("npx", ["-y", "pkg"])),
        ];
        assert_eq!(
            export(ExternalApp::Claude, &servers),
            json!({"mcpServers": {
                "a": {"url": "https://a.example/mcp"},
                "b": {"command": "npx", "args": ["-y", "pkg"]}
            }})
        );
        assert_eq!(
            export(ExternalApp::VsCode, &servers),
            json!({"servers": {
                "a": {"type": "http", "url": "https://a.example/mcp"},
                "b": {"type": "stdio", "command": "npx", "args": ["-y", "pkg"]}
            }})
        );
    }
}
