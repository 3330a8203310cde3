//! One module per `latch` subcommand, plus what they share: loading the config and
//! connecting to a named server.

pub mod bridge;
pub mod call;
pub mod complete;
pub mod credentials;
pub mod demo;
pub mod doctor;
pub mod login;
pub mod org;
pub mod prompts;
pub mod resources;
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

/// The token store for this run (`LATCH_TOKEN_STORE`, else the keychain, else the
/// `secrets.json` the person agreed to, else a store that keeps nothing: see [`keep_or_ask`]).
pub fn secret_store() -> anyhow::Result<SecretStore> {
    Ok(SecretStore::open()?)
}

/// Before a sign-in (or a secret) is taken: make sure it can be kept. When no keychain runs
/// and the person has not chosen the file yet, `--keep-in-file` (`keep_in_file`) or their
/// "yes" at a terminal is their consent — `secrets.json` is created, and this and every later
/// command use it; otherwise the error says how to consent (`how`: e.g. "run `latch login
/// NAME --keep-in-file`").
pub fn keep_or_ask(secrets: &SecretStore, keep_in_file: bool, how: &str) -> anyhow::Result<()> {
    let Err(error) = secrets.writable() else {
        return Ok(());
    };
    let Some(path) = secrets.consent_file() else {
        return Err(error.into());
    };
    if keep_in_file || ask_to_keep_in_file(&path)? {
        secrets.use_file_with_consent()?;
        eprintln!(
            "Sign-ins are kept in {} (readable only by you) from now on.",
            path.display()
        );
        return Ok(());
    }
    anyhow::bail!(
        "{error}; or, to keep them in {} from now on, {how}",
        path.display()
    )
}

/// "No keychain is running. Keep sign-ins in PATH, readable only by you? [y/N]" — only when
/// a person is at the terminal (stdin and stderr); `false` otherwise, and for anything but yes.
fn ask_to_keep_in_file(path: &std::path::Path) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(false);
    }
    let mut stderr = std::io::stderr();
    write!(
        stderr,
        "No keychain is running. Keep sign-ins in {}, readable only by you? [y/N] ",
        path.display()
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Where the sign-in of server `name` for `account` is kept (shared with the app and the
/// bridge); `None` is the default account.
pub fn grant_store(
    secrets: &SecretStore,
    name: &str,
    account: Option<&str>,
) -> SharedCredentialStore {
    latch_core::app::grant_store(secrets, name, account)
}

/// `--account LABEL`, checked: `None` (and `default`) is the default account.
pub fn account(label: Option<&str>) -> anyhow::Result<Option<String>> {
    Ok(latch_core::app::parse_account(label)?)
}

/// `latch login NAME [--account LABEL]`, for messages.
pub fn login_command(name: &str, account: Option<&str>) -> String {
    match account {
        Some(account) => format!("latch login {name} --account {account}"),
        None => format!("latch login {name}"),
    }
}

/// Connect to the server `name` from the config, with the stored sign-in of `account`
/// (`--account`, checked; `None`: the default account).
pub async fn connect(name: &str, account: Option<&str>) -> anyhow::Result<Connection> {
    connect_with(name, account, None).await
}

/// [`connect`], with `host` answering what the server asks for mid-call (default: forms get
/// their defaults, the rest is declined).
pub async fn connect_with(
    name: &str,
    account: Option<&str>,
    host: Option<std::sync::Arc<dyn latch_core::Host>>,
) -> anyhow::Result<Connection> {
    let account = self::account(account)?;
    let account = account.as_deref();
    let config = load_config()?;
    let server = config.server(name)?;
    let secrets = secret_store()?;
    let mut options = latch_core::app::connect_options_for(&secrets, name, account, &server);
    // One command, one answer: no list-change stream to keep open.
    options.watch_lists = false;
    if let Some(host) = host {
        options.host = host;
    }
    match Connection::connect(name, &server, options).await {
        Ok(connection) => Ok(connection),
        Err(error) if error.is_auth_required() => {
            let who = account.map(|a| format!(" as {a}")).unwrap_or_default();
            let stored = latch_core::app::grant(&secrets, name, account)
                .load_blocking()
                .ok()
                .flatten();
            // The server now names another sign-in provider (SEP-2352): say so, naming it.
            if let (
                Some(stored),
                latch_core::config::ServerConfig::Remote(remote),
                latch_core::ConnectError::AuthRequired { challenge, .. },
            ) = (&stored, &server, &error)
                && let Some(moved) = latch_core::auth::moved_provider(
                    name,
                    &remote.url,
                    challenge.as_deref(),
                    stored,
                )
                .await
            {
                anyhow::bail!("{moved} — run `{}`", login_command(name, account));
            }
            // A registration the provider forgot (`invalid_client` on a refresh) is worth
            // saying: the next sign-in registers Latch again.
            let forgotten = stored.as_ref().is_some_and(latch_core::auth::is_forgotten);
            let why = if forgotten {
                " (its sign-in server no longer knows Latch's registration; signing in registers Latch again)"
            } else {
                ""
            };
            anyhow::bail!(
                "{name} needs sign-in{who}{why} — run `{}`",
                login_command(name, account)
            )
        }
        Err(error) => Err(error).with_context(|| format!("could not connect to {name}")),
    }
}
