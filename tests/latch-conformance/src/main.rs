//! The adapter the MCP conformance suite runs as `latch-conformance <url>`. It reads the
//! scenario from `MCP_CONFORMANCE_SCENARIO` (and its data from `MCP_CONFORMANCE_CONTEXT`) and
//! does what a person would do with Latch: connect, list the tools, call what the scenario
//! asks for ([`person`]) — through latch-core's public API only. It holds no protocol logic:
//! when a scenario fails, the fix belongs in the core.

mod enterprise;
mod person;
mod workload;

use std::{process::ExitCode, time::Duration};

use anyhow::Context;
use latch_core::{
    ConnectOptions, Connection,
    auth::{BrowserMode, SharedCredentialStore},
    config::{ProtocolChoice, RemoteServer, ServerConfig},
};
use serde_json::{Value, json};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        let url = std::env::args()
            .next_back()
            .filter(|a| a.starts_with("http"))
            .context("usage: latch-conformance <server url>")?;
        let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
        // Stay under the runner's own 30 s limit so it never has to kill us.
        tokio::time::timeout(Duration::from_secs(25), run(&scenario, &url))
            .await
            .context("the scenario took longer than 25 s")?
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("latch-conformance: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The client's CIMD URL, as the suite expects it (a Latch setting, `auth.clientMetadataUrl`).
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

/// The server entry a person would write: the URL, plus the pre-registered client the suite
/// hands out in `MCP_CONFORMANCE_CONTEXT` for the scenarios that have one (a secret, or a
/// private key for `private_key_jwt`); a machine-to-machine server says
/// `"type": "client_credentials"`. `"protocol"` is `auto` unless `LATCH_CONFORMANCE_PROTOCOL`
/// names a version, as a person forcing the era would write it.
fn server_config(scenario: &str, url: &str, context: &Value) -> ServerConfig {
    let mut auth = json!({ "clientMetadataUrl": CLIENT_METADATA_URL });
    if scenario.starts_with("auth/client-credentials") {
        auth["type"] = json!("client_credentials");
    }
    for (from, to) in [
        ("client_id", "clientId"),
        ("client_secret", "clientSecret"),
        ("private_key_pem", "privateKeyPem"),
        ("signing_algorithm", "signingAlgorithm"),
    ] {
        if let Some(value) = context.get(from) {
            auth[to] = value.clone();
        }
    }
    let protocol = match std::env::var("LATCH_CONFORMANCE_PROTOCOL").ok().as_deref() {
        None | Some("" | "auto") => ProtocolChoice::Auto,
        Some(version) => ProtocolChoice::Pinned(version.to_owned()),
    };
    ServerConfig::Remote(RemoteServer {
        url: url.to_owned(),
        auth: Some(auth),
        protocol,
        ..RemoteServer::default()
    })
}

/// The scenario's data from the suite (`MCP_CONFORMANCE_CONTEXT`), `null` when there is none.
fn scenario_context() -> Value {
    std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default()
}

async fn run(scenario: &str, url: &str) -> anyhow::Result<()> {
    let context = scenario_context();
    let (mut server, _token_file) =
        workload::configure(scenario, &context, server_config(scenario, url, &context))?;
    let mut options = ConnectOptions {
        credentials: Some(SharedCredentialStore::memory()),
        sign_in: Some(BrowserMode::Headless),
        ..ConnectOptions::default()
    };
    enterprise::setup(scenario, &context, &mut server, &mut options).await?;
    let connection = Connection::connect("conformance", &server, options).await?;
    let outcome = async {
        let tools = connection.list_tools().await?;
        eprintln!(
            "{} tool(s): {}",
            tools.len(),
            tools
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        person::carry_out(person::plan(scenario, &context), &connection, &tools).await
    }
    .await;
    connection.close().await;
    outcome
}
