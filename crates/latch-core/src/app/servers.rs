//! The servers of the config as the app shows them: adding, editing and removing an entry,
//! the bundled demo server on a first run, and the card ([`ServerView`]) of each server, built
//! from its entry, its stored sign-in and what the live connection knows.

use serde_json::{Map, Value};

use super::{
    AccountView, AppError, AppEvent, AuthView, Latch, Result, ServerEntryInput, ServerKind,
    ServerView, SignInKind, accounts, config_error, grant, grant_store, signs_in_unattended,
    watch_key,
};
use crate::{
    ConnectionState,
    auth::{self, AuthSettings},
    config::{CommandServer, ConfigError, ConfigFile, RemoteServer, ServerConfig, TransportKind},
    secrets::DEFAULT_ACCOUNT,
};

impl Latch {
    /// Every server of the config, as cards.
    pub async fn list_servers(&self) -> Result<Vec<ServerView>> {
        let config = self.load_config()?;
        let mut views = Vec::new();
        for (name, server) in config.servers() {
            views.push(self.view(&name, &server).await);
        }
        Ok(views)
    }

    /// The card of one server.
    pub async fn server_view(&self, name: &str) -> Result<ServerView> {
        let server = self.server(name)?;
        Ok(self.view(name, &server).await)
    }

    /// Add a server. Fails when the name is taken or the entry is unusable.
    pub async fn add_server(&self, name: &str, entry: ServerEntryInput) -> Result<ServerView> {
        let server = entry_to_config(name, entry)?;
        ConfigFile::edit(&self.inner.config_path, |config| {
            config.add_server(name, server.clone())
        })
        .map_err(config_error)?;
        self.emit(AppEvent::ServersChanged);
        Ok(self.view(name, &server).await)
    }

    /// Replace a server's entry (its sign-in stays); reconnects on next use.
    pub async fn update_server(&self, name: &str, entry: ServerEntryInput) -> Result<ServerView> {
        let mut server = entry_to_config(name, entry)?;
        ConfigFile::edit(&self.inner.config_path, |config| {
            // Keep what the dialog does not edit (unknown keys, env, cwd).
            match (config.server(name)?, &mut server) {
                (ServerConfig::Remote(old), ServerConfig::Remote(new)) => new.extra = old.extra,
                (ServerConfig::Command(old), ServerConfig::Command(new)) => {
                    new.extra = old.extra;
                    new.env = old.env;
                    new.cwd = old.cwd;
                }
                _ => {}
            }
            config.upsert_server(name, server.clone())
        })
        .map_err(config_error)?;
        self.drop_connection(name).await;
        let view = self.view(name, &server).await;
        self.emit(AppEvent::ServerChanged {
            server: view.clone(),
        });
        Ok(view)
    }

    /// Remove a server: close its connection, delete its sign-in and its history.
    pub async fn remove_server(&self, name: &str) -> Result<()> {
        let server = self.server(name)?;
        self.drop_connection(name).await;
        let mut signed_in = self.accounts_of(name).await;
        if !signed_in.iter().any(|a| a == DEFAULT_ACCOUNT) {
            signed_in.push(DEFAULT_ACCOUNT.to_owned());
        }
        if let ServerConfig::Remote(remote) = &server {
            // Revoke where possible; the entry (with its client registration) goes either way.
            let revocation = AuthSettings::from_server(name, remote, &self.inner.secrets)
                .ok()
                .and_then(|s| s.revocation_url);
            for account in &signed_in {
                let store = grant_store(&self.inner.secrets, name, Some(account));
                if let Err(reason) =
                    auth::sign_out(&remote.url, revocation.as_deref(), &store).await
                {
                    tracing::warn!(server = name, account, %reason, "could not remove the sign-in of a removed server");
                }
                if let Err(reason) = store.clear().await {
                    tracing::warn!(server = name, account, %reason, "could not delete the registration of a removed server");
                }
            }
            let secrets = self.inner.secrets.clone();
            let owned = name.to_owned();
            let _ = tokio::task::spawn_blocking(move || {
                crate::secrets::clear_accounts(&secrets, &owned)
            })
            .await;
        }
        // Under the file's lock, after the slow part (another program may have removed it).
        ConfigFile::edit(&self.inner.config_path, |config| {
            if config.contains(name) {
                config.remove_server(name)?;
            }
            Ok::<_, ConfigError>(())
        })
        .map_err(config_error)?;
        for account in &signed_in {
            self.inner.keeper.forget(&watch_key(name, Some(account)));
        }
        self.inner.active_accounts.lock().unwrap().remove(name);
        self.inner.live.lock().unwrap().remove(name);
        self.inner.doctor.lock().unwrap().remove(name);
        let history = self.inner.history.clone();
        let owned = name.to_owned();
        let _ = tokio::task::spawn_blocking(move || history.remove_server(&owned)).await;
        self.emit(AppEvent::ServersChanged);
        Ok(())
    }

