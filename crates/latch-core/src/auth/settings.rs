//! A server's sign-in settings from its `auth` entry in the servers file: a pre-registered
//! client (id and secret), the Client ID Metadata Document URL, the scopes to ask for, a fixed
//! callback port for servers that only accept a registered redirect URI, and explicit
//! endpoints for providers that publish no metadata (Madgicx's token URL on another host).

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
    /// Enterprise-managed authorization (SEP-990): the person's sign-in at their company's
    /// identity provider (`auth.org`) is exchanged for an ID-JAG (RFC 8693), then for this
    /// server's token (RFC 7523 `jwt-bearer`), with no browser round trip per server.
    Enterprise,
    /// Workload identity (SEP-1933): a token the platform gives the machine (Kubernetes,
    /// GitHub Actions), from `auth.tokenFile`, `auth.tokenEnv` or `auth.tokenCommand`, is the
    /// assertion of a `jwt-bearer` grant. No secret is stored.
    Workload,
}

/// Whether tokens are bound to a key with DPoP (RFC 9449, SEP-1932): `auth.dpop`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DpopChoice {
    /// When the authorization server advertises `dpop_signing_alg_values_supported` with
    /// ES256 (absent key, or `"auto"`).
    #[default]
    Auto,
    /// Always (`true`): a sign-in server that cannot bind tokens is an error.
    Always,
    /// Never (`false`): plain bearer tokens even where DPoP is offered.
    Never,
}

/// Where a workload's platform token is read, fresh each time a token is needed (it is
/// rotated by the platform: a projected Kubernetes token, GitHub Actions' OIDC token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadToken {
    /// `auth.tokenFile`: a file holding the token (surrounding whitespace ignored).
    File(std::path::PathBuf),
    /// `auth.tokenEnv`: an environment variable holding it.
    Env(String),
    /// `auth.tokenCommand`: a program and its arguments whose standard output is the token.
    Command(Vec<String>),
}

/// How to sign in to one server. Everything is optional: discovery decides the rest.
#[derive(Clone, Default, PartialEq)]
pub struct AuthSettings {
    /// `auth.type`: `oauth` (the browser), `device`, `client_credentials`; absent → auto.
    pub flow: Flow,
    /// `auth.credentials`: the name of a client id/secret (or key) pair kept in the keychain,
    /// which several servers may share (`latch credentials set NAME`).
    pub credentials: Option<String>,
    /// `auth.deviceAuthorizationUrl` (or `deviceAuthorizationEndpoint`), for servers whose
    /// metadata does not say it.
    pub device_authorization_endpoint: Option<String>,
    /// `auth.tokenUrl`: the token endpoint, used when discovery finds none and over the
    /// discovered one when given.
    pub token_url: Option<String>,
    /// `auth.authorizationUrl`: the authorization endpoint of the browser sign-in, likewise.
    pub authorization_url: Option<String>,
    /// `auth.revocationUrl`: where sign-out revokes the grant, likewise.
    pub revocation_url: Option<String>,
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
    /// `auth.dpop`: bind tokens to a key (DPoP), when offered (default), always or never.
    pub dpop: DpopChoice,
    /// `auth.org`: the organisation (`latch org add`) whose identity provider signs the person
    /// in to this server (enterprise-managed authorization).
    pub org: Option<String>,
    /// Where a workload's platform token comes from (`auth.type: "workload"`).
    pub workload_token: Option<WorkloadToken>,
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
            .field("token_url", &self.token_url)
            .field("authorization_url", &self.authorization_url)
            .field("revocation_url", &self.revocation_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("client_metadata_url", &self.client_metadata_url)
            .field("private_key_pem", &set(&self.private_key_pem))
            .field("signing_algorithm", &self.signing_algorithm)
            .field("scopes", &self.scopes)
            .field("callback_port", &self.callback_port)
            .field("deep_link_redirect", &self.deep_link_redirect)
            .field("dpop", &self.dpop)
            .field("org", &self.org)
            .field("workload_token", &self.workload_token)
            .finish()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(rename = "type")]
    kind: Option<String>,
    credentials: Option<String>,
    #[serde(alias = "deviceAuthorizationEndpoint")]
    device_authorization_url: Option<String>,
    token_url: Option<String>,
    authorization_url: Option<String>,
    revocation_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_metadata_url: Option<String>,
    private_key_pem: Option<String>,
    signing_algorithm: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    callback_port: Option<u16>,
    redirect: Option<String>,
    dpop: Option<serde_json::Value>,
    org: Option<String>,
    token_file: Option<String>,
    token_env: Option<String>,
    token_command: Option<Vec<String>>,
}

