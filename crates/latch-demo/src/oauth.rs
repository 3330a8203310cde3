//! The demo's authorization server, in memory: dynamic client registration (RFC 7591) of
//! public clients, the authorization code grant with PKCE S256 that approves at once (one
//! person, offline — there is nobody to ask), refresh tokens that rotate (a replayed one ends
//! the grant), revocation (RFC 7009), and the check of the bearer tokens `/mcp` receives.
//!
//! Only SHA-256 digests of codes and tokens are kept, and nothing here logs one. The HTTP side
//! (`crate::http`) only translates requests into these calls and their answers into responses.

pub mod pkce;

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

/// How long an authorization code may wait for its exchange.
const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a refresh token lives (each refresh replaces it).
const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The scopes the demo knows; `demo` is granted when none is asked for.
const SCOPES: &[&str] = &["demo", "offline_access"];
const DEFAULT_SCOPE: &str = "demo";
/// Bounds on what a client may register, so a loop cannot grow memory without end.
const MAX_CLIENTS: usize = 1_000;
const MAX_REDIRECT_URIS: usize = 10;

/// Counters the tests (and the curious) can read; no secret in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoStats {
    /// Clients registered through `/register`.
    pub clients_registered: u64,
    /// Authorization codes handed out by `/authorize`.
    pub codes_issued: u64,
    /// Codes exchanged for tokens.
    pub code_exchanges: u64,
    /// Successful refresh-token grants.
    pub refreshes: u64,
    /// Refresh tokens presented again after they were rotated (each ends its grant).
    pub refresh_reuses: u64,
    /// Codes presented again after their first use (each ends its grant).
    pub code_reuses: u64,
    /// Token endpoint requests refused, by any error.
    pub token_errors: u64,
    /// Grants ended by `/revoke` with a refresh token, or access tokens revoked alone.
    pub revocations: u64,
    /// `/mcp` requests turned away for a missing, unknown or expired bearer token.
    pub bearer_rejections: u64,
    /// `long_task` calls that stopped because the client cancelled them.
    pub tasks_cancelled: u64,
    /// `make_report` runs (tasks or plain calls) that stopped because the client cancelled them.
    pub reports_cancelled: u64,
}

/// An OAuth error answer: HTTP status, `error` code and a description for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(status: u16, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
        }
    }
    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
    fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", description)
    }
    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }
    fn invalid_target() -> Self {
        Self::new(
            400,
            "invalid_target",
            "the resource is not this demo's MCP server",
        )
    }

    /// The JSON body of an error answer.
    pub fn body(&self) -> Value {
        json!({ "error": self.code, "error_description": self.description })
    }
}

/// What `/authorize` does: send the browser back to the client, or (when the client or its
/// redirect URI cannot be trusted) show the error here instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Redirect(String),
    Refuse(OAuthError),
}

struct Client {
    redirect_uris: Vec<String>,
}

struct PendingCode {
    client_id: String,
    /// As sent to `/authorize`, which the token request must repeat.
    redirect_uri: Option<String>,
    challenge: String,
    scope: String,
    expires: Instant,
}

struct Grant {
    client_id: String,
    scope: String,
    /// Digest of the grant's current refresh token.
    refresh: String,
    refresh_expires: Instant,
}

struct Access {
    grant: u64,
    expires: Instant,
}

#[derive(Default)]
struct State {
    clients: HashMap<String, Client>,
    /// By digest of the code.
    codes: HashMap<String, PendingCode>,
    /// Digests of codes already exchanged, with the grant each made.
    used_codes: HashMap<String, u64>,
    grants: HashMap<u64, Grant>,
    /// Digest of a refresh token → its grant.
    refresh: HashMap<String, u64>,
    /// Digests of rotated refresh tokens → the grant they belonged to.
    rotated: HashMap<String, u64>,
    /// Digest of an access token → what it allows.
    access: HashMap<String, Access>,
    next_grant: u64,
    stats: DemoStats,
}

