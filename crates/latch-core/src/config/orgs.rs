//! Organisations in the servers file: a company's identity provider (its issuer) and the
//! client Latch is registered as there, under the top-level key `organizations`, so that the
//! person signs in to the company once and every server whose `auth.org` names it is signed in
//! through that (enterprise-managed authorization). The entry is the person's like the rest of
//! the file: unknown keys in it survive a save, and a client secret is written as a
//! `${secret:NAME}` placeholder, never as itself.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ConfigError, ConfigFile, SecretSource, ServerConfig, expand, validate_name};

/// The top-level key organisations are kept under.
pub const ORGS_KEY: &str = "organizations";

/// One organisation as written in the servers file.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The company identity provider's issuer (OIDC discovery starts here).
    pub issuer: String,
    /// Latch's client id at the identity provider (pre-registered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Its secret, as written: usually `${secret:NAME}`; expanded only when used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// A Client ID Metadata Document URL, for identity providers that take one as client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata_url: Option<String>,
    /// Scopes to ask the identity provider for, besides `openid` (and `offline_access`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// Says whether a secret is set, never what it is.
impl std::fmt::Debug for Organization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Organization")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("client_metadata_url", &self.client_metadata_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl Organization {
    /// The client id to present at the identity provider: the configured one, else the
    /// metadata document URL.
    pub fn effective_client_id(&self) -> Option<&str> {
        self.client_id
            .as_deref()
            .or(self.client_metadata_url.as_deref())
    }

    /// The client secret with its `${secret:…}` placeholder expanded.
    pub fn resolved_secret(
        &self,
        secrets: &dyn SecretSource,
    ) -> Result<Option<String>, ConfigError> {
        self.client_secret
            .as_deref()
            .map(|s| expand(s, secrets))
            .transpose()
    }

    /// Checks what a person wrote (or typed into `latch org add`).
    pub fn check(&self, name: &str) -> Result<(), OrgError> {
        let invalid = |reason: String| OrgError::Invalid {
            name: name.to_owned(),
            reason,
        };
        super::check_url(&self.issuer).map_err(|r| invalid(format!("`issuer`: {r}")))?;
        if let Some(url) = &self.client_metadata_url {
            super::check_url(url).map_err(|r| invalid(format!("`clientMetadataUrl`: {r}")))?;
        }
        if self.effective_client_id().is_none() {
            return Err(invalid(
                "give `clientId` (Latch's client id at the identity provider) or `clientMetadataUrl`"
                    .into(),
            ));
        }
        if self.client_secret.is_some() && self.client_id.is_none() {
            return Err(invalid("`clientSecret` needs `clientId`".into()));
        }
        Ok(())
    }
}

/// What can go wrong with the organisations of the servers file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrgError {
    #[error("there is no organisation named {name} — {}", known_words(.known))]
    Unknown { name: String, known: Vec<String> },
    #[error(
        "an organisation named {name} already exists — remove it first with `latch org remove {name}`"
    )]
    AlreadyExists { name: String },
    #[error("organisation {name} is used by {} — change or remove those servers first", .servers.join(", "))]
    InUse { name: String, servers: Vec<String> },
    #[error("organisation {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn known_words(known: &[String]) -> String {
    if known.is_empty() {
        "add one with `latch org add NAME --issuer URL --client-id ID`".to_owned()
    } else {
        format!("known: {}", known.join(", "))
    }
}

impl ConfigFile {
    /// The organisations, by name (an entry that does not read is an error naming it).
    pub fn organizations(&self) -> Result<Vec<(String, Organization)>, OrgError> {
        let Some(map) = self.document().get(ORGS_KEY).and_then(Value::as_object) else {
            return Ok(Vec::new());
        };
        map.iter()
            .filter(|(name, _)| !name.starts_with('_'))
            .map(|(name, value)| Ok((name.clone(), read(name, value)?)))
            .collect()
    }

    /// The organisation `name`.
    pub fn organization(&self, name: &str) -> Result<Organization, OrgError> {
        match self.document().get(ORGS_KEY).and_then(|m| m.get(name)) {
            Some(value) => read(name, value),
            None => Err(OrgError::Unknown {
                name: name.to_owned(),
                known: self.org_names(),
            }),
        }
    }

    fn org_names(&self) -> Vec<String> {
        self.document()
            .get(ORGS_KEY)
            .and_then(Value::as_object)
            .map(|m| m.keys().filter(|k| !k.starts_with('_')).cloned().collect())
            .unwrap_or_default()
    }

    /// The servers whose `auth.org` names `org`, sorted.
    pub fn servers_using_org(&self, org: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .servers()
            .into_iter()
            .filter(|(_, server)| match server {
                ServerConfig::Remote(remote) => {
                    remote
                        .auth
                        .as_ref()
                        .and_then(|a| a.get("org"))
                        .and_then(Value::as_str)
                        == Some(org)
                }
                _ => false,
            })
            .map(|(name, _)| name)
            .collect();
        names.sort();
        names
    }

