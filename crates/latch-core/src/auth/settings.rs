//! A server's sign-in settings from its `auth` entry in the servers file: a pre-registered
//! client (id and secret), the Client ID Metadata Document URL, the scopes to ask for, and a
//! fixed callback port for servers that only accept a registered redirect URI.

use serde::Deserialize;

use crate::config::{ConfigError, RemoteServer, SecretSource, expand};

/// Which grant signs a person (or a machine) in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flow {
    /// Client credentials when named credentials are configured, else the browser.
    #[default]
    Auto,
    /// Authorization code + PKCE in a browser.
    Browser,
    /// The device authorization grant (RFC 8628): a code to type on another device.
    Device,
    /// Machine to machine with a client id and secret (or key).
    ClientCredentials,
}

/// How to sign in to one server. Everything is optional: discovery decides the rest.
#[derive(Clone, Default, PartialEq)]
pub struct AuthSettings {
    /// `auth.type`: `oauth` (the browser), `device`, `client_credentials`; absent → auto.
    pub flow: Flow,
    /// `auth.credentials`: the name of a client id/secret (or key) pair kept in the keychain,
    /// which several servers may share (`latch credentials set NAME`).
    pub credentials: Option<String>,
    /// `auth.deviceAuthorizationEndpoint`, for servers whose metadata does not say it.
    pub device_authorization_endpoint: Option<String>,
    pub client_id: Option<String>,
    /// Resolved from `${secret:…}`; never printed (the Debug below redacts it).
    pub client_secret: Option<String>,
    pub client_metadata_url: Option<String>,
    /// `auth.privateKeyPem`: the client's private key (PKCS#8 PEM) for `private_key_jwt`,
    /// resolved from `${secret:…}`; never printed.
    pub private_key_pem: Option<String>,
    /// `auth.signingAlgorithm` of that key: `ES256` or `RS256`.
    pub signing_algorithm: Option<String>,
    pub scopes: Vec<String>,
    pub callback_port: Option<u16>,
    /// `auth.redirect: "deep-link"`: the browser comes back through `latch://oauth/callback`
    /// (the desktop app) instead of the loopback listener.
    pub deep_link_redirect: bool,
}

/// Says whether a secret or key is set, never what it is.
impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| v.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("AuthSettings")
            .field("flow", &self.flow)
            .field("credentials", &self.credentials)
            .field(
                "device_authorization_endpoint",
                &self.device_authorization_endpoint,
            )
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("client_metadata_url", &self.client_metadata_url)
            .field("private_key_pem", &set(&self.private_key_pem))
            .field("signing_algorithm", &self.signing_algorithm)
            .field("scopes", &self.scopes)
            .field("callback_port", &self.callback_port)
            .field("deep_link_redirect", &self.deep_link_redirect)
            .finish()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(rename = "type")]
    kind: Option<String>,
    credentials: Option<String>,
    device_authorization_endpoint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_metadata_url: Option<String>,
    private_key_pem: Option<String>,
    signing_algorithm: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    callback_port: Option<u16>,
    redirect: Option<String>,
}

impl AuthSettings {
    /// Read the `auth` entry of a remote server (absent → all defaults).
    /// The flow to run: the configured one, with `Auto` resolved.
    pub fn effective_flow(&self) -> Flow {
        match self.flow {
            Flow::Auto if self.credentials.is_some() => Flow::ClientCredentials,
            Flow::Auto => Flow::Browser,
            other => other,
        }
    }

    pub fn from_server(
        name: &str,
        server: &RemoteServer,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ConfigError> {
        let raw: Raw = match &server.auth {
            Some(value) => {
                serde_json::from_value(value.clone()).map_err(|e| ConfigError::InvalidServer {
                    name: name.to_owned(),
                    reason: format!("`auth`: {e}"),
                })?
            }
            None => Raw::default(),
        };
        let expand_opt = |v: Option<String>| v.map(|v| expand(&v, secrets)).transpose();
        let flow = match raw.kind.as_deref() {
            None => Flow::Auto,
            Some("oauth" | "browser" | "authorization_code") => Flow::Browser,
            Some("device" | "device_code") => Flow::Device,
            Some("client_credentials") => Flow::ClientCredentials,
            Some(other) => {
                return Err(ConfigError::InvalidServer {
                    name: name.to_owned(),
                    reason: format!(
                        "`auth.type` is `{other}`; use `oauth`, `device` or `client_credentials`"
                    ),
                });
            }
        };
        Ok(Self {
            flow,
            credentials: raw.credentials,
            device_authorization_endpoint: raw.device_authorization_endpoint,
            client_id: expand_opt(raw.client_id)?,
            client_secret: expand_opt(raw.client_secret)?,
            client_metadata_url: raw
                .client_metadata_url
                .or_else(|| std::env::var("LATCH_CLIENT_METADATA_URL").ok()),
            private_key_pem: expand_opt(raw.private_key_pem)?,
            signing_algorithm: raw.signing_algorithm,
            scopes: raw.scopes,
            callback_port: raw.callback_port,
            deep_link_redirect: match raw.redirect.as_deref() {
                None | Some("loopback") => false,
                Some("deep-link" | "deepLink") => true,
                Some(other) => {
                    return Err(ConfigError::InvalidServer {
                        name: name.to_owned(),
                        reason: format!(
                            "`auth.redirect` is `{other}`; use `loopback` (default) or `deep-link`"
                        ),
                    });
                }
            },
        })
    }
}
