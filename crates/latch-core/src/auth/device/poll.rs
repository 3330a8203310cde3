//! The two requests of RFC 8628, through the `oauth2` crate: the device authorization request
//! (codes for the person to enter) and the token polling, both with `resource` (RFC 8707).
//! oauth2 runs the polling loop — `interval` (5 s when the server names none), +5 s on
//! `slow_down`, the same again on `authorization_pending`, a bounded back-off when the server
//! cannot be reached, and `expired_token` once `expires_in` has passed; this module turns how
//! it ended into something Latch can say. The device code goes into request bodies only.

use std::{future::Future, time::Duration};

use oauth2::{
    AsyncHttpClient, AuthType, ClientId, ClientSecret, DeviceAuthorizationUrl,
    DeviceCodeErrorResponse, DeviceCodeErrorResponseType, EndpointNotSet, EndpointSet,
    RequestTokenError, Scope, StandardDeviceAuthorizationResponse, StandardRevocableToken,
    TokenUrl,
    basic::{
        BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
        BasicTokenIntrospectionResponse,
    },
};
use rmcp::transport::auth::OAuthTokenResponse;

/// An oauth2 client with a device authorization endpoint and a token endpoint, whose token
/// responses are rmcp's type, so the grant is stored exactly as the browser flow stores it.
pub(crate) type DeviceClient = oauth2::Client<
    BasicErrorResponse,
    OAuthTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What the person is shown, and what the poll needs (the device code, never shown).
pub(crate) type DeviceCodes = StandardDeviceAuthorizationResponse;

/// Build the client. A secret goes in the body only when the server takes `client_secret_post`
/// and not `client_secret_basic` (rmcp decides the same way).
pub(crate) fn client(
    client_id: &str,
    client_secret: Option<&str>,
    device_endpoint: &str,
    token_endpoint: &str,
    auth_methods: &[String],
) -> Result<DeviceClient, String> {
    let device_url = DeviceAuthorizationUrl::new(device_endpoint.to_owned())
        .map_err(|e| format!("the device authorization endpoint is not a URL ({e})"))?;
    let token_url = TokenUrl::new(token_endpoint.to_owned())
        .map_err(|e| format!("the token endpoint is not a URL ({e})"))?;
    let mut client = oauth2::Client::new(ClientId::new(client_id.to_owned()))
        .set_device_authorization_url(device_url)
        .set_token_uri(token_url);
    if let Some(secret) = client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.to_owned()));
        let has = |m: &str| auth_methods.iter().any(|a| a == m);
        if has("client_secret_post") && !has("client_secret_basic") {
            client = client.set_auth_type(AuthType::RequestBody);
        }
    }
    Ok(client)
}

/// Why the authorization server gave no codes, or no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `expired_token`, or `expires_in` passed while polling.
    Expired,
    /// `access_denied`: the person said no on the device page.
    Denied,
    /// Any other OAuth error: its code and description.
    Error {
        code: String,
        description: Option<String>,
    },
    /// No usable answer (unreachable, not JSON, …), in words without secrets.
    Failed(String),
}

impl Refusal {
    /// `code (description)`, for messages.
    pub(crate) fn reason(&self) -> String {
        match self {
            Self::Expired => "expired_token".to_owned(),
            Self::Denied => "access_denied".to_owned(),
            Self::Error { code, description } => match description {
                Some(d) if !d.is_empty() => format!("{code} ({d})"),
                _ => code.clone(),
            },
            Self::Failed(reason) => reason.clone(),
        }
    }

    /// The OAuth error code, when the server sent one.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            Self::Expired => Some("expired_token"),
            Self::Denied => Some("access_denied"),
            Self::Error { code, .. } => Some(code),
            Self::Failed(_) => None,
        }
    }
}

/// How a poll that oauth2 did not continue ended: the pure half of the polling state machine
/// (oauth2 keeps polling on `authorization_pending` and `slow_down` and never hands those on).
pub(crate) fn classify(error: &DeviceCodeErrorResponse) -> Refusal {
    match error.error() {
        DeviceCodeErrorResponseType::ExpiredToken => Refusal::Expired,
        DeviceCodeErrorResponseType::AccessDenied => Refusal::Denied,
        other => Refusal::Error {
            code: other.to_string(),
            description: error.error_description().cloned(),
        },
    }
}

/// Anything but a server's OAuth error, in words that hold no response body (a token answer
/// that does not parse still holds the tokens).
fn failure<RE: std::error::Error, TE: oauth2::ErrorResponse>(
    error: &RequestTokenError<RE, TE>,
) -> Refusal {
    Refusal::Failed(match error {
        RequestTokenError::Request(e) => format!("no answer from the sign-in server: {e}"),
        RequestTokenError::Parse(..) => {
            "the sign-in server's answer is not the JSON RFC 8628 describes".to_owned()
        }
        RequestTokenError::Other(e) => e.clone(),
        RequestTokenError::ServerResponse(_) => "the sign-in server refused".to_owned(),
    })
}