    /// On the first run (no servers file yet), add the bundled demo server so a newcomer has
    /// something to connect to. Returns whether it was added.
    pub fn ensure_demo(&self, url: &str) -> Result<bool> {
        let path = &self.inner.config_path;
        if path.exists() {
            return Ok(false);
        }
        ConfigFile::edit(path, |config| {
            // Another program may have written the first file meanwhile.
            if path.exists() {
                return Ok(false);
            }
            config.add_server("demo", ServerConfig::remote(url))?;
            Ok(true)
        })
        .map_err(config_error)
    }

    pub(super) async fn view(&self, name: &str, server: &ServerConfig) -> ServerView {
        let grant = match server {
            ServerConfig::Remote(_) => self.grant(name).await,
            ServerConfig::Command(_) => None,
        };
        let active = self.active_account(name);
        let accounts = match server {
            ServerConfig::Remote(_) => self.account_views(name, active.as_deref()).await,
            ServerConfig::Command(_) => Vec::new(),
        };
        let has_grant = grant.is_some();
        let (state, tool_count, server_info, problem, open) = {
            let live = self.inner.live.lock().unwrap();
            match live.get(name) {
                Some(l) => (
                    l.state.clone().unwrap_or(ConnectionState::Disconnected),
                    l.tool_count,
                    l.server_info.clone(),
                    l.problem.clone(),
                    l.open,
                ),
                None => (ConnectionState::Disconnected, None, None, None, false),
            }
        };
        let auth = match (problem, grant) {
            (Some(problem @ AuthView::SecretRejected { .. }), _) => problem,
            (_, Some(grant)) => AuthView::SignedIn {
                expires_at: grant.expires_at,
                scopes: grant.scopes,
                issuer: grant.issuer,
                account: Some(active.clone().unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned())),
                refreshable: grant.has_refresh_token,
            },
            (Some(problem), None) => problem,
            (None, None) if state == ConnectionState::NeedsSignIn => AuthView::NeedsSignIn {
                reason: "The server asks for a sign-in.".to_owned(),
            },
            (None, None) => AuthView::None,
        };
        let (target, host, kind, transport) = match server {
            ServerConfig::Remote(remote) => (
                remote.url.clone(),
                url::Url::parse(&remote.url)
                    .ok()
                    .and_then(|u| {
                        u.host_str().map(|h| match u.port() {
                            Some(p) => format!("{h}:{p}"),
                            None => h.to_owned(),
                        })
                    })
                    .unwrap_or_else(|| remote.url.clone()),
                ServerKind::Remote,
                remote.transport.as_str().to_owned(),
            ),
            ServerConfig::Command(command) => (
                std::iter::once(command.command.as_str())
                    .chain(command.args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                command.command.clone(),
                ServerKind::Command,
                "stdio".to_owned(),
            ),
        };
        let sign_in = match server {
            ServerConfig::Command(_) => SignInKind::None,
            ServerConfig::Remote(remote) => {
                if signs_in_unattended(&self.inner.secrets, name, server) {
                    SignInKind::ClientCredentials
                } else if !remote.headers.is_empty() && remote.auth.is_none() {
                    SignInKind::Headers
                } else if open && !has_grant {
                    SignInKind::None
                } else {
                    SignInKind::Oauth
                }
            }
        };
        let credentials = match server {
            ServerConfig::Remote(remote) => remote
                .auth
                .as_ref()
                .and_then(|a| a.get("credentials"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            ServerConfig::Command(_) => None,
        };
        let demo = matches!(
            (server, &self.inner.demo_url),
            (ServerConfig::Remote(r), Some(demo)) if &r.url == demo
        );
        ServerView {
            name: name.to_owned(),
            target,
            host,
            kind,
            transport,
            state,
            auth,
            sign_in,
            credentials,
            tool_count,
            server_info,
            demo,
            accounts,
        }
    }

    /// The accounts signed in to `name`, for its card.
    async fn account_views(&self, name: &str, active: Option<&str>) -> Vec<AccountView> {
        let secrets = self.inner.secrets.clone();
        let owned = name.to_owned();
        let active = active.unwrap_or(DEFAULT_ACCOUNT).to_owned();
        tokio::task::spawn_blocking(move || {
            accounts(&secrets, &owned)
                .into_iter()
                .map(|label| {
                    let meta = grant(&secrets, &owned, Some(&label))
                        .metadata()
                        .ok()
                        .flatten();
                    AccountView {
                        active: label == active,
                        expires_at: meta.as_ref().and_then(|m| m.expires_at),
                        scopes: meta.as_ref().map(|m| m.scopes.clone()).unwrap_or_default(),
                        issuer: meta.as_ref().and_then(|m| m.issuer.clone()),
                        refreshable: meta.as_ref().is_some_and(|m| m.has_refresh_token),
                        signed_in: meta.as_ref().is_some_and(|m| m.has_access_token),
                        label,
                    }
                })
                .collect()
        })
        .await
        .unwrap_or_default()
    }
}

/// The dialog's `protocol` (none or empty: `auto`).
fn protocol_choice(protocol: Option<&str>) -> Result<crate::config::ProtocolChoice> {
    match protocol {
        None | Some("") => Ok(Default::default()),
        Some(p) => p
            .parse()
            .map_err(|e: String| AppError::new("invalidServer", e)),
    }
}

/// The dialog's entry as a config entry, checked.
fn entry_to_config(name: &str, entry: ServerEntryInput) -> Result<ServerConfig> {
    crate::config::validate_name(name).map_err(config_error)?;
    let server = match (entry.url, entry.command) {
        (Some(url), None) if !url.trim().is_empty() => {
            let transport = match entry.transport.as_deref() {
                None | Some("") => TransportKind::Auto,
                Some(t) => t
                    .parse()
                    .map_err(|e: String| AppError::new("invalidServer", e))?,
            };
            ServerConfig::Remote(RemoteServer {
                protocol: protocol_choice(entry.protocol.as_deref())?,
                url: url.trim().to_owned(),
                headers: entry
                    .headers
                    .into_iter()
                    .filter(|h| !h.name.trim().is_empty())
                    .map(|h| (h.name.trim().to_owned(), h.value))
                    .collect(),
                transport,
                auth: entry.auth.filter(|a| !a.is_null()),
                extra: Map::new(),
            })
        }
        (None, Some(command)) if !command.trim().is_empty() => {
            ServerConfig::Command(CommandServer {
                command: command.trim().to_owned(),
                args: entry.args,
                protocol: protocol_choice(entry.protocol.as_deref())?,
                ..CommandServer::default()
            })
        }
        _ => {
            return Err(AppError::new(
                "invalidServer",
                "Give either the server's address (URL) or the command that starts it.",
            ));
        }
    };
    server.validate(name).map_err(config_error)?;
    Ok(server)
}
