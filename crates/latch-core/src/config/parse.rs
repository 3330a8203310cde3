//! Reading the servers file with positions. The file is parsed twice: once into a
//! `serde_json::Value` (the document Latch keeps, so unknown keys survive), and once straight
//! from the text through the typed visitors below, which check every entry's shape. Because the
//! second pass runs on serde_json's text deserializer, a wrong type, a bad URL or a `url` next to
//! a `command` comes back with the line and column where it is; a shared [`Trail`] records which
//! server and key the reader was in, so the message can name them too.

mod values;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::ConfigError;
use super::model::{
    COMMAND_KEYS, CommandServer, ProtocolChoice, REMOTE_KEYS, RemoteServer, SHARED_KEYS,
    ServerConfig, TransportKind, is_comment,
};
use values::{CommandSeed, StringMapSeed, UrlSeed};

/// Where the typed reader was when it stopped.
#[derive(Debug, Default, Clone)]
pub(crate) struct Trail {
    server: Option<String>,
    key: Option<String>,
}

type TrailCell = RefCell<Trail>;

fn set_key(trail: &TrailCell, key: Option<String>) {
    trail.borrow_mut().key = key;
}

/// A new document: `{"mcpServers": {}}`.
pub(crate) fn empty_document() -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("mcpServers".into(), Value::Object(Map::new()));
    doc
}

/// Parses and checks the text of a servers file. Blank text is an empty document.
pub(crate) fn parse_document(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(empty_document());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: bare_message(&e),
    })?;
    let trail = TrailCell::default();
    let mut de = serde_json::Deserializer::from_str(text);
    if let Err(e) = (FileSeed { trail: &trail }).deserialize(&mut de) {
        let trail = trail.into_inner();
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            server: trail.server,
            key: trail.key,
            message: bare_message(&e),
        });
    }
    match value {
        Value::Object(doc) => Ok(doc),
        // The typed pass rejects anything but an object; kept as a guard.
        _ => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            server: None,
            key: None,
            message: "the file must hold a JSON object with an `mcpServers` object".into(),
        }),
    }
}

/// Reads one entry of the document into its typed form.
pub(crate) fn entry_from_value(name: &str, value: &Value) -> Result<ServerConfig, ConfigError> {
    let trail = TrailCell::default();
    EntrySeed::new(&trail).deserialize(value).map_err(|e| {
        let key = trail.into_inner().key;
        ConfigError::InvalidServer {
            name: name.to_owned(),
            reason: match key {
                Some(k) => format!("key `{k}`: {}", bare_message(&e)),
                None => bare_message(&e),
            },
        }
    })
}

/// serde_json's message without its " at line L column C" tail (the error names those itself).
pub(crate) fn bare_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&tail).unwrap_or(&full).to_owned()
}

/// The whole file: an object whose `mcpServers` is checked; other keys are left alone.
struct FileSeed<'a> {
    trail: &'a TrailCell,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with an `mcpServers` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key != "mcpServers" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            set_key(self.trail, Some(key));
            if seen {
                return Err(A::Error::custom("`mcpServers` appears twice — keep one"));
            }
            seen = true;
            map.next_value_seed(ServersSeed { trail: self.trail })?;
            set_key(self.trail, None);
        }
        Ok(())
    }
}

/// The `mcpServers` object: names to entries; `_` keys are comments.
struct ServersSeed<'a> {
    trail: &'a TrailCell,
}

impl<'de> DeserializeSeed<'de> for ServersSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ServersSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping server names to server entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut names = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if is_comment(&name) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            *self.trail.borrow_mut() = Trail {
                server: Some(name.clone()),
                key: None,
            };
            if !names.insert(name) {
                return Err(A::Error::custom(
                    "this server name appears twice in `mcpServers` — keep one",
                ));
            }
            map.next_value_seed(EntrySeed::new(self.trail))?;
            *self.trail.borrow_mut() = Trail {
                server: None,
                key: Some("mcpServers".into()),
            };
        }
        Ok(())
    }
}

/// One server entry.
pub(crate) struct EntrySeed<'a> {
    trail: &'a TrailCell,
}

impl<'a> EntrySeed<'a> {
    pub(crate) fn new(trail: &'a TrailCell) -> Self {
        Self { trail }
    }
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = ServerConfig;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<ServerConfig, D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Default)]
struct Fields {
    url: Option<String>,
    command: Option<String>,
    args: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    cwd: Option<Option<String>>,
    headers: Option<BTreeMap<String, String>>,
    transport: Option<TransportKind>,
    protocol: Option<ProtocolChoice>,
    auth: Option<Value>,
    extra: Map<String, Value>,
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = ServerConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a server entry: an object with `url` (a remote server) or `command` (a local program)",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServerConfig, A::Error> {
        let mut f = Fields::default();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            set_key(self.trail, Some(key.clone()));
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom("this key appears twice — keep one"));
            }
            match key.as_str() {
                k if is_comment(k) => drop(map.next_value::<IgnoredAny>()?),
                "url" if f.command.is_some() => return Err(both()),
                "command" if f.url.is_some() => return Err(both()),
                "url" => f.url = Some(map.next_value_seed(UrlSeed)?),
                "command" => f.command = Some(map.next_value_seed(CommandSeed)?),
                "args" => f.args = Some(map.next_value()?),
                "cwd" => f.cwd = Some(map.next_value()?),
                "transport" => f.transport = Some(map.next_value()?),
                "protocol" => f.protocol = Some(map.next_value()?),
                "env" => f.env = Some(map.next_value_seed(StringMapSeed::env(self.trail))?),
                "headers" => {
                    f.headers = Some(map.next_value_seed(StringMapSeed::headers(self.trail))?);
                }
                "auth" => f.auth = Some(map.next_value()?).filter(|v: &Value| !v.is_null()),
                _ => drop(f.extra.insert(key, map.next_value()?)),
            }
        }
        set_key(self.trail, None);
        build(f, &seen, self.trail)
    }
}