/// Ask for a device code and a user code for `scopes`, for the resource `resource`.
pub(crate) async fn request_codes<C>(
    client: &DeviceClient,
    scopes: &[String],
    resource: &str,
    http: &C,
) -> Result<DeviceCodes, Refusal>
where
    C: for<'c> AsyncHttpClient<'c>,
{
    let request = client
        .exchange_device_code()
        .add_scopes(scopes.iter().cloned().map(Scope::new))
        .add_extra_param("resource", resource.to_owned());
    request
        .request_async(http)
        .await
        .map_err(|error| match &error {
            RequestTokenError::ServerResponse(response) => match response.error() {
                BasicErrorResponseType::Extension(code) if code == "access_denied" => {
                    Refusal::Denied
                }
                code => Refusal::Error {
                    code: code.to_string(),
                    description: response.error_description().cloned(),
                },
            },
            other => failure(other),
        })
}

/// Poll the token endpoint until the person approves or refuses, or the codes expire. `sleep`
/// waits between polls (it is handed oauth2's current interval).
pub(crate) async fn poll<C, S, SF>(
    client: &DeviceClient,
    codes: &DeviceCodes,
    resource: &str,
    http: &C,
    sleep: S,
) -> Result<OAuthTokenResponse, Refusal>
where
    C: for<'c> AsyncHttpClient<'c>,
    S: Fn(Duration) -> SF,
    SF: Future<Output = ()>,
{
    let device_code = codes.device_code().secret();
    client
        .exchange_device_access_token(codes)
        .add_extra_param("resource", resource.to_owned())
        // Stop at `expires_in` (the timeout oauth2 uses when given none).
        .request_async(http, sleep, None)
        .await
        .map_err(|error| {
            let refusal = match &error {
                RequestTokenError::ServerResponse(response) => classify(response),
                other => failure(other),
            };
            // A server that echoes the device code in a description does not get it printed.
            match refusal {
                Refusal::Error { code, description } => Refusal::Error {
                    code,
                    description: description.map(|d| d.replace(device_code, "[device code]")),
                },
                other => other,
            }
        })
}

#[cfg(test)]
mod tests {
    use std::{
        collections::VecDeque,
        sync::{Arc, Mutex},
    };

    use oauth2::{HttpRequest, HttpResponse, TokenResponse};
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::device::http::HttpError;

    const RESOURCE: &str = "http://127.0.0.1:9/mcp";

    /// A scripted answer: status and JSON body, or a transport failure.
    type Answer = Result<(u16, Value), String>;

    /// An authorization server that answers from a script and remembers what it was sent.
    #[derive(Clone, Default)]
    struct Script {
        answers: Arc<Mutex<VecDeque<Answer>>>,
        bodies: Arc<Mutex<Vec<String>>>,
    }

    impl Script {
        fn new(answers: Vec<Answer>) -> Self {
            Self {
                answers: Arc::new(Mutex::new(answers.into())),
                ..Self::default()
            }
        }

        fn http(
            &self,
        ) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, HttpError>> + use<>
        {
            let script = self.clone();
            move |request: HttpRequest| {
                script
                    .bodies
                    .lock()
                    .unwrap()
                    .push(String::from_utf8(request.body().clone()).unwrap());
                let answer = script
                    .answers
                    .lock()
                    .unwrap()
                    .pop_front()
                    .expect("a scripted answer");
                std::future::ready(answer.map_err(HttpError).map(|(status, body)| {
                    http::Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(serde_json::to_vec(&body).unwrap())
                        .unwrap()
                }))
            }
        }

        fn bodies(&self) -> Vec<String> {
            self.bodies.lock().unwrap().clone()
        }
    }

    fn pending() -> Answer {
        Ok((400, json!({"error": "authorization_pending"})))
    }

    fn error(code: &str) -> Answer {
        Ok((
            400,
            json!({"error": code, "error_description": "said the server"}),
        ))
    }

    fn tokens() -> Answer {
        Ok((
            200,
            json!({
                "access_token": "at-1", "token_type": "Bearer", "expires_in": 60,
                "refresh_token": "rt-1", "scope": "mcp:read"
            }),
        ))
    }

    fn test_client() -> DeviceClient {
        client(
            "latch-public",
            None,
            "http://127.0.0.1:9/device/auth",
            "http://127.0.0.1:9/token",
            &[],
        )
        .unwrap()
    }

    fn codes(interval: Option<u64>, expires_in: u64) -> DeviceCodes {
        let mut codes = json!({
            "device_code": "dc-secret", "user_code": "BCDF-GHJK",
            "verification_uri": "http://127.0.0.1:9/device", "expires_in": expires_in,
        });
        if let Some(interval) = interval {
            codes["interval"] = json!(interval);
        }
        serde_json::from_value(codes).unwrap()
    }

    /// Poll against `script`, recording the waits instead of waiting.
    async fn run(
        script: &Script,
        codes: &DeviceCodes,
    ) -> (Result<OAuthTokenResponse, Refusal>, Vec<Duration>) {
        let waits = Mutex::new(Vec::new());
        let result = poll(&test_client(), codes, RESOURCE, &script.http(), |d| {
            waits.lock().unwrap().push(d);
            std::future::ready(())
        })
        .await;
        (result, waits.into_inner().unwrap())
    }

