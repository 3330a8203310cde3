//! The device authorization grant (RFC 8628).

use super::{AuthSettings, SignInError, SignInOptions, SignedIn};

pub(crate) async fn sign_in(
    server: &str,
    _url: &str,
    _settings: &AuthSettings,
    _options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    Err(SignInError::Unsupported(format!(
        "{server}: the device flow is not available in this build yet"
    )))
}
