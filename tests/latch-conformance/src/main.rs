//! The adapter the MCP conformance suite runs as `latch-conformance <url>`. It reads the
//! scenario from `MCP_CONFORMANCE_SCENARIO` and does what a person would do with Latch:
//! connect, list the tools, call the scenario's tool — through latch-core's public API only.
//! It holds no protocol logic: when a scenario fails, the fix belongs in the core.

use std::{process::ExitCode, time::Duration};

use anyhow::Context;
use latch_core::{
    CallOptions, ConnectOptions, Connection,
    auth::{BrowserMode, SharedCredentialStore},
    config::{RemoteServer, ServerConfig},
};
use serde_json::{Map, Value, json};

/// The tool each scenario expects a client to call, with its arguments.
fn scenario_call(scenario: &str) -> Option<(&'static str, Value)> {
    match scenario {
        "tools_call" => Some(("add_numbers", json!({"a": 2, "b": 3}))),
        "elicitation-sep1034-client-defaults" => {
            Some(("test_client_elicitation_defaults", json!({})))
        }
        "sse-retry" => Some(("test_reconnection", json!({}))),
        _ => None,
    }
}

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
/// `"type": "client_credentials"`.
fn server_config(scenario: &str, url: &str) -> ServerConfig {
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
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
    ServerConfig::Remote(RemoteServer {
        url: url.to_owned(),
        auth: Some(auth),
        ..RemoteServer::default()
    })
}

async fn run(scenario: &str, url: &str) -> anyhow::Result<()> {
    let server = server_config(scenario, url);
    let options = ConnectOptions {
        credentials: Some(SharedCredentialStore::memory()),
        sign_in: Some(BrowserMode::Headless),
        ..ConnectOptions::default()
    };
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
        if let Some((tool, arguments)) = scenario_call(scenario) {
            let arguments: Map<String, Value> = arguments.as_object().cloned().unwrap_or_default();
            let result = connection
                .call_tool(tool, arguments, CallOptions::default())
                .await?;
            eprintln!("{tool}: {}", result.text());
        } else if scenario.starts_with("auth/") {
            // Signed in, a person would try the tools: call each with no arguments. A refusal
            // (e.g. scopes the server never grants) is the scenario's business, not a crash.
            for tool in tools.iter() {
                match connection
                    .call_tool(&tool.name, Map::new(), CallOptions::default())
                    .await
                {
                    Ok(result) => eprintln!("{}: {}", tool.name, result.text()),
                    Err(error) => eprintln!("{}: {error}", tool.name),
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    connection.close().await;
    outcome
}
