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
mod dpop;
mod enterprise;
mod forgotten;
mod headless;
mod legacy;
mod migration;
mod probe;
mod settings;
mod sign_in;
mod sign_out;
mod store;
mod workload;

pub use crate::config::AUTH_KEYS;
pub use crate::net::check_url_to_open;
pub use browser::BrowserMode;
pub(crate) use browser::system_opener;
pub use callback::{DEEP_LINK_REDIRECT, deliver_callback};
pub use client_credentials::{
    ClientCredentialsError, ClientProof, NamedCredentials, SigningAlgorithm,
};
pub use device::DeviceError;
pub(crate) use discovery::apply_configured;
pub use dpop::DpopError;
pub(crate) use dpop::{
    DpopKey as DpopKeyHandle, DpopOAuthClient, KeySlot as DpopKeySlot, ProofFor, TokenProofs,
    key_name as dpop_key_name,
};
#[cfg(test)]
pub(crate) use dpop::{ath as dpop_ath, peer as dpop_peer};
pub use enterprise::{
    EnterpriseError, OrgSignInOptions, OrgStatus, adopt_id_token, org_status, sign_in_org,
    sign_out_org,
};
pub use forgotten::is_forgotten;
pub(crate) use forgotten::{
    client_refused, forget_registration, oauth_error_code, registered_by_latch,
};
pub use migration::moved_provider;
pub(crate) use migration::provider_moved;
pub use settings::{AuthSettings, DpopChoice, Flow, WorkloadToken};
pub use sign_in::{SignInError, SignInOptions, SignedIn, sign_in};
pub use sign_out::{SignedOut, sign_out};
pub use store::SharedCredentialStore;
pub use workload::WorkloadError;
pub(crate) use workload::explain as explain_workload;
#[cfg(fuzzing)]
#[doc(hidden)]
pub use {callback::fuzz_callback, sign_in::fuzz_challenge_scope};

/// The issuer of the sign-in server behind the MCP server at `url` (its authorization
/// endpoint when the metadata names no issuer), for the add dialog's probe.
pub(crate) async fn discover_for_probe(
    url: &str,
    challenge: Option<&str>,
) -> Result<String, String> {
    let metadata = discovery::discover(url, challenge, None, None)
        .await?
        .metadata;
    Ok(metadata.issuer.unwrap_or(metadata.authorization_endpoint))
}

/// Why a request to the token endpoint `endpoint` failed, in plain words naming it. `guessed`:
/// the provider published no metadata and Latch tried rmcp's guess (`/token` on the MCP
/// server), so the fix is to configure the token URL.
pub(crate) fn token_endpoint_failure(
    server: &str,
    endpoint: &str,
    guessed: bool,
    reason: &str,
) -> String {
    let what = if reason.contains("parse error") || reason.contains("expected value") {
        "its answer was not an OAuth token response".to_owned()
    } else if let Some(status) = reason
        .split_whitespace()
        .skip_while(|w| *w != "HTTP")
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
    {
        format!("it answered HTTP {status}")
    } else {
        one_line(reason)
    };
    let shown = crate::net::shown(endpoint);
    if guessed {
        format!(
            "Latch tried {shown} and {what} — {server} publishes no sign-in metadata, so give its token URL: `latch servers add {server} URL --client-credentials NAME --token-url URL`, or `auth.tokenUrl` in the servers file"
        )
    } else {
        format!("{shown}: {what}")
    }
}

/// A library's message as one line of at most 200 characters.
pub(crate) fn one_line(text: &str) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() > 200 {
        let cut: String = flat.chars().take(199).collect();
        format!("{cut}…")
    } else {
        flat
    }
}
