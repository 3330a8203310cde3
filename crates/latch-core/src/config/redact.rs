//! `Debug` for server entries that is safe to log: header and env values, `auth` details and
//! unknown keys' values are often secrets, so only their names are printed (and a URL's query
//! string is hidden). `tracing` fields like `?server` rely on this.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::{CommandServer, RemoteServer, ServerConfig};

/// The keys of a map, none of its values.
struct Keys<'a>(&'a Map<String, Value>);

impl fmt::Debug for Keys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

struct Names<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The URL without its query string (which sometimes carries a key).
fn redacted_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?[REDACTED]"),
        None => url.to_owned(),
    }
}

impl fmt::Debug for RemoteServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth_type = self.auth.as_ref().map(|a| {
            a.get("type")
                .and_then(Value::as_str)
                .unwrap_or("[REDACTED]")
        });
        f.debug_struct("RemoteServer")
            .field("url", &redacted_url(&self.url))
            .field("headers", &Names(&self.headers))
            .field("transport", &self.transport)
            .field("auth", &auth_type)
            .field("extra", &Keys(&self.extra))
            .finish()
    }
}

impl fmt::Debug for CommandServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandServer")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &Names(&self.env))
            .field("cwd", &self.cwd)
            .field("extra", &Keys(&self.extra))
            .finish()
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Remote(r) => r.fmt(f),
            Self::Command(c) => c.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_hides_header_and_env_values() {
        let mut r = RemoteServer {
            url: "https://x.example/mcp?key=hunter2".into(),
            ..Default::default()
        };
        r.headers
            .insert("Authorization".into(), "Bearer hunter2".into());
        r.auth = Some(json!({"type": "client_credentials", "client_secret": "hunter2"}));
        r.extra.insert("note".into(), json!("hunter2"));
        let d = format!("{:?}", ServerConfig::Remote(r));
        assert!(
            d.contains("Authorization") && d.contains("client_credentials") && d.contains("note")
        );
        assert!(!d.contains("hunter2"), "{d}");

        let mut c = CommandServer {
            command: "npx".into(),
            ..Default::default()
        };
        c.env.insert("GITHUB_TOKEN".into(), "hunter2".into());
        let d = format!("{c:?}");
        assert!(d.contains("GITHUB_TOKEN") && !d.contains("hunter2"), "{d}");
    }
}
