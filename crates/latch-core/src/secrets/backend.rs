//! The small interface every place a secret can live implements — read, write, delete one
//! key — so that the splitting of large values and the choice of store stay in one layer above
//! the keychain, the file and the memory map.

use super::{Secret, SecretsError};

/// One place secrets live. Implementations write each key whole or not at all.
pub(crate) trait Backend: Send + Sync {
    /// The value under `key`, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError>;

    /// Stores `value` under `key`, replacing what was there.
    fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError>;

    /// Removes `key`; removing a missing key succeeds.
    fn delete(&self, key: &str) -> Result<(), SecretsError>;
}
