//! The typed view of one server entry: a remote server reached by URL, or a local program
//! started with a command. These are what the rest of Latch connects to; the JSON document in
//! [`super::ConfigFile`] stays the source of truth, so anything these types do not model is
//! carried in `extra` and written back unchanged. `Debug` never prints header or env values.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ConfigError;

/// One server entry of the servers file.
#[derive(Clone, PartialEq)]
pub enum ServerConfig {
    /// `{"url": "https://…"}`: a server reached over HTTP.
    Remote(RemoteServer),
    /// `{"command": "npx", "args": [...]}`: a local program spoken to over stdio.
    Command(CommandServer),
}

/// A server reached over HTTP (Streamable HTTP or the legacy HTTP+SSE transport).
#[derive(Clone, PartialEq, Default)]
pub struct RemoteServer {
    /// An `http` or `https` URL.
    pub url: String,
    /// Extra request headers; values may hold `${secret:NAME}` / `${env:NAME}` placeholders.
    pub headers: BTreeMap<String, String>,
    /// Which HTTP transport to use.
    pub transport: TransportKind,
    /// Which MCP protocol era to speak.
    pub protocol: ProtocolChoice,
    /// How to sign in, kept as written (typed by the sign-in code).
    pub auth: Option<Value>,
    /// Keys of this entry Latch does not know, kept so they survive a save.
    pub extra: Map<String, Value>,
}

/// A local server: Latch starts the program and speaks MCP over its stdin and stdout.
#[derive(Clone, PartialEq, Default)]
pub struct CommandServer {
    /// The program to run (looked up on `PATH` when not a path).
    pub command: String,
    /// Its arguments; may hold placeholders.
    pub args: Vec<String>,
    /// Extra environment variables; values may hold placeholders.
    pub env: BTreeMap<String, String>,
    /// The working directory, if not Latch's own.
    pub cwd: Option<String>,
    /// Which MCP protocol era to speak.
    pub protocol: ProtocolChoice,
    /// Keys of this entry Latch does not know, kept so they survive a save.
    pub extra: Map<String, Value>,
}

/// The HTTP transport of a remote server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Try Streamable HTTP, fall back to HTTP+SSE.
    #[default]
    Auto,
    /// Streamable HTTP only.
    #[serde(
        alias = "streamable-http",
        alias = "streamableHttp",
        alias = "streamable_http"
    )]
    Http,
    /// The legacy HTTP+SSE transport only.
    Sse,
}

impl TransportKind {
    /// The name used in the file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Http => "http",
            Self::Sse => "sse",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TransportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "http" | "streamable-http" | "streamableHttp" | "streamable_http" => Ok(Self::Http),
            "sse" => Ok(Self::Sse),
            other => Err(format!(
                "unknown transport `{other}` — use auto, http or sse"
            )),
        }
    }
}

/// Which MCP protocol era Latch speaks with a server (`"protocol"` in its entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ProtocolChoice {
    /// Find out: the 2026-07-28 wire first, the 2025 `initialize` handshake when the server is
    /// older. What was found is remembered per server.
    #[default]
    Auto,
    /// Only this era: `2026-07-28` (stateless, no handshake) or `2025-11-25` (the
    /// `initialize` handshake, where the server may settle on an older 2025 or 2024 version).
    Pinned(String),
}

/// The protocol versions `"protocol"` may name, newest first.
pub const PROTOCOL_VERSIONS: [&str; 2] = ["2026-07-28", "2025-11-25"];

impl ProtocolChoice {
    /// The name used in the file and on the command line.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Auto => "auto",
            Self::Pinned(version) => version,
        }
    }
}

impl fmt::Display for ProtocolChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            v if PROTOCOL_VERSIONS.contains(&v) => Ok(Self::Pinned(v.to_owned())),
            other => Err(format!(
                "unknown protocol `{other}` — use auto, or one of {}",
                PROTOCOL_VERSIONS.join(", ")
            )),
        }
    }
}