fn both<E: de::Error>() -> E {
    E::custom(
        "an entry has either `url` (a remote server) or `command` (a local program), not both — keep one",
    )
}

fn build<E: de::Error>(
    f: Fields,
    seen: &HashSet<String>,
    trail: &TrailCell,
) -> Result<ServerConfig, E> {
    let misplaced = |keys: [&str; 5], kind: &str| match keys
        .into_iter()
        .find(|k| seen.contains(*k) && !SHARED_KEYS.contains(k))
    {
        Some(k) => {
            set_key(trail, Some(k.to_owned()));
            Err(E::custom(format!(
                "`{k}` only applies to servers with {kind}"
            )))
        }
        None => Ok(()),
    };
    if let Some(url) = f.url {
        misplaced(COMMAND_KEYS, "`command`")?;
        return Ok(ServerConfig::Remote(RemoteServer {
            url,
            headers: f.headers.unwrap_or_default(),
            transport: f.transport.unwrap_or_default(),
            protocol: f.protocol.clone().unwrap_or_default(),
            auth: f.auth,
            extra: f.extra,
        }));
    }
    if let Some(command) = f.command {
        misplaced(REMOTE_KEYS, "`url`")?;
        return Ok(ServerConfig::Command(CommandServer {
            command,
            args: f.args.unwrap_or_default(),
            env: f.env.unwrap_or_default(),
            cwd: f.cwd.flatten(),
            protocol: f.protocol.unwrap_or_default(),
            extra: f.extra,
        }));
    }
    Err(E::custom(
        "missing `url` (for a remote server) or `command` (for a local program) — add one",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> ConfigError {
        parse_document(Path::new("s.json"), text).unwrap_err()
    }

    #[test]
    fn blank_is_empty() {
        let doc = parse_document(Path::new("s.json"), " \n").unwrap();
        assert_eq!(Value::Object(doc), serde_json::json!({"mcpServers": {}}));
    }

    #[test]
    fn syntax_error_has_position() {
        match invalid("{\n  \"mcpServers\": {\n    \"a\": {\"url\": \"https://x\" \"b\"}\n}}") {
            ConfigError::Parse {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!((line, column), (3, 30));
                assert_eq!(message, "expected `,` or `}`");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn header_value_error_names_header_not_value() {
        let e = invalid(
            r#"{"mcpServers": {"a": {"url": "https://x", "headers": {"X-T": "sec\u0001ret"}}}}"#,
        );
        let s = e.to_string();
        assert!(s.contains("server `a`, key `headers.X-T`"), "{s}");
        assert!(!s.contains("sec"), "{s}");
    }

    #[test]
    fn headers_as_string_is_not_echoed() {
        let s =
            invalid(r#"{"mcpServers": {"a": {"url": "https://x", "headers": "Bearer hunter2"}}}"#)
                .to_string();
        assert!(
            s.contains("`headers` must be an object") && !s.contains("hunter2"),
            "{s}"
        );
    }

    #[test]
    fn misplaced_and_missing_keys() {
        let s = invalid(r#"{"mcpServers": {"a": {"url": "https://x", "args": []}}}"#).to_string();
        assert!(
            s.contains("key `args`: `args` only applies to servers with `command`"),
            "{s}"
        );
        let s = invalid(r#"{"mcpServers": {"a": {"note": 1}}}"#).to_string();
        assert!(s.contains("server `a`: missing `url`"), "{s}");
        let s = invalid(r#"{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}"#)
            .to_string();
        assert!(s.contains("appears twice"), "{s}");
        let s = invalid(r#"{"mcpServers": []}"#).to_string();
        assert!(s.contains("key `mcpServers`"), "{s}");
        let s = invalid(r#"[1]"#).to_string();
        assert!(
            s.contains("expected a JSON object with an `mcpServers` object"),
            "{s}"
        );
    }

    #[test]
    fn entry_from_value_reads_entries() {
        let v = serde_json::json!({"command": "npx", "args": ["-y"], "_c": 1, "x": true});
        match entry_from_value("e", &v).unwrap() {
            ServerConfig::Command(c) => {
                assert_eq!(c.args, ["-y"]);
                assert_eq!(c.extra.keys().collect::<Vec<_>>(), ["x"]);
            }
            other => panic!("{other:?}"),
        }
        let e = entry_from_value("e", &serde_json::json!({"url": 5})).unwrap_err();
        assert!(e.to_string().contains("server `e`: key `url`"), "{e}");
    }
}
