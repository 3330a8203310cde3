//! `latch bridge NAME`: serve the remote server NAME to an agent over stdin/stdout. The core
//! does the work; this only loads the config and the token store. Stdout belongs to the
//! protocol, so nothing here prints to it.

use std::process::ExitCode;

use latch_core::bridge::{self, BridgeOptions};

pub async fn run(
    name: &str,
    account: Option<&str>,
    login_if_needed: bool,
) -> anyhow::Result<ExitCode> {
    let account = super::account(account)?;
    let config = super::load_config()?;
    let server = config.server(name)?;
    let secrets = super::secret_store()?;
    let options = BridgeOptions::new(login_if_needed).with_account(account);
    bridge::run_stdio(name, server, secrets, options).await?;
    Ok(ExitCode::SUCCESS)
}
