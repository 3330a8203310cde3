//! `latch servers …`: the servers file from the command line — add, list, remove, and
//! import from Claude Desktop, VS Code and Cursor, and export to them (`latch bridge` entries
//! written into their config files, or `--print` of the servers in their format).

use std::{
    collections::BTreeMap,
    io::{IsTerminal as _, Write as _},
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use latch_core::{
    auth::AuthSettings,
    config::{
        self, CommandServer, ConfigFile, ExternalApp, NoSecrets, ProtocolChoice, RemoteServer,
        ServerConfig, TransportKind,
    },
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
        /// Which MCP protocol version to speak: `auto` tries 2026-07-28 (stateless) and falls
        /// back to the 2025-11-25 handshake; name one to speak only that.
        #[arg(long, value_name = "VERSION", default_value = "auto", value_parser = parse_protocol)]
        protocol: ProtocolChoice,
        /// Run a local command as the server (MCP over stdio). Put it last: every word after it
        /// is the command and its arguments.
        #[arg(long, value_name = "CMD [ARG]...", num_args = 1.., allow_hyphen_values = true)]
        command: Option<Vec<String>>,
        /// An environment variable for the command, as `NAME=VALUE`.
        #[arg(long = "env", value_name = "K=V", requires = "command")]
        envs: Vec<String>,
        /// Sign in machine to machine with the client ID and secret stored under this name
        /// (`latch credentials set NAME`): for agents and automation. Without it, people sign
        /// in through the browser.
        #[arg(long, value_name = "NAME", conflicts_with = "command")]
        client_credentials: Option<String>,
        /// The provider's token URL, for providers that publish no sign-in metadata
        /// (the MCP server's own `/token` is tried otherwise).
        #[arg(long, value_name = "URL", conflicts_with = "command")]
        token_url: Option<String>,
        /// The provider's authorization URL (browser sign-in), for providers that publish no
        /// sign-in metadata.
        #[arg(long, value_name = "URL", conflicts_with = "command")]
        authorization_url: Option<String>,
        /// A scope to ask for when signing in; repeat for several.
        #[arg(long = "scope", value_name = "SCOPE", conflicts_with = "command")]
        scopes: Vec<String>,
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
    /// Let Claude Desktop, VS Code or Cursor use Latch's servers: writes a
    /// `latch bridge NAME` entry per server into that app's config file.
    #[command(
        long_about = "Let Claude Desktop, VS Code or Cursor use Latch's servers. For each server \
(all of them when none is named) an entry that starts `latch bridge NAME` — with the absolute path \
of this `latch` — is written into the app's own config file; the app then reaches the server \
through Latch, which keeps the sign-in. Other entries and settings in the file are kept as they \
are (comments too). The changes are shown as a diff first; the old file is backed up to \
FILE.latch-backup-<unix time>. An entry of the same name that Latch did not write is left alone \
unless --replace is given (the command then exits non-zero after writing the rest).",
        after_help = "Examples:\n  latch servers export claude              # all servers, asks before writing\n  \
latch servers export cursor notion --yes  # just notion, no question\n  \
latch servers export vscode --dry-run     # only show the diff\n  \
latch servers export claude --print       # print Latch's servers in Claude's format"
    )]
    Export {
        /// The app: claude (Claude Desktop), vscode (the user's mcp.json) or cursor (~/.cursor/mcp.json).
        #[arg(value_enum, default_value_t = AppArg::Claude)]
        app: AppArg,
        /// The servers to hand over (default: all of them).
        names: Vec<String>,
        /// Write without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Only show what would change.
        #[arg(long, conflicts_with = "yes")]
        dry_run: bool,
        /// Write into this file instead of the app's usual one.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Overwrite entries of the same name that Latch did not write.
        #[arg(long)]
        replace: bool,
        /// Print Latch's servers (as they are configured, not through the bridge) in the app's
        /// format instead; writes nothing.
        #[arg(long, conflicts_with_all = ["names", "yes", "dry_run", "file", "replace"])]
        print: bool,
    },
}

