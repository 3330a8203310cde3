//! `latch status [NAME]`: connect to each server (all at once) and say how it stands — one row
//! per signed-in account of a server (`latch login NAME --account LABEL`), each checked with its
//! own grant.

use std::{process::ExitCode, time::Duration};

use latch_core::{
    Connection, ConnectionState,
    config::{self, ServerConfig},
    secrets::{DEFAULT_ACCOUNT, TokenMetadata},
};
use serde_json::json;

use crate::output;

pub async fn run(only: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config()?;
    let servers = match only {
        Some(name) => vec![(name.to_owned(), config.server(name)?)],
        None => config.servers(),
    };
    let secrets = super::secret_store()?;
    let secrets = &secrets;
    // One row per (server, account): a remote server's signed-in accounts, or its default
    // account when it has none; a local command server has no account.
    let rows: Vec<(String, ServerConfig, Option<String>)> = servers
        .into_iter()
        .flat_map(|(name, server)| {
            let accounts = match server {
                ServerConfig::Remote(_) => {
                    let mut labels = latch_core::app::accounts(secrets, &name);
                    if labels.is_empty() {
                        labels.push(DEFAULT_ACCOUNT.to_owned());
                    }
                    labels.into_iter().map(Some).collect()
                }
                ServerConfig::Command(_) => vec![None],
            };
            accounts
                .into_iter()
                .map(move |account| (name.clone(), server.clone(), account))
        })
        .collect();
    let accounts: Vec<Option<String>> = rows.iter().map(|(_, _, a)| a.clone()).collect();
    let checks = rows.into_iter().map(|(name, server, account)| async move {
        let mut options = latch_core::app::connect_options_for(
            secrets,
            &name,
            account.as_deref().filter(|a| *a != DEFAULT_ACCOUNT),
            &server,
        );
        options.connect_attempts = 1;
        options.handshake_timeout = Duration::from_secs(15);
        options.watch_lists = false;
        match Connection::connect(&name, &server, options).await {
            Ok(connection) => {
                let state = ConnectionState::Connected {
                    transport: connection.transport(),
                };
                let info = connection.server_info();
                connection.close().await;
                (name, state, Some(info))
            }
            Err(error) if error.is_auth_required() => (name, ConnectionState::NeedsSignIn, None),
            Err(error) => (
                name,
                ConnectionState::Failed {
                    reason: error.to_string(),
                },
                None,
            ),
        }
    });
    let results = futures::future::join_all(checks).await;
    let grants: Vec<Option<TokenMetadata>> = results
        .iter()
        .zip(&accounts)
        .map(|((name, _, _), account)| {
            let account = account.as_deref()?;
            latch_core::app::grant(secrets, name, Some(account))
                .metadata()
                .ok()
                .flatten()
                .filter(|m| m.has_access_token)
        })
        .collect();
    // A grant whose registration the provider forgot (`invalid_client` on a refresh).
    let forgotten: Vec<bool> = results
        .iter()
        .zip(&accounts)
        .map(|((name, _, _), account)| {
            account.as_deref().is_some_and(|account| {
                latch_core::app::grant(secrets, name, Some(account))
                    .load_blocking()
                    .ok()
                    .flatten()
                    .is_some_and(|stored| latch_core::auth::is_forgotten(&stored))
            })
        })
        .collect();
    let warnings: Vec<String> = match only {
        Some(name) => config::entry_warnings(name, &config.server(name)?),
        None => config
            .servers()
            .iter()
            .flat_map(|(name, server)| config::entry_warnings(name, server))
            .collect(),
    };
    let healthy = results
        .iter()
        .all(|(_, state, _)| matches!(state, ConnectionState::Connected { .. }));
    if json {
        let list: Vec<_> = results
            .iter()
            .zip(&grants)
            .zip(&accounts)
            .zip(&forgotten)
            .map(|((((name, state, info), grant), account), forgotten)| {
                json!({
                    "name": name,
                    "account": account,
                    "state": state,
                    "server": info,
                    "signIn": grant,
                    "registrationForgotten": forgotten,
                })
            })
            .collect();
        output::json(&json!({
            "servers": list,
            "warnings": warnings,
            "tokenStore": secrets.kind(),
            "tokenStoreWarning": secrets.fallback_warning(),
        }))?;
    } else if results.is_empty() {
        println!("No servers yet. Add one with `latch servers add NAME URL`.");
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .zip(&grants)
            .zip(&accounts)
            .zip(&forgotten)
            .map(|((((name, state, info), grant), account), forgotten)| {
                let (label, detail) = match state {
                    ConnectionState::Connected { transport } => (
                        "connected".to_owned(),
                        info.as_ref()
                            .map(|i| {
                                format!(
                                    "{} {} over {transport} (MCP {}, {})",
                                    i.name.as_deref().unwrap_or("?"),
                                    i.version.as_deref().unwrap_or(""),
                                    i.protocol_version,
                                    if i.stateless { "stateless" } else { "session" }
                                )
                            })
                            .unwrap_or_default(),
                    ),
                    ConnectionState::NeedsSignIn if *forgotten => (
                        "needs sign-in".to_owned(),
                        format!("the sign-in server no longer knows Latch's registration — sign in again with `latch login {name}`"),
                    ),
                    ConnectionState::NeedsSignIn => (
                        "needs sign-in".to_owned(),
                        format!("the server answered 401 — sign in with `latch login {name}`"),
                    ),
                    ConnectionState::Failed { reason } => ("failed".to_owned(), reason.clone()),
                    other => (format!("{other:?}"), String::new()),
                };
                let account = match account.as_deref() {
                    Some(DEFAULT_ACCOUNT) if grant.is_none() => "—".to_owned(),
                    Some(label) => label.to_owned(),
                    None => "—".to_owned(),
                };
                vec![
                    name.clone(),
                    account,
                    label,
                    sign_in_label(grant.as_ref()),
                    detail,
                ]
            })
            .collect();
        output::table(&["NAME", "ACCOUNT", "STATE", "SIGN-IN", "DETAIL"], &rows);
        for warning in &warnings {
            println!("warning: {warning}");
        }
        match secrets.fallback_warning() {
            Some(warning) => println!("\nwarning: {warning}"),
            None => println!("\nTokens are kept in the {} store.", secrets.kind()),
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// "signed in · expires in 52 min · mcp:read mcp:write", or "—" without a grant.
fn sign_in_label(grant: Option<&TokenMetadata>) -> String {
    let Some(grant) = grant else {
        return "—".to_owned();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let expiry = match grant.expires_at {
        Some(at) if at > now => format!(" · expires in {}", human_duration(at - now)),
        Some(_) if grant.has_refresh_token => " · expired, refreshes on use".to_owned(),
        Some(_) => " · expired".to_owned(),
        None => String::new(),
    };
    let scopes = if grant.scopes.is_empty() {
        String::new()
    } else {
        format!(" · {}", grant.scopes.join(" "))
    };
    format!("signed in{expiry}{scopes}")
}

fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}