impl State {
    fn end_grant(&mut self, grant: u64) {
        if let Some(ended) = self.grants.remove(&grant) {
            self.refresh.remove(&ended.refresh);
        }
        self.access.retain(|_, access| access.grant != grant);
    }

    fn forget_expired(&mut self, now: Instant) {
        self.codes.retain(|_, code| code.expires > now);
        self.access.retain(|_, access| access.expires > now);
        let expired: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, grant)| grant.refresh_expires <= now)
            .map(|(id, _)| *id)
            .collect();
        for grant in expired {
            self.end_grant(grant);
        }
    }
}

/// The authorization server for one demo instance (issuer `http://127.0.0.1:PORT`).
pub struct AuthServer {
    issuer: String,
    resource: String,
    access_ttl: Duration,
    state: Mutex<State>,
}

impl AuthServer {
    /// `issuer` without a trailing slash; `resource` is the MCP endpoint's URL.
    pub fn new(issuer: String, resource: String, access_ttl: Duration) -> Self {
        Self {
            issuer,
            resource,
            access_ttl,
            state: Mutex::new(State::default()),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind: keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stats(&self) -> DemoStats {
        self.state().stats.clone()
    }

    /// Where the metadata of the protected resource is (RFC 9728 §3.1: path inserted).
    pub fn resource_metadata_url(&self) -> String {
        let path = Url::parse(&self.resource)
            .map(|url| url.path().to_owned())
            .unwrap_or_default();
        format!("{}/.well-known/oauth-protected-resource{path}", self.issuer)
    }

    /// Protected Resource Metadata (RFC 9728).
    pub fn protected_resource_metadata(&self) -> Value {
        json!({
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": [DEFAULT_SCOPE],
            "resource_name": "Latch demo",
        })
    }

    /// Authorization Server Metadata (RFC 8414).
    pub fn authorization_server_metadata(&self) -> Value {
        let issuer = &self.issuer;
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "registration_endpoint": format!("{issuer}/register"),
            "revocation_endpoint": format!("{issuer}/revoke"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": [pkce::METHOD],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": [DEFAULT_SCOPE],
            "authorization_response_iss_parameter_supported": true,
            "service_documentation": format!("{issuer}/"),
        })
    }

    /// `POST /register`: a public client with the redirect URIs it names.
    pub fn register(&self, metadata: &Value) -> Result<Value, OAuthError> {
        let invalid =
            |description: &str| OAuthError::new(400, "invalid_client_metadata", description);
        let Some(uris) = metadata.get("redirect_uris").and_then(Value::as_array) else {
            return Err(OAuthError::new(
                400,
                "invalid_redirect_uri",
                "redirect_uris is required",
            ));
        };
        if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
            return Err(OAuthError::new(
                400,
                "invalid_redirect_uri",
                format!("register 1 to {MAX_REDIRECT_URIS} redirect URIs"),
            ));
        }
        let mut redirect_uris = Vec::with_capacity(uris.len());
        for uri in uris {
            let uri = uri
                .as_str()
                .ok_or_else(|| invalid("redirect_uris holds strings"))?;
            check_redirect_uri(uri)?;
            redirect_uris.push(uri.to_owned());
        }
        if let Some(method) = metadata
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            && method != "none"
        {
            return Err(invalid(
                "the demo registers public clients only (token_endpoint_auth_method \"none\")",
            ));
        }
        let client_name = metadata
            .get("client_name")
            .and_then(Value::as_str)
            .map(|name| name.chars().take(100).collect::<String>());
        let client_id = format!("demo-client-{}", random_token(12));
        let mut state = self.state();
        if state.clients.len() >= MAX_CLIENTS {
            return Err(OAuthError::new(
                503,
                "temporarily_unavailable",
                "too many clients registered; restart the demo",
            ));
        }
        state.clients.insert(
            client_id.clone(),
            Client {
                redirect_uris: redirect_uris.clone(),
            },
        );
        state.stats.clients_registered += 1;
        drop(state);
        tracing::info!(%client_id, "registered a client");
        let issued_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut answer = json!({
            "client_id": client_id,
            "client_id_issued_at": issued_at,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        if let Some(name) = client_name {
            answer["client_name"] = name.into();
        }
        Ok(answer)
    }

    /// `GET /authorize`: check the request and approve it at once.
    pub fn authorize(&self, params: &HashMap<String, String>) -> Authorization {
        let param = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let mut state = self.state();
        state.forget_expired(Instant::now());
        let Some(client_id) = param("client_id") else {
            return Authorization::Refuse(OAuthError::invalid_request("client_id is missing"));
        };
        let Some(client) = state.clients.get(client_id) else {
            return Authorization::Refuse(OAuthError::invalid_request(
                "unknown client_id (the demo forgets its clients when it restarts: sign in again)",
            ));
        };
        let redirect_uri = match param("redirect_uri") {
            Some(uri)
                if client
                    .redirect_uris
                    .iter()
                    .any(|r| redirect_matches(r, uri)) =>
            {
                uri.to_owned()
            }
            Some(_) => {
                return Authorization::Refuse(OAuthError::invalid_request(
                    "redirect_uri is not one the client registered",
                ));
            }
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => {
                return Authorization::Refuse(OAuthError::invalid_request(
                    "redirect_uri is missing",
                ));
            }
        };
        let Ok(mut target) = Url::parse(&redirect_uri) else {
            return Authorization::Refuse(OAuthError::invalid_request("redirect_uri is invalid"));
        };
        let problem = if param("response_type") != Some("code") {
            Some(OAuthError::new(
                400,
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        } else if !param("code_challenge").is_some_and(pkce::is_valid_challenge) {
            Some(OAuthError::invalid_request(
                "PKCE is required: send a code_challenge (S256)",
            ))
        } else if param("code_challenge_method") != Some(pkce::METHOD) {
            Some(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            ))
        } else if param("resource").is_some_and(|r| !self.is_our_resource(r)) {
            Some(OAuthError::invalid_target())
        } else {
            None
        };
        {
            let mut query = target.query_pairs_mut();
            match problem {
                Some(error) => {
                    query.append_pair("error", error.code);
                    query.append_pair("error_description", &error.description);
                }
                None => {
                    let code = random_token(32);
                    let pending = PendingCode {
                        client_id: client_id.to_owned(),
                        redirect_uri: param("redirect_uri").map(str::to_owned),
                        challenge: param("code_challenge").unwrap_or_default().to_owned(),
                        scope: granted_scope(param("scope")),
                        expires: Instant::now() + CODE_TTL,
                    };
                    state.codes.insert(digest(&code), pending);
                    state.stats.codes_issued += 1;
                    tracing::info!(
                        client_id,
                        resource_sent = param("resource").is_some(),
                        scope = param("scope").unwrap_or_default(),
                        "approved a sign-in"
                    );
                    query.append_pair("code", &code);
                }
            }
            if let Some(value) = param("state") {
                query.append_pair("state", value);
            }
            query.append_pair("iss", &self.issuer);
        }
        Authorization::Redirect(target.into())
    }

    /// `POST /token`: the authorization code and refresh token grants.
    pub fn token(&self, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
        let mut state = self.state();
        let answer = self.token_locked(&mut state, form);
        if answer.is_err() {
            state.stats.token_errors += 1;
        }
        answer
    }

    fn token_locked(
        &self,
        state: &mut State,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let now = Instant::now();
        state.forget_expired(now);
        let grant_type = param("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
        if !matches!(grant_type, "authorization_code" | "refresh_token") {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                "use authorization_code or refresh_token",
            ));
        }
        let client_id =
            param("client_id").ok_or_else(|| OAuthError::invalid_client("client_id is missing"))?;
        if !state.clients.contains_key(client_id) {
            return Err(OAuthError::invalid_client("unknown client_id"));
        }
        if param("resource").is_some_and(|r| !self.is_our_resource(r)) {
            return Err(OAuthError::invalid_target());
        }
        let grant = if grant_type == "authorization_code" {
            let code =
                param("code").ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
            let key = digest(code);
            // Single use: whatever happens next, this code is spent.
            let Some(pending) = state.codes.remove(&key) else {
                if let Some(grant) = state.used_codes.get(&key).copied() {
                    state.stats.code_reuses += 1;
                    state.end_grant(grant);
                    tracing::warn!("an authorization code was presented twice: its grant ended");
                }
                return Err(OAuthError::invalid_grant(
                    "the code is unknown, expired or already used",
                ));
            };
            if pending.expires <= now {
                return Err(OAuthError::invalid_grant("the code expired"));
            }
            if pending.client_id != client_id {
                return Err(OAuthError::invalid_grant(
                    "the code was issued to another client",
                ));
            }
            if pending
                .redirect_uri
                .as_deref()
                .is_some_and(|r| param("redirect_uri") != Some(r))
            {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri differs from the authorization request's",
                ));
            }
            let verifier = param("code_verifier")
                .ok_or_else(|| OAuthError::invalid_grant("code_verifier is missing (PKCE)"))?;
            if !pkce::verify(verifier, &pending.challenge) {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
            let id = state.next_grant;
            state.next_grant += 1;
            state.grants.insert(
                id,
                Grant {
                    client_id: client_id.to_owned(),
                    scope: pending.scope,
                    refresh: String::new(),
                    refresh_expires: now + REFRESH_TTL,
                },
            );
            state.used_codes.insert(key, id);
            state.stats.code_exchanges += 1;
            tracing::info!(client_id, "signed in");
            id
        } else {
            let token = param("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
            let key = digest(token);
            let Some(id) = state.refresh.get(&key).copied() else {
                if let Some(grant) = state.rotated.get(&key).copied() {
                    state.stats.refresh_reuses += 1;
                    state.end_grant(grant);
                    tracing::warn!("a rotated refresh token was presented again: its grant ended");
                }
                return Err(OAuthError::invalid_grant(
                    "the refresh token is unknown, expired, revoked or already used",
                ));
            };
            if state
                .grants
                .get(&id)
                .is_none_or(|g| g.client_id != client_id)
            {
                return Err(OAuthError::invalid_grant(
                    "the refresh token was issued to another client",
                ));
            }
            state.refresh.remove(&key);
            state.rotated.insert(key, id);
            state.stats.refreshes += 1;
            tracing::info!(client_id, "refreshed");
            id
        };
        Ok(self.issue(state, grant, now))
    }

    /// New access and refresh tokens for `grant` (the previous refresh token is gone).
    fn issue(&self, state: &mut State, grant: u64, now: Instant) -> Value {
        let access = random_token(32);
        let refresh = random_token(32);
        state.access.insert(
            digest(&access),
            Access {
                grant,
                expires: now + self.access_ttl,
            },
        );
        state.refresh.insert(digest(&refresh), grant);
        let scope = match state.grants.get_mut(&grant) {
            Some(entry) => {
                entry.refresh = digest(&refresh);
                entry.refresh_expires = now + REFRESH_TTL;
                entry.scope.clone()
            }
            None => DEFAULT_SCOPE.to_owned(),
        };
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_ttl.as_secs(),
            "refresh_token": refresh,
            "scope": scope,
        })
    }