    #[tokio::test]
    async fn waits_the_interval_and_five_more_seconds_after_each_slow_down() {
        let script = Script::new(vec![
            pending(),
            error("slow_down"),
            pending(),
            error("slow_down"),
            tokens(),
        ]);
        let (result, waits) = run(&script, &codes(Some(1), 600)).await;
        let token = result.expect("tokens");
        assert_eq!(token.access_token().secret(), "at-1");
        assert_eq!(
            waits,
            [1, 6, 6, 11].map(Duration::from_secs),
            "pending keeps the interval, slow_down adds 5 s for good"
        );
        let bodies = script.bodies();
        assert_eq!(bodies.len(), 5);
        for body in bodies {
            assert!(
                body.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"),
                "{body}"
            );
            assert!(body.contains("device_code=dc-secret"), "{body}");
            assert!(
                body.contains("resource=http%3A%2F%2F127.0.0.1%3A9%2Fmcp"),
                "{body}"
            );
            assert!(body.contains("client_id=latch-public"), "{body}");
        }
    }

    #[tokio::test]
    async fn without_an_interval_polls_every_five_seconds() {
        let script = Script::new(vec![pending(), tokens()]);
        let (result, waits) = run(&script, &codes(None, 600)).await;
        assert!(result.is_ok());
        assert_eq!(waits, [Duration::from_secs(5)]);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_polled_again_with_back_off() {
        let script = Script::new(vec![Err("connection refused".into()), tokens()]);
        let (result, waits) = run(&script, &codes(Some(1), 600)).await;
        assert!(result.is_ok());
        assert_eq!(waits, [Duration::from_secs(2)]);
    }

    #[tokio::test]
    async fn refusal_expiry_and_other_errors_end_the_poll() {
        for (answer, expected) in [
            (error("access_denied"), Refusal::Denied),
            (error("expired_token"), Refusal::Expired),
            (
                error("invalid_grant"),
                Refusal::Error {
                    code: "invalid_grant".into(),
                    description: Some("said the server".into()),
                },
            ),
        ] {
            let script = Script::new(vec![pending(), answer]);
            let (result, waits) = run(&script, &codes(Some(1), 600)).await;
            assert_eq!(result.unwrap_err(), expected);
            assert_eq!(waits, [Duration::from_secs(1)]);
        }
    }

    #[tokio::test]
    async fn stops_once_the_codes_expire() {
        // Nobody approves; after `expires_in` (1 s) oauth2 stops by itself.
        let script = Script::new(vec![pending(), pending(), pending()]);
        let result = poll(
            &test_client(),
            &codes(Some(1), 1),
            RESOURCE,
            &script.http(),
            |d| tokio::time::sleep(d + Duration::from_millis(100)),
        )
        .await;
        assert_eq!(result.unwrap_err(), Refusal::Expired);
        assert!(script.bodies().len() <= 2);
    }

    #[tokio::test]
    async fn a_token_answer_that_does_not_parse_is_not_repeated() {
        let script = Script::new(vec![Ok((200, json!({"access_token": "at-secret-1"})))]);
        let (result, _) = run(&script, &codes(Some(1), 600)).await;
        let refusal = result.unwrap_err();
        assert!(matches!(refusal, Refusal::Failed(_)));
        assert!(!refusal.reason().contains("at-secret-1"));
    }

    #[tokio::test]
    async fn a_described_error_never_repeats_the_device_code() {
        let script = Script::new(vec![Ok((
            400,
            json!({"error": "invalid_grant", "error_description": "dc-secret is unknown"}),
        ))]);
        let (result, _) = run(&script, &codes(Some(1), 600)).await;
        let reason = result.unwrap_err().reason();
        assert!(!reason.contains("dc-secret"), "{reason}");
    }

    #[tokio::test]
    async fn the_device_request_names_the_resource_and_scopes() {
        let script = Script::new(vec![Ok((
            200,
            json!({
                "device_code": "dc", "user_code": "WXYZ-BCDF",
                "verification_uri": "http://127.0.0.1:9/device", "expires_in": 600
            }),
        ))]);
        let scopes = ["mcp:read".to_owned(), "offline_access".to_owned()];
        let codes = request_codes(&test_client(), &scopes, RESOURCE, &script.http())
            .await
            .expect("codes");
        assert_eq!(codes.user_code().secret(), "WXYZ-BCDF");
        assert_eq!(codes.interval(), Duration::from_secs(5));
        let body = &script.bodies()[0];
        assert!(
            body.contains("resource=http%3A%2F%2F127.0.0.1%3A9%2Fmcp"),
            "{body}"
        );
        assert!(body.contains("scope=mcp%3Aread+offline_access"), "{body}");
        assert!(body.contains("client_id=latch-public"), "{body}");

        let refused = Script::new(vec![error("unauthorized_client")]);
        let refusal = request_codes(&test_client(), &scopes, RESOURCE, &refused.http())
            .await
            .unwrap_err();
        assert_eq!(refusal.code(), Some("unauthorized_client"));
    }
}
