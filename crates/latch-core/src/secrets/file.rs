//! The fallback when no keychain runs (a server, a container, a bare window manager): one JSON
//! file, `secrets.json`, that only its owner can read. Latch sets the permissions itself —
//! `0600` for the file, `0700` for a folder it creates — instead of trusting the umask, writes
//! through a temporary file in the same folder (flushed, then renamed over the old one, so a
//! crash leaves the old file or the new one), and holds an exclusive lock on `secrets.lock` while
//! it reads, changes and writes, so the app, the CLI and the bridge can write at once without
//! losing each other's entries. A file that does not parse is never overwritten.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::backend::Backend;
use super::{Secret, SecretsError};

/// The secrets file's name inside its folder.
pub const FILE_NAME: &str = "secrets.json";
/// The lock file's name inside the same folder.
pub const LOCK_NAME: &str = "secrets.lock";
const TEMP_PREFIX: &str = ".secrets.json.";
const TEMP_SUFFIX: &str = ".tmp";
const FORMAT_VERSION: u32 = 1;

/// The file's shape: `{"version": 1, "secrets": {"KEY": "<base64>"}}`.
#[derive(Default, Serialize, Deserialize)]
struct SecretsFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

impl Drop for SecretsFile {
    fn drop(&mut self) {
        for value in self.secrets.values_mut() {
            value.zeroize();
        }
    }
}

pub(crate) struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn read(&self) -> Result<SecretsFile, SecretsError> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SecretsFile::default());
            }
            Err(e) => return Err(SecretsError::io("read", path, e)),
        };
        warn_if_readable_by_others(&path);
        serde_json::from_slice(&bytes).map_err(|e| SecretsError::FileDamaged {
            path,
            line: e.line(),
            column: e.column(),
        })
    }

    /// Runs `change` on the file's contents under the lock, and writes the result when
    /// `change` says something changed.
    fn update(&self, change: impl FnOnce(&mut SecretsFile) -> bool) -> Result<(), SecretsError> {
        let _lock = lock_dir(&self.dir)?;
        let mut contents = self.read()?;
        if !change(&mut contents) {
            return Ok(());
        }
        contents.version = FORMAT_VERSION;
        let json = Zeroizing::new(serde_json::to_vec_pretty(&contents).unwrap_or_default());
        self.write_atomically(&json)
    }

    /// Creates the file, holding nothing, when it is missing — with the same lock and atomic
    /// write as every change, so it is `0600` from the start. An existing file is left as it is.
    pub(crate) fn create(&self) -> Result<(), SecretsError> {
        let path = self.path();
        self.update(|_| !path.exists())
    }

    fn write_atomically(&self, bytes: &[u8]) -> Result<(), SecretsError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        remove_stale_temp_files(&self.dir);
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}.{}{TEMP_SUFFIX}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // Errors name the secrets file, not the temporary one the person never sees.
        let path = self.path();
        let result = (|| {
            let mut file = private_options()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(|e| SecretsError::io("write", &path, e))?;
            file.write_all(bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| SecretsError::io("write", &path, e))?;
            drop(file);
            fs::rename(&temp, &path).map_err(|e| SecretsError::io("replace", &path, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result?;
        sync_dir(&self.dir);
        Ok(())
    }
}

impl Backend for FileBackend {
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        let contents = self.read()?;
        let Some(encoded) = contents.secrets.get(key) else {
            return Ok(None);
        };
        let mut value = Zeroizing::new(Vec::new());
        STANDARD
            .decode_vec(encoded.as_bytes(), &mut value)
            .map_err(|_| SecretsError::Damaged {
                key: key.to_owned(),
                what: "its base64 encoding is invalid",
            })?;
        Ok(Some(Secret::from(value)))
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError> {
        let encoded = STANDARD.encode(value);
        self.update(|contents| {
            if let Some(mut previous) = contents.secrets.insert(key.to_owned(), encoded) {
                previous.zeroize();
            }
            true
        })
    }

    fn delete(&self, key: &str) -> Result<(), SecretsError> {
        if !self.path().exists() {
            return Ok(());
        }
        self.update(|contents| match contents.secrets.remove(key) {
            Some(mut previous) => {
                previous.zeroize();
                true
            }
            None => false,
        })
    }
}

/// Open options that create files readable and writable by the owner only.
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` (and its parents) with mode 0700 when it is missing; an existing folder keeps
/// its permissions.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), SecretsError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| SecretsError::io("create the folder", dir, e))
}

/// An exclusive lock on `dir/secrets.lock`, held until the returned file is dropped.
pub(crate) fn lock_dir(dir: &Path) -> Result<File, SecretsError> {
    lock_named(dir, LOCK_NAME)
}

/// An exclusive lock on `dir/name`, held until the returned file is dropped (or the process
/// dies). Never take one lock while holding another in a different order: the account index
/// takes `accounts.lock`, then (through the store) `secrets.lock`.
pub(crate) fn lock_named(dir: &Path, name: &str) -> Result<File, SecretsError> {
    ensure_private_dir(dir)?;
    let path = dir.join(name);
    let file = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| SecretsError::io("open the lock file", &path, e))?;
    // Called through the trait: std's `File::lock` (Rust 1.89) is newer than our MSRV.
    fs4::FileExt::lock(&file).map_err(|e| SecretsError::io("lock", &path, e))?;
    Ok(file)
}

/// Removes temporary files a crashed writer left. Only called under the lock, when no other
/// writer can be between creating and renaming its temporary file.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
            tracing::debug!(file = %name, "removing a temporary file left by an interrupted write");
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Makes the rename durable (unix); best effort.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!(dir = %dir.display(), error = %e, "could not flush the folder");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the secrets file is readable by others; Latch makes it 0600 at its next write \
                 (or run `chmod 600` on it now)"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
