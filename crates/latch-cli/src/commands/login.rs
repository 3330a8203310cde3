//! `latch login NAME` and `latch logout NAME`: sign in to a server (the system browser by
//! default, `--browser print` to only print the URL) and keep the grant in the token store;
//! sign out by deleting it. Nothing here ever prints a token.

use std::process::ExitCode;

use anyhow::bail;
use clap::ValueEnum;
use latch_core::{
    Connection, Event,
    auth::{AuthSettings, BrowserMode, Flow, SignInOptions, sign_in, sign_out},
    config::ServerConfig,
    secrets::{account_label, add_account, remove_account},
};
use serde_json::json;

use crate::output;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FlowArg {
    /// Client credentials when the server names stored credentials, else the browser.
    Auto,
    /// Sign in in a browser (authorization code + PKCE).
    Browser,
    /// Get a code to enter on another device.
    Device,
    /// Machine to machine: a client id and secret (see `latch credentials set`).
    ClientCredentials,
}

impl From<FlowArg> for Flow {
    fn from(arg: FlowArg) -> Self {
        match arg {
            FlowArg::Auto => Flow::Auto,
            FlowArg::Browser => Flow::Browser,
            FlowArg::Device => Flow::Device,
            FlowArg::ClientCredentials => Flow::ClientCredentials,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BrowserArg {
    /// Open the system browser (and print the URL in case it did not open).
    System,
    /// Only print the URL to open.
    Print,
    /// Follow the redirects without a person — for automated tests against servers that
    /// approve at once.
    Headless,
}

impl From<BrowserArg> for BrowserMode {
    fn from(arg: BrowserArg) -> Self {
        match arg {
            BrowserArg::System => BrowserMode::System,
            BrowserArg::Print => BrowserMode::Print,
            BrowserArg::Headless => BrowserMode::Headless,
        }
    }
}

pub async fn login(
    name: &str,
    account: Option<&str>,
    flow: FlowArg,
    browser: BrowserArg,
    keep_in_file: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let account = super::account(account)?;
    let account = account.as_deref();
    let config = super::load_config()?;
    let ServerConfig::Remote(remote) = config.server(name)? else {
        bail!("{name} is a local command server: it needs no sign-in");
    };
    let secrets = super::secret_store()?;
    // Before the person approves anything: a sign-in that cannot be kept is refused now
    // (no keychain), unless they agree to keep it in a file.
    let how = format!(
        "run `{} --keep-in-file`",
        super::login_command(name, account)
    );
    super::keep_or_ask(&secrets, keep_in_file, &how)?;
    let settings = AuthSettings::from_server(name, &remote, &secrets)?;
    let store = super::grant_store(&secrets, name, account);
    let mut options = SignInOptions::new(store.clone());
    options.browser = browser.into();
    options.secrets = std::sync::Arc::new(secrets.clone());
    if !matches!(flow, FlowArg::Auto) {
        options.flow = Some(flow.into());
    }
    // Tell the person where to go while the flow waits for them.
    let mut events = options.events.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                Event::SignInUrl { url, .. } => {
                    match browser {
                        BrowserArg::Print => eprintln!("Open this page to sign in:\n\n  {url}\n"),
                        _ => eprintln!(
                            "Opening your browser to sign in. If it did not open, visit:\n\n  {url}\n"
                        ),
                    }
                    eprintln!("Waiting for you to finish (up to 5 minutes)…");
                }
                Event::DeviceCode {
                    user_code,
                    verification_uri,
                    verification_uri_complete,
                    ..
                } => {
                    eprintln!(
                        "To sign in, open {verification_uri} on any device and enter the code:\n\n    {user_code}\n"
                    );
                    if let Some(complete) = verification_uri_complete {
                        eprintln!("(or open {complete} directly)");
                    }
                    eprintln!("Waiting for you to approve…");
                }
                _ => {}
            }
        }
    });
    let signed_in = sign_in(name, &remote.url, &settings, None, &options).await;
    printer.abort();
    let signed_in = signed_in?;
    if let Some(account) = account {
        add_account(&secrets, name, account)
            .map_err(|e| anyhow::anyhow!("signed in, but could not list the account: {e}"))?;
    }

    // Prove it: connect with the new grant and count the tools.
    let server = ServerConfig::Remote(remote);
    let options = latch_core::app::connect_options_for(&secrets, name, account, &server);
    let connection = Connection::connect(name, &server, options).await?;
    let tools = connection.list_tools().await;
    connection.close().await;
    let tools = latch_core::tools::listed(&tools?).count();
    if json {
        output::json(&json!({
            "signedIn": name,
            "account": account_label(account),
            "issuer": signed_in.issuer,
            "scopes": signed_in.scopes,
            "tools": tools,
            "store": secrets.kind(),
        }))?;
    } else {
        println!(
            "Signed in to {name}{}{}. {} tools available. Tokens are kept in the {}.",
            account.map(|a| format!(" as {a}")).unwrap_or_default(),
            signed_in
                .issuer
                .as_deref()
                .map(|i| format!(" (through {i})"))
                .unwrap_or_default(),
            tools,
            match secrets.kind() {
                latch_core::secrets::StoreKind::Keychain => "system keychain",
                latch_core::secrets::StoreKind::File => "file store (no keychain is running)",
                latch_core::secrets::StoreKind::Memory => "memory store (gone when latch exits)",
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(name: &str, account: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let account = super::account(account)?;
    let account = account.as_deref();
    let config = super::load_config()?;
    let ServerConfig::Remote(remote) = config.server(name)? else {
        bail!("{name} is a local command server: it has no sign-in");
    };
    let secrets = super::secret_store()?;
    let store = super::grant_store(&secrets, name, account);
    // Only `auth.revocationUrl` is needed: a secret that cannot be read does not stop a logout.
    let revocation = AuthSettings::from_server(name, &remote, &secrets)
        .ok()
        .and_then(|s| s.revocation_url);
    let outcome = sign_out(&remote.url, revocation.as_deref(), &store)
        .await
        .map_err(|e| anyhow::anyhow!("could not sign out of {name}: {e}"))?;
    if let Some(account) = account {
        remove_account(&secrets, name, account).map_err(|e| {
            anyhow::anyhow!("signed out, but could not update the account list: {e}")
        })?;
    }
    // "notion" or "notion as work" in the messages below.
    let shown = &match account {
        Some(account) => format!("{name} as {account}"),
        None => name.to_owned(),
    };
    if json {
        output::json(&json!({
            "signedOut": name,
            "account": account_label(account),
            "hadGrant": outcome.had_grant,
            "revoked": outcome.revoked,
            "revokeProblem": outcome.revoke_problem,
        }))?;
    } else if !outcome.had_grant {
        println!("{shown} had no sign-in to remove.");
    } else if outcome.revoked {
        println!(
            "Signed out of {shown}: the sign-in server revoked the grant and the tokens were deleted."
        );
    } else {
        println!(
            "Signed out of {shown}: the tokens were deleted here, but the sign-in server could not revoke them ({}).",
            outcome
                .revoke_problem
                .as_deref()
                .unwrap_or("no reason given")
        );
    }
    Ok(ExitCode::SUCCESS)
}
