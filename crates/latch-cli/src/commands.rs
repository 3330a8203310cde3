//! One module per `latch` subcommand, plus what they share: loading the config and
//! connecting to a named server.

pub mod call;
pub mod credentials;
pub mod login;
pub mod servers;
pub mod status;
pub mod tools;

use std::sync::Arc;

use anyhow::Context;
use latch_core::{
    ConnectOptions, Connection,
    auth::{AuthSettings, BrowserMode, Flow, SharedCredentialStore},
    config::{ConfigFile, ServerConfig},
    secrets::{GrantStore, SecretStore},
};

/// The servers file, loaded (a file that does not parse is an error naming line and column).
pub fn load_config() -> anyhow::Result<ConfigFile> {
    Ok(ConfigFile::load_default()?)
}

/// The token store for this run (`LATCH_TOKEN_STORE`, else the keychain, else the file).
pub fn secret_store() -> anyhow::Result<SecretStore> {
    Ok(SecretStore::open()?)
}

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
/// sign in by itself; every other server's 401 stays an error that says to run `latch login`.
pub fn connect_options(secrets: &SecretStore, name: &str) -> ConnectOptions {
    ConnectOptions {
        secrets: Arc::new(secrets.clone()),
        credentials: Some(grant_store(secrets, name)),
        sign_in: signs_in_unattended(secrets, name).then_some(BrowserMode::Print),
        ..ConnectOptions::default()
    }
}

/// Whether the server `name` signs in without a person (client credentials). The mode given
/// to the connection is never used for such a server; `Print` is the harmless one.
fn signs_in_unattended(secrets: &SecretStore, name: &str) -> bool {
    let Ok(ServerConfig::Remote(remote)) = load_config().and_then(|c| Ok(c.server(name)?)) else {
        return false;
    };
    AuthSettings::from_server(name, &remote, secrets)
        .is_ok_and(|settings| settings.effective_flow() == Flow::ClientCredentials)
}

/// Connect to the server `name` from the config, with its stored sign-in.
pub async fn connect(name: &str) -> anyhow::Result<Connection> {
    let config = load_config()?;
    let server = config.server(name)?;
    let secrets = secret_store()?;
    match Connection::connect(name, &server, connect_options(&secrets, name)).await {
        Ok(connection) => Ok(connection),
        Err(error) if error.is_auth_required() => {
            anyhow::bail!("{name} needs sign-in — run `latch login {name}`")
        }
        Err(error) => Err(error).with_context(|| format!("could not connect to {name}")),
    }
}
