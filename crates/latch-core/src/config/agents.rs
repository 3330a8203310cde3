//! "Use in…": hands Latch's servers to Claude Desktop, Cursor or VS Code by writing
//! `{"command": "/abs/path/latch", "args": ["bridge", NAME]}` entries into *their* config
//! file, so those agents reach every server through `latch bridge` while Latch keeps the
//! sign-ins. The file belongs to the other app, so the edit is surgical: only the entries Latch
//! writes change — other entries, keys, their order, comments and indentation stay byte for
//! byte — and it happens in two steps: [`plan_export`] reads the file and shows a diff,
//! [`apply`] backs the old file up and writes atomically, refusing if the file changed on disk
//! in between. A file that does not parse is never written; an entry of the same name that is
//! not a Latch bridge entry is left alone unless the caller asks to replace it.

mod diff;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::file::{resolve_symlink, sync_dir, write_temp};
use super::parse::bare_message;
use super::{ConfigError, ConfigFile, ExternalApp, jsonc};

/// What [`plan_export`] would do to an app's config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPlan {
    pub app: ExternalApp,
    /// The file that would be written.
    pub path: PathBuf,
    /// Its text when the plan was made; `None` when it does not exist yet.
    pub old_text: Option<String>,
    /// Its text after the change.
    pub new_text: String,
    /// A unified diff from the old text to the new one (empty when nothing changes).
    pub diff: String,
    /// Entries that will be added.
    pub added: Vec<String>,
    /// Latch bridge entries that will be rewritten (the `latch` path moved), or entries replaced
    /// because `replace` was asked for.
    pub updated: Vec<String>,
    /// Latch bridge entries that are already as they should be.
    pub unchanged: Vec<String>,
    /// Entries of the same name that are not Latch bridge entries: left alone.
    pub conflicts: Vec<String>,
}