    /// `POST /revoke` (RFC 7009): a refresh token ends its whole grant; an access token ends
    /// only itself. An unknown token is not an error.
    pub fn revoke(&self, form: &HashMap<String, String>) -> Result<(), OAuthError> {
        let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let token =
            param("token").ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        let key = digest(token);
        let mut state = self.state();
        let owner =
            |state: &State, grant: u64| state.grants.get(&grant).map(|g| g.client_id.clone());
        let (grant, is_refresh) = if let Some(grant) = state.refresh.get(&key).copied() {
            (grant, true)
        } else if let Some(access) = state.access.get(&key) {
            (access.grant, false)
        } else {
            return Ok(());
        };
        if let (Some(client_id), Some(owner)) = (param("client_id"), owner(&state, grant))
            && client_id != owner
        {
            return Err(OAuthError::new(
                400,
                "unauthorized_client",
                "the token was issued to another client",
            ));
        }
        if is_refresh {
            state.end_grant(grant);
        } else {
            state.access.remove(&key);
        }
        state.stats.revocations += 1;
        tracing::info!(refresh = is_refresh, "revoked");
        Ok(())
    }

    /// Whether `token` is a live access token; counts the refusals.
    pub fn check_bearer(&self, token: Option<&str>) -> bool {
        let mut state = self.state();
        let now = Instant::now();
        let live = token.is_some_and(|token| {
            let key = digest(token);
            match state.access.get(&key) {
                Some(access) if access.expires > now => true,
                Some(_) => {
                    state.access.remove(&key);
                    false
                }
                None => false,
            }
        });
        if !live {
            state.stats.bearer_rejections += 1;
        }
        live
    }

