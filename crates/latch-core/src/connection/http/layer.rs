//! What every Streamable HTTP client wrapper of a connection (sign-in, `DPoP`, the protocol
//! log, task marks, the session watch) would otherwise write six times over. rmcp's
//! `StreamableHttpClient` has six methods — three `POST`s that differ only in the response
//! limits they pass on, one `DELETE`, two `GET`s that differ only in the event-size limit — and
//! a wrapper must forward all six: rmcp's defaults for the limited ones fall back to the
//! unlimited ones, which would drop the limits reqwest's client enforces.
//!
//! Here one call is one value, a [`Request`] of a [`Post`], [`Get`] or [`Delete`], that goes
//! through any client by the method rmcp called ([`Request::send`]). A wrapper implements
//! [`Layer`] — its inner client, and what it does to each of the three kinds of request (by
//! default, nothing: the request goes on to the inner client) — and [`streamable_http_client!`]
//! makes it an rmcp client.

use std::{collections::HashMap, future::Future, sync::Arc};

use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::{
    model::ClientJsonRpcMessage,
    transport::streamable_http_client::{
        StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
        StreamableHttpResponseLimits,
    },
};

pub(crate) type Error = StreamableHttpError<reqwest::Error>;
pub(crate) type Headers = HashMap<HeaderName, HeaderValue>;
pub(crate) type Events = BoxStream<'static, Result<sse_stream::Sse, sse_stream::Error>>;

/// One request a connection's HTTP client is asked to send: what every kind has, and `kind`.
#[derive(Clone)]
pub(crate) struct Request<K> {
    pub(crate) uri: Arc<str>,
    /// Always there on a [`Delete`].
    pub(crate) session_id: Option<Arc<str>>,
    /// The token rmcp's `AuthClient` hands its client (sent as `Bearer`).
    pub(crate) token: Option<String>,
    pub(crate) headers: Headers,
    pub(crate) kind: K,
}

/// A `POST` of one message.
#[derive(Clone)]
pub(crate) struct Post {
    pub(crate) message: ClientJsonRpcMessage,
    pub(crate) limits: Limits,
}

/// Which of rmcp's `POST` methods a message came through: the three differ only in the
/// response limits they pass on.
#[derive(Clone, Copy)]
pub(crate) enum Limits {
    Default,
    MaxSseEventSize(usize),
    Response(StreamableHttpResponseLimits),
}

/// A `GET` of an event stream (`max_sse_event_size`: when it came with one).
#[derive(Clone)]
pub(crate) struct Get {
    pub(crate) last_event_id: Option<String>,
    pub(crate) max_sse_event_size: Option<usize>,
}

/// A `DELETE` of the session.
#[derive(Clone)]
pub(crate) struct Delete;

/// A kind of request: how it goes through a client, and what comes back.
pub(crate) trait Kind: Clone + Send + Sync + 'static {
    /// Its HTTP method.
    const METHOD: &'static str;
    /// What its answer is.
    type Answer: Send;

    /// Send `request` through `client` by the method it came through.
    fn send<C>(
        request: Request<Self>,
        client: &C,
    ) -> impl Future<Output = Result<Self::Answer, StreamableHttpError<C::Error>>> + Send + '_
    where
        C: StreamableHttpClient + Sync;
}

impl<K: Kind> Request<K> {
    /// Send it through `client` by the method it came through.
    pub(crate) fn send<C>(
        self,
        client: &C,
    ) -> impl Future<Output = Result<K::Answer, StreamableHttpError<C::Error>>> + Send + '_
    where
        C: StreamableHttpClient + Sync,
    {
        K::send(self, client)
    }

    /// The same request with this token and these headers.
    pub(crate) fn with(&self, token: Option<String>, headers: Headers) -> Self {
        Self {
            uri: self.uri.clone(),
            session_id: self.session_id.clone(),
            token,
            headers,
            kind: self.kind.clone(),
        }
    }
}

impl Kind for Post {
    const METHOD: &'static str = "POST";
    type Answer = StreamableHttpPostResponse;

    async fn send<C>(
        request: Request<Self>,
        client: &C,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<C::Error>>
    where
        C: StreamableHttpClient + Sync,
    {
        let Request {
            uri,
            session_id,
            token,
            headers,
            kind: Post { message, limits },
        } = request;
        match limits {
            Limits::Default => {
                client
                    .post_message(uri, message, session_id, token, headers)
                    .await
            }
            Limits::MaxSseEventSize(max) => {
                client
                    .post_message_with_max_sse_event_size(
                        uri, message, session_id, token, headers, max,
                    )
                    .await
            }
            Limits::Response(limits) => {
                client
                    .post_message_with_response_limits(
                        uri, message, session_id, token, headers, limits,
                    )
                    .await
            }
        }
    }
}

impl Kind for Get {
    const METHOD: &'static str = "GET";
    type Answer = Events;

