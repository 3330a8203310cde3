//! The doctor: the steps of a server's last connection or sign-in, each with a plain-words
//! detail and, for the step that failed, what to do about it. Built from what the core already
//! knows (the config entry, the stored grant's metadata, the error of the attempt), so it can
//! never disagree with what actually happened. [`examine`] (`latch doctor NAME`) makes the
//! attempt now; for a workload server it first explains each step of the workload sign-in
//! (`auth::explain_workload`).

use super::dto::{DoctorReport, DoctorStep, StepStatus};
use crate::{ConnectError, auth::SignInError, config::ServerConfig, secrets::TokenMetadata};

/// The outcome of one attempt, as the doctor reads it.
pub(crate) enum Outcome<'a> {
    Connected {
        transport: String,
        tools: Option<usize>,
        tools_error: Option<String>,
    },
    ConnectFailed(&'a ConnectError),
    SignInFailed(&'a SignInError),
    SignedIn {
        issuer: Option<String>,
    },
}

pub(crate) fn report(
    server: &str,
    config: &ServerConfig,
    grant: Option<&TokenMetadata>,
    outcome: Outcome<'_>,
) -> DoctorReport {
    let mut steps = vec![ok(
        "Read the server's settings",
        match config {
            ServerConfig::Remote(remote) => format!("Address: {}", remote.url),
            ServerConfig::Command(command) => format!("Command: {}", command.command),
        },
    )];
    let remote = matches!(config, ServerConfig::Remote(_));
    if remote {
        steps.push(match grant {
            Some(g) if g.has_access_token => ok(
                "Find the stored sign-in",
                format!(
                    "Signed in{} (kept in the {} store).",
                    g.issuer
                        .as_deref()
                        .map(|i| format!(" through {i}"))
                        .unwrap_or_default(),
                    g.store
                ),
            ),
            // What `auth::forget_registration` leaves: the provider answered `invalid_client`.
            Some(g) if g.client_id.is_empty() => failed(
                "Find the stored sign-in",
                "The sign-in server no longer knows Latch's registration (providers forget unused ones after a while), so this sign-in has ended.".to_owned(),
                "Press “Sign in”: Latch registers again and your browser opens so you can approve it.",
            ),
            _ => skipped("Find the stored sign-in", "No sign-in stored yet."),
        });
    }
    // Keys Latch ignores are said where the settings are read: usually a typo.
    for warning in crate::config::entry_warnings(server, config) {
        steps[0].detail.push_str(&format!(" Warning: {warning}."));
    }
    match outcome {
        Outcome::Connected {
            transport,
            tools,
            tools_error,
        } => {
            steps.push(ok(
                "Reach the server",
                format!("Connected over {transport}."),
            ));
            steps.push(ok(
                "Start the MCP session",
                "The handshake (initialize) succeeded.".to_owned(),
            ));
            steps.push(match (tools, tools_error) {
                (Some(n), _) => ok("List the tools", format!("{n} tools.")),
                (None, Some(error)) => failed(
                    "List the tools",
                    error,
                    "Reconnect; if it keeps failing, the server has a problem listing its tools.",
                ),
                (None, None) => skipped("List the tools", "Not asked yet."),
            });
        }
        Outcome::SignedIn { issuer } => {
            steps.push(ok(
                "Sign in",
                format!(
                    "Signed in{}.",
                    issuer.map(|i| format!(" through {i}")).unwrap_or_default()
                ),
            ));
        }
        Outcome::SignInFailed(error) => {
            let (step, fix) = sign_in_fix(error);
            steps.push(failed(step, error.to_string(), fix));
        }
        Outcome::ConnectFailed(error) => {
            let (step, fix): (&str, &str) = match error {
                ConnectError::Config(_)
                | ConnectError::BadUrl { .. }
                | ConnectError::BadHeader { .. } => (
                    "Read the server's settings",
                    "Edit the server and correct its address or headers.",
                ),
                ConnectError::Unreachable { .. } => (
                    "Reach the server",
                    "Check the address and your connection. If the server runs on this computer, start it.",
                ),
                ConnectError::Spawn { .. } => (
                    "Start the local server",
                    "Install the program, or edit the server to give its full path.",
                ),
                ConnectError::AuthRequired { .. } => (
                    "Use the sign-in",
                    "Press “Sign in”: your browser opens so you can approve Latch.",
                ),
                ConnectError::SignIn(e) => sign_in_fix(e),
                ConnectError::TokenStore { .. } => (
                    "Find the stored sign-in",
                    "Unlock your keychain (or log in to your desktop session); if the disk is full, free some space. Then reconnect.",
                ),
                ConnectError::Redirect { .. } => (
                    "Reach the server",
                    "The server sent Latch to an address it does not go to. Check the address with the server's owner; if the server moved, edit it to use the new address.",
                ),
                ConnectError::HttpStatus { .. } | ConnectError::NoTransport { .. } => (
                    "Reach the server",
                    "Check that the address is the server's MCP endpoint (it often ends in /mcp or /sse).",
                ),
                _ => (
                    "Start the MCP session",
                    "Reconnect. If it fails again, the server may be down or not speak MCP.",
                ),
            };
            if let Some(existing) = steps.iter_mut().find(|s| s.name == step) {
                *existing = failed(step, error.to_string(), fix);
            } else {
                steps.push(failed(step, error.to_string(), fix));
            }
        }
    }
    DoctorReport {
        server: server.to_owned(),
        at: Some(super::now_ms()),
        steps,
    }
}

/// `latch doctor NAME`: connect to the server now (signing in with the stored grant, in
/// `options.credentials`) and list its tools, each step explained. A workload server's sign-in
/// is done first, step by step — the platform token, its claims, the sign-in server, the
/// audience, the exchange — and the server is reached only when it gave a token.
pub async fn examine(
    server: &str,
    config: &ServerConfig,
    options: crate::ConnectOptions,
    grant: Option<TokenMetadata>,
) -> DoctorReport {
    let workload = match config {
        ServerConfig::Remote(remote) => {
            crate::auth::AuthSettings::from_server(server, remote, options.secrets.as_ref())
                .ok()
                .filter(|s| s.effective_flow() == crate::auth::Flow::Workload)
                .map(|settings| (remote.url.clone(), settings))
        }
        ServerConfig::Command(_) => None,
    };
    let mut explained = Vec::new();
    if let Some((url, settings)) = &workload {
        let store = options
            .credentials
            .clone()
            .unwrap_or_else(crate::auth::SharedCredentialStore::memory);
        let mut sign_in = crate::auth::SignInOptions::new(store);
        sign_in.secrets = options.secrets.clone();
        let (steps, exchanged) =
            crate::auth::explain_workload(server, url, settings, &sign_in).await;
        explained = steps;
        if !exchanged {
            let mut report = report(
                server,
                config,
                grant.as_ref(),
                Outcome::SignedIn { issuer: None },
            );
            report.steps.retain(|s| s.name != "Sign in");
            report.steps.extend(explained);
            report.steps.push(skipped(
                "Reach the server",
                "Not tried: there is no token for it.",
            ));
            return report;
        }
    }
    let mut report = match crate::Connection::connect(server, config, options).await {
        Ok(connection) => {
            let tools = connection.list_tools().await;
            let transport = connection.transport().to_string();
            connection.close().await;
            let (tools, tools_error) = match tools {
                Ok(tools) => (Some(crate::tools::listed(&tools).count()), None),
                Err(e) => (None, Some(e.to_string())),
            };
            report(
                server,
                config,
                grant.as_ref(),
                Outcome::Connected {
                    transport,
                    tools,
                    tools_error,
                },
            )
        }
        Err(error) => report(
            server,
            config,
            grant.as_ref(),
            Outcome::ConnectFailed(&error),
        ),
    };
    // The workload's steps go after the stored sign-in, before the server is reached.
    let at = report
        .steps
        .iter()
        .position(|s| s.name == "Find the stored sign-in")
        .map_or(1, |i| i + 1);
    report.steps.splice(at..at, explained);
    report
}

fn sign_in_fix(error: &SignInError) -> (&'static str, &'static str) {
    match error {
        SignInError::Discovery { .. } => (
            "Find where to sign in",
            "The server does not say where to sign in. Check the address; if it uses an API key, add it as a header instead.",
        ),
        SignInError::NeedsClientId { .. } => (
            "Register Latch",
            "Register Latch with the server's sign-in service and put the client ID in the server's settings (auth.clientId).",
        ),
        SignInError::Registration { .. } => (
            "Register Latch",
            "The sign-in service refused to register Latch. Try again later, or use a client ID from its owner.",
        ),
        SignInError::PortBusy { .. } | SignInError::Listener(_) => (
            "Wait for the browser",
            "Another program uses the sign-in port. Close it, or set a different auth.callbackPort.",
        ),
        SignInError::TimedOut { .. } => (
            "Wait for the browser",
            "Press “Sign in” again and approve in the browser window that opens.",
        ),
        SignInError::ClientCredentials(_) => (
            "Sign in with the client ID and secret",
            "Paste the current client ID and secret for this server.",
        ),
        SignInError::Workload(_) => (
            "Exchange the platform token",
            "Fix what the message names (where the token is read, its audience or expiry, the scope, the client); `latch doctor NAME` explains each step.",
        ),
        SignInError::NotSaved(_) => (
            "Keep the sign-in",
            "Latch could not save the sign-in on this computer. Free some disk space, or unlock (or start) the keychain, then press “Sign in” again.",
        ),
        _ => (
            "Sign in",
            "Press “Sign in” again. If it fails the same way, the sign-in service refused Latch.",
        ),
    }
}

fn ok(name: &str, detail: String) -> DoctorStep {
    DoctorStep {
        name: name.to_owned(),
        status: StepStatus::Ok,
        detail,
        fix: None,
    }
}

fn skipped(name: &str, detail: &str) -> DoctorStep {
    DoctorStep {
        name: name.to_owned(),
        status: StepStatus::Skipped,
        detail: detail.to_owned(),
        fix: None,
    }
}

fn failed(name: &str, detail: String, fix: &str) -> DoctorStep {
    DoctorStep {
        name: name.to_owned(),
        status: StepStatus::Failed,
        detail,
        fix: Some(fix.to_owned()),
    }
}
