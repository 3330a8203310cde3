//! rmcp's `OAuthHttpClient` with DPoP proofs on token requests. rmcp runs every OAuth HTTP
//! request (discovery, registration, the code exchange, refreshes) through the manager's
//! client; this one sends them with Latch's checked clients (the address and redirect rules of
//! `crate::net`) and, once [`TokenProofs`] is turned on for a grant, adds a fresh proof to each
//! POST to the token endpoint. A `400 use_dpop_nonce` answer is retried once with the nonce the
//! server gave in `DPoP-Nonce` (RFC 9449 §8), and the latest nonce is kept for the next request.

use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use rmcp::transport::auth::{
    OAuthHttpClient, OAuthHttpClientError, OAuthHttpClientFuture, OAuthHttpRedirectPolicy,
    OAuthHttpRequest,
};
use url::Url;

use super::key::{DpopKey, ProofFor};

/// The most of an OAuth response read (rmcp's own limit).
const MAX_BODY: usize = 1024 * 1024;

/// Whether one manager's token requests carry proofs, with which key, and the authorization
/// server's latest nonce. Clones share it.
#[derive(Clone, Default)]
pub(crate) struct TokenProofs(Arc<Mutex<Option<Bound>>>);

struct Bound {
    key: Arc<DpopKey>,
    token_endpoint: String,
    nonce: Option<String>,
}

impl TokenProofs {
    /// Sign the requests to `token_endpoint` with `key` from now on.
    pub(crate) fn enable(&self, key: Arc<DpopKey>, token_endpoint: &str) {
        let mut bound = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let nonce = bound.take().and_then(|b| b.nonce);
        *bound = Some(Bound {
            key,
            token_endpoint: super::key::htu(token_endpoint),
            nonce,
        });
    }

    /// The key and nonce for a request, when it is a POST to the token endpoint.
    fn for_request(
        &self,
        method: &http::Method,
        url: &str,
    ) -> Option<(Arc<DpopKey>, Option<String>)> {
        let bound = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let bound = bound.as_ref()?;
        (*method == http::Method::POST && super::key::htu(url) == bound.token_endpoint)
            .then(|| (bound.key.clone(), bound.nonce.clone()))
    }

    fn remember_nonce(&self, nonce: &str) {
        if let Some(bound) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            bound.nonce = Some(nonce.to_owned());
        }
    }
}

/// The OAuth client of a manager whose grant may be DPoP-bound.
pub(crate) struct DpopOAuthClient {
    /// The MCP server's URL: the address rules are those of its origin (as rmcp's own client
    /// allows loopback metadata only for a loopback server).
    origin: Url,
    proofs: TokenProofs,
}

impl DpopOAuthClient {
    pub(crate) fn new(origin: Url, proofs: TokenProofs) -> Self {
        Self { origin, proofs }
    }

    async fn send(
        &self,
        request: OAuthHttpRequest,
    ) -> Result<http::Response<Vec<u8>>, OAuthHttpClientError> {
        // Token requests (`Stop`) may be redirected only within their origin.
        let same_origin_only = matches!(request.redirect_policy, OAuthHttpRedirectPolicy::Stop);
        self.exchange(request.request, request.timeout, same_origin_only)
            .await
    }

    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Option<std::time::Duration>,
        same_origin_only: bool,
    ) -> Result<http::Response<Vec<u8>>, OAuthHttpClientError> {
        let client = crate::net::client_for(&self.origin, same_origin_only);
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let bound = self.proofs.for_request(&parts.method, &url);
        let mut nonce = bound.as_ref().and_then(|(_, nonce)| nonce.clone());
        let mut retried = false;
        loop {
            let mut builder = client
                .request(parts.method.clone(), &url)
                .headers(parts.headers.clone())
                .body(body.clone());
            if let Some(timeout) = timeout {
                builder = builder.timeout(timeout);
            }
            if let Some((key, _)) = &bound {
                let proof = key
                    .proof(ProofFor {
                        method: parts.method.as_str(),
                        url: &url,
                        access_token: None,
                        nonce: nonce.as_deref(),
                    })
                    .map_err(|reason| -> OAuthHttpClientError { reason.into() })?;
                builder = builder.header("DPoP", proof);
            }
            let response = builder.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_limited(response).await?;
            let offered = headers
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if bound.is_some()
                && let Some(offered) = offered
            {
                self.proofs.remember_nonce(&offered);
                if !retried && asks_for_nonce(status, &body) {
                    tracing::debug!("the token endpoint wants a DPoP nonce; sending it");
                    retried = true;
                    nonce = Some(offered);
                    continue;
                }
            }
            let mut answer = http::Response::builder().status(status);
            for (name, value) in &headers {
                answer = answer.header(name, value);
            }
            return Ok(answer.body(body)?);
        }
    }
}