impl AuthSettings {
    /// The flow to run: the configured one, with `Auto` resolved.
    pub fn effective_flow(&self) -> Flow {
        match self.flow {
            Flow::Auto if self.credentials.is_some() => Flow::ClientCredentials,
            Flow::Auto if self.org.is_some() => Flow::Enterprise,
            Flow::Auto if self.workload_token.is_some() => Flow::Workload,
            Flow::Auto => Flow::Browser,
            other => other,
        }
    }

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
        let flow = match raw.kind.as_deref() {
            None => Flow::Auto,
            Some("oauth" | "browser" | "authorization_code") => Flow::Browser,
            Some("device" | "device_code") => Flow::Device,
            Some("client_credentials") => Flow::ClientCredentials,
            Some("enterprise" | "org") => Flow::Enterprise,
            Some("workload" | "workload_identity") => Flow::Workload,
            Some(other) => {
                return Err(ConfigError::InvalidServer {
                    name: name.to_owned(),
                    reason: format!(
                        "`auth.type` is `{other}`; use `oauth`, `device`, `client_credentials`, `enterprise` or `workload`"
                    ),
                });
            }
        };
        let invalid = |reason: String| ConfigError::InvalidServer {
            name: name.to_owned(),
            reason,
        };
        let dpop = match &raw.dpop {
            None | Some(serde_json::Value::Null) => DpopChoice::Auto,
            Some(serde_json::Value::Bool(true)) => DpopChoice::Always,
            Some(serde_json::Value::Bool(false)) => DpopChoice::Never,
            Some(serde_json::Value::String(s)) if s == "auto" => DpopChoice::Auto,
            Some(other) => {
                return Err(invalid(format!(
                    "`auth.dpop` is `{other}`; use `true`, `false` or `\"auto\"`"
                )));
            }
        };
        if flow == Flow::Enterprise && raw.org.is_none() {
            return Err(invalid(
                "`auth.type` is `enterprise` but `auth.org` names no organisation; add `\"org\": \"NAME\"` (see `latch org list`)".into(),
            ));
        }
        let workload_token = match (raw.token_file, raw.token_env, raw.token_command) {
            (None, None, None) => None,
            (Some(file), None, None) => Some(WorkloadToken::File(file.into())),
            (None, Some(var), None) => Some(WorkloadToken::Env(var)),
            (None, None, Some(command)) if !command.is_empty() => {
                Some(WorkloadToken::Command(command))
            }
            (None, None, Some(_)) => {
                return Err(invalid(
                    "`auth.tokenCommand` is empty; give the program and its arguments, e.g. `[\"gcloud\", \"auth\", \"print-identity-token\"]`".into(),
                ));
            }
            _ => {
                return Err(invalid(
                    "give only one of `auth.tokenFile`, `auth.tokenEnv` and `auth.tokenCommand`"
                        .into(),
                ));
            }
        };
        if flow == Flow::Workload && workload_token.is_none() {
            return Err(invalid(
                "`auth.type` is `workload` but says where the platform's token is: add `auth.tokenFile`, `auth.tokenEnv` or `auth.tokenCommand`".into(),
            ));
        }
        Ok(Self {
            flow,
            credentials: raw.credentials,
            device_authorization_endpoint: endpoint(
                name,
                "deviceAuthorizationUrl",
                raw.device_authorization_url,
            )?,
            token_url: endpoint(name, "tokenUrl", raw.token_url)?,
            authorization_url: endpoint(name, "authorizationUrl", raw.authorization_url)?,
            revocation_url: endpoint(name, "revocationUrl", raw.revocation_url)?,
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
            dpop,
            org: raw.org,
            workload_token,
        })
    }
}

