//! The `DPoP` scheme on MCP requests (RFC 9449 §7). rmcp's `AuthClient` hands its HTTP client
//! the access token; when the grant has a DPoP key, this client sends it as
//! `Authorization: DPoP <token>` with a fresh proof in `DPoP` (bound to the token by `ath`)
//! instead of rmcp's `Bearer`. Without a key it is rmcp's reqwest client, unchanged.
//!
//! A `401` whose challenge says `use_dpop_nonce` (§9) is answered once with the server's nonce.
//! rmcp's reqwest client keeps only the challenge of a 401, not its `DPoP-Nonce` header, so the
//! nonce is fetched with one JSON-RPC `ping` POSTed to the same URL with a proof without it
//! (refused the same way, with the nonce; a ping changes nothing on the server, and the MCP
//! endpoint need not answer GET), then kept for later requests. A
//! `401 invalid_dpop_proof` (a proof the server saw before, or a stale one) is retried once with
//! a fresh proof, after reading the key slot again.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use http::{HeaderName, HeaderValue, header::AUTHORIZATION};
use rmcp::transport::{
    auth::AuthError,
    streamable_http_client::{StreamableHttpError, StreamableHttpPostResponse},
};

use super::layer::{
    Delete, Error, Events, Get, Headers, Kind, Layer, Post, Request, streamable_http_client,
};
use crate::auth::{DpopKeySlot, ProofFor};

/// A connection's HTTP client for a grant that may be DPoP-bound. Clones share the nonce.
#[derive(Clone)]
pub(crate) struct DpopHttp {
    pub(crate) inner: reqwest::Client,
    keys: DpopKeySlot,
    nonce: Arc<Mutex<Option<String>>>,
}

/// What the server's 401 asks of the proof.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    Nonce,
    FreshProof,
    Other,
}

fn asked(challenge: &str) -> Asked {
    let lower = challenge.to_ascii_lowercase();
    if lower.contains("use_dpop_nonce") {
        Asked::Nonce
    } else if lower.contains("invalid_dpop_proof") {
        Asked::FreshProof
    } else {
        Asked::Other
    }
}