    /// Adds the organisation `name` (an existing one is an error: remove it first).
    pub fn add_organization(&mut self, name: &str, org: &Organization) -> Result<(), OrgError> {
        validate_name(name)?;
        org.check(name)?;
        if self.org_names().iter().any(|n| n == name) {
            return Err(OrgError::AlreadyExists {
                name: name.to_owned(),
            });
        }
        let value = serde_json::to_value(org).map_err(|e| OrgError::Invalid {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        orgs_mut(self).insert(name.to_owned(), value);
        Ok(())
    }

    /// Removes the organisation `name`; refused while servers use it (naming them).
    pub fn remove_organization(&mut self, name: &str) -> Result<(), OrgError> {
        self.organization(name)?;
        let servers = self.servers_using_org(name);
        if !servers.is_empty() {
            return Err(OrgError::InUse {
                name: name.to_owned(),
                servers,
            });
        }
        let orgs = orgs_mut(self);
        orgs.remove(name);
        if orgs.is_empty() {
            self.document_mut().remove(ORGS_KEY);
        }
        Ok(())
    }
}

fn read(name: &str, value: &Value) -> Result<Organization, OrgError> {
    serde_json::from_value(value.clone()).map_err(|e| OrgError::Invalid {
        name: name.to_owned(),
        reason: format!("the entry in `{ORGS_KEY}` does not read: {e}"),
    })
}

fn orgs_mut(file: &mut ConfigFile) -> &mut Map<String, Value> {
    let slot = file
        .document_mut()
        .entry(ORGS_KEY)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just made it an object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("servers.json"), text).unwrap()
    }

    fn acme() -> Organization {
        Organization {
            issuer: "https://acme.okta.com".into(),
            client_id: Some("latch".into()),
            client_secret: Some("${secret:acme-idp}".into()),
            ..Organization::default()
        }
    }

    #[test]
    fn organisations_are_added_read_and_kept_with_unknown_keys() {
        let mut config = file(
            r#"{"mcpServers": {"wiki": {"url": "https://wiki.example/mcp", "auth": {"org": "acme"}}},
                "organizations": {"other": {"issuer": "https://idp.example", "clientId": "c", "color": "red"}},
                "theme": "dark"}"#,
        );
        config.add_organization("acme", &acme()).unwrap();
        assert_eq!(config.organization("acme").unwrap(), acme());
        let names: Vec<String> = config
            .organizations()
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["other", "acme"]);
        let text = config.to_json_string();
        assert!(
            text.contains("\"color\": \"red\"") && text.contains("\"theme\""),
            "{text}"
        );
        assert!(text.contains("${secret:acme-idp}"), "{text}");
        assert_eq!(config.servers_using_org("acme"), ["wiki"]);
        assert!(config.servers_using_org("other").is_empty());
        // Twice is an error, and so is nonsense.
        let again = config
            .add_organization("acme", &acme())
            .unwrap_err()
            .to_string();
        assert!(
            again.contains("already exists") && again.contains("latch org remove acme"),
            "{again}"
        );
        let bad = Organization {
            issuer: "ftp://x".into(),
            ..acme()
        };
        let bad = config
            .add_organization("bad", &bad)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("organisation bad") && bad.contains("`issuer`"),
            "{bad}"
        );
        let no_client = Organization {
            issuer: "https://idp.example".into(),
            ..Organization::default()
        };
        let no_client = config
            .add_organization("x", &no_client)
            .unwrap_err()
            .to_string();
        assert!(no_client.contains("`clientId`"), "{no_client}");
    }

    #[test]
    fn removing_is_refused_while_servers_use_it_and_names_them() {
        let mut config = file(
            r#"{"mcpServers": {"wiki": {"url": "https://wiki.example/mcp", "auth": {"org": "acme"}},
                               "crm": {"url": "https://crm.example/mcp", "auth": {"type": "enterprise", "org": "acme"}}}}"#,
        );
        config.add_organization("acme", &acme()).unwrap();
        let refused = config.remove_organization("acme").unwrap_err().to_string();
        assert_eq!(
            refused,
            "organisation acme is used by crm, wiki — change or remove those servers first"
        );
        config.remove_server("wiki").unwrap();
        config.remove_server("crm").unwrap();
        config.remove_organization("acme").unwrap();
        assert!(!config.to_json_string().contains(ORGS_KEY));
        let unknown = config.remove_organization("acme").unwrap_err().to_string();
        assert!(
            unknown.contains("no organisation named acme") && unknown.contains("latch org add"),
            "{unknown}"
        );
    }

    #[test]
    fn the_secret_is_expanded_only_on_request_and_never_printed() {
        let mut secrets = std::collections::HashMap::new();
        secrets.insert("acme-idp".to_owned(), "s3cret".to_owned());
        assert_eq!(
            acme().resolved_secret(&secrets).unwrap().as_deref(),
            Some("s3cret")
        );
        assert!(!format!("{:?}", acme()).contains("acme-idp"));
    }
}
