//! `latch org add|list|remove` and `latch login --org NAME`: the companies whose identity
//! provider signs the person in to servers (enterprise-managed authorization). An
//! organisation lives in the servers file (`organizations`), its client secret in the token
//! store behind a `${secret:org-NAME}` placeholder (read from standard input, never from the
//! command line), and the company sign-in — the IdP's ID token and refresh token — in the
//! token store too. `list` shows sign-in *metadata* only; nothing here prints a token.

use std::{process::ExitCode, sync::Arc};

use anyhow::Context;
use clap::{Args, Subcommand};
use latch_core::{
    Event,
    auth::{self, AuthSettings, OrgSignInOptions, SignInOptions},
    config::{ConfigFile, OrgError, Organization, ServerConfig},
    secrets::secret_key,
};
use serde_json::json;

use super::login::BrowserArg;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add a company whose identity provider signs you in to servers (`"auth": {"org": NAME}`).
    Add(AddArgs),
    /// The organisations: issuer, servers using each, and whether you are signed in.
    List,
    /// Remove an organisation (refused while servers use it) and forget its sign-in.
    Remove {
        /// The organisation's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A name for the organisation (letters, digits, `.`, `_`, `-`), as servers name it in
    /// `auth.org`.
    pub name: String,
    /// The identity provider's issuer URL, e.g. https://acme.okta.com.
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// Latch's client id at the identity provider (pre-registered by your IT team).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "client_metadata_url"
    )]
    pub client_id: Option<String>,
    /// Read the client's secret from standard input (typed without echo at a terminal); it is
    /// kept in the token store, and the servers file says `${secret:org-NAME}`.
    #[arg(long, requires = "client_id")]
    pub client_secret_stdin: bool,
    /// Use this Client ID Metadata Document URL as the client id instead.
    #[arg(long, value_name = "URL", conflicts_with = "client_id")]
    pub client_metadata_url: Option<String>,
    /// A scope to ask the identity provider for, besides `openid` (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// When no keychain is running: keep secrets in `secrets.json` in $LATCH_HOME.
    #[arg(long)]
    pub keep_in_file: bool,
}

pub async fn run(command: OrgCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        OrgCommand::Add(args) => add(args, json).await,
        OrgCommand::List => list(json).await,
        OrgCommand::Remove { name } => remove(&name, json).await,
    }
}

async fn add(args: AddArgs, json: bool) -> anyhow::Result<ExitCode> {
    let secret_name = format!("org-{}", args.name);
    let org = Organization {
        issuer: args.issuer.trim().to_owned(),
        client_id: args.client_id.clone(),
        client_secret: args
            .client_secret_stdin
            .then(|| format!("${{secret:{secret_name}}}")),
        client_metadata_url: args.client_metadata_url.clone(),
        scopes: args.scopes.clone(),
    };
    latch_core::config::validate_name(&args.name)?;
    org.check(&args.name)?;
    let path = latch_core::config::default_path();
    // Refuse a duplicate before asking for a secret.
    ConfigFile::load(&path)?
        .organization(&args.name)
        .err()
        .filter(|e| matches!(e, OrgError::Unknown { .. }))
        .ok_or_else(|| OrgError::AlreadyExists {
            name: args.name.clone(),
        })?;
    if args.client_secret_stdin {
        let store = super::secret_store()?;
        let how = format!("add `--keep-in-file` to `latch org add {}`", args.name);
        super::keep_or_ask(&store, args.keep_in_file, &how)?;
        let secret = super::credentials::read_secret(
            &format!("Client secret of {} at its identity provider: ", args.name),
            &format!("latch org add {}", args.name),
        )?;
        let key = secret_key(&secret_name);
        tokio::task::spawn_blocking(move || store.put(&key, secret.trim().as_bytes()))
            .await?
            .with_context(|| format!("could not store the client secret of {}", args.name))?;
    }
    ConfigFile::edit(&path, |config| config.add_organization(&args.name, &org))?;
    if json {
        output::json(&json!({"added": args.name, "issuer": org.issuer}))?;
    } else {
        println!("Added organisation {} ({}).", args.name, org.issuer);
        println!(
            "Sign in with `latch login --org {0}`; a server uses it with `\"auth\": {{\"org\": \"{0}\", \"clientId\": \"…\"}}`.",
            args.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(json: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config()?;
    let store = super::secret_store()?;
    let mut rows = Vec::new();
    for (name, org) in config.organizations()? {
        let status = {
            let (store, name) = (store.clone(), name.clone());
            tokio::task::spawn_blocking(move || auth::org_status(&store, &name)).await??
        };
        rows.push((name.clone(), org, config.servers_using_org(&name), status));
    }
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|(name, org, servers, status)| {
                json!({
                    "name": name,
                    "issuer": org.issuer,
                    "clientId": org.effective_client_id(),
                    "servers": servers,
                    "signedIn": status.is_some(),
                    "signedInAt": status.as_ref().map(|s| s.signed_in_at),
                    "expiresAt": status.as_ref().and_then(|s| s.id_token_expires_at),
                    "renewable": status.as_ref().map(|s| s.renewable),
                })
            })
            .collect();
        output::json(&list)?;
    } else if rows.is_empty() {
        println!(
            "No organisations. Add one with `latch org add NAME --issuer URL --client-id ID`."
        );
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let table: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(name, org, servers, status)| {
                let signed_in = match status {
                    None => "no".to_owned(),
                    Some(s) => match s.id_token_expires_at {
                        Some(exp) if exp > now => {
                            format!("yes, ID token for {}", minutes(exp - now))
                        }
                        Some(_) if s.renewable => "yes (renewable)".to_owned(),
                        Some(_) => "ended".to_owned(),
                        None => "yes".to_owned(),
                    },
                };
                let servers = if servers.is_empty() {
                    "-".to_owned()
                } else {
                    servers.join(", ")
                };
                vec![name, org.issuer, servers, signed_in]
            })
            .collect();
        output::table(&["NAME", "ISSUER", "SERVERS", "SIGNED IN"], &table);
    }
    Ok(ExitCode::SUCCESS)
}