impl ExportPlan {
    /// Whether applying the plan changes the file.
    pub fn has_changes(&self) -> bool {
        self.old_text.as_deref() != Some(self.new_text.as_str())
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportApplied {
    /// The file written.
    pub path: PathBuf,
    /// The copy of the previous file, when there was one and it was replaced.
    pub backup: Option<PathBuf>,
    /// False when the plan changed nothing and the file was left as it was.
    pub written: bool,
}

/// The entry that makes `app` start `latch bridge NAME`.
pub fn bridge_entry(app: ExternalApp, name: &str, latch_binary: &Path) -> Value {
    let mut m = Map::new();
    if app == ExternalApp::VsCode {
        m.insert("type".into(), "stdio".into());
    }
    m.insert(
        "command".into(),
        latch_binary.to_string_lossy().into_owned().into(),
    );
    m.insert("args".into(), Value::from(vec!["bridge", name]));
    Value::Object(m)
}

/// Whether `entry` is one Latch wrote for `name`: a command whose program is `latch` (any
/// path) and whose arguments are exactly `bridge NAME`.
pub fn is_bridge_entry(entry: &Value, name: &str) -> bool {
    let Some(obj) = entry.as_object() else {
        return false;
    };
    let program = obj.get("command").and_then(Value::as_str).map(|c| {
        c.rsplit(['/', '\\'])
            .next()
            .unwrap_or(c)
            .to_ascii_lowercase()
    });
    let is_latch = matches!(program.as_deref(), Some("latch" | "latch.exe"));
    let args = obj.get("args").and_then(Value::as_array);
    let bridges = args.is_some_and(|a| {
        a.len() == 2 && a[0].as_str() == Some("bridge") && a[1].as_str() == Some(name)
    });
    let stdio = match obj.get("type") {
        None | Some(Value::Null) => true,
        Some(Value::String(t)) => t == "stdio",
        Some(_) => false,
    };
    is_latch && bridges && stdio
}

/// The key an app keeps its servers under.
fn servers_key(app: ExternalApp) -> &'static str {
    match app {
        ExternalApp::VsCode => "servers",
        ExternalApp::Claude | ExternalApp::Cursor => "mcpServers",
    }
}

/// Plans writing a bridge entry for each of `names` (every server of `config` when empty) into
/// `app`'s config file — `target`, or the app's usual file (for VS Code the user-level
/// `mcp.json`), which is created when missing. `latch_binary` should be absolute: the other
/// app starts it without Latch's `PATH`. Nothing is written; see [`apply`].
pub fn plan_export(
    config: &ConfigFile,
    app: ExternalApp,
    names: &[String],
    latch_binary: &Path,
    target: Option<&Path>,
    replace: bool,
) -> Result<ExportPlan, ConfigError> {
    let mut wanted: Vec<String> = Vec::new();
    let requested = if names.is_empty() {
        config.names()
    } else {
        names.to_vec()
    };
    for name in requested {
        if !config.contains(&name) {
            return Err(ConfigError::UnknownServer {
                name,
                known: config.names(),
            });
        }
        if !wanted.contains(&name) {
            wanted.push(name);
        }
    }

    let path =
        match target {
            Some(p) => p.to_path_buf(),
            None => app.default_paths().into_iter().next().ok_or_else(|| {
                ConfigError::ImportNotFound {
                    app: app.display_name().to_owned(),
                    looked_at: Vec::new(),
                }
            })?,
        };
    let old_text = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError::io(&path, e)),
    };
    let old = old_text.as_deref().unwrap_or("");
    let (bom, body) = match old.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", old),
    };
    let jsonc = app == ExternalApp::VsCode;
    let plain = if jsonc {
        jsonc::strip(body)
    } else {
        body.to_owned()
    };
    let blank = plain.trim().is_empty();
    let doc: Map<String, Value> = if blank {
        Map::new()
    } else {
        match serde_json::from_str::<Value>(&plain) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(shape(&path, "the file is not a JSON object")),
            Err(e) => {
                return Err(ConfigError::Parse {
                    path: path.clone(),
                    line: e.line(),
                    column: e.column(),
                    message: bare_message(&e),
                });
            }
        }
    };
    let key = servers_key(app);
    let entries = match doc.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(shape(
                &path,
                &format!("`{key}` is not an object of servers"),
            ));
        }
    };

    let mut plan = ExportPlan {
        app,
        path: path.clone(),
        old_text: old_text.clone(),
        new_text: String::new(),
        diff: String::new(),
        added: Vec::new(),
        updated: Vec::new(),
        unchanged: Vec::new(),
        conflicts: Vec::new(),
    };
    let mut edits: Vec<(String, Value)> = Vec::new();
    for name in wanted {
        let fresh = bridge_entry(app, &name, latch_binary);
        match entries.and_then(|m| m.get(&name)) {
            None => {
                plan.added.push(name.clone());
                edits.push((name, fresh));
            }
            Some(existing) if is_bridge_entry(existing, &name) => {
                // Keep what the person added to the entry (`env`, `disabled`…).
                let mut merged = existing.as_object().cloned().unwrap_or_default();
                for (k, v) in fresh.as_object().into_iter().flatten() {
                    merged.insert(k.clone(), v.clone());
                }
                let merged = Value::Object(merged);
                if &merged == existing {
                    plan.unchanged.push(name);
                } else {
                    plan.updated.push(name.clone());
                    edits.push((name, merged));
                }
            }
            Some(_) if replace => {
                plan.updated.push(name.clone());
                edits.push((name, fresh));
            }
            Some(_) => plan.conflicts.push(name),
        }
    }

    let mut expected = doc.clone();
    {
        let slot = expected
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        if let Value::Object(m) = slot {
            for (name, value) in &edits {
                m.insert(name.clone(), value.clone());
            }
        }
    }

    plan.new_text = if edits.is_empty() {
        old.to_owned()
    } else if blank {
        pretty(&Value::Object(expected), "  ", "\n")
    } else {
        let spliced = splice::apply(body, &plain, key, &edits).map(|t| format!("{bom}{t}"));
        match spliced {
            Some(text) if reads_as(&text, jsonc, &expected) => text,
            _ => {
                tracing::warn!(path = %path.display(), "could not edit the file in place; rewriting it whole");
                let nl = if body.contains("\r\n") { "\r\n" } else { "\n" };
                let unit = splice::indent_unit(body, &plain);
                format!("{bom}{}", pretty(&Value::Object(expected), &unit, nl))
            }
        }
    };
    let label = path.display().to_string();
    let old_label = if old_text.is_some() {
        label.as_str()
    } else {
        "/dev/null"
    };
    plan.diff = diff::unified(old, &plan.new_text, old_label, &label);
    Ok(plan)
}

