//! Loading and saving the servers file. The parsed JSON document is the source of truth, so
//! keys Latch does not know, `_comment` keys and key order all survive a save. Saving is
//! atomic (temp file in the same folder, fsync, rename), keeps the previous file as `.bak`,
//! and refuses to replace a file that no longer parses — the user's hand edits are never lost.
//!
//! The app, the CLI and the bridge can change the file at the same moment, so the only way to
//! save is [`ConfigFile::edit`]: load, change and save under an exclusive lock on
//! `servers.json.lock` beside the file, so no change overwrites another one made meanwhile.
//! Readers take no lock: the rename makes every save appear whole.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::model::{is_comment, validate_name};
use super::parse::{empty_document, entry_from_value, parse_document};
use super::{ConfigError, ServerConfig};

/// The servers file, loaded.
#[derive(Clone)]
pub struct ConfigFile {
    path: PathBuf,
    doc: Map<String, Value>,
}

/// What [`ConfigFile::merge`] did with each imported server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Added to the file.
    pub added: Vec<String>,
    /// Left out because a server by that name already exists.
    pub skipped: Vec<String>,
    /// Left out because the name or the entry is not valid, with the reason.
    pub rejected: Vec<(String, String)>,
}

impl ConfigFile {
    /// An empty configuration that will be saved at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            doc: empty_document(),
        }
    }

    /// Loads the file at `path`. A missing or blank file is an empty configuration; a file
    /// that does not parse, or whose entries have the wrong shape, is an error naming the
    /// line and column.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "no servers file yet; starting empty");
                Ok(Self::new(path))
            }
            Err(e) => Err(ConfigError::io(path, e)),
        }
    }

    /// Loads the file at [`super::default_path`].
    pub fn load_default() -> Result<Self, ConfigError> {
        Self::load(&super::default_path())
    }

    /// Reads `text` as the contents of the file at `path` (for the raw config editor: check
    /// the text, then [`save`](Self::save) it).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            path: path.to_path_buf(),
            doc: parse_document(path, text)?,
        })
    }

    /// Where this configuration is saved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole document, unknown keys included.
    pub fn document(&self) -> &Map<String, Value> {
        &self.doc
    }

    /// The document as it is written to disk: pretty JSON, 2-space indent, trailing newline.
    pub fn to_json_string(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.doc).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }

    /// The whole document, to change (the organisations' accessors in `orgs.rs`).
    pub(super) fn document_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.doc
    }

    fn entries(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.doc
            .get("mcpServers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(k, _)| !is_comment(k))
    }

    fn entries_mut(&mut self) -> &mut Map<String, Value> {
        let slot = self
            .doc
            .entry("mcpServers")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(map) => map,
            _ => unreachable!("just made it an object"),
        }
    }

    /// The server names, in file order.
    pub fn names(&self) -> Vec<String> {
        self.entries().map(|(k, _)| k.clone()).collect()
    }

    /// Every server, in file order (comment keys skipped).
    pub fn servers(&self) -> Vec<(String, ServerConfig)> {
        self.entries()
            .filter_map(|(name, value)| match entry_from_value(name, value) {
                Ok(server) => Some((name.clone(), server)),
                Err(e) => {
                    tracing::warn!("skipping a server: {e}");
                    None
                }
            })
            .collect()
    }

    /// Whether a server by that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.entries().any(|(k, _)| k == name)
    }

    /// The server named `name`.
    pub fn server(&self, name: &str) -> Result<ServerConfig, ConfigError> {
        match self.entries().find(|(k, _)| *k == name) {
            Some((_, value)) => entry_from_value(name, value),
            None => Err(self.unknown(name)),
        }
    }

    fn unknown(&self, name: &str) -> ConfigError {
        ConfigError::UnknownServer {
            name: name.to_owned(),
            known: self.names(),
        }
    }

    /// Adds `server` as `name`, or replaces the server of that name in place (keeping its
    /// position and its `_comment` keys).
    pub fn upsert_server(&mut self, name: &str, server: ServerConfig) -> Result<(), ConfigError> {
        validate_name(name)?;
        server.validate(name)?;
        let entries = self.entries_mut();
        match entries.get_mut(name) {
            Some(Value::Object(existing)) => server.write_into(existing),
            _ => {
                entries.insert(name.to_owned(), server.to_json());
            }
        }
        Ok(())
    }

    /// Adds `server` as `name`; an error if that name is taken.
    pub fn add_server(&mut self, name: &str, server: ServerConfig) -> Result<(), ConfigError> {
        if self.contains(name) {
            return Err(ConfigError::AlreadyExists {
                name: name.to_owned(),
            });
        }
        self.upsert_server(name, server)
    }

    /// Removes the server named `name`, keeping the order of the others.
    pub fn remove_server(&mut self, name: &str) -> Result<(), ConfigError> {
        if !self.contains(name) {
            return Err(self.unknown(name));
        }
        self.entries_mut().shift_remove(name);
        Ok(())
    }

    /// Adds imported servers; names that already exist are left alone and reported.
    pub fn merge(&mut self, imported: Vec<(String, ServerConfig)>) -> MergeReport {
        let mut report = MergeReport::default();
        for (name, server) in imported {
            if self.contains(&name) {
                report.skipped.push(name);
                continue;
            }
            match self.upsert_server(&name, server) {
                Ok(()) => report.added.push(name),
                Err(e) => report.rejected.push((name, e.to_string())),
            }
        }
        report
    }

    /// Changes the servers file at `path`: takes the lock (`servers.json.lock` beside the file),
    /// loads the file, runs `change` on it and, when `change` succeeds and changed the
    /// document, saves it — all before the lock is released, so a change made meanwhile by
    /// another program (the app, the CLI, the bridge) is never overwritten. When `change` fails
    /// nothing is written and its error is returned. A missing file starts empty; a file that
    /// does not parse is an error, and is never replaced.
    ///
    /// `change` should be quick and must not wait on the network: other programs wait for it.
    pub fn edit<T, E>(
        path: &Path,
        change: impl FnOnce(&mut ConfigFile) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<ConfigError>,
    {
        let target = resolve_symlink(path);
        let _lock = lock(&target)?;
        remove_stale_temp_files(&target);
        let mut config = Self::load(path)?;
        let before = config.to_json_string();
        let out = change(&mut config)?;
        // Saving through `edit` always saves where the file was loaded from.
        config.path = path.to_path_buf();
        if config.to_json_string() != before {
            config.save()?;
        }
        Ok(out)
    }

    /// Writes the configuration back; only [`edit`](Self::edit) calls it, under the lock.
    /// Refuses if the file on disk does not parse any more (checked right before replacing
    /// it); otherwise writes a temp file in the same folder, fsyncs it, copies the current file
    /// to `servers.json.bak` and renames over it. The file is `0600` on Unix.
    fn save(&self) -> Result<(), ConfigError> {
        let target = resolve_symlink(&self.path);
        let dir = parent_dir(&target);
        create_dir(&dir).map_err(|e| ConfigError::io(&dir, e))?;
        let tmp = write_temp(&dir, &target, self.to_json_string().as_bytes())
            .map_err(|e| ConfigError::save(&self.path, e))?;
        let result = self.replace(&target, &tmp);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn replace(&self, target: &Path, tmp: &Path) -> Result<(), ConfigError> {
        match fs::read_to_string(target) {
            Ok(current) => {
                if let Err(e) = parse_document(&self.path, &current) {
                    tracing::warn!("not saving: {e}");
                    return Err(e);
                }
                let bak = backup_path(target);
                fs::copy(target, &bak).map_err(|e| ConfigError::save(&self.path, e))?;
                restrict(&bak).map_err(|e| ConfigError::io(&bak, e))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(ConfigError::io(&self.path, e)),
        }
        fs::rename(tmp, target).map_err(|e| ConfigError::save(&self.path, e))?;
        sync_dir(target);
        tracing::debug!(path = %self.path.display(), "saved servers file");
        Ok(())
    }
}

/// How long [`ConfigFile::edit`] waits for another program's change to finish.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The exclusive lock on `servers.json.lock` beside `target` (the folder is created if
/// missing), held until the file is dropped — or the process dies.
fn lock(target: &Path) -> Result<File, ConfigError> {
    let dir = parent_dir(target);
    create_dir(&dir).map_err(|e| ConfigError::io(&dir, e))?;
    let path = lock_path(target);
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|e| ConfigError::io(&path, e))?;
    let started = Instant::now();
    loop {
        // Called through the trait: std's `File::try_lock` (Rust 1.89) is newer than our MSRV.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return Ok(file),
            Err(fs4::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(ConfigError::Busy {
                    path: target.to_path_buf(),
                    seconds: LOCK_WAIT.as_secs(),
                });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(ConfigError::io(&path, e)),
        }
    }
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("servers", &self.names())
            .finish_non_exhaustive()
    }
}

