//! Servers from the 2025-03-26 revision publish no protected resource metadata; their
//! authorization server metadata sits at the server's root and may name an issuer with a path
//! (`https://host/oauth`). rmcp checks the issuer against the newer rule and refuses those
//! documents, so for that one legacy case — no PRM, the root document — Latch reads it here.

use rmcp::transport::auth::AuthorizationMetadata;
use url::Url;

use super::browser::check_url_to_open;

/// The root authorization-server metadata of the MCP server at `mcp_url`, when it has one.
pub(crate) async fn root_metadata(mcp_url: &str) -> Result<AuthorizationMetadata, String> {
    let url = Url::parse(mcp_url).map_err(|e| e.to_string())?;
    // Only for servers without resource metadata: where PRM names the authorization server,
    // its issuer must match, and rmcp's refusal stands.
    let path = url.path().trim_end_matches('/');
    for prm in [
        format!("/.well-known/oauth-protected-resource{path}"),
        "/.well-known/oauth-protected-resource".to_owned(),
    ] {
        let prm_url = url.join(&prm).map_err(|e| e.to_string())?;
        let found = crate::connection::http_client()
            .get(prm_url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if found {
            return Err("the server publishes resource metadata, and its authorization server's issuer does not match".into());
        }
    }
    let well_known = url
        .join("/.well-known/oauth-authorization-server")
        .map_err(|e| e.to_string())?;
    let response = crate::connection::http_client()
        .get(well_known.clone())
        .header("MCP-Protocol-Version", "2025-03-26")
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!(
            "{} answered HTTP {}",
            well_known.path(),
            response.status().as_u16()
        ));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if bytes.len() > 1024 * 1024 {
        return Err("the metadata document is larger than 1 MiB".into());
    }
    let metadata: AuthorizationMetadata =
        serde_json::from_slice(&bytes).map_err(|e| format!("not valid metadata: {e}"))?;
    for endpoint in [
        Some(&metadata.authorization_endpoint),
        Some(&metadata.token_endpoint),
        metadata.registration_endpoint.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        check_url_to_open(endpoint).map_err(|e| format!("endpoint {endpoint}: {e}"))?;
    }
    Ok(metadata)
}