    fn is_our_resource(&self, resource: &str) -> bool {
        resource.trim_end_matches('/') == self.resource.trim_end_matches('/')
    }
}

/// A registered redirect URI must be https, http on a loopback host (RFC 8252 §7.3), or a
/// private-use scheme such as `latch://` (§7.1); never one that runs or reads something.
fn check_redirect_uri(uri: &str) -> Result<(), OAuthError> {
    let bad = |why: &str| OAuthError::new(400, "invalid_redirect_uri", format!("{uri}: {why}"));
    let url = Url::parse(uri).map_err(|_| bad("not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(bad("a redirect URI has no fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(bad(
            "http is allowed for 127.0.0.1, [::1] and localhost only",
        )),
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
            Err(bad("that scheme cannot receive a redirect"))
        }
        _ => Ok(()),
    }
}

fn is_loopback(url: &Url) -> bool {
    matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost")
}

/// The same URI, or for a loopback http redirect the same one on any port (RFC 8252 §7.3:
/// native apps listen on an ephemeral port chosen at sign-in time).
fn redirect_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    match (Url::parse(registered), Url::parse(given)) {
        (Ok(mut registered), Ok(mut given))
            if registered.scheme() == "http" && is_loopback(&registered) =>
        {
            let _ = registered.set_port(None);
            let _ = given.set_port(None);
            registered == given
        }
        _ => false,
    }
}