/// Writes a plan: copies the current file to `<file>.latch-backup-<unix-time>` (`0600`), then
/// writes the new text atomically (temp file in the same folder, fsync, rename; `0600`).
/// Refuses, and writes nothing, when the file is no longer what the plan was made from.
pub fn apply(plan: &ExportPlan) -> Result<ExportApplied, ConfigError> {
    let path = &plan.path;
    let target = resolve_symlink(path);
    let current = match fs::read_to_string(&target) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError::io(path, e)),
    };
    if current != plan.old_text {
        return Err(shape(
            path,
            "the file changed since the changes were planned — nothing was written; look at the changes again",
        ));
    }
    if !plan.has_changes() {
        return Ok(ExportApplied {
            path: path.clone(),
            backup: None,
            written: false,
        });
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| ConfigError::io(&dir, e))?;
    let backup = match &current {
        Some(text) => Some(write_backup(&target, text.as_bytes())?),
        None => None,
    };
    let tmp = write_temp(&dir, &target, plan.new_text.as_bytes())
        .map_err(|e| ConfigError::io(&dir, e))?;
    if let Err(e) = fs::rename(&tmp, &target) {
        let _ = fs::remove_file(&tmp);
        return Err(ConfigError::io(path, e));
    }
    sync_dir(&target);
    tracing::info!(path = %path.display(), "wrote Latch bridge entries");
    Ok(ExportApplied {
        path: path.clone(),
        backup,
        written: true,
    })
}

fn shape(path: &Path, message: &str) -> ConfigError {
    ConfigError::ImportShape {
        path: path.to_path_buf(),
        message: message.to_owned(),
    }
}

/// Whether `text` parses to `expected` (the safety net under the in-place edit).
fn reads_as(text: &str, jsonc: bool, expected: &Map<String, Value>) -> bool {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let plain = if jsonc {
        jsonc::strip(body)
    } else {
        body.to_owned()
    };
    match serde_json::from_str::<Value>(&plain) {
        Ok(Value::Object(m)) => &m == expected && keys_in_order(&m, expected),
        _ => false,
    }
}

fn keys_in_order(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.keys().eq(b.keys())
        && a.values().zip(b.values()).all(|(x, y)| match (x, y) {
            (Value::Object(x), Value::Object(y)) => keys_in_order(x, y),
            _ => true,
        })
}

fn pretty(value: &Value, unit: &str, nl: &str) -> String {
    let mut text = splice::render(value, unit, "");
    text.push('\n');
    if nl != "\n" {
        text = text.replace('\n', nl);
    }
    text
}

/// `claude_desktop_config.json` → `claude_desktop_config.json.latch-backup-1700000000`, made
/// unique with `-2`, `-3`… when several backups land in the same second.
fn write_backup(target: &Path, bytes: &[u8]) -> Result<PathBuf, ConfigError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    for n in 1u32.. {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let bak = target.with_file_name(format!("{name}.latch-backup-{secs}{suffix}"));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&bak) {
            Ok(mut file) => {
                file.write_all(bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| ConfigError::io(&bak, e))?;
                return Ok(bak);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ConfigError::io(&bak, e)),
        }
    }
    unreachable!("some backup name is free")
}

/// Editing the text in place. The positions come from the comment-free copy (`jsonc::strip`
/// keeps every byte where it was), the edits are made to the original, so comments survive.
mod splice {
    use serde_json::{Map, Value};

    struct Member {
        key: String,
        /// Where its quoted key starts.
        key_at: usize,
        value: (usize, usize),
    }

    struct Object {
        open: usize,
        close: usize,
        members: Vec<Member>,
    }

    /// `body` with `edits` (name → entry) written into the `key` object of the top level.
    pub(super) fn apply(
        body: &str,
        plain: &str,
        key: &str,
        edits: &[(String, Value)],
    ) -> Option<String> {
        let b = plain.as_bytes();
        let top = object_at(b, skip_ws(b, 0))?;
        let unit = indent_unit(body, plain);
        let nl = if body.contains("\r\n") { "\r\n" } else { "\n" };
        let mut changes: Vec<(usize, usize, String)> = Vec::new();
        match top.members.iter().rev().find(|m| m.key == key) {
            Some(m) if b[m.value.0] == b'{' => {
                let servers = object_at(b, m.value.0)?;
                let indent = member_indent(body, &servers, &unit);
                let mut adds = Vec::new();
                for (name, value) in edits {
                    match servers.members.iter().rev().find(|m| &m.key == name) {
                        Some(existing) => changes.push((
                            existing.value.0,
                            existing.value.1,
                            render(value, &unit, &indent),
                        )),
                        None => adds.push((name.clone(), value.clone())),
                    }
                }
                if !adds.is_empty() {
                    changes.push(insert(body, &servers, &adds, &indent, &unit));
                }
            }
            Some(m) => {
                // `null`: replace it with the object.
                let indent = member_indent(body, &top, &unit);
                let obj: Map<String, Value> = edits.iter().cloned().collect();
                changes.push((
                    m.value.0,
                    m.value.1,
                    render(&Value::Object(obj), &unit, &indent),
                ));
            }
            None => {
                let indent = member_indent(body, &top, &unit);
                let obj: Map<String, Value> = edits.iter().cloned().collect();
                changes.push(insert(
                    body,
                    &top,
                    &[(key.to_owned(), Value::Object(obj))],
                    &indent,
                    &unit,
                ));
            }
        }
        changes.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mut out = body.to_owned();
        for (start, end, text) in changes {
            out.replace_range(start..end, &text.replace('\n', nl));
        }
        Some(out)
    }

