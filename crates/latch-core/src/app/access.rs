//! How any front end (the app, the CLI, the bridge) reaches one server with its stored
//! sign-in: where the grant is kept and the connect options that use it. One place, so the
//! tray, the CLI and the bridge share the same grant and the same refresh lock.

use std::sync::Arc;

use crate::{
    ConnectOptions,
    auth::{AuthSettings, BrowserMode, Flow, SharedCredentialStore},
    config::ServerConfig,
    secrets::{GrantStore, SecretStore},
};

/// Where the sign-in of server `name` is kept. One grant per server for now (the account
/// label comes with several accounts per server); the issuer is recorded inside the grant and
/// a grant from another authorization server is discarded on use.
pub fn grant_store(secrets: &SecretStore, name: &str) -> SharedCredentialStore {
    SharedCredentialStore::new(GrantStore::for_grant(secrets.clone(), name, "", "default"))
}

/// Connect options that use the stored sign-in of `name` and resolve `${secret:…}`.
///
/// A server that signs in with client credentials needs no person, and its grant usually
/// has no refresh token: when the token expires, the server's 401 is answered by exchanging
/// the credentials again. So for such a server (and only such a server) the connection may
/// sign in by itself; every other server's 401 stays an error that asks for a sign-in.
pub fn connect_options(secrets: &SecretStore, name: &str, server: &ServerConfig) -> ConnectOptions {
    ConnectOptions {
        secrets: Arc::new(secrets.clone()),
        credentials: Some(grant_store(secrets, name)),
        sign_in: signs_in_unattended(secrets, name, server).then_some(BrowserMode::Print),
        ..ConnectOptions::default()
    }
}

/// Whether the server signs in without a person (client credentials). The mode given to the
/// connection is never used for such a server; `Print` is the harmless one.
pub fn signs_in_unattended(secrets: &SecretStore, name: &str, server: &ServerConfig) -> bool {
    let ServerConfig::Remote(remote) = server else {
        return false;
    };
    AuthSettings::from_server(name, remote, secrets)
        .is_ok_and(|settings| settings.effective_flow() == Flow::ClientCredentials)
}
