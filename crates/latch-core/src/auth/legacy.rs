//! Servers from the 2025-03-26 revision publish no protected resource metadata; their
//! authorization server metadata sits at the server's root and may name an issuer with a path
//! (`https://host/oauth`). rmcp checks the issuer against the newer rule and refuses those
//! documents, so for that one legacy case — no PRM, the root document — Latch reads it here.

use rmcp::transport::auth::AuthorizationMetadata;
use url::Url;

use crate::net::check_url_to_open;

/// The largest metadata document read.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// The client for these requests: no redirects (a metadata request is not sent on to another
/// address, like rmcp's discovery), a 30 s limit per request.
fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("latch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

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
        let found = client()?
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
    let mut response = client()?
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
    // Read at most 1 MiB, whatever the server says the length is and however slowly it
    // sends (the client's timeout bounds the whole exchange).
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if bytes.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err("the metadata document is larger than 1 MiB".into());
        }
        bytes.extend_from_slice(&chunk);
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