    /// New members at the end of `obj`: after its last value (so a trailing comma stays
    /// after them), or inside an empty object.
    fn insert(
        body: &str,
        obj: &Object,
        adds: &[(String, Value)],
        indent: &str,
        unit: &str,
    ) -> (usize, usize, String) {
        let members: Vec<String> = adds
            .iter()
            .map(|(k, v)| {
                let key = serde_json::to_string(k).unwrap_or_default();
                let value = render(v, unit, indent);
                format!("{indent}{key}: {value}")
            })
            .collect();
        let joined = members.join(",\n");
        match obj.members.last() {
            Some(last) => (last.value.1, last.value.1, format!(",\n{joined}")),
            None => {
                let inside = &body[obj.open + 1..obj.close];
                if inside.trim().is_empty() {
                    let close_indent = line_indent(body, obj.open);
                    (
                        obj.open + 1,
                        obj.close,
                        format!("\n{joined}\n{close_indent}"),
                    )
                } else {
                    (obj.open + 1, obj.open + 1, format!("\n{joined}"))
                }
            }
        }
    }

    /// `value` pretty-printed with `unit` per level, continuation lines indented by `indent`.
    pub(super) fn render(value: &Value, unit: &str, indent: &str) -> String {
        let mut buf = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
        if serde::Serialize::serialize(value, &mut ser).is_err() {
            return "{}".to_owned();
        }
        let text = String::from_utf8(buf).unwrap_or_default();
        text.replace('\n', &format!("\n{indent}"))
    }

    /// The file's indentation step: how far the first member of the top object is indented
    /// (two spaces when that cannot be told).
    pub(super) fn indent_unit(body: &str, plain: &str) -> String {
        let b = plain.as_bytes();
        if let Some(top) = object_at(b, skip_ws(b, 0))
            && let Some(first) = top.members.first()
        {
            let before = &body[line_start(body, first.key_at)..first.key_at];
            if !before.is_empty() && before.chars().all(|c| c == ' ' || c == '\t') {
                return before.to_owned();
            }
        }
        "  ".to_owned()
    }

    /// How the members of `obj` are indented; one `unit` deeper than its line otherwise.
    fn member_indent(body: &str, obj: &Object, unit: &str) -> String {
        if let Some(first) = obj.members.first() {
            let before = &body[line_start(body, first.key_at)..first.key_at];
            if !before.is_empty() && before.chars().all(|c| c == ' ' || c == '\t') {
                return before.to_owned();
            }
        }
        format!("{}{unit}", line_indent(body, obj.open))
    }

    fn line_start(body: &str, pos: usize) -> usize {
        body[..pos].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_indent(body: &str, pos: usize) -> &str {
        let start = line_start(body, pos);
        let rest = &body[start..];
        let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        &rest[..len]
    }

    fn skip_ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }

    /// `i` at an opening quote → the index after the closing one.
    fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
        None
    }

    fn value_end(b: &[u8], i: usize) -> Option<usize> {
        match *b.get(i)? {
            b'"' => string_end(b, i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'"' => {
                            j = string_end(b, j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                None
            }
            _ => {
                let mut j = i;
                while j < b.len()
                    && !matches!(b[j], b',' | b'}' | b']')
                    && !b[j].is_ascii_whitespace()
                {
                    j += 1;
                }
                Some(j)
            }
        }
    }

    /// The members of the object opening at `open` (the text is valid JSON there).
    fn object_at(b: &[u8], open: usize) -> Option<Object> {
        if b.get(open) != Some(&b'{') {
            return None;
        }
        let mut members = Vec::new();
        let mut i = skip_ws(b, open + 1);
        loop {
            match *b.get(i)? {
                b'}' => {
                    return Some(Object {
                        open,
                        close: i,
                        members,
                    });
                }
                b'"' => {
                    let i0 = i;
                    let end = string_end(b, i)?;
                    let key: String = serde_json::from_slice(&b[i..end]).ok()?;
                    i = skip_ws(b, end);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    let start = skip_ws(b, i + 1);
                    let stop = value_end(b, start)?;
                    members.push(Member {
                        key,
                        key_at: i0,
                        value: (start, stop),
                    });
                    i = skip_ws(b, stop);
                    if b.get(i) == Some(&b',') {
                        i = skip_ws(b, i + 1);
                    }
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests;
