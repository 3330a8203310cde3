//! Where Latch keeps tokens, client registrations, client-credential pairs and `${secret:NAME}`
//! values: the platform keychain when one runs, else a file only the user can read (with a
//! warning `latch status` and the app show), or memory for tests. One [`SecretStore`] type hides
//! which; values over a keychain entry's size limit are split so a 4 KB token set fits on every
//! platform, and every write lands whole or not at all. Everything above this module sees token
//! *metadata* ([`TokenMetadata`]) — never a token — and [`Secret`] values cannot be printed.
//!
//! Choosing the store: `LATCH_TOKEN_STORE=keychain|file|memory`, or unset for the keychain when
//! it answers and the file `secrets.json` in Latch's folder when it does not.

mod accounts;
mod backend;
mod chunked;
mod error;
mod file;
mod grant;
mod keychain;
mod keys;
mod memory;
mod refresh_lock;
mod secret;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::config::{self, SecretSource};
use backend::Backend;

pub use accounts::{
    DEFAULT_ACCOUNT, InvalidAccount, MAX_ACCOUNT_LEN, account_grant_key, account_label,
    accounts_key, add_account, clear_accounts, list_accounts, remove_account, validate_account,
};
pub use error::SecretsError;
pub use file::{FILE_NAME, LOCK_NAME};
pub use grant::{GrantStore, TokenMetadata};
pub use keys::{credential_key, grant_key, registration_key, secret_key};
pub use secret::Secret;

/// The environment variable that chooses the store: `keychain`, `file` or `memory`.
pub const STORE_ENV: &str = "LATCH_TOKEN_STORE";

/// The keychain service name of every entry Latch writes; the key is the account.
pub const SERVICE: &str = "latch";

/// The largest keychain entry Latch writes; larger values are split. Windows caps a
/// credential at 2,560 bytes; this leaves room below it.
pub const KEYCHAIN_CHUNK_LIMIT: usize = 2000;

/// The longest key accepted (Windows limits an account name to 513 characters, and split
/// values add a suffix).
const MAX_KEY_LEN: usize = 400;

/// Which kind of store holds the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The platform keychain (Secret Service, macOS Keychain, Windows Credential Manager).
    Keychain,
    /// `secrets.json`, mode 0600.
    File,
    /// The process's memory (tests, `LATCH_TOKEN_STORE=memory`).
    Memory,
}

