//! The HTTP client the device grant's requests go through: oauth2's `AsyncHttpClient` over
//! Latch's reqwest, the way rmcp adapts its own (rmcp's adapter is private). Redirects are not
//! followed — a token endpoint that redirects would carry the device code elsewhere — and
//! answers are capped at 1 MiB, as rmcp caps its OAuth answers.

use std::{future::Future, pin::Pin, sync::OnceLock, time::Duration};

use futures::StreamExt;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Largest answer read from the authorization server.
const MAX_BODY: usize = 1024 * 1024;

/// The device grant's HTTP client: one per process, no redirects, bounded waits.
#[derive(Clone)]
pub(crate) struct OAuthHttp {
    client: reqwest::Client,
}

impl OAuthHttp {
    pub(crate) fn get() -> Self {
        static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
        let client = CLIENT
            .get_or_init(|| {
                reqwest::Client::builder()
                    .user_agent(concat!("latch/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(Duration::from_secs(10))
                    .timeout(Duration::from_secs(30))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default()
            })
            .clone();
        Self { client }
    }

    /// The underlying reqwest client, for the registration request.
    pub(crate) fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Why a request got no answer. Never holds the request (its body has the device code).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HttpError(pub(crate) String);

impl HttpError {
    fn from_reqwest(error: reqwest::Error) -> Self {
        Self(crate::words::chain(&error.without_url()))
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(HttpError::from_reqwest)?;
            let response = self
                .client
                .execute(request)
                .await
                .map_err(HttpError::from_reqwest)?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(HttpError::from_reqwest)?;
                if chunk.len() > MAX_BODY - body.len() {
                    return Err(HttpError(format!(
                        "the answer is larger than {} KiB",
                        MAX_BODY / 1024
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            builder.body(body).map_err(|e| HttpError(e.to_string()))
        })
    }
}
