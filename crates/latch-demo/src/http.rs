//! The demo's HTTP face: one axum router with the OAuth endpoints and metadata documents, and
//! `/mcp` — rmcp's Streamable HTTP service — behind a layer that answers `401` with a
//! `WWW-Authenticate` challenge pointing at the resource metadata when the bearer token is
//! missing or no longer valid, which is how a client finds out it must sign in.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{RawQuery, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    oauth::{AuthServer, Authorization, OAuthError},
    tools::{DemoTools, Shared},
};

/// Every route of one demo server.
pub fn router(auth: Arc<AuthServer>, shared: Shared, shutdown: CancellationToken) -> Router {
    let config = StreamableHttpServerConfig::default().with_cancellation_token(shutdown);
    let mcp = StreamableHttpService::new(
        move || Ok(DemoTools::new(shared.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let protected = Router::new()
        .route_service("/mcp", mcp)
        .layer(middleware::from_fn_with_state(auth.clone(), require_bearer));
    Router::new()
        .route("/", get(home))
        .route(
            "/.well-known/oauth-protected-resource",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server),
        )
        .route("/register", post(register))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .with_state(auth)
        .merge(protected)
}

async fn require_bearer(
    State(auth): State<Arc<AuthServer>>,
    request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if auth.check_bearer(token) {
        return next.run(request).await;
    }
    // RFC 6750 §3: no error code when no token was sent; `invalid_token` when one was.
    let metadata = auth.resource_metadata_url();
    let (challenge, body) = match token {
        None => (
            format!(r#"Bearer resource_metadata="{metadata}", scope="demo""#),
            json!({ "error": "unauthorized", "error_description": "sign in first" }),
        ),
        Some(_) => (
            format!(
                r#"Bearer error="invalid_token", error_description="the access token is unknown, expired or revoked", resource_metadata="{metadata}""#
            ),
            json!({ "error": "invalid_token", "error_description": "the access token is unknown, expired or revoked" }),
        ),
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn home(State(auth): State<Arc<AuthServer>>) -> Html<String> {
    let url = auth.resource();
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Latch demo</title>\
         <h1>Latch demo MCP server</h1>\
         <p>The MCP endpoint is <code>{url}</code>. Add it to Latch:</p>\
         <pre>latch servers add demo {url}\nlatch login demo</pre>\
         <p>Signing in is approved at once: this server runs on this computer only.</p>"
    ))
}

async fn protected_resource(State(auth): State<Arc<AuthServer>>) -> Json<Value> {
    Json(auth.protected_resource_metadata())
}

async fn authorization_server(State(auth): State<Arc<AuthServer>>) -> Json<Value> {
    Json(auth.authorization_server_metadata())
}

async fn register(State(auth): State<Arc<AuthServer>>, body: Bytes) -> Response {
    let Ok(metadata) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(&OAuthError {
            status: 400,
            code: "invalid_client_metadata",
            description: "the body is not a JSON object".into(),
        });
    };
    match auth.register(&metadata) {
        Ok(client) => (StatusCode::CREATED, no_store(), Json(client)).into_response(),
        Err(error) => oauth_error(&error),
    }
}

async fn authorize(State(auth): State<Arc<AuthServer>>, RawQuery(query): RawQuery) -> Response {
    let params = form_pairs(query.as_deref().unwrap_or_default().as_bytes());
    match auth.authorize(&params) {
        // 302 (not axum's 303/307 helpers): what authorization servers answer.
        Authorization::Redirect(to) => {
            let mut response = Redirect::to(&to).into_response();
            *response.status_mut() = StatusCode::FOUND;
            response
        }
        Authorization::Refuse(error) => {
            let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            let page = format!(
                "<!doctype html><meta charset=utf-8><title>Sign-in refused</title>\
                 <h1>The demo cannot sign you in</h1><p>{}: {}</p>",
                error.code,
                html_escape(&error.description)
            );
            (status, Html(page)).into_response()
        }
    }
}

async fn token(State(auth): State<Arc<AuthServer>>, body: Bytes) -> Response {
    match auth.token(&form_pairs(&body)) {
        Ok(tokens) => (no_store(), Json(tokens)).into_response(),
        Err(error) => oauth_error(&error),
    }
}

async fn revoke(State(auth): State<Arc<AuthServer>>, body: Bytes) -> Response {
    match auth.revoke(&form_pairs(&body)) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => oauth_error(&error),
    }
}

/// `application/x-www-form-urlencoded` pairs; of a repeated name, the first wins.
fn form_pairs(bytes: &[u8]) -> HashMap<String, String> {
    let mut pairs = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(bytes) {
        pairs
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    pairs
}

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

fn oauth_error(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, no_store(), Json(error.body())).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
