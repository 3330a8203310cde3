//! Organisations in the app (enterprise-managed authorization): the companies whose identity
//! provider signs the person in to servers, as the settings page and the add dialog's "Sign in
//! with your company" choice show and change them. One sign-in at the company covers every
//! server whose `auth.org` names it; the views carry sign-in *metadata* only, never a token.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AppError, Latch, Result};
use crate::{
    auth::{self, AuthSettings, BrowserMode, OrgSignInOptions, SignInOptions},
    config::{ConfigFile, OrgError, Organization, ServerConfig},
    secrets::secret_key,
};

/// One organisation as the app shows it.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrgView {
    pub name: String,
    /// The identity provider's issuer URL.
    pub issuer: String,
    /// Latch's client id there (or its Client ID Metadata Document URL).
    pub client_id: Option<String>,
    /// The servers whose `auth.org` names it.
    pub servers: Vec<String>,
    /// Whether the person is signed in to the company on this computer.
    pub signed_in: bool,
    /// When the company's ID token ends (Unix seconds), when signed in and it says.
    #[ts(type = "number | null")]
    pub expires_at: Option<u64>,
    /// The sign-in outlives the ID token (the identity provider gave a refresh token).
    pub renewable: bool,
    /// What is wrong, in one line, if anything (its entry does not read, the store fails).
    pub problem: Option<String>,
}

/// A new organisation from the settings page.
#[derive(Debug, Clone, Deserialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrgInput {
    /// Letters, digits, `.`, `_`, `-`.
    pub name: String,
    pub issuer: String,
    /// Latch's pre-registered client id at the identity provider…
    pub client_id: Option<String>,
    /// …and its secret, kept in the keychain (the servers file gets `${secret:org-NAME}`).
    pub client_secret: Option<String>,
    /// Or a Client ID Metadata Document URL as the client id.
    pub client_metadata_url: Option<String>,
    /// Scopes to ask for besides `openid`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

fn org_error(error: OrgError) -> AppError {
    let kind = match &error {
        OrgError::Unknown { .. } => "unknownOrg",
        OrgError::AlreadyExists { .. } => "orgExists",
        OrgError::InUse { .. } => "orgInUse",
        _ => "invalidOrg",
    };
    AppError::new(kind, error)
}

impl Latch {
    fn orgs_config(&self) -> Result<ConfigFile> {
        ConfigFile::load(&self.inner.config_path).map_err(|e| AppError::new("config", e))
    }

    /// The organisations, with who uses each and whether the person is signed in.
    pub fn orgs(&self) -> Result<Vec<OrgView>> {
        let config = self.orgs_config()?;
        let orgs = config.organizations().map_err(org_error)?;
        Ok(orgs
            .into_iter()
            .map(|(name, org)| self.org_view(&config, &name, &org))
            .collect())
    }

    fn org_view(&self, config: &ConfigFile, name: &str, org: &Organization) -> OrgView {
        let (status, problem) = match auth::org_status(&self.inner.secrets, name) {
            Ok(status) => (status, None),
            Err(error) => (None, Some(error.to_string())),
        };
        OrgView {
            name: name.to_owned(),
            issuer: org.issuer.clone(),
            client_id: org.effective_client_id().map(str::to_owned),
            servers: config.servers_using_org(name),
            signed_in: status.is_some(),
            expires_at: status.as_ref().and_then(|s| s.id_token_expires_at),
            renewable: status.is_some_and(|s| s.renewable),
            problem,
        }
    }

    /// Add an organisation; its client secret, if given, goes to the keychain.
    pub fn add_org(&self, input: OrgInput) -> Result<OrgView> {
        let name = input.name.trim().to_owned();
        let secret_name = format!("org-{name}");
        let secret = input.client_secret.filter(|s| !s.trim().is_empty());
        let org = Organization {
            issuer: input.issuer.trim().to_owned(),
            client_id: input.client_id.filter(|s| !s.trim().is_empty()),
            client_secret: secret
                .as_ref()
                .map(|_| format!("${{secret:{secret_name}}}")),
            client_metadata_url: input.client_metadata_url.filter(|s| !s.trim().is_empty()),
            scopes: input.scopes,
        };
        crate::config::validate_name(&name).map_err(|e| AppError::new("invalidOrg", e))?;
        org.check(&name).map_err(org_error)?;
        if let Some(secret) = &secret {
            self.check_writable()?;
            self.inner
                .secrets
                .put(&secret_key(&secret_name), secret.trim().as_bytes())
                .map_err(|e| AppError::new("secrets", e))?;
        }
        ConfigFile::edit(&self.inner.config_path, |config| {
            config.add_organization(&name, &org)
        })
        .map_err(org_error)?;
        let config = self.orgs_config()?;
        Ok(self.org_view(&config, &name, &org))
    }

    /// Remove an organisation (refused while servers use it, naming them) and forget its
    /// sign-in and stored client secret.
    pub fn remove_org(&self, name: &str) -> Result<()> {
        let org = ConfigFile::edit(&self.inner.config_path, |config| {
            let org = config.organization(name)?;
            config.remove_organization(name)?;
            Ok::<_, OrgError>(org)
        })
        .map_err(org_error)?;
        auth::sign_out_org(&self.inner.secrets, name).map_err(|e| AppError::new("secrets", e))?;
        if org.client_secret.as_deref() == Some(&format!("${{secret:org-{name}}}")) {
            let _ = self
                .inner
                .secrets
                .delete(&secret_key(&format!("org-{name}")));
        }
        Ok(())
    }

    /// Sign in to the company in the browser (a `SignInUrl` event names the page, as for the
    /// other sign-ins), then to every server of the organisation with no browser. A server
    /// that fails shows its own problem; the company sign-in stands.
    pub async fn sign_in_org(&self, name: &str) -> Result<OrgView> {
        let config = self.orgs_config()?;
        let org = config.organization(name).map_err(org_error)?;
        self.check_writable()?;
        let mut options = OrgSignInOptions::new(self.inner.secrets.clone());
        // The app opens the system browser itself (the `SignInUrl` event).
        options.browser = match self.inner.browser {
            BrowserMode::System => BrowserMode::Print,
            mode => mode,
        };
        options.events = self.inner.core_events.clone();
        auth::sign_in_org(name, &org, &options)
            .await
            .map_err(|e| AppError::new("orgSignIn", e))?;
        for server in config.servers_using_org(name) {
            let Ok(ServerConfig::Remote(remote)) = config.server(&server) else {
                continue;
            };
            let Ok(settings) = AuthSettings::from_server(&server, &remote, &self.inner.secrets)
            else {
                continue;
            };
            let mut options =
                SignInOptions::new(super::grant_store(&self.inner.secrets, &server, None));
            options.secrets = Arc::new(self.inner.secrets.clone());
            options.events = self.inner.core_events.clone();
            if let Err(error) = auth::sign_in(&server, &remote.url, &settings, None, &options).await
            {
                tracing::info!(server, org = name, %error, "signing in through the company failed");
            }
        }
        Ok(self.org_view(&config, name, &org))
    }

    /// Forget the company sign-in (its servers' tokens stay until they end).
    pub fn sign_out_org(&self, name: &str) -> Result<OrgView> {
        let config = self.orgs_config()?;
        let org = config.organization(name).map_err(org_error)?;
        auth::sign_out_org(&self.inner.secrets, name).map_err(|e| AppError::new("secrets", e))?;
        Ok(self.org_view(&config, name, &org))
    }
}
