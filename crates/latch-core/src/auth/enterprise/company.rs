//! Signing in to the company: OIDC discovery from the organisation's issuer, then the
//! authorization code flow with PKCE (S256) in the browser — the same loopback callback,
//! system-browser opening and headless agent as every other sign-in — and the code exchanged
//! for the IdP's ID token and refresh token, which become the organisation's session. Also
//! [`adopt_id_token`]: an ID token the person's own tooling already holds (a CLI of the
//! identity provider, a test suite's IdP) kept as the session instead.

use base64::Engine as _;
use serde::Deserialize;
use sha2::Digest as _;
use url::Url;

use super::{
    EnterpriseError,
    session::{ClientAuth, OrgSession, jwt_claims, now},
};
use crate::{
    auth::{BrowserMode, browser::open_in_system_browser, callback::CallbackListener, headless},
    config::{Organization, SecretSource},
    events::{Event, EventBus},
    secrets::SecretStore,
};

/// How to run a company sign-in.
#[derive(Clone)]
pub struct OrgSignInOptions {
    pub browser: BrowserMode,
    pub events: EventBus,
    /// Where the session is kept; also resolves the organisation's `${secret:…}`.
    pub store: SecretStore,
    /// How long to wait for the person (default 5 minutes).
    pub timeout: std::time::Duration,
}

impl OrgSignInOptions {
    pub fn new(store: SecretStore) -> Self {
        Self {
            browser: BrowserMode::System,
            events: EventBus::new(),
            store,
            timeout: std::time::Duration::from_secs(300),
        }
    }
}

/// What the identity provider publishes that Latch uses.
#[derive(Deserialize)]
struct IdpMetadata {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: String,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

async fn discover(org: &str, issuer: &str) -> Result<IdpMetadata, EnterpriseError> {
    let failed = |reason: String| EnterpriseError::Discovery {
        org: org.to_owned(),
        issuer: issuer.to_owned(),
        reason,
    };
    let base = Url::parse(issuer).map_err(|e| failed(e.to_string()))?;
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = crate::net::client_for(&base, false)
        .get(&url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|_| failed("it could not be reached".into()))?;
    if !response.status().is_success() {
        return Err(failed(format!(
            "{url} answered HTTP {}",
            response.status().as_u16()
        )));
    }
    let metadata: IdpMetadata = response
        .json()
        .await
        .map_err(|_| failed(format!("{url} is not OpenID provider metadata")))?;
    if metadata.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(failed(format!(
            "its metadata names another issuer ({})",
            metadata.issuer
        )));
    }
    crate::config::check_url(&metadata.token_endpoint)
        .map_err(|r| failed(format!("its token endpoint: {r}")))?;
    Ok(metadata)
}

/// The client Latch is at the identity provider, as the session keeps it.
fn client(
    name: &str,
    org: &Organization,
    secrets: &dyn SecretSource,
    metadata: &IdpMetadata,
) -> Result<(String, Option<String>, ClientAuth), EnterpriseError> {
    let client_id = org
        .effective_client_id()
        .ok_or_else(|| EnterpriseError::Company {
            org: name.to_owned(),
            reason: "the organisation has no `clientId`".into(),
        })?
        .to_owned();
    let secret = org
        .resolved_secret(secrets)
        .map_err(|e| EnterpriseError::Company {
            org: name.to_owned(),
            reason: e.to_string(),
        })?;
    let auth = ClientAuth::choose(
        secret.is_some(),
        metadata.token_endpoint_auth_methods_supported.as_deref(),
    );
    Ok((client_id, secret, auth))
}