/// `servers.json` → `servers.json.bak`.
fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

/// `servers.json` → `servers.json.lock`.
fn lock_path(path: &Path) -> PathBuf {
    with_suffix(path, ".lock")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The folder `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Saving through a symlink replaces the file it points at, not the link.
pub(super) fn resolve_symlink(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Removes the temp files of saves that died before their rename (killed, power cut). Only
/// called under the lock, when no other save of `target` can be between writing and renaming.
fn remove_stale_temp_files(target: &Path) {
    let Some(name) = target.file_name() else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent_dir(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            tracing::debug!(file = %file, "removing the temp file of an interrupted save");
            let _ = fs::remove_file(entry.path());
        }
    }
}

pub(super) fn write_temp(dir: &Path, target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let stem = target.file_name().unwrap_or_default().to_string_lossy();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{stem}.{}.{n}.tmp", std::process::id()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        return Ok(tmp);
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes the rename durable; best effort (not every platform can open a directory).
pub(super) fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_name() {
        assert_eq!(
            backup_path(Path::new("/a/servers.json")),
            Path::new("/a/servers.json.bak")
        );
    }

    #[test]
    fn upsert_rejects_bad_names_and_servers() {
        let mut c = ConfigFile::new("x.json");
        let e = c
            .upsert_server("bad name", ServerConfig::remote("https://a.example"))
            .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidName { .. }));
        let e = c
            .upsert_server("ok", ServerConfig::remote("file:///etc"))
            .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidServer { .. }), "{e}");
        assert!(c.names().is_empty());
    }

    #[test]
    fn add_remove_contains() {
        let mut c = ConfigFile::new("x.json");
        c.add_server("a", ServerConfig::remote("https://a.example"))
            .unwrap();
        assert!(c.contains("a"));
        let e = c
            .add_server("a", ServerConfig::command("x", ["y"]))
            .unwrap_err();
        assert!(matches!(e, ConfigError::AlreadyExists { .. }));
        c.remove_server("a").unwrap();
        assert!(!c.contains("a"));
        let e = c.remove_server("a").unwrap_err();
        assert!(e.to_string().contains("run `latch servers list`"));
    }
}