    async fn send<C>(
        request: Request<Self>,
        client: &C,
    ) -> Result<Events, StreamableHttpError<C::Error>>
    where
        C: StreamableHttpClient + Sync,
    {
        let Request {
            uri,
            session_id,
            token,
            headers,
            kind:
                Get {
                    last_event_id,
                    max_sse_event_size,
                },
        } = request;
        match max_sse_event_size {
            None => {
                client
                    .get_stream(uri, session_id, last_event_id, token, headers)
                    .await
            }
            Some(max) => {
                client
                    .get_stream_with_max_sse_event_size(
                        uri,
                        session_id,
                        last_event_id,
                        token,
                        headers,
                        max,
                    )
                    .await
            }
        }
    }
}

impl Kind for Delete {
    const METHOD: &'static str = "DELETE";
    type Answer = ();

    /// Without a session there is nothing to delete.
    async fn send<C>(
        request: Request<Self>,
        client: &C,
    ) -> Result<(), StreamableHttpError<C::Error>>
    where
        C: StreamableHttpClient + Sync,
    {
        let Some(session_id) = request.session_id else {
            return Ok(());
        };
        client
            .delete_session(request.uri, session_id, request.token, request.headers)
            .await
    }
}

/// A Streamable HTTP client wrapped around another: what it does to each kind of request. A
/// method left out sends the request on to [`Layer::inner`] unchanged.
pub(crate) trait Layer: Clone + Send + Sync + 'static {
    type Inner: StreamableHttpClient<Error = reqwest::Error> + Sync;

    fn inner(&self) -> &Self::Inner;

    fn post(
        &self,
        request: Request<Post>,
    ) -> impl Future<Output = Result<StreamableHttpPostResponse, Error>> + Send + '_ {
        request.send(self.inner())
    }

    fn get(
        &self,
        request: Request<Get>,
    ) -> impl Future<Output = Result<Events, Error>> + Send + '_ {
        request.send(self.inner())
    }

    fn delete(
        &self,
        request: Request<Delete>,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        request.send(self.inner())
    }
}

/// rmcp's `StreamableHttpClient` for a [`Layer`] (`Name` or `Name<C>`): each of its six
/// methods made a [`Request`] and handed to the layer. (A macro, not a blanket impl: Rust
/// allows no `impl<L: Layer> StreamableHttpClient for L` of rmcp's trait.)
macro_rules! streamable_http_client {
    ($layer:ident $(<$param:ident>)?) => {
        const _: () = {
            use ::std::sync::Arc;

            use ::rmcp::{
                model::ClientJsonRpcMessage,
                transport::streamable_http_client::{
                    StreamableHttpClient, StreamableHttpPostResponse, StreamableHttpResponseLimits,
                },
            };

            use $crate::connection::http::layer::{
                Delete, Error, Events, Get, Headers, Layer, Limits, Post, Request,
            };

            impl$(<$param>)? StreamableHttpClient for $layer$(<$param>)?
            where
                Self: Layer,
            {
                type Error = ::reqwest::Error;

                async fn post_message(
                    &self,
                    uri: Arc<str>,
                    message: ClientJsonRpcMessage,
                    session_id: Option<Arc<str>>,
                    token: Option<String>,
                    headers: Headers,
                ) -> Result<StreamableHttpPostResponse, Error> {
                    let kind = Post { message, limits: Limits::Default };
                    let request = Request { uri, session_id, token, headers, kind };
                    Layer::post(self, request).await
                }

                async fn post_message_with_max_sse_event_size(
                    &self,
                    uri: Arc<str>,
                    message: ClientJsonRpcMessage,
                    session_id: Option<Arc<str>>,
                    token: Option<String>,
                    headers: Headers,
                    max: usize,
                ) -> Result<StreamableHttpPostResponse, Error> {
                    let kind = Post { message, limits: Limits::MaxSseEventSize(max) };
                    let request = Request { uri, session_id, token, headers, kind };
                    Layer::post(self, request).await
                }

                async fn post_message_with_response_limits(
                    &self,
                    uri: Arc<str>,
                    message: ClientJsonRpcMessage,
                    session_id: Option<Arc<str>>,
                    token: Option<String>,
                    headers: Headers,
                    limits: StreamableHttpResponseLimits,
                ) -> Result<StreamableHttpPostResponse, Error> {
                    let kind = Post { message, limits: Limits::Response(limits) };
                    let request = Request { uri, session_id, token, headers, kind };
                    Layer::post(self, request).await
                }

                async fn delete_session(
                    &self,
                    uri: Arc<str>,
                    session_id: Arc<str>,
                    token: Option<String>,
                    headers: Headers,
                ) -> Result<(), Error> {
                    let session_id = Some(session_id);
                    let request = Request { uri, session_id, token, headers, kind: Delete };
                    Layer::delete(self, request).await
                }

                async fn get_stream(
                    &self,
                    uri: Arc<str>,
                    session_id: Option<Arc<str>>,
                    last_event_id: Option<String>,
                    token: Option<String>,
                    headers: Headers,
                ) -> Result<Events, Error> {
                    let kind = Get { last_event_id, max_sse_event_size: None };
                    let request = Request { uri, session_id, token, headers, kind };
                    Layer::get(self, request).await
                }

                async fn get_stream_with_max_sse_event_size(
                    &self,
                    uri: Arc<str>,
                    session_id: Option<Arc<str>>,
                    last_event_id: Option<String>,
                    token: Option<String>,
                    headers: Headers,
                    max: usize,
                ) -> Result<Events, Error> {
                    let kind = Get { last_event_id, max_sse_event_size: Some(max) };
                    let request = Request { uri, session_id, token, headers, kind };
                    Layer::get(self, request).await
                }
            }
        };
    };
}

