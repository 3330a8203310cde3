//! The one type a secret value travels in: its bytes are wiped when it is dropped, and it has no
//! `Display` and a `Debug` that prints only the length, so a stray `{:?}` or a `tracing` field
//! cannot leak a token. Reading the value takes an explicit `expose_*` call.

use std::fmt;

use zeroize::Zeroizing;

use super::SecretsError;

/// A secret value: zeroized on drop, never printed.
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps `bytes` (taking ownership, so no unwiped copy is left behind).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The value's bytes.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value as text; [`SecretsError::NotText`] when it is not UTF-8.
    pub fn expose_str(&self) -> Result<&str, SecretsError> {
        std::str::from_utf8(&self.0).map_err(|_| SecretsError::NotText)
    }

    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self::new(text.into_bytes())
    }
}

impl From<Zeroizing<Vec<u8>>> for Secret {
    fn from(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED {} bytes]", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_length() {
        let secret = Secret::from("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "[REDACTED 7 bytes]");
        assert_eq!(secret.expose_str().unwrap(), "hunter2");
    }

    #[test]
    fn non_utf8_is_not_text() {
        let secret = Secret::new(vec![0xff, 0xfe]);
        assert!(matches!(secret.expose_str(), Err(SecretsError::NotText)));
        assert_eq!(secret.expose_bytes(), &[0xff, 0xfe]);
    }
}