impl OAuthHttpClient for DpopOAuthClient {
    fn execute(&self, request: OAuthHttpRequest) -> OAuthHttpClientFuture<'_> {
        Box::pin(self.send(request))
    }
}

/// RFC 9449 §8: `400` with the OAuth error `use_dpop_nonce`.
fn asks_for_nonce(status: http::StatusCode, body: &[u8]) -> bool {
    status == http::StatusCode::BAD_REQUEST
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .is_some_and(|e| e == "use_dpop_nonce")
}

async fn read_limited(response: reqwest::Response) -> Result<Vec<u8>, OAuthHttpClientError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err("the sign-in server's answer is larger than 1 MiB".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_use_dpop_nonce_400_is_retried() {
        let nonce = br#"{"error":"use_dpop_nonce","error_description":"x"}"#;
        assert!(asks_for_nonce(http::StatusCode::BAD_REQUEST, nonce));
        assert!(!asks_for_nonce(http::StatusCode::UNAUTHORIZED, nonce));
        assert!(!asks_for_nonce(
            http::StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant"}"#
        ));
        assert!(!asks_for_nonce(http::StatusCode::BAD_REQUEST, b"not json"));
    }

    #[tokio::test]
    async fn a_use_dpop_nonce_answer_is_retried_once_with_the_nonce() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use crate::auth::dpop::peer::{Answer, Peer};
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tries = Arc::new(AtomicUsize::new(0));
        let (log, count) = (seen.clone(), tries.clone());
        let peer = Peer::start(move |request| {
            count.fetch_add(1, Ordering::SeqCst);
            let claims = request.proof_claims();
            log.lock().unwrap().push(claims.clone());
            if claims["nonce"] == "as-n1" {
                Answer {
                    status: 200,
                    headers: vec![("content-type", "application/json".into())],
                    body: r#"{"access_token":"t","token_type":"DPoP"}"#.into(),
                }
            } else {
                Answer {
                    status: 400,
                    headers: vec![("dpop-nonce", "as-n1".into())],
                    body: r#"{"error":"use_dpop_nonce"}"#.into(),
                }
            }
        })
        .await;
        let proofs = TokenProofs::default();
        let token_url = format!("{}/token", peer.url);
        proofs.enable(Arc::new(DpopKey::generate().unwrap().0), &token_url);
        let client = DpopOAuthClient::new(Url::parse(&peer.url).unwrap(), proofs.clone());
        let post = || {
            http::Request::post(&token_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b"grant_type=refresh_token".to_vec())
                .unwrap()
        };
        let answer = client.exchange(post(), None, true).await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(tries.load(Ordering::SeqCst), 2, "one retry");
        {
            let seen = seen.lock().unwrap();
            assert!(seen[0].get("nonce").is_none());
            assert_eq!(seen[1]["nonce"], "as-n1");
            assert_eq!(seen[1]["htm"], "POST");
            assert_eq!(seen[1]["htu"], token_url.as_str());
            assert_ne!(seen[0]["jti"], seen[1]["jti"], "a fresh proof");
        }
        // The nonce is kept: the next request sends it at once.
        client.exchange(post(), None, true).await.unwrap();
        assert_eq!(tries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_nonce_that_is_refused_again_is_not_retried_forever() {
        use crate::auth::dpop::peer::{Answer, Peer};
        let peer = Peer::start(|_| Answer {
            status: 400,
            headers: vec![("dpop-nonce", "always-new".into())],
            body: r#"{"error":"use_dpop_nonce"}"#.into(),
        })
        .await;
        let proofs = TokenProofs::default();
        let token_url = format!("{}/token", peer.url);
        proofs.enable(Arc::new(DpopKey::generate().unwrap().0), &token_url);
        let client = DpopOAuthClient::new(Url::parse(&peer.url).unwrap(), proofs);
        let request = http::Request::post(&token_url).body(Vec::new()).unwrap();
        let answer = client.exchange(request, None, true).await.unwrap();
        assert_eq!(answer.status(), 400, "the refusal is rmcp's to report");
    }

    #[test]
    fn proofs_go_only_on_posts_to_the_token_endpoint() {
        let proofs = TokenProofs::default();
        let post = http::Method::POST;
        assert!(
            proofs
                .for_request(&post, "https://as.example/token")
                .is_none()
        );
        let (key, _) = DpopKey::generate().unwrap();
        proofs.enable(Arc::new(key), "https://as.example/token");
        assert!(
            proofs
                .for_request(&post, "https://as.example/token")
                .is_some()
        );
        assert!(
            proofs
                .for_request(&http::Method::GET, "https://as.example/token")
                .is_none()
        );
        assert!(
            proofs
                .for_request(&post, "https://as.example/register")
                .is_none()
        );
        proofs.remember_nonce("n-2");
        let (_, nonce) = proofs
            .for_request(&post, "https://as.example/token")
            .unwrap();
        assert_eq!(nonce.as_deref(), Some("n-2"));
    }
}
