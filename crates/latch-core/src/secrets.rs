//! Where Latch keeps tokens, client registrations, client-credential pairs and `${secret:NAME}`
//! values: the platform keychain when one runs, else — with the person's consent — a file only
//! they can read (with a warning `latch status` and the app show), or memory for tests. One
//! [`SecretStore`] type hides which; values over a keychain entry's size limit are split so a
//! 4 KB token set fits on every platform, and every write lands whole or not at all. Everything
//! above this module sees token *metadata* ([`TokenMetadata`]) — never a token — and [`Secret`]
//! values cannot be printed.
//!
//! Choosing the store: `LATCH_TOKEN_STORE=keychain|file|memory`, or unset for the keychain. When
//! no keychain answers, tokens go to the file `secrets.json` in Latch's folder only with the
//! person's consent — `LATCH_TOKEN_STORE=file`, a `secrets.json` they already keep there, or
//! their "yes" to [`SecretStore::use_file_with_consent`] (the app's button, `latch login`'s
//! question or `--keep-in-file`), which creates that file so every later start uses it too;
//! otherwise nothing is stored and signing in fails with a message that says what to do.

mod accounts;
mod backend;
mod chunked;
mod error;
mod file;
mod grant;
mod keychain;
mod keys;
mod memory;
pub(crate) mod refresh_lock;
mod secret;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;

use crate::config::{self, SecretSource};
use backend::Backend;