/// Sign the person in to organisation `name`'s identity provider in the browser and keep the
/// session. Nothing of it is logged.
pub async fn sign_in_org(
    name: &str,
    org: &Organization,
    options: &OrgSignInOptions,
) -> Result<super::OrgStatus, EnterpriseError> {
    let company = |reason: String| EnterpriseError::Company {
        org: name.to_owned(),
        reason,
    };
    options
        .store
        .writable()
        .map_err(|e| EnterpriseError::NotSaved {
            org: name.to_owned(),
            reason: e.to_string(),
        })?;
    let metadata = discover(name, &org.issuer).await?;
    let (client_id, secret, auth) = client(name, org, &options.store, &metadata)?;
    let authorization_endpoint = metadata
        .authorization_endpoint
        .clone()
        .ok_or_else(|| company("its metadata names no authorization endpoint".into()))?;
    let listener = CallbackListener::get(None).await.map_err(|e| {
        company(format!(
            "could not listen for the callback on 127.0.0.1: {e}"
        ))
    })?;
    let redirect_uri = listener.redirect_uri();

    let verifier = random_b64(32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state = random_b64(16);
    let nonce = random_b64(16);
    let mut scopes = vec!["openid".to_owned()];
    for scope in &org.scopes {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    let offline = metadata
        .scopes_supported
        .as_ref()
        .is_some_and(|s| s.iter().any(|s| s == "offline_access"));
    if offline && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".into());
    }
    let mut url = Url::parse(&authorization_endpoint).map_err(|e| company(e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if scopes.iter().any(|s| s == "offline_access") {
        // OpenID Connect grants offline access only after consent is asked.
        url.query_pairs_mut().append_pair("prompt", "consent");
    }
    let authorization_url = url.to_string();
    let parsed =
        crate::net::check_url_to_open(&authorization_url).map_err(|e| company(e.to_string()))?;

    let callback = match options.browser {
        BrowserMode::Headless => headless::follow(&authorization_url, &redirect_uri)
            .await
            .map_err(company)?,
        mode => {
            let waiting = listener.expect(&state);
            options.events.publish(Event::SignInUrl {
                server: format!("organisation {name}"),
                url: authorization_url.clone(),
            });
            if mode == BrowserMode::System
                && let Err(error) = open_in_system_browser(&parsed)
            {
                tracing::warn!(%error, "could not open the browser; the URL was printed instead");
            }
            let outcome = tokio::time::timeout(options.timeout, waiting).await;
            listener.forget(&state);
            match outcome {
                Ok(Ok(url)) => url,
                Ok(Err(_)) => return Err(company("the sign-in was abandoned".into())),
                Err(_) => {
                    return Err(company(format!(
                        "nobody finished signing in within {} minutes",
                        options.timeout.as_secs().div_ceil(60)
                    )));
                }
            }
        }
    };
    let callback = Url::parse(&callback).map_err(|e| company(e.to_string()))?;
    let param = |key: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        return Err(company(format!("the identity provider refused ({error})")));
    }
    if param("state").as_deref() != Some(state.as_str()) {
        return Err(company("the callback did not match this sign-in".into()));
    }
    let code = param("code").ok_or_else(|| company("the callback carried no code".into()))?;

    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let tokens = token_request(
        name,
        &metadata.token_endpoint,
        &client_id,
        secret.as_deref(),
        auth,
        &mut form,
    )
    .await?;
    let id_token = tokens
        .id_token
        .ok_or_else(|| company("the identity provider gave no ID token".into()))?;
    let claims =
        jwt_claims(&id_token).ok_or_else(|| company("its ID token does not read".into()))?;
    let audience_ok = match claims.get("aud") {
        Some(serde_json::Value::String(aud)) => aud == &client_id,
        Some(serde_json::Value::Array(list)) => list.iter().any(|a| a == client_id.as_str()),
        _ => false,
    };
    if claims.get("nonce").and_then(|n| n.as_str()) != Some(nonce.as_str())
        || claims.get("iss").and_then(|i| i.as_str()) != Some(metadata.issuer.as_str())
        || !audience_ok
    {
        return Err(company("its ID token is not for this sign-in".into()));
    }
    let session = OrgSession {
        issuer: metadata.issuer.clone(),
        token_endpoint: metadata.token_endpoint.clone(),
        client_id,
        client_secret: secret,
        client_auth: auth,
        id_token_expires_at: claims.get("exp").and_then(|e| e.as_u64()),
        id_token: Some(id_token),
        refresh_token: tokens.refresh_token,
        signed_in_at: now(),
    };
    session.save(&options.store, name)?;
    tracing::info!(org = name, issuer = %session.issuer, "signed in to the company");
    Ok(session.status())
}

/// Keep `id_token` — issued by organisation `name`'s identity provider to Latch's client
/// there, obtained by the person's own tooling — as the organisation's session, so servers
/// with `auth.org` can be signed in through it. The identity provider is discovered from the
/// issuer (for its token endpoint); the token must name that issuer and, when it says, not
/// have ended.
pub async fn adopt_id_token(
    name: &str,
    org: &Organization,
    id_token: &str,
    store: &SecretStore,
) -> Result<super::OrgStatus, EnterpriseError> {
    let company = |reason: &str| EnterpriseError::Company {
        org: name.to_owned(),
        reason: reason.to_owned(),
    };
    let metadata = discover(name, &org.issuer).await?;
    let (client_id, secret, auth) = client(name, org, store, &metadata)?;
    let claims = jwt_claims(id_token).ok_or_else(|| company("the ID token does not read"))?;
    if claims
        .get("iss")
        .and_then(|i| i.as_str())
        .map(|i| i.trim_end_matches('/'))
        != Some(metadata.issuer.trim_end_matches('/'))
    {
        return Err(company(
            "the ID token was not issued by this organisation's identity provider",
        ));
    }
    let expires_at = claims.get("exp").and_then(|e| e.as_u64());
    if expires_at.is_some_and(|exp| exp <= now()) {
        return Err(company("the ID token has ended"));
    }
    let session = OrgSession {
        issuer: metadata.issuer,
        token_endpoint: metadata.token_endpoint,
        client_id,
        client_secret: secret,
        client_auth: auth,
        id_token: Some(id_token.to_owned()),
        id_token_expires_at: expires_at,
        refresh_token: None,
        signed_in_at: now(),
    };
    session.save(store, name)?;
    Ok(session.status())
}

#[derive(Deserialize)]
struct Tokens {
    id_token: Option<String>,
    refresh_token: Option<String>,
}

async fn token_request(
    name: &str,
    endpoint: &str,
    client_id: &str,
    secret: Option<&str>,
    auth: ClientAuth,
    form: &mut Vec<(&'static str, String)>,
) -> Result<Tokens, EnterpriseError> {
    let company = |reason: String| EnterpriseError::Company {
        org: name.to_owned(),
        reason,
    };
    let url = Url::parse(endpoint).map_err(|e| company(e.to_string()))?;
    let mut request = crate::net::client_for(&url, true).post(url.clone());
    match (auth, secret) {
        (ClientAuth::ClientSecretBasic, Some(secret)) => {
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            request = request.basic_auth(enc(client_id), Some(enc(secret)));
        }
        (ClientAuth::ClientSecretPost, Some(secret)) => {
            form.push(("client_id", client_id.to_owned()));
            form.push(("client_secret", secret.to_owned()));
        }
        _ => form.push(("client_id", client_id.to_owned())),
    }
    let response = request
        .header("accept", "application/json")
        .form(&*form)
        .send()
        .await
        .map_err(|_| {
            company(format!(
                "{} could not be reached",
                crate::net::shown(endpoint)
            ))
        })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        let code = body
            .get("error")
            .and_then(|e| e.as_str())
            .filter(|c| c.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or("no error code");
        return Err(company(format!(
            "{} refused the sign-in (HTTP {}, {code})",
            crate::net::shown(endpoint),
            status.as_u16()
        )));
    }
    serde_json::from_value(body)
        .map_err(|_| company(format!("{} gave no tokens", crate::net::shown(endpoint))))
}

/// `bytes` random bytes, base64url without padding.
fn random_b64(bytes: usize) -> String {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("the system's random number generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
