//! The RFC 7523 `jwt-bearer` token request with the platform's token as the assertion — one
//! request, never retried and never followed by another grant (SEP-1933): a refusal is the
//! platform's or the authorization server's configuration to fix, and asking again would only
//! repeat it. rmcp has this grant only inside its enterprise module, tied to an ID-JAG, so it
//! is written here: a form POST through Latch's checked HTTP client, the answer read as an
//! OAuth token response or an OAuth error.

use std::time::Duration;

use rmcp::transport::auth::OAuthTokenResponse;

use super::platform::PlatformToken;

/// `grant_type` of the request, and what `grant_types_supported` lists when it is offered.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long the token request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One token request.
pub(crate) struct Request<'a> {
    pub(crate) token_endpoint: &'a str,
    pub(crate) assertion: &'a PlatformToken,
    pub(crate) scopes: &'a [String],
    /// The MCP server's URL (RFC 8707).
    pub(crate) resource: &'a str,
    pub(crate) client_id: Option<&'a str>,
}

/// Why no token came back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// An OAuth error answer: its code and description (scrubbed of the token).
    OAuth {
        code: String,
        description: Option<String>,
    },
    /// No answer, or one that is not OAuth: a reason in plain words.
    Other(String),
}

/// Send the request once.
pub(crate) async fn request(request: &Request<'_>) -> Result<OAuthTokenResponse, Failure> {
    let endpoint = url::Url::parse(request.token_endpoint)
        .map_err(|e| Failure::Other(format!("its token endpoint is not a URL ({e})")))?;
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", JWT_BEARER),
        ("assertion", request.assertion.secret()),
        ("resource", request.resource),
    ];
    let scope = request.scopes.join(" ");
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    if let Some(client_id) = request.client_id {
        form.push(("client_id", client_id));
    }
    let client = crate::net::client_for(&endpoint, false);
    let response = client
        .post(endpoint)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            Failure::Other(if e.is_timeout() {
                format!("it did not answer within {} s", REQUEST_TIMEOUT.as_secs())
            } else {
                "it could not be reached".to_owned()
            })
        })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|_| Failure::Other("its answer could not be read".into()))?;
    read_answer(status.as_u16(), &body, request.assertion)
}

/// An answer, read: a token on success, else the OAuth error it holds.
fn read_answer(
    status: u16,
    body: &[u8],
    assertion: &PlatformToken,
) -> Result<OAuthTokenResponse, Failure> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|_| {
            Failure::Other(format!(
                "it answered HTTP {status} without an OAuth token response"
            ))
        });
    }
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(error) => Err(Failure::OAuth {
            code: crate::auth::one_line(&assertion.scrub(&error.error)),
            description: error
                .error_description
                .map(|d| crate::auth::one_line(&assertion.scrub(&d))),
        }),
        Err(_) => Err(Failure::Other(format!("it answered HTTP {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_tokens_or_oauth_errors_without_the_assertion() {
        let assertion = PlatformToken::for_test("eyJ.secret.sig");
        let token = read_answer(
            200,
            br#"{"access_token":"at","token_type":"Bearer","expires_in":60,"scope":"a b"}"#,
            &assertion,
        )
        .unwrap();
        assert_eq!(oauth2::TokenResponse::access_token(&token).secret(), "at");
        let refused = read_answer(
            400,
            br#"{"error":"invalid_grant","error_description":"bad eyJ.secret.sig"}"#,
            &assertion,
        )
        .unwrap_err();
        assert_eq!(
            refused,
            Failure::OAuth {
                code: "invalid_grant".into(),
                description: Some("bad [token]".into())
            }
        );
        assert_eq!(
            read_answer(502, b"<html>", &assertion).unwrap_err(),
            Failure::Other("it answered HTTP 502".into())
        );
        assert!(matches!(
            read_answer(200, b"{}", &assertion),
            Err(Failure::Other(_))
        ));
    }
}