pub(crate) use streamable_http_client;

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use rmcp::model::{ClientRequest, PingRequest, RequestId};

    use super::*;

    /// A client that notes which of its methods was called, with the limit it was given.
    #[derive(Clone, Default)]
    struct Calls(Arc<Mutex<Vec<String>>>);

    impl Calls {
        fn note(&self, call: String) {
            self.0.lock().unwrap().push(call);
        }
    }

    impl StreamableHttpClient for Calls {
        type Error = reqwest::Error;

        async fn post_message(
            &self,
            _: Arc<str>,
            _: ClientJsonRpcMessage,
            _: Option<Arc<str>>,
            _: Option<String>,
            _: Headers,
        ) -> Result<StreamableHttpPostResponse, Error> {
            self.note("post".into());
            Ok(StreamableHttpPostResponse::Accepted)
        }

        async fn post_message_with_max_sse_event_size(
            &self,
            _: Arc<str>,
            _: ClientJsonRpcMessage,
            _: Option<Arc<str>>,
            _: Option<String>,
            _: Headers,
            max: usize,
        ) -> Result<StreamableHttpPostResponse, Error> {
            self.note(format!("post max {max}"));
            Ok(StreamableHttpPostResponse::Accepted)
        }

        async fn post_message_with_response_limits(
            &self,
            _: Arc<str>,
            _: ClientJsonRpcMessage,
            _: Option<Arc<str>>,
            _: Option<String>,
            _: Headers,
            limits: StreamableHttpResponseLimits,
        ) -> Result<StreamableHttpPostResponse, Error> {
            self.note(format!("post limits {}", limits.max_sse_event_size));
            Ok(StreamableHttpPostResponse::Accepted)
        }

        async fn delete_session(
            &self,
            _: Arc<str>,
            session_id: Arc<str>,
            _: Option<String>,
            _: Headers,
        ) -> Result<(), Error> {
            self.note(format!("delete {session_id}"));
            Ok(())
        }

        async fn get_stream(
            &self,
            _: Arc<str>,
            _: Option<Arc<str>>,
            _: Option<String>,
            _: Option<String>,
            _: Headers,
        ) -> Result<Events, Error> {
            self.note("get".into());
            Err(StreamableHttpError::ServerDoesNotSupportSse)
        }

        async fn get_stream_with_max_sse_event_size(
            &self,
            _: Arc<str>,
            _: Option<Arc<str>>,
            _: Option<String>,
            _: Option<String>,
            _: Headers,
            max: usize,
        ) -> Result<Events, Error> {
            self.note(format!("get max {max}"));
            Err(StreamableHttpError::ServerDoesNotSupportSse)
        }
    }

    /// A layer that changes nothing.
    #[derive(Clone)]
    struct Through(Calls);

    impl Layer for Through {
        type Inner = Calls;

        fn inner(&self) -> &Calls {
            &self.0
        }
    }

    streamable_http_client!(Through);

    #[tokio::test]
    async fn each_call_reaches_the_inner_client_by_the_method_it_came_through() {
        let calls = Calls::default();
        let client = Through(calls.clone());
        let uri: Arc<str> = "http://127.0.0.1:9/mcp".into();
        let ping = || {
            ClientJsonRpcMessage::request(
                ClientRequest::PingRequest(PingRequest::default()),
                RequestId::Number(1),
            )
        };
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = 7;
        let (u, h) = (|| uri.clone(), Headers::new);
        client
            .post_message(u(), ping(), None, None, h())
            .await
            .unwrap();
        client
            .post_message_with_max_sse_event_size(u(), ping(), None, None, h(), 5)
            .await
            .unwrap();
        client
            .post_message_with_response_limits(u(), ping(), None, None, h(), limits)
            .await
            .unwrap();
        client
            .delete_session(u(), "s-1".into(), None, h())
            .await
            .unwrap();
        assert!(client.get_stream(u(), None, None, None, h()).await.is_err());
        let got = client
            .get_stream_with_max_sse_event_size(u(), None, None, None, h(), 9)
            .await;
        assert!(got.is_err());
        assert_eq!(
            *calls.0.lock().unwrap(),
            [
                "post",
                "post max 5",
                "post limits 7",
                "delete s-1",
                "get",
                "get max 9"
            ]
        );
    }
}