/// An endpoint key as written: an `http`/`https` URL with a host (the same check a discovered
/// endpoint gets first; where it may point is checked against the server when it is used).
fn endpoint(name: &str, key: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    crate::config::check_url(&value).map_err(|reason| ConfigError::InvalidServer {
        name: name.to_owned(),
        reason: format!("`auth.{key}`: {reason}"),
    })?;
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NoSecrets;
    use serde_json::json;

    fn settings(auth: serde_json::Value) -> Result<AuthSettings, ConfigError> {
        let server = RemoteServer {
            url: "https://mcp.madgicx.com/mcp".into(),
            auth: Some(auth),
            ..RemoteServer::default()
        };
        AuthSettings::from_server("madgicx", &server, &NoSecrets)
    }

    #[test]
    fn endpoint_keys_are_read_and_checked() {
        let read = settings(json!({
            "type": "client_credentials", "credentials": "madgicx",
            "tokenUrl": " https://auth.example.com/o/token/ ",
            "authorizationUrl": "https://auth.example.com/o/authorize/",
            "deviceAuthorizationEndpoint": "https://auth.example.com/o/device/",
            "revocationUrl": "https://auth.example.com/o/revoke_token/",
        }))
        .unwrap();
        assert_eq!(
            read.token_url.as_deref(),
            Some("https://auth.example.com/o/token/")
        );
        assert_eq!(
            read.device_authorization_endpoint.as_deref(),
            Some("https://auth.example.com/o/device/")
        );
        assert!(read.authorization_url.is_some() && read.revocation_url.is_some());
        let newer = settings(json!({"deviceAuthorizationUrl": "https://a.example/d"})).unwrap();
        assert_eq!(
            newer.device_authorization_endpoint.as_deref(),
            Some("https://a.example/d")
        );

        let error = settings(json!({"tokenUrl": "ftp://auth.example.com/t"}))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`auth.tokenUrl`") && error.contains("http://"),
            "{error}"
        );
    }

    #[test]
    fn dpop_org_and_workload_keys_are_read_and_checked() {
        assert_eq!(settings(json!({})).unwrap().dpop, DpopChoice::Auto);
        assert_eq!(
            settings(json!({"dpop": true})).unwrap().dpop,
            DpopChoice::Always
        );
        assert_eq!(
            settings(json!({"dpop": false})).unwrap().dpop,
            DpopChoice::Never
        );
        let bad = settings(json!({"dpop": "yes"})).unwrap_err().to_string();
        assert!(bad.contains("`auth.dpop`"), "{bad}");

        let org = settings(json!({"org": "acme"})).unwrap();
        assert_eq!(org.effective_flow(), Flow::Enterprise);
        let no_org = settings(json!({"type": "enterprise"}))
            .unwrap_err()
            .to_string();
        assert!(no_org.contains("`auth.org`"), "{no_org}");

        let implied = settings(json!({"tokenFile": "/var/run/secrets/tokens/mcp"})).unwrap();
        assert_eq!(implied.effective_flow(), Flow::Workload);
        let workload = settings(json!({"type": "workload", "tokenEnv": "CI_TOKEN"})).unwrap();
        assert_eq!(workload.effective_flow(), Flow::Workload);
        assert_eq!(
            workload.workload_token,
            Some(WorkloadToken::Env("CI_TOKEN".into()))
        );
        let none = settings(json!({"type": "workload"}))
            .unwrap_err()
            .to_string();
        assert!(none.contains("`auth.tokenFile`"), "{none}");
        let two = settings(json!({"tokenEnv": "A", "tokenFile": "/b"}))
            .unwrap_err()
            .to_string();
        assert!(two.contains("only one"), "{two}");
    }
}
