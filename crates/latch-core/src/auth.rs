//! Signing in to servers that answer 401: discovery, client identity (pre-registered, CIMD,
//! DCR), the authorization-code flow with PKCE through the system browser (or the printed URL,
//! or the headless test agent), and step-up when a server wants more scopes. rmcp's `auth`
//! module does the protocol work; this module drives it and owns the parts around it — the
//! loopback callback listener, opening URLs safely, and where tokens are kept.

mod browser;
mod callback;
mod client_credentials;
mod device;
mod discovery;
mod endpoints;
mod headless;
mod legacy;
mod settings;
mod sign_in;
mod sign_out;
mod store;

pub use browser::{BrowserMode, check_url_to_open};
pub use callback::{DEEP_LINK_REDIRECT, deliver_callback};
pub use client_credentials::{
    ClientCredentialsError, ClientProof, NamedCredentials, SigningAlgorithm,
};
pub use device::DeviceError;
pub(crate) use endpoints::{RedirectRefused, redirect_policy};
pub use settings::{AuthSettings, Flow};
pub use sign_in::{SignInError, SignInOptions, SignedIn, sign_in};
pub use sign_out::{SignedOut, sign_out};
pub use store::SharedCredentialStore;
#[cfg(fuzzing)]
#[doc(hidden)]
pub use {callback::fuzz_callback, sign_in::fuzz_challenge_scope};

/// The issuer of the sign-in server behind the MCP server at `url` (its authorization
/// endpoint when the metadata names no issuer), for the add dialog's probe.
pub(crate) async fn discover_for_probe(
    url: &str,
    challenge: Option<&str>,
) -> Result<String, String> {
    let (_, metadata) = discovery::discover(url, challenge, None).await?;
    Ok(metadata.issuer.unwrap_or(metadata.authorization_endpoint))
}
