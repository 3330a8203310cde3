//! The call history on disk: every tool call a person makes is kept, per server, in
//! `$LATCH_HOME/history/<server>.jsonl`, so it can be looked at and run again after a restart.
//! One JSON record per line, appended and fsync'd (a crash loses at most the call being
//! written), the file readable only by the user; read newest first. It stays bounded: the
//! newest [`KEEP`] records are kept (the file is compacted once it holds [`COMPACT_AT`]), and
//! no record is larger than [`MAX_RECORD_BYTES`] — a 50 MB image is replaced by a note saying
//! it was there. Secrets never reach the disk: argument values under names that look like
//! secrets (`token`, `password`, `api_key`, `authorization`, `cookie`…, at any depth) or that
//! the tool's input schema marks `writeOnly` or `format: "password"` are stored as
//! `"[redacted]"`. A damaged line is skipped with a warning; the others are still read.

use std::{
    collections::HashMap,
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tools::{ContentView, ToolResult};

/// How many records per server are kept.
pub const KEEP: usize = 200;
/// The file is compacted to the newest [`KEEP`] records when it holds this many (compacting
/// on every call past [`KEEP`] would rewrite the whole file each time).
pub const COMPACT_AT: usize = KEEP + 50;
/// The largest record written: bigger results lose their binary data, then their long texts.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// What a redacted argument value becomes.
pub const REDACTED: &str = "[redacted]";
/// The longest text kept of one content block when a record is too large.
const TEXT_KEPT: usize = 16 * 1024;

/// One tool call, as kept in the history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CallRecord {
    pub id: String,
    pub server: String,
    pub tool: String,
    /// The arguments sent, secrets redacted.
    pub arguments: Value,
    /// When the call started, unix milliseconds.
    #[ts(type = "number")]
    pub started_at: u64,
    #[ts(type = "number")]
    pub duration_ms: u64,
    pub status: CallStatus,
    #[serde(default)]
    pub result: Option<ToolResult>,
    /// Why the call failed or was cancelled, in words.
    #[serde(default)]
    pub error: Option<String>,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum CallStatus {
    /// The tool answered.
    Ok,
    /// The tool answered with `isError`.
    ToolError,
    /// The person (or a timeout) cancelled it.
    Cancelled,
    /// No answer: the connection or the protocol failed.
    Failed,
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("could not write the call record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The history folder. Cheap to clone (clones share their counts); writers in this process
/// and in others (the app, the CLI) take a lock file in the folder before they append or
/// compact.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
    /// Lines per server file as far as this process knows (counted on first use).
    lines: Arc<Mutex<HashMap<String, usize>>>,
}

impl History {
    /// The history in `dir`. Nothing is touched until the first write, which creates the
    /// folder with mode 0700.
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            lines: Arc::default(),
        }
    }

    /// `history/` in Latch's folder ([`crate::config::home_dir`]).
    pub fn default_location() -> Self {
        Self::open(crate::config::home_dir().join("history"))
    }

    /// The folder the history lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `server`'s calls.
    pub fn path(&self, server: &str) -> PathBuf {
        self.dir.join(format!("{}.jsonl", file_stem(server)))
    }

    /// Append `record` to its server's history, its secrets redacted (by name, and by
    /// `input_schema` when given) and its size capped; compacts the file when it is due.
    pub fn record(
        &self,
        record: &CallRecord,
        input_schema: Option<&Value>,
    ) -> Result<(), HistoryError> {
        let mut record = record.clone();
        redact(&mut record.arguments, input_schema);
        let line = encode_capped(&mut record)?;
        let path = self.path(&record.server);
        let _lock = self.lock()?;
        append_line(&path, &line).map_err(|source| HistoryError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let count = match lines.get(&record.server) {
            Some(count) => count + 1,
            None => count_lines(&path),
        };
        let count = if count >= COMPACT_AT {
            compact(&path).map_err(|source| HistoryError::Io {
                action: "compact",
                path: path.clone(),
                source,
            })?
        } else {
            count
        };
        lines.insert(record.server.clone(), count);
        Ok(())
    }

    /// `server`'s calls, newest first (at most [`KEEP`]). A damaged line is skipped with a
    /// warning; a missing file is an empty history.
    pub fn list(&self, server: &str) -> Result<Vec<CallRecord>, HistoryError> {
        let path = self.path(server);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(HistoryError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        let mut records = parse_lines(&text, &path);
        records.reverse();
        // Newest start first; among equal starts, the later written first (stable sort).
        records.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        records.truncate(KEEP);
        Ok(records)
    }

    /// Forget `server`'s calls.
    pub fn clear(&self, server: &str) -> Result<(), HistoryError> {
        let path = self.path(server);
        let _lock = self.lock()?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(HistoryError::Io {
                    action: "remove",
                    path,
                    source,
                });
            }
        }
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(server.to_owned(), 0);
        Ok(())
    }

    /// The server was removed from the config: its history goes too.
    pub fn remove_server(&self, server: &str) -> Result<(), HistoryError> {
        self.clear(server)?;
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(server);
        Ok(())
    }

    /// The folder's lock file, held while appending or compacting (other processes too).
    fn lock(&self) -> Result<File, HistoryError> {
        let path = self.dir.join(".lock");
        let locked = create_private_dir(&self.dir)
            .and_then(|()| open_private(&path, false))
            .and_then(|file| {
                fs4::FileExt::lock(&file)?;
                Ok(file)
            });
        locked.map_err(|source| HistoryError::Io {
            action: "lock",
            path,
            source,
        })
    }
}