pub use accounts::{
    DEFAULT_ACCOUNT, InvalidAccount, MAX_ACCOUNT_LEN, account_grant_key, account_label,
    accounts_key, add_account, clear_accounts, list_accounts, remove_account, validate_account,
};
pub use error::SecretsError;
pub use file::{FILE_NAME, LOCK_NAME};
pub use grant::{GrantStore, TokenMetadata, scope_list};
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
    /// No keychain answered (why, in a few words) and no file store was chosen: nothing can
    /// be stored.
    unavailable: Option<String>,
    /// The file store the person agreed to ([`SecretStore::use_file_with_consent`]): once
    /// set, this store and every clone of it — the app's connections, the keeper's grants —
    /// read and write there. Set at most once, so references into it stay valid.
    consented: OnceLock<SecretStore>,
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
                unavailable: None,
                consented: OnceLock::new(),
                writers: Mutex::new(()),
            }),
        }
    }

    /// The store for this run: `LATCH_TOKEN_STORE` if set, else the keychain. When no keychain
    /// answers: the `secrets.json` already in [`config::home_dir`] if there is one (with
    /// [`fallback_warning`](Self::fallback_warning) set), else a keychain store that keeps
    /// nothing — its writes fail with [`SecretsError::KeychainUnavailable`],
    /// [`writable`](Self::writable) says so before a sign-in starts, and
    /// [`use_file_with_consent`](Self::use_file_with_consent) turns it into the file store.
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
                // Tokens the person already keeps in the file (an earlier fallback, or an
                // earlier LATCH_TOKEN_STORE=file) stay usable, refreshes included.
                Err(SecretsError::KeychainUnavailable { reason })
                    if dir.join(FILE_NAME).is_file() =>
                {
                    Ok(Self::file_fallback(dir, &reason))
                }
                // No file without consent: nothing is stored until the person starts a
                // keychain, sets LATCH_TOKEN_STORE=file or says yes to the file.
                Err(SecretsError::KeychainUnavailable { reason }) => {
                    Ok(Self::keychain_unavailable(dir, reason))
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

    /// The keychain that did not answer: reads find nothing, writes fail with the error that
    /// says what to do, which is also the store's [`fallback_warning`](Self::fallback_warning).
    pub(crate) fn keychain_unavailable(dir: &Path, reason: String) -> Self {
        let backend = keychain::UnavailableBackend {
            reason: reason.clone(),
        };
        let warning = backend.error().to_string();
        tracing::info!("{warning}");
        let mut store = Self::from_parts(
            StoreKind::Keychain,
            Box::new(backend),
            None,
            None,
            Some(dir.to_path_buf()),
        );
        if let Some(inner) = Arc::get_mut(&mut store.inner) {
            inner.fallback_warning = Some(warning);
            inner.unavailable = Some(reason);
        }
        store
    }

    /// Whether sign-ins can be kept: an error ([`SecretsError::KeychainUnavailable`]) when no
    /// keychain runs and the person has not chosen the file store. Checked before a sign-in
    /// starts, so nobody approves a sign-in that cannot be saved.
    pub fn writable(&self) -> Result<(), SecretsError> {
        match &self.current().inner.unavailable {
            None => Ok(()),
            Some(reason) => Err(SecretsError::KeychainUnavailable {
                reason: reason.clone(),
            }),
        }
    }

    /// True when no keychain runs and the person has not chosen where to keep sign-ins: the
    /// moment to ask them whether the file will do ([`use_file_with_consent`](Self::use_file_with_consent)).
    pub fn needs_consent(&self) -> bool {
        self.current().inner.unavailable.is_some()
    }

    /// The file sign-ins would be kept in with the person's consent (`secrets.json` in Latch's
    /// folder), for the question that asks them; `None` when nothing needs their consent.
    pub fn consent_file(&self) -> Option<PathBuf> {
        let this = self.current();
        this.inner.unavailable.as_ref()?;
        this.inner.lock_dir.as_ref().map(|dir| dir.join(FILE_NAME))
    }

    /// The person agreed to keep their sign-ins in a file only they can read, since no
    /// keychain runs: creates `secrets.json` in Latch's folder (mode 0600, empty, through the
    /// file store's locked atomic write) — which records the consent, as every later start of
    /// the app, the CLI or the bridge then uses that file (see [`open`](Self::open)) — and
    /// switches this store and all its clones to it now, connections and the keeper included.
    /// A store that can already keep sign-ins (a keychain that answers, the file, memory) is
    /// left as it is. Blocking (file I/O).
    pub fn use_file_with_consent(&self) -> Result<(), SecretsError> {
        let (Some(reason), Some(dir)) = (&self.inner.unavailable, &self.inner.lock_dir) else {
            return Ok(());
        };
        if self.inner.consented.get().is_some() {
            return Ok(());
        }
        // Idempotent: a second caller (or another process) finds the file and keeps it.
        file::FileBackend::new(dir).create()?;
        let store = Self::file_fallback(dir, reason);
        tracing::info!(
            file = %dir.join(FILE_NAME).display(),
            "sign-ins are kept in a file, with the person's consent"
        );
        // Lost a race to another caller: theirs is the same file.
        let _ = self.inner.consented.set(store);
        Ok(())
    }

    /// The store that answers for this one: the file the person agreed to, once they have.
    fn current(&self) -> &SecretStore {
        self.inner.consented.get().unwrap_or(self)
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
        let this = self.current();
        match this.kind() {
            StoreKind::File => this
                .file_path()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
            StoreKind::Keychain => {
                Some(this.inner.lock_dir.clone().unwrap_or_else(config::home_dir))
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

    /// Test hook: an empty store in memory that counts its reads, per key — for tests of how
    /// often a value is looked up (each read is a keychain call in a real store).
    #[cfg(test)]
    pub(crate) fn memory_counting_reads()
    -> (Self, Arc<Mutex<std::collections::HashMap<String, usize>>>) {
        struct Counting(
            memory::MemoryBackend,
            Arc<Mutex<std::collections::HashMap<String, usize>>>,
        );
        impl Backend for Counting {
            fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
                *self.1.lock().unwrap().entry(key.to_owned()).or_default() += 1;
                self.0.get(key)
            }
            fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError> {
                self.0.put(key, value)
            }
            fn delete(&self, key: &str) -> Result<(), SecretsError> {
                self.0.delete(key)
            }
        }
        let reads = Arc::default();
        let backend = Counting(memory::MemoryBackend::default(), Arc::clone(&reads));
        let store = Self::from_parts(StoreKind::Memory, Box::new(backend), None, None, None);
        (store, reads)
    }

    /// Which kind of store this is.
    pub fn kind(&self) -> StoreKind {
        self.current().inner.kind
    }

    /// Set when [`open`](Self::open) found no keychain: a sentence for `latch status` and the
    /// app — "no keychain is running (Secret Service not found); tokens are kept in
    /// ~/.config/latch/secrets.json, readable only by you" when it uses the file the person
    /// already keeps, else the [`SecretsError::KeychainUnavailable`] message saying what to do.
    pub fn fallback_warning(&self) -> Option<&str> {
        self.current().inner.fallback_warning.as_deref()
    }

    /// The file a file store keeps its secrets in.
    pub fn file_path(&self) -> Option<&Path> {
        self.current().inner.file_path.as_deref()
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        if let Some(file) = self.inner.consented.get() {
            return file.get(key);
        }
        validate_key(key)?;
        match self.inner.chunk_limit {
            Some(_) => chunked::get(self.inner.backend.as_ref(), key),
            None => self.inner.backend.get(key),
        }
    }

    /// Stores `value` under `key`, whole or not at all: after an error or a crash, a reader
    /// finds the previous value or the new one.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError> {
        if let Some(file) = self.inner.consented.get() {
            return file.put(key, value);
        }
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
        if let Some(file) = self.inner.consented.get() {
            return file.delete(key);
        }
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
            .field("kind", &self.kind())
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

    fn secret_store(&self) -> Option<SecretStore> {
        Some(self.clone())
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

    #[test]
    fn consent_switches_every_clone_to_a_private_file_that_later_starts_use() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("latch");
        let store = SecretStore::keychain_unavailable(&home, "no D-Bus".to_owned());
        // Held the way the keeper and the connections hold it.
        let clone = store.clone();
        let grant = GrantStore::for_grant(store.clone(), "demo", "", DEFAULT_ACCOUNT);
        assert!(store.needs_consent());
        assert_eq!(store.consent_file(), Some(home.join(FILE_NAME)));
        assert!(store.writable().unwrap_err().is_keychain_unavailable());
        assert!(clone.put("grant:x", b"v").is_err());
        assert!(!home.exists(), "nothing written without consent");

        store.use_file_with_consent().unwrap();
        let file = home.join(FILE_NAME);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(written, serde_json::json!({"version": 1, "secrets": {}}));
        assert!(
            !std::fs::read_dir(&home).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")),
            "no temporary file left"
        );

        for s in [&store, &clone, grant.store()] {
            assert!(!s.needs_consent());
            assert_eq!(s.consent_file(), None);
            assert!(s.writable().is_ok());
            assert_eq!(s.kind(), StoreKind::File);
            assert_eq!(s.file_path(), Some(file.as_path()));
            assert_eq!(s.refresh_lock_dir(), Some(home.clone()));
            let warning = s.fallback_warning().unwrap();
            assert!(
                warning.contains("no D-Bus") && warning.contains(FILE_NAME),
                "{warning}"
            );
        }
        clone.put("grant:x", b"kept").unwrap();
        assert_eq!(
            store.get("grant:x").unwrap().unwrap().expose_bytes(),
            b"kept"
        );
        // In the file, where every later start finds it (`open` uses an existing file).
        assert_eq!(
            SecretStore::file(&home)
                .get("grant:x")
                .unwrap()
                .unwrap()
                .expose_bytes(),
            b"kept"
        );

        // Saying yes again (another window, another process) keeps what is there.
        store.use_file_with_consent().unwrap();
        SecretStore::keychain_unavailable(&home, "no D-Bus".to_owned())
            .use_file_with_consent()
            .unwrap();
        assert_eq!(
            store.get("grant:x").unwrap().unwrap().expose_bytes(),
            b"kept"
        );
        store.delete("grant:x").unwrap();
        assert!(SecretStore::file(&home).get("grant:x").unwrap().is_none());
    }

    #[test]
    fn consent_leaves_a_store_that_can_keep_sign_ins_alone() {
        let dir = tempfile::tempdir().unwrap();
        let memory = SecretStore::memory();
        assert!(!memory.needs_consent());
        memory.use_file_with_consent().unwrap();
        assert_eq!(memory.kind(), StoreKind::Memory);
        let file = SecretStore::file(dir.path());
        file.use_file_with_consent().unwrap();
        assert_eq!(file.fallback_warning(), None);
        assert!(
            !dir.path().join(FILE_NAME).exists(),
            "created on the first write only"
        );
    }
}
