//! What can go wrong when keeping a secret, in words that say what to do next. Every message
//! names the key, the file or the keychain involved — never the value: errors end up in logs,
//! in `latch status` and in the app, and a token must never reach any of them.

use std::path::PathBuf;

/// An error from the secret store. Messages never contain a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// No platform keychain answered (no D-Bus session, no Secret Service, …).
    #[error(
        "no keychain is running ({reason}); start one (on Linux: gnome-keyring or KeePassXC with \
         Secret Service), or run Latch with LATCH_TOKEN_STORE=file to keep tokens in a file only \
         you can read"
    )]
    KeychainUnavailable {
        /// What the platform said, in a few words.
        reason: String,
    },

    /// The keychain exists but is locked (or the person declined to unlock it).
    #[error("the keychain is locked — unlock it and try again")]
    KeychainLocked,

    /// The keychain answered with an error while reading, writing or deleting `key`.
    #[error("the keychain could not {action} `{key}`: {reason}")]
    Keychain {
        /// `read`, `write` or `delete`.
        action: &'static str,
        /// The entry's key (names a server or credential, never a value).
        key: String,
        /// The platform's explanation.
        reason: String,
    },

    /// More than one keychain item matches one key.
    #[error(
        "several keychain items match `{key}` — open your keychain app, remove the duplicates \
         (service \"latch\") and try again"
    )]
    KeychainAmbiguous {
        /// The entry's key.
        key: String,
    },

    /// The platform refused a value because of its size even after splitting.
    #[error(
        "the keychain refused `{key}` as too long ({limit} is its limit); report this as a bug"
    )]
    TooLong {
        /// The entry's key.
        key: String,
        /// The limit the platform reported.
        limit: u32,
    },

    /// Reading or writing the file store (or its lock) failed. Writes are atomic, so what was
    /// stored before is unchanged.
    #[error(
        "could not {action} {}: {source} — what was stored before is unchanged; free some disk \
         space or check that you may write to that folder, then try again",
        path.display()
    )]
    Io {
        /// What was being done, e.g. `write` or `lock`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The file store does not parse; it is never overwritten in that state.
    #[error(
        "{} is damaged (not valid JSON at line {line}, column {column}); move it aside and sign \
         in again — Latch will not overwrite it",
        path.display()
    )]
    FileDamaged {
        /// The secrets file.
        path: PathBuf,
        /// Where parsing stopped.
        line: usize,
        /// Where parsing stopped.
        column: usize,
    },

    /// A stored value is incomplete or malformed (a missing part, a bad encoding).
    #[error(
        "the stored value for `{key}` is damaged ({what}); sign in again (or `latch logout`) \
         to replace it"
    )]
    Damaged {
        /// The entry's key.
        key: String,
        /// What is wrong, without the value.
        what: &'static str,
    },

    /// A key the store cannot hold.
    #[error("`{key}` cannot be used as a secret key: {reason}")]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Why.
        reason: &'static str,
    },

    /// `LATCH_TOKEN_STORE` holds something else than keychain, file or memory.
    #[error("LATCH_TOKEN_STORE is `{value}`; use keychain, file or memory (or leave it unset)")]
    UnknownStoreKind {
        /// The setting as given.
        value: String,
    },

    /// A secret was asked for as text but is not UTF-8.
    #[error("the secret is not text (not valid UTF-8)")]
    NotText,

    /// Sign-in data could not be turned into JSON or back.
    #[error(
        "the saved sign-in under `{key}` could not be {action} (JSON error at line {line}, \
         column {column}); sign in again to replace it"
    )]
    Credentials {
        /// `read` or `saved`.
        action: &'static str,
        /// The entry's key.
        key: String,
        /// Where the JSON error is.
        line: usize,
        /// Where the JSON error is.
        column: usize,
    },

    /// A background task running a store operation stopped before finishing.
    #[error("the secret store task stopped before finishing: {0}")]
    Task(String),
}

impl SecretsError {
    /// True when no keychain answered — the case where falling back to the file store helps.
    pub fn is_keychain_unavailable(&self) -> bool {
        matches!(self, Self::KeychainUnavailable { .. })
    }

    /// True when the keychain is locked and the person can fix it by unlocking it.
    pub fn is_locked(&self) -> bool {
        matches!(self, Self::KeychainLocked)
    }

    /// True when stored data is damaged and signing in again replaces it.
    pub fn is_damaged(&self) -> bool {
        matches!(
            self,
            Self::Damaged { .. } | Self::FileDamaged { .. } | Self::Credentials { .. }
        )
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