/// A file name for a server name: letters, digits, `-`, `_` and inner dots are kept; any
/// other byte (a `/`, a leading dot…) becomes `%XX`, so no name leaves the folder.
fn file_stem(server: &str) -> String {
    let mut stem = String::with_capacity(server.len());
    for (i, byte) in server.bytes().enumerate() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => stem.push(byte as char),
            b'.' if i > 0 => stem.push('.'),
            _ => stem.push_str(&format!("%{byte:02X}")),
        }
    }
    if stem.is_empty() {
        stem.push_str("%00");
    }
    stem
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens (creating with mode 0600) `path` for appending, or for writing from the start.
fn open_private(path: &Path, truncate: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true);
    if truncate {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// One write of the whole line, then fsync: a reader sees the line whole or not at all.
fn append_line(path: &Path, line: &[u8]) -> io::Result<()> {
    let mut file = open_private(path, false)?;
    let mut buffer = Vec::with_capacity(line.len() + 1);
    buffer.extend_from_slice(line);
    buffer.push(b'\n');
    file.write_all(&buffer)?;
    file.sync_data()
}

fn count_lines(path: &Path) -> usize {
    fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count())
        .unwrap_or(0)
}

/// The records of a file in the order written, damaged lines skipped with a warning (which
/// names the line, never its content: it may hold anything).
fn parse_lines(text: &str, path: &Path) -> Vec<CallRecord> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .filter_map(|(i, line)| match serde_json::from_str(line) {
            Ok(record) => Some(record),
            Err(error) => {
                tracing::warn!(
                    file = %path.display(),
                    line = i + 1,
                    column = error.column(),
                    "skipping a damaged line of the call history"
                );
                None
            }
        })
        .collect()
}

/// Rewrite `path` with its newest [`KEEP`] records (temp file, fsync, rename): a crash leaves
/// the old file or the new one. Returns the lines kept.
fn compact(path: &Path) -> io::Result<usize> {
    let text = fs::read_to_string(path)?;
    let records = parse_lines(&text, path);
    let kept = &records[records.len().saturating_sub(KEEP)..];
    let mut out = Vec::new();
    for record in kept {
        serde_json::to_writer(&mut out, record).map_err(io::Error::other)?;
        out.push(b'\n');
    }
    let temp = path.with_extension("jsonl.tmp");
    let mut file = open_private(&temp, true)?;
    file.write_all(&out)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(kept.len())
}

