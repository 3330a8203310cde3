//! `latch servers …`: the servers file from the command line — add, list, remove, and
//! import from / export to Claude Desktop, VS Code and Cursor.

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use latch_core::config::{
    self, CommandServer, ConfigFile, ExternalApp, RemoteServer, ServerConfig, TransportKind,
};
use serde_json::json;

use crate::output;

#[derive(Debug, Subcommand)]
pub enum ServersCommand {
    /// Add a server: `add NAME URL` for a remote one, `add NAME --command CMD [ARG]…` for a local one.
    Add {
        /// A short name to refer to it (letters, digits, `.`, `_`, `-`).
        name: String,
        /// The server's MCP URL (https://…/mcp, or …/sse for old servers).
        #[arg(required_unless_present = "command", conflicts_with = "command")]
        url: Option<String>,
        /// A header sent on every request, as `Name=Value`; `${secret:NAME}` and `${env:NAME}` keep secrets out of the file.
        #[arg(long = "header", value_name = "K=V")]
        headers: Vec<String>,
        /// Which HTTP transport to use; `auto` tries Streamable HTTP, then the legacy SSE transport.
        #[arg(long, value_enum, default_value_t = TransportArg::Auto)]
        transport: TransportArg,
        /// Run a local command as the server (MCP over stdio). Put it last: every word after it
        /// is the command and its arguments.
        #[arg(long, value_name = "CMD [ARG]...", num_args = 1.., allow_hyphen_values = true)]
        command: Option<Vec<String>>,
        /// An environment variable for the command, as `NAME=VALUE`.
        #[arg(long = "env", value_name = "K=V", requires = "command")]
        envs: Vec<String>,
        /// Replace a server of the same name.
        #[arg(long)]
        force: bool,
    },
    /// List the configured servers.
    List,
    /// Remove a server.
    Remove { name: String },
    /// Import servers from Claude Desktop, VS Code, Cursor, or a file (all three apps when none is named).
    Import {
        /// `claude`, `vscode`, `cursor`, or the path of a config file.
        source: Option<String>,
    },
    /// Print the servers in another app's config format.
    Export {
        #[arg(value_enum, default_value_t = AppArg::Claude)]
        app: AppArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransportArg {
    Auto,
    Http,
    Sse,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AppArg {
    Claude,
    Vscode,
    Cursor,
}

impl From<AppArg> for ExternalApp {
    fn from(app: AppArg) -> Self {
        match app {
            AppArg::Claude => ExternalApp::Claude,
            AppArg::Vscode => ExternalApp::VsCode,
            AppArg::Cursor => ExternalApp::Cursor,
        }
    }
}

pub async fn run(command: ServersCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        ServersCommand::Add {
            name,
            url,
            headers,
            transport,
            command,
            envs,
            force,
        } => {
            let server = match (url, command) {
                (Some(url), None) => {
                    let mut remote = RemoteServer {
                        url,
                        ..RemoteServer::default()
                    };
                    remote.headers = pairs(&headers, "--header")?;
                    remote.transport = match transport {
                        TransportArg::Auto => TransportKind::Auto,
                        TransportArg::Http => TransportKind::Http,
                        TransportArg::Sse => TransportKind::Sse,
                    };
                    ServerConfig::Remote(remote)
                }
                (None, Some(mut words)) => {
                    let command = words.remove(0);
                    let mut local = CommandServer {
                        command,
                        args: words,
                        ..CommandServer::default()
                    };
                    local.env = pairs(&envs, "--env")?;
                    ServerConfig::Command(local)
                }
                _ => bail!("give either a URL or --command CMD"),
            };
            let mut config = ConfigFile::load_default()?;
            if config.contains(&name) && !force {
                bail!(
                    "a server named {name} already exists — pass --force to replace it, or pick another name"
                );
            }
            config.upsert_server(&name, server)?;
            config.save()?;
            if json {
                output::json(&json!({ "added": name, "config": config.path() }))?;
            } else {
                println!("Added {name}. See its tools with `latch tools {name}`.");
            }
        }
        ServersCommand::List => {
            let config = ConfigFile::load_default()?;
            let servers = config.servers();
            if json {
                let list: Vec<_> = servers
                    .iter()
                    .map(|(name, server)| describe(name, server))
                    .collect();
                output::json(&list)?;
            } else if servers.is_empty() {
                println!(
                    "No servers yet. Add one with `latch servers add NAME URL` (config: {}).",
                    config.path().display()
                );
            } else {
                let rows: Vec<Vec<String>> = servers
                    .iter()
                    .map(|(name, server)| match server {
                        ServerConfig::Remote(r) => vec![
                            name.clone(),
                            transport_name(r.transport).to_owned(),
                            r.url.clone(),
                        ],
                        ServerConfig::Command(c) => vec![
                            name.clone(),
                            "stdio".to_owned(),
                            std::iter::once(c.command.as_str())
                                .chain(c.args.iter().map(String::as_str))
                                .collect::<Vec<_>>()
                                .join(" "),
                        ],
                    })
                    .collect();
                output::table(&["NAME", "TRANSPORT", "TARGET"], &rows);
            }
        }
        ServersCommand::Remove { name } => {
            let mut config = ConfigFile::load_default()?;
            config.remove_server(&name)?;
            config.save()?;
            if json {
                output::json(&json!({ "removed": name }))?;
            } else {
                println!("Removed {name}.");
            }
        }
        ServersCommand::Import { source } => {
            let mut config = ConfigFile::load_default()?;
            let mut warnings = Vec::new();
            let mut found = Vec::new();
            let sources: Vec<(String, Option<ExternalApp>, Option<PathBuf>)> =
                match source.as_deref() {
                    None => vec![
                        ("claude".into(), Some(ExternalApp::Claude), None),
                        ("vscode".into(), Some(ExternalApp::VsCode), None),
                        ("cursor".into(), Some(ExternalApp::Cursor), None),
                    ],
                    Some("claude") => vec![("claude".into(), Some(ExternalApp::Claude), None)],
                    Some("vscode") => vec![("vscode".into(), Some(ExternalApp::VsCode), None)],
                    Some("cursor") => vec![("cursor".into(), Some(ExternalApp::Cursor), None)],
                    Some(path) => vec![(path.to_owned(), None, Some(PathBuf::from(path)))],
                };
            let several = sources.len() > 1;
            for (label, app, path) in sources {
                let imported = match (app, path) {
                    (_, Some(path)) => config::import_file(&path, None),
                    (Some(app), None) => config::import_app(app),
                    (None, None) => unreachable!("a source is an app or a path"),
                };
                match imported {
                    Ok(imported) => {
                        warnings.extend(imported.warnings.iter().map(|w| format!("{label}: {w}")));
                        found.push((label, imported.servers));
                    }
                    // Looking in every app: one that is not installed is not a failure.
                    Err(error) if several => {
                        tracing::debug!(%error, "nothing to import from {label}")
                    }
                    Err(error) => {
                        return Err(error).context(format!("could not import from {label}"));
                    }
                }
            }
            if found.is_empty() {
                bail!(
                    "found no Claude Desktop, VS Code or Cursor config to import — name a file: `latch servers import PATH`"
                );
            }
            let mut added = Vec::new();
            let mut skipped = Vec::new();
            for (_, servers) in found {
                let report = config.merge(servers);
                added.extend(report.added);
                skipped.extend(report.skipped);
                warnings.extend(
                    report
                        .rejected
                        .into_iter()
                        .map(|(name, reason)| format!("{name} was not imported: {reason}")),
                );
            }
            if !added.is_empty() {
                config.save()?;
            }
            if json {
                output::json(&json!({ "added": added, "skipped": skipped, "warnings": warnings }))?;
            } else {
                println!(
                    "Imported {} server(s){}.",
                    added.len(),
                    if added.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", added.join(", "))
                    }
                );
                if !skipped.is_empty() {
                    println!(
                        "Skipped (a server of that name exists): {}",
                        skipped.join(", ")
                    );
                }
                for warning in warnings {
                    println!("warning: {warning}");
                }
            }
        }
        ServersCommand::Export { app } => {
            let config = ConfigFile::load_default()?;
            output::json(&config::export(app.into(), &config.servers()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn transport_name(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::Auto => "auto",
        TransportKind::Http => "http",
        TransportKind::Sse => "sse",
    }
}

/// What `servers list --json` says of a server: header names, never their values.
fn describe(name: &str, server: &ServerConfig) -> serde_json::Value {
    match server {
        ServerConfig::Remote(r) => json!({
            "name": name,
            "url": r.url,
            "transport": transport_name(r.transport),
            "headers": r.headers.keys().collect::<Vec<_>>(),
        }),
        ServerConfig::Command(c) => json!({
            "name": name,
            "command": c.command,
            "args": c.args,
            "env": c.env.keys().collect::<Vec<_>>(),
        }),
    }
}

fn pairs(words: &[String], flag: &str) -> anyhow::Result<BTreeMap<String, String>> {
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
            _ => bail!("{flag} `{word}`: expected NAME=VALUE"),
        })
        .collect()
}