/// The scopes asked for that the demo knows, or `demo`.
fn granted_scope(requested: Option<&str>) -> String {
    let known: BTreeSet<&str> = requested
        .unwrap_or_default()
        .split_ascii_whitespace()
        .filter(|s| SCOPES.contains(s))
        .collect();
    if known.is_empty() {
        DEFAULT_SCOPE.to_owned()
    } else {
        known.into_iter().collect::<Vec<_>>().join(" ")
    }
}

/// `bytes` random bytes from the operating system, base64url.
fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // No randomness from the OS means no safe token: nothing sensible is left to do.
    getrandom::fill(&mut buffer).expect("the operating system's random number generator");
    URL_SAFE_NO_PAD.encode(buffer)
}

/// How codes and tokens are kept: their SHA-256, never the value.
fn digest(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESOURCE: &str = "http://127.0.0.1:4717/mcp";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn server(ttl: Duration) -> AuthServer {
        AuthServer::new("http://127.0.0.1:4717".into(), RESOURCE.into(), ttl)
    }

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn register(server: &AuthServer) -> String {
        let answer = server
            .register(
                &json!({ "redirect_uris": ["http://127.0.0.1:5000/callback"], "client_name": "t" }),
            )
            .unwrap();
        assert_eq!(answer["token_endpoint_auth_method"], "none");
        answer["client_id"].as_str().unwrap().to_owned()
    }

    /// Authorize (on another loopback port than registered) and return the redirect's query.
    fn authorize(server: &AuthServer, client_id: &str) -> HashMap<String, String> {
        let params = map(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", "http://127.0.0.1:6000/callback"),
            ("code_challenge", &pkce::challenge_of(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
            ("resource", RESOURCE),
            ("scope", "demo unknown"),
        ]);
        let Authorization::Redirect(to) = server.authorize(&params) else {
            panic!("refused")
        };
        let url = Url::parse(&to).unwrap();
        assert_eq!(url.port(), Some(6000));
        url.query_pairs().into_owned().collect()
    }

    fn exchange(
        server: &AuthServer,
        client_id: &str,
        code: &str,
        verifier: &str,
    ) -> Result<Value, OAuthError> {
        server.token(&map(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", "http://127.0.0.1:6000/callback"),
            ("code_verifier", verifier),
            ("resource", RESOURCE),
        ]))
    }

    fn refresh(server: &AuthServer, client_id: &str, token: &str) -> Result<Value, OAuthError> {
        server.token(&map(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", token),
        ]))
    }

    fn bearer(server: &AuthServer, tokens: &Value) -> bool {
        server.check_bearer(tokens["access_token"].as_str())
    }

    #[test]
    fn code_with_the_right_verifier_gives_working_tokens() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let query = authorize(&server, &client);
        assert_eq!(query["state"], "xyz");
        assert_eq!(query["iss"], "http://127.0.0.1:4717");
        let tokens = exchange(&server, &client, &query["code"], VERIFIER).unwrap();
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 60);
        assert_eq!(tokens["scope"], "demo");
        assert!(bearer(&server, &tokens));
        assert!(!server.check_bearer(Some("made-up")));
        assert!(!server.check_bearer(None));
    }

    #[test]
    fn pkce_is_verified_and_required() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let query = authorize(&server, &client);
        let wrong = "x".repeat(43);
        let error = exchange(&server, &client, &query["code"], &wrong).unwrap_err();
        assert_eq!(error.code, "invalid_grant");
        assert!(error.description.contains("code_verifier"), "{error:?}");

        // No challenge, or the plain method: refused back at the client.
        let mut params = map(&[
            ("response_type", "code"),
            ("client_id", &client),
            ("redirect_uri", "http://127.0.0.1:6000/callback"),
            ("state", "s"),
        ]);
        let Authorization::Redirect(to) = server.authorize(&params) else {
            panic!()
        };
        assert!(
            to.contains("error=invalid_request") && to.contains("state=s"),
            "{to}"
        );
        params.insert("code_challenge".into(), pkce::challenge_of(VERIFIER));
        params.insert("code_challenge_method".into(), "plain".into());
        let Authorization::Redirect(to) = server.authorize(&params) else {
            panic!()
        };
        assert!(
            to.contains("error=invalid_request") && !to.contains("code="),
            "{to}"
        );
    }

    #[test]
    fn a_code_works_once_and_its_replay_ends_the_grant() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let query = authorize(&server, &client);
        let tokens = exchange(&server, &client, &query["code"], VERIFIER).unwrap();
        assert!(bearer(&server, &tokens));
        let again = exchange(&server, &client, &query["code"], VERIFIER).unwrap_err();
        assert_eq!(again.code, "invalid_grant");
        assert!(!bearer(&server, &tokens), "the replay revoked the grant");
        let refreshed = refresh(&server, &client, tokens["refresh_token"].as_str().unwrap());
        assert_eq!(refreshed.unwrap_err().code, "invalid_grant");
        let stats = server.stats();
        assert_eq!((stats.code_exchanges, stats.code_reuses), (1, 1));

        // A failed exchange spends the code too.
        let query = authorize(&server, &client);
        assert!(exchange(&server, &client, &query["code"], &"y".repeat(43)).is_err());
        assert!(exchange(&server, &client, &query["code"], VERIFIER).is_err());
    }

    #[test]
    fn codes_are_bound_to_client_and_redirect_uri_and_resource() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let other = register(&server);
        let query = authorize(&server, &client);
        assert_eq!(
            exchange(&server, &other, &query["code"], VERIFIER)
                .unwrap_err()
                .code,
            "invalid_grant"
        );
        let query = authorize(&server, &client);
        let error = server
            .token(&map(&[
                ("grant_type", "authorization_code"),
                ("client_id", &client),
                ("code", &query["code"]),
                ("redirect_uri", "http://127.0.0.1:6001/callback"),
                ("code_verifier", VERIFIER),
            ]))
            .unwrap_err();
        assert_eq!(error.code, "invalid_grant");

        let params = map(&[
            ("response_type", "code"),
            ("client_id", &client),
            ("redirect_uri", "http://127.0.0.1:6000/callback"),
            ("code_challenge", &pkce::challenge_of(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("resource", "https://elsewhere.example/mcp"),
        ]);
        let Authorization::Redirect(to) = server.authorize(&params) else {
            panic!()
        };
        assert!(to.contains("error=invalid_target"), "{to}");
    }

    #[test]
    fn unknown_clients_and_redirects_are_refused_here_not_redirected() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let evil = map(&[
            ("response_type", "code"),
            ("client_id", &client),
            ("redirect_uri", "http://127.0.0.1:6000/elsewhere"),
        ]);
        assert!(matches!(server.authorize(&evil), Authorization::Refuse(_)));
        let unknown = map(&[("response_type", "code"), ("client_id", "nobody")]);
        assert!(matches!(
            server.authorize(&unknown),
            Authorization::Refuse(_)
        ));
        for uri in [
            "http://example.com/cb",
            "javascript:alert(1)",
            "relative/cb",
            "https://a/cb#f",
        ] {
            let error = server
                .register(&json!({ "redirect_uris": [uri] }))
                .unwrap_err();
            assert_eq!(error.code, "invalid_redirect_uri", "{uri}");
        }
        assert!(
            server
                .register(&json!({ "redirect_uris": ["latch://oauth/callback"] }))
                .is_ok()
        );
        assert!(
            server
                .register(&json!({ "redirect_uris": ["http://[::1]/cb"] }))
                .is_ok()
        );
    }

    #[test]
    fn refresh_rotates_and_a_replayed_refresh_token_ends_the_grant() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let query = authorize(&server, &client);
        let first = exchange(&server, &client, &query["code"], VERIFIER).unwrap();
        let old = first["refresh_token"].as_str().unwrap();
        let second = refresh(&server, &client, old).unwrap();
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        assert_ne!(second["access_token"], first["access_token"]);
        assert!(bearer(&server, &second));
        assert_eq!(
            refresh(&server, &client, old).unwrap_err().code,
            "invalid_grant"
        );
        assert!(!bearer(&server, &second), "reuse ended the grant");
        let newest = second["refresh_token"].as_str().unwrap();
        assert!(refresh(&server, &client, newest).is_err());
        let stats = server.stats();
        assert_eq!((stats.refreshes, stats.refresh_reuses), (1, 1));
    }

    #[test]
    fn access_tokens_expire_and_refresh_brings_a_new_one() {
        let server = server(Duration::ZERO);
        let client = register(&server);
        let query = authorize(&server, &client);
        let tokens = exchange(&server, &client, &query["code"], VERIFIER).unwrap();
        assert!(!bearer(&server, &tokens), "expired at once");
        let refreshed = refresh(&server, &client, tokens["refresh_token"].as_str().unwrap());
        assert!(refreshed.is_ok());
    }

    #[test]
    fn revoking_the_refresh_token_ends_the_grant() {
        let server = server(Duration::from_secs(60));
        let client = register(&server);
        let query = authorize(&server, &client);
        let tokens = exchange(&server, &client, &query["code"], VERIFIER).unwrap();
        let refresh_token = tokens["refresh_token"].as_str().unwrap();
        let other = register(&server);
        let wrong = map(&[("token", refresh_token), ("client_id", &other)]);
        assert!(server.revoke(&wrong).is_err());
        assert!(bearer(&server, &tokens));
        let form = map(&[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
            ("client_id", &client),
        ]);
        server.revoke(&form).unwrap();
        assert!(!bearer(&server, &tokens));
        assert!(refresh(&server, &client, refresh_token).is_err());
        // Revoking again, or a token never seen, is fine (RFC 7009 §2.2).
        server.revoke(&form).unwrap();
        assert_eq!(server.stats().revocations, 1);
    }
}