/// The record as one JSON line of at most [`MAX_RECORD_BYTES`]: over that, binary data goes
/// first (each image, audio clip or blob becomes a note), then long texts are cut, then the
/// structured content and finally the whole result are dropped, each with a note.
fn encode_capped(record: &mut CallRecord) -> Result<Vec<u8>, serde_json::Error> {
    let line = serde_json::to_vec(record)?;
    if line.len() <= MAX_RECORD_BYTES {
        return Ok(line);
    }
    let steps: [fn(&mut ToolResult) -> bool; 3] = [drop_binary, cut_texts, drop_structured];
    for step in steps {
        let changed = record.result.as_mut().is_some_and(step);
        if changed {
            let line = serde_json::to_vec(record)?;
            if line.len() <= MAX_RECORD_BYTES {
                return Ok(line);
            }
        }
    }
    if record.result.take().is_some() {
        let note = "the result was too large to keep in the history";
        record.error = Some(match record.error.take() {
            Some(error) => format!("{error} ({note})"),
            None => note.to_owned(),
        });
        let line = serde_json::to_vec(record)?;
        if line.len() <= MAX_RECORD_BYTES {
            return Ok(line);
        }
    }
    // Only the arguments can be this large now.
    record.arguments = Value::String("[arguments too large to keep]".into());
    serde_json::to_vec(record)
}

fn size_note(what: &str, mime_type: Option<&str>, base64_len: usize) -> ContentView {
    let bytes = base64_len / 4 * 3;
    let kind = mime_type
        .map(|m| format!("{what} ({m})"))
        .unwrap_or(what.into());
    ContentView::Text {
        text: format!(
            "[{kind} of {:.1} MB not kept in the history]",
            bytes as f64 / 1_000_000.0
        ),
    }
}

fn drop_binary(result: &mut ToolResult) -> bool {
    let mut changed = false;
    for block in &mut result.content {
        let note = match block {
            ContentView::Image { data, mime_type } => {
                size_note("image", Some(mime_type), data.len())
            }
            ContentView::Audio { data, mime_type } => {
                size_note("audio", Some(mime_type), data.len())
            }
            ContentView::Resource { resource } => match &mut resource.blob {
                Some(blob) => {
                    let note = format!(
                        "[{:.1} MB of binary data not kept in the history]",
                        (blob.len() / 4 * 3) as f64 / 1_000_000.0
                    );
                    resource.blob = None;
                    resource.text = Some(note);
                    changed = true;
                    continue;
                }
                None => continue,
            },
            _ => continue,
        };
        *block = note;
        changed = true;
    }
    changed
}

fn cut_texts(result: &mut ToolResult) -> bool {
    let mut changed = false;
    let mut cut = |text: &mut String| {
        if text.len() > TEXT_KEPT {
            let mut end = TEXT_KEPT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let total = text.len();
            text.truncate(end);
            text.push_str(&format!(
                "… [{} more bytes not kept in the history]",
                total - end
            ));
            changed = true;
        }
    };
    for block in &mut result.content {
        match block {
            ContentView::Text { text } => cut(text),
            ContentView::Resource { resource } => {
                if let Some(text) = &mut resource.text {
                    cut(text);
                }
            }
            _ => {}
        }
    }
    changed
}

fn drop_structured(result: &mut ToolResult) -> bool {
    result.structured_content.take().is_some()
}

/// Does this property name look like it holds a secret?
fn secret_name(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "authorization",
        "cookie",
    ]
    .iter()
    .any(|word| folded.contains(word))
}

/// Replace secret values in `arguments`: by property name anywhere, and where `schema` marks
/// a property `writeOnly: true` or `format: "password"`.
pub fn redact(arguments: &mut Value, schema: Option<&Value>) {
    let root = schema.unwrap_or(&Value::Null);
    let schemas: Vec<&Value> = schema.map(|s| resolve(s, root, 0)).unwrap_or_default();
    redact_at(arguments, &schemas, root, 0);
}

