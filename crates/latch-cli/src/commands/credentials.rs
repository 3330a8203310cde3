//! `latch credentials set|remove NAME`: the client id and secret (or private key) that
//! machine-to-machine servers sign in with, kept in the token store under a name several
//! servers can share (`"auth": {"type": "client_credentials", "credentials": "NAME"}`). The
//! secret comes from standard input — typed without echo at a terminal, or piped — never from
//! the command line, where other users could see it; nothing here ever prints it.

use std::{
    io::{IsTerminal, Read},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use latch_core::{
    auth::{ClientProof, NamedCredentials, SigningAlgorithm},
    config::ServerConfig,
    secrets::{SecretStore, credential_key},
};
use serde_json::json;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Store (or replace) the client credentials named NAME. The client secret is read from
    /// standard input: at a terminal you are asked for it and it is not shown as you type;
    /// otherwise all of standard input is the secret (e.g. `pass show x | latch credentials set NAME`).
    Set(SetArgs),
    /// Delete the client credentials named NAME.
    Remove {
        /// The credentials' name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// A name for the credentials (letters, digits, `.`, `_`, `-`), as servers name them in
    /// `auth.credentials`.
    pub name: String,
    /// The client id (default: the one already stored under NAME, so pasting a rotated secret
    /// needs only the name).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Sign in with this private key (PEM, unencrypted) instead of a secret: `private_key_jwt`.
    #[arg(long, value_name = "PATH", requires = "alg")]
    pub private_key_file: Option<PathBuf>,
    /// The private key's signing algorithm.
    #[arg(long, value_enum, requires = "private_key_file")]
    pub alg: Option<AlgArg>,
    /// When no keychain is running: keep secrets in `secrets.json` in $LATCH_HOME, readable
    /// only by you (at a terminal you are asked instead). Later commands use it too.
    #[arg(long)]
    pub keep_in_file: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlgArg {
    /// An EC P-256 key.
    #[value(name = "ES256")]
    Es256,
    /// An RSA key.
    #[value(name = "RS256")]
    Rs256,
}

impl From<AlgArg> for SigningAlgorithm {
    fn from(arg: AlgArg) -> Self {
        match arg {
            AlgArg::Es256 => SigningAlgorithm::ES256,
            AlgArg::Rs256 => SigningAlgorithm::RS256,
        }
    }
}

pub async fn run(command: CredentialsCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        CredentialsCommand::Set(args) => set(args, json).await,
        CredentialsCommand::Remove { name } => remove(&name, json).await,
    }
}

async fn set(args: SetArgs, json: bool) -> anyhow::Result<ExitCode> {
    check_name(&args.name)?;
    let store = super::secret_store()?;
    // Before asking for the secret: refuse now if it cannot be kept (no keychain), unless
    // the person agrees to keep it in a file.
    let how = format!(
        "add `--keep-in-file` to `latch credentials set {}`",
        args.name
    );
    super::keep_or_ask(&store, args.keep_in_file, &how)?;
    let key = credential_key(&args.name);
    let client_id = match args.client_id {
        Some(id) => id,
        None => match read(&store, &key).await? {
            Some(stored) => stored.client_id().to_owned(),
            None => bail!(
                "no credentials named {} are stored yet — give the client id with `--client-id ID`",
                args.name
            ),
        },
    };
    let credentials = match (args.private_key_file, args.alg) {
        (Some(path), Some(alg)) => {
            let pem = std::fs::read_to_string(&path)
                .with_context(|| format!("could not read the private key {}", path.display()))?;
            NamedCredentials::with_private_key(client_id, pem, alg.into())
        }
        _ => {
            let secret = read_secret(
                &format!("Client secret for {}: ", args.name),
                &format!("latch credentials set {}", args.name),
            )?;
            NamedCredentials::with_secret(client_id, secret.trim())
        }
    }
    .map_err(|reason| anyhow::anyhow!("{reason}"))?;
    let document = credentials.to_json();
    let writer = store.clone();
    tokio::task::spawn_blocking(move || writer.put(&key, document.as_bytes()))
        .await?
        .with_context(|| format!("could not store the credentials named {}", args.name))?;

    let used_by = servers_using(&args.name);
    if json {
        output::json(&json!({
            "stored": args.name,
            "clientId": credentials.client_id(),
            "kind": match credentials.proof() {
                ClientProof::PrivateKey { .. } => "privateKey",
                _ => "clientSecret",
            },
            "store": store.kind(),
            "usedBy": used_by,
        }))?;
    } else {
        println!(
            "Stored the {} for {} (client id {}) in the {} store.",
            credentials.kind(),
            args.name,
            credentials.client_id(),
            store.kind()
        );
        if used_by.is_empty() {
            println!(
                "No server uses it yet: give a server `\"auth\": {{\"type\": \"client_credentials\", \"credentials\": \"{}\"}}`.",
                args.name
            );
        } else {
            println!("Used by: {}.", used_by.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(name: &str, json: bool) -> anyhow::Result<ExitCode> {
    check_name(name)?;
    let store = super::secret_store()?;
    let key = credential_key(name);
    let existed = read_raw(&store, &key).await?;
    let writer = store.clone();
    tokio::task::spawn_blocking(move || writer.delete(&key))
        .await?
        .with_context(|| format!("could not delete the credentials named {name}"))?;
    let used_by = servers_using(name);
    if json {
        output::json(&json!({ "removed": name, "existed": existed, "usedBy": used_by }))?;
    } else {
        if existed {
            println!("Deleted the credentials named {name}.");
        } else {
            println!("No credentials named {name} were stored.");
        }
        if !used_by.is_empty() {
            println!(
                "{} still name them and cannot sign in until `latch credentials set {name}`.",
                used_by.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The same rule as server names, so a name is safe in messages and commands.
fn check_name(name: &str) -> anyhow::Result<()> {
    let bytes = name.as_bytes();
    let ok = (1..=64).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if !ok {
        bail!(
            "`{name}` is not a credentials name: use 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"
        );
    }
    Ok(())
}

/// The credentials stored under `key`, if any (unreadable ones count as none).
async fn read(store: &SecretStore, key: &str) -> anyhow::Result<Option<NamedCredentials>> {
    let (store, key) = (store.clone(), key.to_owned());
    let value = tokio::task::spawn_blocking(move || store.get(&key))
        .await?
        .context("could not read the token store")?;
    Ok(value
        .and_then(|v| v.expose_str().ok().map(NamedCredentials::parse))
        .and_then(Result::ok))
}

/// Whether anything is stored under `key`.
async fn read_raw(store: &SecretStore, key: &str) -> anyhow::Result<bool> {
    let (store, key) = (store.clone(), key.to_owned());
    Ok(tokio::task::spawn_blocking(move || store.get(&key))
        .await?
        .context("could not read the token store")?
        .is_some())
}

/// The client secret from the terminal (not echoed, asked with `prompt`) or from piped
/// standard input; with nothing piped in, the error names `command` to run at a terminal.
pub(super) fn read_secret(prompt: &str, command: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        rpassword::prompt_password(prompt)
            .context("could not read the client secret from the terminal")
    } else {
        let mut text = String::new();
        stdin
            .lock()
            .read_to_string(&mut text)
            .context("could not read the client secret from standard input")?;
        if text.trim().is_empty() {
            bail!(
                "no client secret on standard input — pipe it in, or run `{command}` at a terminal"
            );
        }
        Ok(text)
    }
}

/// The servers whose `auth.credentials` is `name` (none when the servers file cannot be read).
fn servers_using(name: &str) -> Vec<String> {
    let Ok(config) = super::load_config() else {
        return Vec::new();
    };
    config
        .servers()
        .into_iter()
        .filter(|(_, server)| match server {
            ServerConfig::Remote(remote) => {
                remote
                    .auth
                    .as_ref()
                    .and_then(|auth| auth.get("credentials"))
                    .and_then(|v| v.as_str())
                    == Some(name)
            }
            _ => false,
        })
        .map(|(server, _)| server)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("madgicx").is_ok());
        assert!(check_name("m2m.prod_1-a").is_ok());
        for bad in ["", "-x", "a b", "a/b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