fn sensitive(value: String) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(value).map_err(|_| {
        Error::from(AuthError::InternalError(
            "the token cannot be sent in a header".into(),
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl DpopHttp {
    pub(crate) fn new(inner: reqwest::Client, keys: DpopKeySlot) -> Self {
        Self {
            inner,
            keys,
            nonce: Arc::default(),
        }
    }

    fn nonce(&self) -> Option<String> {
        self.nonce.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn keep_nonce(&self, nonce: String) {
        *self.nonce.lock().unwrap_or_else(|e| e.into_inner()) = Some(nonce);
    }

    /// `headers` plus the token in the `DPoP` scheme and a fresh proof for this request.
    fn bound_headers(
        &self,
        key: &crate::auth::DpopKeyHandle,
        method: &str,
        uri: &str,
        token: &str,
        nonce: Option<&str>,
        headers: &Headers,
    ) -> Result<Headers, Error> {
        let proof = key
            .proof(ProofFor {
                method,
                url: uri,
                access_token: Some(token),
                nonce,
            })
            .map_err(|reason| Error::from(AuthError::InternalError(reason)))?;
        let mut headers = headers.clone();
        headers.insert(AUTHORIZATION, sensitive(format!("DPoP {token}"))?);
        headers.insert(HeaderName::from_static("dpop"), sensitive(proof)?);
        Ok(headers)
    }

    /// Send with `call` (rmcp's client, given the token to put as Bearer and the headers):
    /// with the `DPoP` scheme when the grant has a key, answering one nonce challenge and one
    /// refused proof.
    async fn send<T, F, Fut>(
        &self,
        method: &str,
        uri: &str,
        session_id: Option<&str>,
        token: Option<String>,
        headers: Headers,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(Option<String>, Headers) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let Some(token) = token else {
            return call(None, headers).await;
        };
        let key = match self.keys.load_for(&token).await {
            Ok(Some(key)) => key,
            Ok(None) => return call(Some(token), headers).await,
            Err(error) => {
                tracing::warn!(%error, "could not read the grant's DPoP key; sending the token as a bearer token");
                return call(Some(token), headers).await;
            }
        };
        let (mut nonce_asked, mut fresh_asked) = (false, false);
        loop {
            let nonce = self.nonce();
            let bound =
                self.bound_headers(&key, method, uri, &token, nonce.as_deref(), &headers)?;
            match call(None, bound).await {
                Err(StreamableHttpError::AuthRequired(challenge)) => {
                    match asked(&challenge.www_authenticate_header) {
                        Asked::Nonce if !nonce_asked => {
                            nonce_asked = true;
                            if let Some(nonce) = self
                                .fetch_nonce(&key, uri, session_id, &token, &headers)
                                .await
                            {
                                tracing::debug!("the MCP server wants a DPoP nonce; sending it");
                                self.keep_nonce(nonce);
                                continue;
                            }
                        }
                        Asked::FreshProof if !fresh_asked => {
                            fresh_asked = true;
                            tracing::debug!(
                                "the MCP server refused the DPoP proof; sending a fresh one"
                            );
                            continue;
                        }
                        _ => {}
                    }
                    // Refused for another reason: the key may have changed (a sign-in elsewhere).
                    self.keys.forget_seen();
                    return Err(StreamableHttpError::AuthRequired(challenge));
                }
                result => return result,
            }
        }
    }

    /// The nonce the server at `uri` wants: one `ping` with a proof without it, whose refusal
    /// carries `DPoP-Nonce`. `None` when the answer names none.
    async fn fetch_nonce(
        &self,
        key: &crate::auth::DpopKeyHandle,
        uri: &str,
        session_id: Option<&str>,
        token: &str,
        headers: &Headers,
    ) -> Option<String> {
        let bound = self
            .bound_headers(key, "POST", uri, token, None, headers)
            .ok()?;
        let mut request = self
            .inner
            .post(uri)
            .header(http::header::ACCEPT, "application/json, text/event-stream")
            .json(&serde_json::json!({
                "jsonrpc": "2.0",
                "id": "latch-dpop-nonce",
                "method": "ping",
            }));
        if let Some(session_id) = session_id {
            request = request.header("mcp-session-id", session_id);
        }
        for (name, value) in bound {
            request = request.header(name, value);
        }
        let response = request.send().await.ok()?;
        let nonce = response
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        drop(response);
        nonce
    }
}

impl DpopHttp {
    /// `request` through rmcp's reqwest client, by [`Self::send`].
    async fn bound<K: Kind>(&self, request: Request<K>) -> Result<K::Answer, Error> {
        let (token, headers) = (request.token.clone(), request.headers.clone());
        let session_id = request.session_id.as_deref();
        self.send(
            K::METHOD,
            &request.uri,
            session_id,
            token,
            headers,
            |token, headers| request.with(token, headers).send(&self.inner),
        )
        .await
    }
}

impl Layer for DpopHttp {
    type Inner = reqwest::Client;

    fn inner(&self) -> &reqwest::Client {
        &self.inner
    }

    fn post(
        &self,
        request: Request<Post>,
    ) -> impl Future<Output = Result<StreamableHttpPostResponse, Error>> + Send + '_ {
        self.bound(request)
    }

    fn get(
        &self,
        request: Request<Get>,
    ) -> impl Future<Output = Result<Events, Error>> + Send + '_ {
        self.bound(request)
    }

    fn delete(
        &self,
        request: Request<Delete>,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.bound(request)
    }
}

streamable_http_client!(DpopHttp);

#[cfg(test)]
mod tests {
    use std::{
        collections::HashMap,
        sync::atomic::{AtomicBool, Ordering},
    };

    use rmcp::{
        model::ClientJsonRpcMessage, transport::streamable_http_client::StreamableHttpClient,
    };

    use super::*;
    use crate::auth::dpop_peer::{Answer, Peer};

    fn ping() -> ClientJsonRpcMessage {
        serde_json::from_value(serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .unwrap()
    }

    /// An MCP endpoint that wants the nonce `rs-n`, and refuses the first proof carrying it
    /// as if it had seen it before (a replay).
    async fn judge(log: Arc<Mutex<Vec<(String, serde_json::Value)>>>) -> Peer {
        let replayed = AtomicBool::new(false);
        Peer::start(move |request| {
            let claims = request.proof_claims();
            let authorization = request
                .headers
                .get("authorization")
                .cloned()
                .unwrap_or_default();
            log.lock()
                .unwrap()
                .push((authorization.clone(), claims.clone()));
            let refuse = |error: &str, nonce: bool| Answer {
                status: 401,
                headers: [("www-authenticate", format!(r#"DPoP error="{error}""#))]
                    .into_iter()
                    .chain(nonce.then(|| ("dpop-nonce", "rs-n".to_owned())))
                    .collect(),
                body: String::new(),
            };
            if !authorization.starts_with("DPoP ") || claims["ath"] != crate::auth::dpop_ath("tok")
            {
                return refuse("invalid_token", false);
            }
            if claims["nonce"] != "rs-n" {
                return refuse("use_dpop_nonce", true);
            }
            if !replayed.swap(true, Ordering::SeqCst) {
                return refuse("invalid_dpop_proof", false);
            }
            Answer {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: r#"{"jsonrpc":"2.0","id":1,"result":{}}"#.into(),
            }
        })
        .await
    }

    #[tokio::test]
    async fn a_bound_token_goes_with_the_dpop_scheme_and_the_server_nonce_and_a_fresh_proof() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let peer = judge(log.clone()).await;
        let keys = DpopKeySlot::memory();
        keys.get_or_create().await.unwrap();
        let http = DpopHttp::new(reqwest::Client::new(), keys);
        let uri: Arc<str> = format!("{}/mcp", peer.url).into();
        let answer = http
            .post_message(
                uri.clone(),
                ping(),
                None,
                Some("tok".into()),
                HashMap::new(),
            )
            .await;
        assert!(
            matches!(answer, Ok(StreamableHttpPostResponse::Json(..))),
            "{answer:?}"
        );
        let log = log.lock().unwrap().clone();
        // Refused for the nonce; the nonce fetched; refused as a replay; accepted.
        assert_eq!(log.len(), 4, "{log:?}");
        assert!(log.iter().all(|(auth, _)| auth == "DPoP tok"));
        assert!(log[0].1.get("nonce").is_none());
        assert_eq!(log[2].1["nonce"], "rs-n");
        assert_eq!(log[3].1["nonce"], "rs-n");
        assert_eq!(log[3].1["htm"], "POST");
        assert_eq!(log[3].1["htu"], &*uri);
        let jtis: std::collections::HashSet<_> =
            log.iter().map(|(_, c)| c["jti"].to_string()).collect();
        assert_eq!(jtis.len(), 4, "every proof is new");
        // The nonce is kept for the next request.
        http.post_message(uri, ping(), None, Some("tok".into()), HashMap::new())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn without_a_key_the_token_stays_a_bearer_token() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let peer = judge(log.clone()).await;
        let http = DpopHttp::new(reqwest::Client::new(), DpopKeySlot::memory());
        let uri: Arc<str> = format!("{}/mcp", peer.url).into();
        let answer = http
            .post_message(uri, ping(), None, Some("tok".into()), HashMap::new())
            .await;
        assert!(matches!(answer, Err(StreamableHttpError::AuthRequired(_))));
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].0, "Bearer tok");
        assert!(log[0].1.is_null(), "no proof");
    }

    #[test]
    fn reads_what_a_challenge_asks_of_the_proof() {
        assert_eq!(
            asked(
                r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#
            ),
            Asked::Nonce
        );
        assert_eq!(
            asked(r#"DPoP error="invalid_dpop_proof""#),
            Asked::FreshProof
        );
        assert_eq!(asked(r#"DPoP error="invalid_token""#), Asked::Other);
        assert_eq!(asked(r#"Bearer resource_metadata="x""#), Asked::Other);
    }

    /// The grant's key is read from the store once for a connection's requests with one
    /// token, not once per request (a keychain call each); every request still has its proof.
    #[tokio::test]
    async fn the_key_is_read_once_for_many_requests() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        let peer = Peer::start(move |request| {
            seen.lock().unwrap().push(request.proof_claims());
            Answer {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: r#"{"jsonrpc":"2.0","id":1,"result":{}}"#.into(),
            }
        })
        .await;
        let (store, reads) = crate::secrets::SecretStore::memory_counting_reads();
        DpopKeySlot::for_grant(store.clone(), "grant:demo::default")
            .get_or_create()
            .await
            .unwrap();
        let before = reads.lock().unwrap().clone();
        let http = DpopHttp::new(
            reqwest::Client::new(),
            DpopKeySlot::for_grant(store, "grant:demo::default"),
        );
        let uri: Arc<str> = format!("{}/mcp", peer.url).into();
        for _ in 0..10 {
            http.post_message(
                uri.clone(),
                ping(),
                None,
                Some("tok".into()),
                HashMap::new(),
            )
            .await
            .unwrap();
        }
        let key_reads = |reads: &HashMap<String, usize>| {
            reads.get("dpop-grant:demo::default").copied().unwrap_or(0)
        };
        assert_eq!(key_reads(&reads.lock().unwrap()) - key_reads(&before), 1);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 10);
        assert!(
            log.iter()
                .all(|claims| claims["ath"] == crate::auth::dpop_ath("tok"))
        );
    }
}