impl StoreKind {
    /// `keychain`, `file` or `memory` — the spelling `LATCH_TOKEN_STORE` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keychain => "keychain",
            Self::File => "file",
            Self::Memory => "memory",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The secret store. Cheap to clone (clones share the store); `Debug` shows only the kind.
///
/// The methods block (a keychain call is a D-Bus or system call); from async code, call them
/// in `spawn_blocking` — [`GrantStore`] does.
#[derive(Clone)]
pub struct SecretStore {
    inner: Arc<Inner>,
}

struct Inner {
    kind: StoreKind,
    backend: Box<dyn Backend>,
    /// `Some(limit)`: values are framed and split above `limit` bytes (see `chunked`).
    chunk_limit: Option<usize>,
    fallback_warning: Option<String>,
    file_path: Option<PathBuf>,
    /// A folder whose `secrets.lock` serializes split writes across processes.
    lock_dir: Option<PathBuf>,
    /// Serializes split writes inside the process.
    writers: Mutex<()>,
}

impl SecretStore {
    fn from_parts(
        kind: StoreKind,
        backend: Box<dyn Backend>,
        chunk_limit: Option<usize>,
        file_path: Option<PathBuf>,
        lock_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                backend,
                chunk_limit: chunk_limit.map(|limit| limit.max(chunked::MIN_LIMIT)),
                fallback_warning: None,
                file_path,
                lock_dir,
                writers: Mutex::new(()),
            }),
        }
    }

    /// The store for this run: `LATCH_TOKEN_STORE` if set, else the keychain when one answers,
    /// else `secrets.json` in [`config::home_dir`] with
    /// [`fallback_warning`](Self::fallback_warning) set.
    pub fn open() -> Result<Self, SecretsError> {
        let setting = std::env::var(STORE_ENV).ok();
        Self::open_with(setting.as_deref(), &config::home_dir())
    }

    /// [`open`](Self::open) with the setting and Latch's folder given instead of read from the
    /// environment.
    pub fn open_with(setting: Option<&str>, dir: &Path) -> Result<Self, SecretsError> {
        let setting = setting.map(str::trim).filter(|s| !s.is_empty());
        match setting {
            None => match Self::keychain_locked_by(Some(dir.to_path_buf())) {
                Err(SecretsError::KeychainUnavailable { reason }) => {
                    Ok(Self::file_fallback(dir, &reason))
                }
                other => other,
            },
            Some(s) if s.eq_ignore_ascii_case("keychain") => {
                Self::keychain_locked_by(Some(dir.to_path_buf()))
            }
            Some(s) if s.eq_ignore_ascii_case("file") => Ok(Self::file(dir)),
            Some(s) if s.eq_ignore_ascii_case("memory") => Ok(Self::memory()),
            Some(other) => Err(SecretsError::UnknownStoreKind {
                value: other.to_owned(),
            }),
        }
    }

    /// The file store, with the warning that says why it is used instead of the keychain.
    fn file_fallback(dir: &Path, reason: &str) -> Self {
        let mut store = Self::file(dir);
        let warning = format!(
            "no keychain is running ({reason}); tokens are kept in {}, readable only by you",
            display_home_relative(&dir.join(FILE_NAME))
        );
        // Shown by `latch status` and the app; a warning on every command would bury its output.
        tracing::info!("{warning}");
        if let Some(inner) = Arc::get_mut(&mut store.inner) {
            inner.fallback_warning = Some(warning);
        }
        store
    }

    /// The platform keychain, checked to answer. Split writes are serialized across processes
    /// with `secrets.lock` in [`config::home_dir`].
    pub fn keychain() -> Result<Self, SecretsError> {
        Self::keychain_locked_by(Some(config::home_dir()))
    }

    fn keychain_locked_by(lock_dir: Option<PathBuf>) -> Result<Self, SecretsError> {
        let backend = keychain::KeychainBackend::connect()?;
        Ok(Self::from_parts(
            StoreKind::Keychain,
            Box::new(backend),
            Some(KEYCHAIN_CHUNK_LIMIT),
            None,
            lock_dir,
        ))
    }

    /// The file store `dir/secrets.json` (created on the first write, mode 0600; `dir` is
    /// created with mode 0700 when missing). Stores on the same folder share their contents.
    pub fn file(dir: &Path) -> Self {
        let backend = file::FileBackend::new(dir);
        let path = backend.path();
        Self::from_parts(StoreKind::File, Box::new(backend), None, Some(path), None)
    }

    /// Where the refresh locks of this store's grants live: next to the store on disk, in
    /// Latch's folder for the keychain; `None` (in-process locks only) for memory.
    pub(crate) fn refresh_lock_dir(&self) -> Option<PathBuf> {
        match self.kind() {
            StoreKind::File => self
                .file_path()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
            StoreKind::Keychain => {
                Some(self.inner.lock_dir.clone().unwrap_or_else(config::home_dir))
            }
            StoreKind::Memory => None,
        }
    }

    /// An empty store in memory.
    pub fn memory() -> Self {
        Self::from_parts(
            StoreKind::Memory,
            Box::<memory::MemoryBackend>::default(),
            None,
            None,
            None,
        )
    }

    /// An empty store in memory that splits values the way the keychain store does, above
    /// `limit` bytes per entry (at least 64) — to test splitting without a keychain.
    pub fn memory_with_chunk_limit(limit: usize) -> Self {
        Self::from_parts(
            StoreKind::Memory,
            Box::<memory::MemoryBackend>::default(),
            Some(limit),
            None,
            None,
        )
    }

    /// Which kind of store this is.
    pub fn kind(&self) -> StoreKind {
        self.inner.kind
    }

    /// Set when [`open`](Self::open) fell back to the file because no keychain answered: a
    /// sentence for `latch status` and the app, e.g. "no keychain is running (Secret Service
    /// not found); tokens are kept in ~/.config/latch/secrets.json, readable only by you".
    pub fn fallback_warning(&self) -> Option<&str> {
        self.inner.fallback_warning.as_deref()
    }

    /// The file a file store keeps its secrets in.
    pub fn file_path(&self) -> Option<&Path> {
        self.inner.file_path.as_deref()
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        validate_key(key)?;
        match self.inner.chunk_limit {
            Some(_) => chunked::get(self.inner.backend.as_ref(), key),
            None => self.inner.backend.get(key),
        }
    }

    /// Stores `value` under `key`, whole or not at all: after an error or a crash, a reader
    /// finds the previous value or the new one.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError> {
        validate_key(key)?;
        match self.inner.chunk_limit {
            Some(limit) => {
                let _guard = self.write_guard();
                chunked::put(self.inner.backend.as_ref(), key, value, limit)
            }
            None => self.inner.backend.put(key, value),
        }
    }

    /// Removes `key`; removing a key that is not there succeeds.
    pub fn delete(&self, key: &str) -> Result<(), SecretsError> {
        validate_key(key)?;
        match self.inner.chunk_limit {
            Some(_) => {
                let _guard = self.write_guard();
                chunked::delete(self.inner.backend.as_ref(), key)
            }
            None => self.inner.backend.delete(key),
        }
    }

    /// Serializes split writes: inside the process with a mutex, across processes with the
    /// lock file when the store has a folder for one (best effort: without it, writers of one
    /// key in different processes must be serialized by the caller).
    fn write_guard(&self) -> (std::sync::MutexGuard<'_, ()>, Option<std::fs::File>) {
        let in_process = self
            .inner
            .writers
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let across_processes = self.inner.lock_dir.as_deref().and_then(|dir| {
            file::lock_dir(dir)
                .inspect_err(|e| tracing::debug!(error = %e, "writing without the lock file"))
                .ok()
        });
        (in_process, across_processes)
    }
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("kind", &self.inner.kind)
            .finish_non_exhaustive()
    }
}

