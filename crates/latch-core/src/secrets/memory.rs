//! A store that lives in the process and dies with it: for tests, and for
//! `LATCH_TOKEN_STORE=memory` when nothing should touch the disk or the keychain. Its test-only
//! fault injection lets the splitting layer's tests stop a write half-way, like a crash.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::backend::Backend;
use super::{Secret, SecretsError};

#[derive(Default)]
pub(crate) struct MemoryBackend {
    map: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
    /// Test hook: how many more writes (puts and deletes) succeed before every write fails.
    #[cfg(test)]
    writes_left: Mutex<Option<usize>>,
}

impl MemoryBackend {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Zeroizing<Vec<u8>>>> {
        // A panic while holding the lock cannot leave the map half-updated (each operation is
        // one insert or remove), so a poisoned lock is still good.
        self.map.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    #[cfg(test)]
    fn check_crash(&self, key: &str) -> Result<(), SecretsError> {
        let mut left = self.writes_left.lock().unwrap();
        match left.as_mut() {
            Some(0) => Err(SecretsError::Keychain {
                action: "write",
                key: key.to_owned(),
                reason: "simulated crash".to_owned(),
            }),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    #[cfg(not(test))]
    fn check_crash(&self, _key: &str) -> Result<(), SecretsError> {
        Ok(())
    }

    /// Test hook: lets `n` more writes succeed, then fails every write (`None`: no limit).
    #[cfg(test)]
    pub(crate) fn crash_after_writes(&self, n: Option<usize>) {
        *self.writes_left.lock().unwrap() = n;
    }

    /// Test hook: every key present, sorted.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().keys().cloned().collect();
        keys.sort();
        keys
    }
}

impl Backend for MemoryBackend {
    fn get(&self, key: &str) -> Result<Option<Secret>, SecretsError> {
        Ok(self
            .lock()
            .get(key)
            .map(|value| Secret::from(value.clone())))
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), SecretsError> {
        self.check_crash(key)?;
        self.lock()
            .insert(key.to_owned(), Zeroizing::new(value.to_vec()));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), SecretsError> {
        self.check_crash(key)?;
        self.lock().remove(key);
        Ok(())
    }
}
