//! `latch status [NAME]`: connect to each server (all at once) and say how it stands.

use std::{process::ExitCode, time::Duration};

use latch_core::{ConnectOptions, Connection, ConnectionState};
use serde_json::json;

use crate::output;

pub async fn run(only: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config()?;
    let servers = match only {
        Some(name) => vec![(name.to_owned(), config.server(name)?)],
        None => config.servers(),
    };
    let checks = servers.into_iter().map(|(name, server)| async move {
        let options = ConnectOptions {
            connect_attempts: 1,
            handshake_timeout: Duration::from_secs(15),
            ..ConnectOptions::default()
        };
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
    let healthy = results
        .iter()
        .all(|(_, state, _)| matches!(state, ConnectionState::Connected { .. }));
    if json {
        let list: Vec<_> = results
            .iter()
            .map(|(name, state, info)| json!({ "name": name, "state": state, "server": info }))
            .collect();
        output::json(&list)?;
    } else if results.is_empty() {
        println!("No servers yet. Add one with `latch servers add NAME URL`.");
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|(name, state, info)| {
                let (label, detail) = match state {
                    ConnectionState::Connected { transport } => (
                        "connected".to_owned(),
                        info.as_ref()
                            .map(|i| {
                                format!(
                                    "{} {} over {transport} (protocol {})",
                                    i.name.as_deref().unwrap_or("?"),
                                    i.version.as_deref().unwrap_or(""),
                                    i.protocol_version
                                )
                            })
                            .unwrap_or_default(),
                    ),
                    ConnectionState::NeedsSignIn => (
                        "needs sign-in".to_owned(),
                        "the server answered 401".to_owned(),
                    ),
                    ConnectionState::Failed { reason } => ("failed".to_owned(), reason.clone()),
                    other => (format!("{other:?}"), String::new()),
                };
                vec![name.clone(), label, detail]
            })
            .collect();
        output::table(&["NAME", "STATE", "DETAIL"], &rows);
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
