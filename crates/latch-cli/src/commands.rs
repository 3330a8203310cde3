//! One module per `latch` subcommand, plus what they share: loading the config and
//! connecting to a named server.

pub mod bridge;
pub mod call;
pub mod credentials;
pub mod demo;
pub mod login;
pub mod servers;
pub mod status;
pub mod tools;

use anyhow::Context;
use latch_core::{
    Connection, auth::SharedCredentialStore, config::ConfigFile, secrets::SecretStore,
};

/// The servers file, loaded (a file that does not parse is an error naming line and column).
pub fn load_config() -> anyhow::Result<ConfigFile> {
    Ok(ConfigFile::load_default()?)
}

/// The token store for this run (`LATCH_TOKEN_STORE`, else the keychain, else the file).
pub fn secret_store() -> anyhow::Result<SecretStore> {
    Ok(SecretStore::open()?)
}

/// Where the sign-in of server `name` is kept (shared with the app and the bridge).
pub fn grant_store(secrets: &SecretStore, name: &str) -> SharedCredentialStore {
    latch_core::app::grant_store(secrets, name)
}

/// Connect to the server `name` from the config, with its stored sign-in.
pub async fn connect(name: &str) -> anyhow::Result<Connection> {
    let config = load_config()?;
    let server = config.server(name)?;
    let secrets = secret_store()?;
    match Connection::connect(
        name,
        &server,
        latch_core::app::connect_options(&secrets, name, &server),
    )
    .await
    {
        Ok(connection) => Ok(connection),
        Err(error) if error.is_auth_required() => {
            anyhow::bail!("{name} needs sign-in — run `latch login {name}`")
        }
        Err(error) => Err(error).with_context(|| format!("could not connect to {name}")),
    }
}
