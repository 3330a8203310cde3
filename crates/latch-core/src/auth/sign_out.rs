//! Signing out: tell the authorization server to revoke the grant (RFC 7009) when it has a
//! revocation endpoint — the refresh token first, which ends the whole grant — then delete the
//! tokens here. rmcp has no revocation, so this is the one request Latch makes itself; its
//! endpoint (configured as `auth.revocationUrl`, else from the metadata) gets the same checks
//! as every other endpoint, relative to the MCP server.
//!
//! The client registration stays: the next sign-in with the same authorization server uses it
//! again instead of registering another client (removing the server deletes it too).

use rmcp::transport::auth::{CredentialStore, StoredCredentials};
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::SharedCredentialStore;
use crate::net::endpoints;

/// The most of a refusal's body read for its `error_description`.
const MAX_REFUSAL_BYTES: usize = 16 * 1024;

/// What signing out did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOut {
    /// A grant was stored.
    pub had_grant: bool,
    /// The authorization server confirmed the revocation.
    pub revoked: bool,
    /// Why it could not be revoked there, when it could not (the local tokens are gone anyway).
    pub revoke_problem: Option<String>,
}

/// Revoke the grant of the server at `url` (best effort) at `revocation_url` when given (the
/// server's `auth.revocationUrl`), else at the endpoint its metadata names; then delete the
/// tokens from `store`, keeping the client registration.
pub async fn sign_out(
    url: &str,
    revocation_url: Option<&str>,
    store: &SharedCredentialStore,
) -> Result<SignedOut, String> {
    let stored = store.load().await.map_err(|e| e.to_string())?;
    let Some(stored) = stored.filter(|s| s.token_response.is_some()) else {
        return Ok(SignedOut {
            had_grant: false,
            revoked: false,
            revoke_problem: None,
        });
    };
    let mut outcome = SignedOut {
        had_grant: true,
        revoked: false,
        revoke_problem: None,
    };
    match revoke(url, revocation_url, &stored).await {
        Ok(()) => outcome.revoked = true,
        Err(problem) => outcome.revoke_problem = Some(problem),
    }
    if stored.client_id.is_empty() {
        store.clear().await.map_err(|e| e.to_string())?;
    } else {
        let mut registration =
            StoredCredentials::new(stored.client_id.clone(), None, Vec::new(), None);
        registration.issuer = stored.issuer.clone();
        CredentialStore::save(store, registration)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(outcome)
}

/// The revocation endpoint to use for the server at `url`, checked.
async fn endpoint(url: &str, configured: Option<&str>) -> Result<Url, String> {
    let server = Url::parse(url).map_err(|e| e.to_string())?;
    let endpoint = match configured {
        Some(endpoint) => endpoint.to_owned(),
        None => super::discovery::discover(url, None, None, None)
            .await
            .map_err(|e| format!("could not find the sign-in server: {e}"))?
            .metadata
            .additional_fields
            .get("revocation_endpoint")
            .and_then(Value::as_str)
            .ok_or("the sign-in server offers no revocation")?
            .to_owned(),
    };
    endpoints::check_endpoint(&server, &endpoint).map_err(|reason| {
        format!(
            "the revocation endpoint {} was not used: {reason}",
            endpoints::shown(&endpoint)
        )
    })
}

async fn revoke(
    url: &str,
    configured: Option<&str>,
    stored: &StoredCredentials,
) -> Result<(), String> {
    let endpoint = endpoint(url, configured).await?;
    let shown = endpoints::shown(endpoint.as_str());
    // Read the token through the JSON form; the copy we keep is wiped after use.
    let json = serde_json::to_value(stored).map_err(|e| e.to_string())?;
    let (token, hint) = match (
        json["token_response"]["refresh_token"].as_str(),
        json["token_response"]["access_token"].as_str(),
    ) {
        (Some(refresh), _) => (Zeroizing::new(refresh.to_owned()), "refresh_token"),
        (None, Some(access)) => (Zeroizing::new(access.to_owned()), "access_token"),
        (None, None) => return Err("no token to revoke".into()),
    };
    drop(json);
    let form = [
        ("token", token.as_str()),
        ("token_type_hint", hint),
        ("client_id", stored.client_id.as_str()),
    ];
    // The MCP server's client: what names resolve to is judged against the MCP server.
    let origin = Url::parse(url).map_err(|e| e.to_string())?;
    let mut response = crate::net::client_for(&origin, false)
        .post(endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            format!(
                "could not reach the revocation endpoint {shown}: {}",
                crate::words::chain(&e.without_url())
            )
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let mut body = Vec::new();
    while body.len() < MAX_REFUSAL_BYTES
        && let Ok(Some(chunk)) = response.chunk().await
    {
        body.extend_from_slice(&chunk);
    }
    Err(format!(
        "the revocation endpoint {shown} answered HTTP {}{}",
        status.as_u16(),
        refusal(&body)
    ))
}

/// The `error` and `error_description` of an OAuth error body (RFC 6749 5.2), shown safely:
/// `": invalid_token — The token is unknown"` on one line, control characters dropped, cut
/// to 200 characters; empty when the body says neither.
fn refusal(body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    let field = |name: &str| json.get(name).and_then(Value::as_str).map(safe);
    let text = match (field("error"), field("error_description")) {
        (Some(code), Some(description)) if !description.is_empty() => {
            format!("{code} — {description}")
        }
        (Some(code), _) => code,
        (None, Some(description)) => description,
        (None, None) => return String::new(),
    };
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut cut: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        cut.push('…');
    }
    format!(": {cut}")
}

/// A server's words as one line: control characters dropped, runs of space made one.
fn safe(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_shows_the_servers_words_on_one_safe_line() {
        assert_eq!(
            refusal(br#"{"error":"invalid_client","error_description":"Client not found"}"#),
            ": invalid_client — Client not found"
        );
        assert_eq!(
            refusal(br#"{"error":"unsupported_token_type"}"#),
            ": unsupported_token_type"
        );
        assert_eq!(refusal(b"<html>Bad Request</html>"), "");
        assert_eq!(refusal(br#"{"error":""}"#), "");
        let hostile = serde_json::json!({
            "error": "invalid_request\r\nX-Injected: 1",
            "error_description": format!("\u{1b}[31mred\u{1b}[0m\n{}", "A".repeat(500)),
        })
        .to_string();
        let shown = refusal(hostile.as_bytes());
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(
            shown.starts_with(": invalid_request X-Injected: 1 — [31mred [0m A"),
            "{shown}"
        );
        assert!(shown.chars().count() <= 203, "{}", shown.chars().count());
        assert!(shown.ends_with('…'));
    }

    fn grant(client_id: &str) -> StoredCredentials {
        serde_json::from_value(serde_json::json!({
            "client_id": client_id,
            "token_response": {
                "access_token": "access-secret",
                "token_type": "bearer",
                "refresh_token": "refresh-secret",
            },
            "granted_scopes": ["mcp"],
            "token_received_at": 1,
            "issuer": "https://as.example.com",
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn signing_out_keeps_the_registration_and_deletes_the_tokens() {
        let store = SharedCredentialStore::memory();
        CredentialStore::save(&store, grant("client-1"))
            .await
            .unwrap();
        // A metadata-service revocation endpoint is refused before any request.
        let outcome = sign_out(
            "http://127.0.0.1:9/mcp",
            Some("http://169.254.169.254/latest/meta-data/revoke?x=secret"),
            &store,
        )
        .await
        .unwrap();
        assert!(outcome.had_grant && !outcome.revoked);
        let problem = outcome.revoke_problem.unwrap();
        assert!(
            problem.starts_with("the revocation endpoint http://169.254.169.254/latest/meta-data/revoke was not used: refusing 169.254.169.254"),
            "{problem}"
        );
        assert!(!problem.contains("secret"), "{problem}");
        let kept = store
            .load()
            .await
            .unwrap()
            .expect("the registration is kept");
        assert_eq!(kept.client_id, "client-1");
        assert_eq!(kept.issuer.as_deref(), Some("https://as.example.com"));
        assert!(kept.token_response.is_none() && kept.granted_scopes.is_empty());

        // Signing out again: nothing to revoke, the registration still kept.
        let again = sign_out("http://127.0.0.1:9/mcp", None, &store)
            .await
            .unwrap();
        assert!(!again.had_grant && again.revoke_problem.is_none());
        assert_eq!(store.load().await.unwrap().unwrap().client_id, "client-1");

        // A public server cannot have Latch revoke at this machine.
        CredentialStore::save(&store, grant("client-1"))
            .await
            .unwrap();
        let outcome = sign_out(
            "https://mcp.example.com/mcp",
            Some("http://127.0.0.1:9/revoke"),
            &store,
        )
        .await
        .unwrap();
        assert!(
            outcome
                .revoke_problem
                .unwrap()
                .contains("not on this machine"),
            "refused before connecting"
        );
    }
}