impl<'de> Deserialize<'de> for ProtocolChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for ProtocolChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Keys with a meaning in a remote entry.
pub(crate) const REMOTE_KEYS: [&str; 5] = ["url", "headers", "transport", "auth", "protocol"];
/// Keys with a meaning in a command entry.
pub(crate) const COMMAND_KEYS: [&str; 5] = ["command", "args", "env", "cwd", "protocol"];
/// Keys with a meaning in both kinds of entry.
pub(crate) const SHARED_KEYS: [&str; 1] = ["protocol"];

/// The keys an `auth` entry may hold (camel-cased; `_comment` keys are ignored).
pub const AUTH_KEYS: &[&str] = &[
    "type",
    "credentials",
    "tokenUrl",
    "authorizationUrl",
    "deviceAuthorizationUrl",
    "deviceAuthorizationEndpoint",
    "revocationUrl",
    "clientId",
    "clientSecret",
    "clientMetadataUrl",
    "privateKeyPem",
    "signingAlgorithm",
    "scopes",
    "callbackPort",
    "redirect",
    "dpop",
    "org",
    "tokenFile",
    "tokenEnv",
    "tokenCommand",
];

/// Whether a key is a comment (`_note`), ignored but kept.
pub(crate) fn is_comment(key: &str) -> bool {
    key.starts_with('_')
}

impl ServerConfig {
    /// A remote server at `url` with no headers, automatic transport and no `auth`.
    pub fn remote(url: impl Into<String>) -> Self {
        Self::Remote(RemoteServer {
            url: url.into(),
            ..RemoteServer::default()
        })
    }

    /// A local server started with `command` and `args`.
    pub fn command(
        command: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::Command(CommandServer {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            ..CommandServer::default()
        })
    }

    /// The keys of this entry Latch does not know.
    pub fn extra(&self) -> &Map<String, Value> {
        match self {
            Self::Remote(r) => &r.extra,
            Self::Command(c) => &c.extra,
        }
    }

    /// Checks what the file loader checks: a usable http(s) URL and valid header names and
    /// values, or a non-empty command. `name` only labels the error.
    pub fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let result = match self {
            Self::Remote(r) => check_url(&r.url)
                .map_err(|e| format!("`url`: {e}"))
                .and_then(|()| {
                    r.headers.iter().try_for_each(|(k, v)| {
                        check_header_name(k)?;
                        check_header_value(v)
                            .map_err(|e| format!("header `{}`: {e}", k.escape_debug()))
                    })
                }),
            Self::Command(c) if c.command.trim().is_empty() => Err("`command` is empty".to_owned()),
            Self::Command(_) => Ok(()),
        };
        result.map_err(|reason| ConfigError::InvalidServer {
            name: name.to_owned(),
            reason,
        })
    }

    /// The entry as it is written to the servers file.
    pub fn to_json(&self) -> Value {
        Value::Object(self.to_map())
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let extra = match self {
            Self::Remote(r) => {
                m.insert("url".into(), r.url.clone().into());
                if r.transport != TransportKind::Auto {
                    m.insert("transport".into(), r.transport.as_str().into());
                }
                if r.protocol != ProtocolChoice::Auto {
                    m.insert("protocol".into(), r.protocol.as_str().into());
                }
                if !r.headers.is_empty() {
                    m.insert("headers".into(), string_map(&r.headers));
                }
                if let Some(auth) = &r.auth {
                    m.insert("auth".into(), auth.clone());
                }
                &r.extra
            }
            Self::Command(c) => {
                m.insert("command".into(), c.command.clone().into());
                if !c.args.is_empty() {
                    m.insert("args".into(), c.args.clone().into());
                }
                if !c.env.is_empty() {
                    m.insert("env".into(), string_map(&c.env));
                }
                if let Some(cwd) = &c.cwd {
                    m.insert("cwd".into(), cwd.clone().into());
                }
                if c.protocol != ProtocolChoice::Auto {
                    m.insert("protocol".into(), c.protocol.as_str().into());
                }
                &c.extra
            }
        };
        for (k, v) in extra {
            let known = REMOTE_KEYS.contains(&k.as_str()) || COMMAND_KEYS.contains(&k.as_str());
            if !known && !is_comment(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        m
    }

    /// Writes this entry over an existing JSON object, keeping the positions of keys that stay
    /// and every `_comment` key; keys this entry no longer has are dropped.
    pub(crate) fn write_into(&self, obj: &mut Map<String, Value>) {
        let fresh = self.to_map();
        obj.retain(|k, _| is_comment(k) || fresh.contains_key(k));
        for (k, v) in fresh {
            obj.insert(k, v);
        }
    }
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Checks a server URL; the message never repeats the URL (its query may hold a key).
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL ({e})"))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" | "https" => Err("the URL has no host".to_owned()),
        other => Err(format!(
            "the URL must start with http:// or https:// (this one uses `{other}:`)"
        )),
    }
}

