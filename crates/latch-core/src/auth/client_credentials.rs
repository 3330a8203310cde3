//! Machine-to-machine sign-in with the client credentials grant.

use super::{AuthSettings, SignInError, SignInOptions, SignedIn};

pub(crate) async fn sign_in(
    server: &str,
    _url: &str,
    _settings: &AuthSettings,
    _options: &SignInOptions,
) -> Result<SignedIn, SignInError> {
    Err(SignInError::Unsupported(format!(
        "{server}: the client credentials flow is not available in this build yet"
    )))
}
