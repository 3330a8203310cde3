//! The platform keychain through `keyring-core`: the Secret Service on Linux and the BSDs (over
//! a pure-Rust D-Bus client, so building needs no libdbus), the macOS Keychain and the Windows
//! Credential Manager. Entries use service `latch` and the key as the account. Platform errors
//! become [`SecretsError`]s that say what to do — and drop whatever value bytes keyring-core
//! attaches to some of its errors.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error};

use super::backend::Backend;
use super::{SERVICE, Secret, SecretsError};

/// The key the availability probe reads; it is never written.
const PROBE_KEY: &str = "latch-probe";

pub(crate) struct KeychainBackend {
    /// Always `Some` until dropped.
    store: Option<Arc<CredentialStore>>,
}

impl KeychainBackend {
    /// Connects to the platform keychain and checks that it answers.
    pub(crate) fn connect() -> Result<Self, SecretsError> {
        let store = off_runtime(platform_store)?;
        let backend = Self { store: Some(store) };
        match backend.get(PROBE_KEY) {
            Ok(_) => Ok(backend),
            Err(SecretsError::KeychainLocked) => {
                tracing::warn!("the keychain is locked; Latch will ask again when it needs it");
                Ok(backend)
            }
            Err(SecretsError::Keychain { reason, .. }) => {
                Err(SecretsError::KeychainUnavailable { reason })
            }
            Err(e) => Err(e),
        }
    }

    fn entry(&self, key: &str, action: &'static str) -> Result<Entry, SecretsError> {
        let Some(store) = &self.store else {
            return Err(SecretsError::KeychainUnavailable {
                reason: "the keychain connection was closed".to_owned(),
            });
        };
        store
            .build(SERVICE, key, None)
            .map_err(|e| map_error(e, action, key))
    }
}

impl Drop for KeychainBackend {
    /// Closing the Secret Service connection blocks on zbus's executor too, so the last
    /// reference is dropped outside the runtime as well.
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            off_runtime(move || drop(store));
        }
    }
}

impl Backend for KeychainBackend {
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        off_runtime(|| {
            let entry = self.entry(key, "read")?;
            match entry.get_secret() {
                Ok(bytes) => Ok(Some(Secret::new(bytes))),
                Err(Error::NoEntry) => Ok(None),
                Err(e) => Err(map_error(e, "read", key)),
            }
        })
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError> {
        off_runtime(|| {
            self.entry(key, "write")?
                .set_secret(value)
                .map_err(|e| map_error(e, "write", key))
        })
    }

    fn delete(&self, key: &str) -> Result<(), SecretsError> {
        off_runtime(|| match self.entry(key, "delete")?.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e, "delete", key)),
        })
    }
}

/// The keychain when none runs and the person has not chosen the file store: it holds nothing,
/// and every write fails with [`SecretsError::KeychainUnavailable`] — Latch never writes a token
/// to a file without being told to (`LATCH_TOKEN_STORE=file`).
pub(crate) struct UnavailableBackend {
    pub(crate) reason: String,
}

impl UnavailableBackend {
    pub(crate) fn error(&self) -> SecretsError {
        SecretsError::KeychainUnavailable {
            reason: self.reason.clone(),
        }
    }
}

impl Backend for UnavailableBackend {
    fn get(&self, _: &str) -> Result<Option<Secret>, SecretsError> {
        Ok(None)
    }

    fn put(&self, _: &str, _: &[u8]) -> Result<(), SecretsError> {
        Err(self.error())
    }

    fn delete(&self, _: &str) -> Result<(), SecretsError> {
        Ok(())
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn platform_store() -> Result<Arc<CredentialStore>, SecretsError> {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => {
            tracing::debug!(error = %e, "no Secret Service");
            Err(SecretsError::KeychainUnavailable {
                reason: "Secret Service not found".to_owned(),
            })
        }
    }
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<Arc<CredentialStore>, SecretsError> {
    match apple_native_keyring_store::keychain::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => Err(SecretsError::KeychainUnavailable {
            reason: format!("the macOS Keychain did not answer: {e}"),
        }),
    }
}

#[cfg(windows)]
fn platform_store() -> Result<Arc<CredentialStore>, SecretsError> {
    match windows_native_keyring_store::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => Err(SecretsError::KeychainUnavailable {
            reason: format!("the Windows Credential Manager did not answer: {e}"),
        }),
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    windows
)))]
fn platform_store() -> Result<Arc<CredentialStore>, SecretsError> {
    Err(SecretsError::KeychainUnavailable {
        reason: "Latch supports no keychain on this platform".to_owned(),
    })
}

/// Maps a keyring-core error. `BadEncoding` and `BadDataFormat` carry the stored bytes, so no
/// arm formats the error itself except the platform failures, whose messages come from the OS.
fn map_error(error: Error, action: &'static str, key: &str) -> SecretsError {
    let key = key.to_owned();
    match error {
        Error::NoStorageAccess(e) => {
            tracing::debug!(error = %e, "keychain access refused");
            SecretsError::KeychainLocked
        }
        Error::NoDefaultStore => SecretsError::KeychainUnavailable {
            reason: "no platform store is set up".to_owned(),
        },
        Error::PlatformFailure(e) => SecretsError::Keychain {
            action,
            key,
            reason: e.to_string(),
        },
        Error::TooLong(_, limit) => SecretsError::TooLong { key, limit },
        Error::Ambiguous(_) => SecretsError::KeychainAmbiguous { key },
        Error::BadEncoding(_) | Error::BadDataFormat(..) => SecretsError::Damaged {
            key,
            what: "the keychain returned data in an unexpected format",
        },
        Error::Invalid(attribute, reason) => SecretsError::Keychain {
            action,
            key,
            reason: format!("{attribute} {reason}"),
        },
        Error::BadStoreFormat(reason) | Error::NotSupportedByStore(reason) => {
            SecretsError::Keychain {
                action,
                key,
                reason,
            }
        }
        _ => SecretsError::Keychain {
            action,
            key,
            reason: "unexpected keychain error".to_owned(),
        },
    }
}

/// Runs a blocking keychain call outside any tokio runtime. The Secret Service client blocks on
/// its own executor, which (when zbus runs on tokio) panics inside a runtime, so inside one the
/// call moves to a short-lived plain thread.
fn off_runtime<T: Send>(call: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return call();
    }
    std::thread::scope(|scope| match scope.spawn(call).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}