pub(crate) fn check_header_name(name: &str) -> Result<(), String> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map(drop)
        .map_err(|_| {
            format!(
                "`{}` is not a valid HTTP header name (use letters, digits and - only)",
                name.escape_debug()
            )
        })
}

/// Checks a header value as written (placeholders included); never echoes the value.
pub(crate) fn check_header_value(value: &str) -> Result<(), String> {
    http::HeaderValue::from_str(value).map(drop).map_err(|_| {
        "not a valid HTTP header value (no line breaks, control or non-ASCII characters)".to_owned()
    })
}

/// Checks a server name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
pub fn validate_name(name: &str) -> Result<(), ConfigError> {
    let b = name.as_bytes();
    let ok = (1..=64).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidName {
            name: name.to_owned(),
        })
    }
}

impl Serialize for ServerConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ServerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let trail = std::cell::RefCell::default();
        serde::de::DeserializeSeed::deserialize(super::parse::EntrySeed::new(&trail), deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        for ok in ["a", "notion", "madgicx-google", "A.b_c-9", &"x".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", ".a", "a b", "a/b", "é", &"x".repeat(65)] {
            let e = validate_name(bad).unwrap_err();
            assert!(e.to_string().contains("letters, digits"), "{bad}");
        }
    }

    #[test]
    fn transport_parsing() {
        for (s, t) in [
            ("auto", TransportKind::Auto),
            ("http", TransportKind::Http),
            ("streamable-http", TransportKind::Http),
            ("streamableHttp", TransportKind::Http),
            ("streamable_http", TransportKind::Http),
            ("sse", TransportKind::Sse),
        ] {
            assert_eq!(s.parse::<TransportKind>().unwrap(), t);
            assert_eq!(
                serde_json::from_value::<TransportKind>(json!(s)).unwrap(),
                t
            );
        }
        assert!("ws".parse::<TransportKind>().is_err());
        assert_eq!(
            serde_json::to_value(TransportKind::Sse).unwrap(),
            json!("sse")
        );
    }

    #[test]
    fn validate_checks_url_and_headers() {
        assert!(
            ServerConfig::remote("https://a.example/mcp")
                .validate("a")
                .is_ok()
        );
        let e = ServerConfig::remote("ftp://a.example")
            .validate("a")
            .unwrap_err();
        assert!(e.to_string().contains("http:// or https://"), "{e}");
        let mut r = RemoteServer {
            url: "https://a.example".into(),
            ..Default::default()
        };
        r.headers
            .insert("X-Token".into(), "line\nbreak-secret".into());
        let e = ServerConfig::Remote(r)
            .validate("a")
            .unwrap_err()
            .to_string();
        assert!(e.contains("X-Token") && !e.contains("break-secret"), "{e}");
        assert!(ServerConfig::command(" ", [""; 0]).validate("c").is_err());
    }

    #[test]
    fn write_into_keeps_comments_and_order() {
        let mut obj =
            json!({"_note": "mine", "headers": {"A": "1"}, "url": "https://old", "weird": 1})
                .as_object()
                .unwrap()
                .clone();
        let mut r = RemoteServer {
            url: "https://new".into(),
            ..Default::default()
        };
        r.headers.insert("B".into(), "2".into());
        ServerConfig::Remote(r).write_into(&mut obj);
        let keys: Vec<_> = obj.keys().cloned().collect();
        assert_eq!(keys, ["_note", "headers", "url"]);
        assert_eq!(obj["url"], "https://new");
    }
}