fn parse_protocol(text: &str) -> Result<ProtocolChoice, String> {
    text.parse()
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
            protocol,
            command,
            envs,
            client_credentials,
            token_url,
            authorization_url,
            scopes,
            force,
        } => {
            let sign_in = SignInArgs {
                client_credentials,
                token_url,
                authorization_url,
                scopes,
            };
            let server = match (url, command) {
                (Some(url), None) => {
                    let mut remote = RemoteServer {
                        url,
                        auth: sign_in.auth_entry(),
                        protocol,
                        ..RemoteServer::default()
                    };
                    remote.headers = pairs(&headers, "--header")?;
                    remote.transport = match transport {
                        TransportArg::Auto => TransportKind::Auto,
                        TransportArg::Http => TransportKind::Http,
                        TransportArg::Sse => TransportKind::Sse,
                    };
                    // The same checks the file's `auth` entry gets when it is used.
                    AuthSettings::from_server(&name, &remote, &NoSecrets)?;
                    ServerConfig::Remote(remote)
                }
                (None, Some(mut words)) => {
                    let command = words.remove(0);
                    let mut local = CommandServer {
                        command,
                        args: words,
                        protocol,
                        ..CommandServer::default()
                    };
                    local.env = pairs(&envs, "--env")?;
                    ServerConfig::Command(local)
                }
                _ => bail!("give either a URL or --command CMD"),
            };
            let path = config::default_path();
            ConfigFile::edit(&path, |config| {
                if config.contains(&name) && !force {
                    bail!(
                        "a server named {name} already exists — pass --force to replace it, or pick another name"
                    );
                }
                Ok(config.upsert_server(&name, server)?)
            })?;
            if json {
                output::json(&json!({ "added": name, "config": path }))?;
            } else if let Some(credentials) = &sign_in.client_credentials {
                println!(
                    "Added {name}. It signs in with the client ID and secret stored as {credentials}: store them with `latch credentials set {credentials}` if you have not yet, then see its tools with `latch tools {name}`."
                );
            } else {
                println!("Added {name}. See its tools with `latch tools {name}`.");
            }
        }
        ServersCommand::List => {
            let config = ConfigFile::load_default()?;
            let servers = config.servers();
            let warnings: Vec<String> = servers
                .iter()
                .flat_map(|(name, server)| config::entry_warnings(name, server))
                .collect();
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
                for warning in &warnings {
                    println!("warning: {warning}");
                }
            }
        }
        ServersCommand::Remove { name } => {
            ConfigFile::edit(&config::default_path(), |config| {
                config.remove_server(&name)
            })?;
            if json {
                output::json(&json!({ "removed": name }))?;
            } else {
                println!("Removed {name}.");
            }
        }
        ServersCommand::Import { source } => {
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
            // Merged under the servers file's lock; saved only when a server was added.
            ConfigFile::edit(&config::default_path(), |config| {
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
                Ok::<_, config::ConfigError>(())
            })?;
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
        ServersCommand::Export {
            app,
            names,
            yes,
            dry_run,
            file,
            replace,
            print,
        } => {
            let config = ConfigFile::load_default()?;
            if print {
                output::json(&config::export(app.into(), &config.servers()))?;
            } else {
                let options = ExportOptions {
                    yes,
                    dry_run,
                    replace,
                    json,
                };
                return export(&config, app.into(), &names, file.as_deref(), options);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct ExportOptions {
    yes: bool,
    dry_run: bool,
    replace: bool,
    json: bool,
}

/// `latch servers export APP [NAME…]`: plan, show, ask, write.
fn export(
    config: &ConfigFile,
    app: ExternalApp,
    names: &[String],
    file: Option<&Path>,
    options: ExportOptions,
) -> anyhow::Result<ExitCode> {
    if config.names().is_empty() {
        bail!("Latch has no servers yet — add one with `latch servers add NAME URL`");
    }
    let exe = std::env::current_exe().context("could not tell where this `latch` is")?;
    let latch = exe
        .canonicalize()
        .with_context(|| format!("could not resolve {}", exe.display()))?;
    let plan = config::plan_export(config, app, names, &latch, file, options.replace)?;
    let path = plan.path.display().to_string();
    let interactive = !options.json && std::io::stdin().is_terminal();
    if !options.json {
        print_diff(&plan.diff);
    }
    let write =
        plan.has_changes() && !options.dry_run && (options.yes || (interactive && confirm(&path)?));
    let applied = if write {
        Some(config::agents::apply(&plan)?)
    } else {
        None
    };

    if options.json {
        output::json(&json!({
            "app": app.as_str(),
            "path": path,
            "latch": latch,
            "diff": plan.diff,
            "added": plan.added,
            "updated": plan.updated,
            "unchanged": plan.unchanged,
            "conflicts": plan.conflicts,
            "written": applied.as_ref().is_some_and(|a| a.written),
            "backup": applied.as_ref().and_then(|a| a.backup.as_ref()),
        }))?;
    } else {
        let mut lines = Vec::new();
        if !plan.has_changes() {
            lines.push(format!("{path} already has everything; nothing to change."));
        } else if let Some(done) = &applied {
            lines.push(format!(
                "Wrote {path}{}.",
                done.backup
                    .as_ref()
                    .map(|b| format!(" (the old file is kept as {})", b.display()))
                    .unwrap_or_default()
            ));
            lines.push(format!(
                "Restart {} (or reload its MCP servers) to use them.",
                app.display_name()
            ));
        } else if options.dry_run {
            lines.push(format!("Dry run: {path} was not changed."));
        } else if interactive {
            lines.push(format!("Nothing written; {path} was not changed."));
        }
        for (what, names) in [
            ("Added", &plan.added),
            ("Updated", &plan.updated),
            ("Already there", &plan.unchanged),
        ] {
            if !names.is_empty() {
                lines.push(format!("{what}: {}", names.join(", ")));
            }
        }
        for line in lines {
            println!("{line}");
        }
    }
    if !plan.conflicts.is_empty() {
        let (entries, them) = if plan.conflicts.len() == 1 {
            ("an entry", "it was")
        } else {
            ("entries", "they were")
        };
        eprintln!(
            "latch: {path} already has {entries} named {} that Latch did not write; {them} left alone — pass --replace to overwrite",
            plan.conflicts.join(", ")
        );
        return Ok(ExitCode::FAILURE);
    }
    // `--json` without `--yes` is a look at the plan, not a refusal.
    if plan.has_changes() && !write && !options.dry_run && !interactive && !options.json {
        bail!("not written: pass --yes to write {path} (or --dry-run to only look)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; anything but y/yes is no.
fn confirm(path: &str) -> anyhow::Result<bool> {
    print!("Write these changes to {path}? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The diff, red and green on a terminal (unless `NO_COLOR` is set).
fn print_diff(diff: &str) {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for line in diff.lines() {
        let code = match line.as_bytes().first() {
            _ if !colour => None,
            _ if line.starts_with("+++") || line.starts_with("---") => Some("1"),
            Some(b'+') => Some("32"),
            Some(b'-') => Some("31"),
            Some(b'@') => Some("36"),
            _ => None,
        };
        match code {
            Some(code) => println!("\x1b[{code}m{line}\x1b[0m"),
            None => println!("{line}"),
        }
    }
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
    let warnings = config::entry_warnings(name, server);
    match server {
        ServerConfig::Remote(r) => json!({
            "name": name,
            "url": r.url,
            "transport": transport_name(r.transport),
            "headers": r.headers.keys().collect::<Vec<_>>(),
            "warnings": warnings,
        }),
        ServerConfig::Command(c) => json!({
            "name": name,
            "command": c.command,
            "args": c.args,
            "env": c.env.keys().collect::<Vec<_>>(),
            "warnings": warnings,
        }),
    }
}

/// How `servers add` signs in to a remote server, as its `auth` entry.
struct SignInArgs {
    client_credentials: Option<String>,
    token_url: Option<String>,
    authorization_url: Option<String>,
    scopes: Vec<String>,
}

impl SignInArgs {
    /// The `auth` entry these flags make; `None` when none was given (discovery decides).
    fn auth_entry(&self) -> Option<serde_json::Value> {
        let mut auth = serde_json::Map::new();
        if let Some(credentials) = &self.client_credentials {
            auth.insert("type".into(), "client_credentials".into());
            auth.insert("credentials".into(), credentials.clone().into());
        }
        if let Some(url) = &self.token_url {
            auth.insert("tokenUrl".into(), url.clone().into());
        }
        if let Some(url) = &self.authorization_url {
            auth.insert("authorizationUrl".into(), url.clone().into());
        }
        if !self.scopes.is_empty() {
            auth.insert("scopes".into(), self.scopes.clone().into());
        }
        (!auth.is_empty()).then_some(serde_json::Value::Object(auth))
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
