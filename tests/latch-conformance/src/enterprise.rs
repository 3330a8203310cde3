//! The enterprise-managed authorization scenario (SEP-990), done as a person's setup would do
//! it: an organisation whose identity provider is the suite's IdP, a server entry naming it
//! (`auth.org`, with the server's own pre-registered client), and the person's company sign-in.
//! The suite's IdP has no browser sign-in — it hands out an ID token in
//! `MCP_CONFORMANCE_CONTEXT` — so that token is adopted as the organisation's session through
//! latch-core's public [`latch_core::auth::adopt_id_token`], as a person's tooling holding an
//! ID token would. Everything after that (the RFC 8693 exchange, the `jwt-bearer` grant) is the
//! core's ordinary sign-in.

use std::sync::Arc;

use anyhow::Context;
use latch_core::{
    ConnectOptions,
    config::{Organization, ServerConfig},
    secrets::SecretStore,
};
use serde_json::{Value, json};

/// The organisation's name in the adapter's configuration.
const ORG: &str = "conformance-idp";

/// For the enterprise scenario: name the organisation in the server's `auth`, and sign in to
/// the company with the IdP's ID token, kept in a store only this run sees. Other scenarios
/// are left as they are.
pub async fn setup(
    scenario: &str,
    context: &Value,
    server: &mut ServerConfig,
    options: &mut ConnectOptions,
) -> anyhow::Result<()> {
    if !scenario.starts_with("auth/enterprise-managed-authorization") {
        return Ok(());
    }
    let text = |key: &str| {
        context
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("the scenario's context has no `{key}`"))
    };
    if let ServerConfig::Remote(remote) = server
        && let Some(auth) = remote.auth.as_mut()
    {
        auth["org"] = json!(ORG);
        if let Some(map) = auth.as_object_mut() {
            map.remove("clientMetadataUrl");
        }
    }
    let org = Organization {
        issuer: text("idp_issuer")?,
        client_id: Some(text("idp_client_id")?),
        ..Organization::default()
    };
    let store = SecretStore::memory();
    latch_core::auth::adopt_id_token(ORG, &org, &text("idp_id_token")?, &store).await?;
    options.secrets = Arc::new(store);
    Ok(())
}