/// `${secret:NAME}` values come from [`secret_key`]`(NAME)`. A read error is logged (without
/// the value) and reads as missing, which the placeholder expansion reports by name.
impl SecretSource for SecretStore {
    fn secret(&self, name: &str) -> Option<String> {
        self.text(&secret_key(name), name)
    }

    fn credentials(&self, name: &str) -> Option<String> {
        self.text(&credential_key(name), name)
    }
}

impl SecretStore {
    /// The text stored under `key` (`name` is what logs may call it).
    fn text(&self, key: &str, name: &str) -> Option<String> {
        match self.get(key) {
            Ok(Some(value)) => match value.expose_str() {
                Ok(text) => Some(text.to_owned()),
                Err(e) => {
                    tracing::warn!(secret = name, error = %e, "ignoring the secret");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(secret = name, error = %e, "could not read the secret");
                None
            }
        }
    }
}

fn validate_key(key: &str) -> Result<(), SecretsError> {
    let reason = if key.is_empty() {
        "it is empty"
    } else if key.len() > MAX_KEY_LEN {
        "it is longer than 400 bytes"
    } else if key.contains('#') {
        "`#` is reserved for the parts of large values"
    } else if key.chars().any(char::is_control) {
        "it contains control characters"
    } else {
        return Ok(());
    };
    Err(SecretsError::InvalidKey {
        key: key.chars().take(80).collect(),
        reason,
    })
}

/// `path` with the home folder shown as `~`.
fn display_home_relative(path: &Path) -> String {
    if let Some(home) = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let store = SecretStore::memory();
        for bad in ["", "a#b", "a\nb"] {
            let err = store.put(bad, b"v").unwrap_err();
            assert!(matches!(err, SecretsError::InvalidKey { .. }), "{err}");
        }
        assert!(store.get(&"x".repeat(401)).is_err());
        store
            .put(&grant_key("s", "https://as.example/x", "me"), b"v")
            .unwrap();
    }

    #[test]
    fn store_kind_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&StoreKind::Keychain).unwrap(),
            "\"keychain\""
        );
        assert_eq!(StoreKind::File.to_string(), "file");
    }

    #[test]
    fn explicit_settings_pick_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let file = SecretStore::open_with(Some("file"), dir.path()).unwrap();
        assert_eq!(file.kind(), StoreKind::File);
        assert_eq!(file.fallback_warning(), None);
        assert_eq!(file.file_path().unwrap(), dir.path().join(FILE_NAME));
        let memory = SecretStore::open_with(Some(" Memory "), dir.path()).unwrap();
        assert_eq!(memory.kind(), StoreKind::Memory);
        let err = SecretStore::open_with(Some("vault"), dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("keychain, file or memory"),
            "{err}"
        );
    }
}
