//! One module per `latch` subcommand, plus what they share: loading the config and
//! connecting to a named server.

pub mod call;
pub mod servers;
pub mod status;
pub mod tools;

use anyhow::Context;
use latch_core::{ConnectOptions, Connection, config::ConfigFile};

/// The servers file, loaded (a file that does not parse is an error naming line and column).
pub fn load_config() -> anyhow::Result<ConfigFile> {
    Ok(ConfigFile::load_default()?)
}

/// Connect to the server `name` from the config.
pub async fn connect(name: &str, options: ConnectOptions) -> anyhow::Result<Connection> {
    let config = load_config()?;
    let server = config.server(name)?;
    Connection::connect(name, &server, options)
        .await
        .with_context(|| format!("could not connect to {name}"))
}