fn minutes(seconds: u64) -> String {
    match seconds / 60 {
        0 => "under a minute".to_owned(),
        m if m < 120 => format!("{m} min"),
        m => format!("{} h", m / 60),
    }
}

async fn remove(name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let path = latch_core::config::default_path();
    let org = ConfigFile::edit(&path, |config| {
        let org = config.organization(name)?;
        config.remove_organization(name)?;
        Ok::<_, OrgError>(org)
    })?;
    let store = super::secret_store()?;
    let (writer, owned) = (store.clone(), name.to_owned());
    let signed_in =
        tokio::task::spawn_blocking(move || auth::sign_out_org(&writer, &owned)).await??;
    if org.client_secret.as_deref() == Some(&format!("${{secret:org-{name}}}")) {
        let key = secret_key(&format!("org-{name}"));
        let _ = tokio::task::spawn_blocking(move || store.delete(&key)).await?;
    }
    if json {
        output::json(&json!({"removed": name, "signedOut": signed_in}))?;
    } else {
        println!(
            "Removed organisation {name}{}.",
            if signed_in { " and its sign-in" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `latch login --org NAME`: sign in to the company, then to every server using it.
pub async fn login(
    name: &str,
    browser: BrowserArg,
    keep_in_file: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let config = super::load_config()?;
    let org = config.organization(name)?;
    let secrets = super::secret_store()?;
    let how = format!("run `latch login --org {name} --keep-in-file`");
    super::keep_or_ask(&secrets, keep_in_file, &how)?;
    let mut options = OrgSignInOptions::new(secrets.clone());
    options.browser = browser.into();
    let mut events = options.events.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let Event::SignInUrl { url, .. } = event {
                match browser {
                    BrowserArg::Print => {
                        eprintln!("Open this page to sign in to your company:\n\n  {url}\n")
                    }
                    _ => eprintln!(
                        "Opening your browser to sign in to your company. If it did not open, visit:\n\n  {url}\n"
                    ),
                }
                eprintln!("Waiting for you to finish (up to 5 minutes)…");
            }
        }
    });
    let signed_in = auth::sign_in_org(name, &org, &options).await;
    printer.abort();
    let status = signed_in?;

    // Every server of the organisation, signed in through it now: no browser.
    let mut servers = Vec::new();
    let mut failed = false;
    for server in config.servers_using_org(name) {
        let Ok(ServerConfig::Remote(remote)) = config.server(&server) else {
            continue;
        };
        let outcome = async {
            let settings = AuthSettings::from_server(&server, &remote, &secrets)?;
            let mut options = SignInOptions::new(super::grant_store(&secrets, &server, None));
            options.secrets = Arc::new(secrets.clone());
            options.browser = browser.into();
            auth::sign_in(&server, &remote.url, &settings, None, &options).await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(error) = &outcome {
            failed = true;
            if !json {
                eprintln!("{server}: {}", output::one_line(&format!("{error:#}"), 300));
            }
        } else if !json {
            println!("Signed in to {server} through {name}.");
        }
        servers.push(json!({"server": server, "signedIn": outcome.is_ok(),
            "error": outcome.err().map(|e| output::one_line(&format!("{e:#}"), 300))}));
    }
    if json {
        output::json(&json!({
            "org": name,
            "signedIn": true,
            "expiresAt": status.id_token_expires_at,
            "renewable": status.renewable,
            "servers": servers,
        }))?;
    } else {
        println!("Signed in to your company ({name}).");
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
