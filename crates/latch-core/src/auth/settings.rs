//! A server's sign-in settings from its `auth` entry in the servers file: a pre-registered
//! client (id and secret), the Client ID Metadata Document URL, the scopes to ask for, and a
//! fixed callback port for servers that only accept a registered redirect URI.

use serde::Deserialize;

use crate::config::{ConfigError, RemoteServer, SecretSource, expand};

/// How to sign in to one server. Everything is optional: discovery decides the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthSettings {
    pub client_id: Option<String>,
    /// Resolved from `${secret:…}`; never printed (see the Debug of the config types).
    pub client_secret: Option<String>,
    pub client_metadata_url: Option<String>,
    pub scopes: Vec<String>,
    pub callback_port: Option<u16>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Raw {
    client_id: Option<String>,
    client_secret: Option<String>,
    client_metadata_url: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    callback_port: Option<u16>,
}

impl AuthSettings {
    /// Read the `auth` entry of a remote server (absent → all defaults).
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
        Ok(Self {
            client_id: expand_opt(raw.client_id)?,
            client_secret: expand_opt(raw.client_secret)?,
            client_metadata_url: raw
                .client_metadata_url
                .or_else(|| std::env::var("LATCH_CLIENT_METADATA_URL").ok()),
            scopes: raw.scopes,
            callback_port: raw.callback_port,
        })
    }
}