/// How deep redaction and schema resolution go (JSON this deep is not an argument).
const MAX_DEPTH: usize = 64;

fn redact_at(value: &mut Value, schemas: &[&Value], root: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let sub = sub_schemas(schemas, root, |s| {
                    s.get("properties")
                        .and_then(|p| p.get(key))
                        .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
                });
                if secret_name(key) || sub.iter().any(|s| marks_secret(s)) {
                    *item = Value::String(REDACTED.into());
                } else {
                    redact_at(item, &sub, root, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let sub = sub_schemas(schemas, root, |s| {
                    s.get("prefixItems")
                        .and_then(|p| p.get(i))
                        .or_else(|| s.get("items").and_then(|it| it.get(i)))
                        .or_else(|| s.get("items").filter(|it| it.is_object()))
                });
                if sub.iter().any(|s| marks_secret(s)) {
                    *item = Value::String(REDACTED.into());
                } else {
                    redact_at(item, &sub, root, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn marks_secret(schema: &Value) -> bool {
    schema.get("writeOnly").and_then(Value::as_bool) == Some(true)
        || schema.get("format").and_then(Value::as_str) == Some("password")
}

fn sub_schemas<'a>(
    schemas: &[&'a Value],
    root: &'a Value,
    step: impl Fn(&'a Value) -> Option<&'a Value>,
) -> Vec<&'a Value> {
    schemas
        .iter()
        .filter_map(|s| step(s))
        .flat_map(|s| resolve(s, root, 0))
        .collect()
}

/// `schema` and what it stands for: a local `$ref` (`#/$defs/…`, `#/definitions/…`) followed,
/// and the branches of `allOf`, `anyOf` and `oneOf` — a property is secret if any says so.
fn resolve<'a>(schema: &'a Value, root: &'a Value, depth: usize) -> Vec<&'a Value> {
    if depth > 8 || !schema.is_object() {
        return Vec::new();
    }
    let mut out = vec![schema];
    if let Some(pointer) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        && let Some(target) = root.pointer(pointer)
    {
        out.extend(resolve(target, root, depth + 1));
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = schema.get(combinator).and_then(Value::as_array) {
            for branch in branches {
                out.extend(resolve(branch, root, depth + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_names_are_recognised() {
        for name in [
            "token",
            "accessToken",
            "refresh_token",
            "client_secret",
            "Password",
            "passwd",
            "api_key",
            "apiKey",
            "API-KEY",
            "Authorization",
            "set-cookie",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in ["query", "message", "url", "key", "author", "path"] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn file_names_stay_in_the_folder() {
        assert_eq!(file_stem("notion"), "notion");
        assert_eq!(file_stem("madgicx-google.v2"), "madgicx-google.v2");
        assert_eq!(file_stem("../etc"), "%2E.%2Fetc");
        assert_eq!(file_stem("a/b"), "a%2Fb");
        assert_eq!(file_stem(""), "%00");
    }

    #[test]
    fn schema_markers_follow_refs_and_combinators() {
        let schema = json!({
            "type": "object",
            "properties": {
                "login": { "$ref": "#/$defs/login" },
                "pin": { "anyOf": [{ "type": "string", "writeOnly": true }, { "type": "null" }] },
                "pair": { "type": "array", "prefixItems": [{ "type": "string" }, { "format": "password" }] }
            },
            "$defs": { "login": { "type": "object", "properties": { "code": { "type": "string", "format": "password" } } } }
        });
        let mut args = json!({
            "login": { "code": "1234", "user": "alice" },
            "pin": "0000",
            "pair": ["visible", "hidden"]
        });
        redact(&mut args, Some(&schema));
        assert_eq!(
            args,
            json!({
                "login": { "code": REDACTED, "user": "alice" },
                "pin": REDACTED,
                "pair": ["visible", REDACTED]
            })
        );
    }
}
