//! Signing in and out of a server from the app (the browser, a device code, client
//! credentials), the client secrets the app stores, and keeping every sign-in fresh while the
//! app runs: the keeper's refusals mark the server as needing the person.

use std::sync::Arc;

use super::{
    AppError, AppEvent, AuthView, FlowInput, Latch, Result, ServerView, accounts, config_error,
    doctor, grant, grant_store, parse_account, watch_key,
};
use crate::{
    ConnectionState,
    auth::{self, AuthSettings, BrowserMode, Flow, NamedCredentials, SignInOptions},
    config::ServerConfig,
    keeper::KeeperTarget,
    secrets::{DEFAULT_ACCOUNT, TokenMetadata, credential_key},
};

impl Latch {
    /// Sign in to `name` (the browser, a device code or client credentials), then connect.
    /// `SignInUrl` / `DeviceCode` events tell the UI what to show meanwhile.
    ///
    /// `account` is the label of the account to sign in as ("Add another account"); once
    /// signed in, the app's connection uses it. `None` signs in again as the account in use
    /// (see [`Latch::use_account`]); `"default"` is the account without a label.
    pub async fn sign_in(
        &self,
        name: &str,
        flow: Option<FlowInput>,
        account: Option<String>,
    ) -> Result<ServerView> {
        let ServerConfig::Remote(remote) = self.server(name)? else {
            return Err(AppError::new(
                "noSignIn",
                format!("{name} runs on this computer: it needs no sign-in"),
            ));
        };
        let account = self.account_or_active(name, account)?;
        // No keychain and no consent to the file: say what to do before anyone signs in.
        self.check_writable()?;
        let settings =
            AuthSettings::from_server(name, &remote, &self.inner.secrets).map_err(config_error)?;
        self.drop_connection(name).await;
        let mut options =
            SignInOptions::new(grant_store(&self.inner.secrets, name, account.as_deref()));
        // The app opens the system browser itself (see the `SignInUrl` event), to tell the UI
        // whether it opened.
        options.browser = match self.inner.browser {
            BrowserMode::System => BrowserMode::Print,
            mode => mode,
        };
        options.events = self.inner.core_events.clone();
        options.secrets = Arc::new(self.inner.secrets.clone());
        options.flow = flow.map(|f| match f {
            FlowInput::Browser => Flow::Browser,
            FlowInput::Device => Flow::Device,
            FlowInput::ClientCredentials => Flow::ClientCredentials,
        });
        let challenge = self
            .inner
            .live
            .lock()
            .unwrap()
            .get(name)
            .and_then(|l| l.challenge.clone());
        self.set_state(name, ConnectionState::SigningIn);
        self.changed(name).await;
        let task = {
            let name = name.to_owned();
            let url = remote.url.clone();
            tokio::spawn(async move {
                auth::sign_in(&name, &url, &settings, challenge.as_deref(), &options).await
            })
        };
        if let Some(live) = self.inner.live.lock().unwrap().get_mut(name) {
            live.sign_in = Some(task.abort_handle());
        }
        let outcome = task.await;
        if let Some(live) = self.inner.live.lock().unwrap().get_mut(name) {
            live.sign_in = None;
        }
        let server = ServerConfig::Remote(remote);
        match outcome {
            Ok(Ok(signed_in)) => {
                if let Some(label) = account.clone() {
                    let secrets = self.inner.secrets.clone();
                    let owned = name.to_owned();
                    let added = tokio::task::spawn_blocking(move || {
                        crate::secrets::add_account(&secrets, &owned, &label)
                    })
                    .await;
                    if !matches!(added, Ok(Ok(()))) {
                        tracing::warn!(server = name, "could not add the account to the list");
                    }
                }
                self.set_active_account(name, account.as_deref());
                self.emit(AppEvent::SignInFinished {
                    server: name.to_owned(),
                    ok: true,
                    message: match &account {
                        Some(label) => format!("Signed in to {name} as {label}."),
                        None => format!("Signed in to {name}."),
                    },
                });
                self.record_doctor(doctor::report(
                    name,
                    &server,
                    self.grant(name).await.as_ref(),
                    doctor::Outcome::SignedIn {
                        issuer: signed_in.issuer,
                    },
                ));
                if let Some(live) = self.inner.live.lock().unwrap().get_mut(name) {
                    live.problem = None;
                }
                self.watch(name, account.as_deref(), &server);
                self.connect(name).await
            }
            Ok(Err(error)) => {
                self.record_doctor(doctor::report(
                    name,
                    &server,
                    self.grant(name).await.as_ref(),
                    doctor::Outcome::SignInFailed(&error),
                ));
                if let Some(live) = self.inner.live.lock().unwrap().get_mut(name) {
                    live.problem = Some(match &error {
                        auth::SignInError::ClientCredentials(e) => AuthView::SecretRejected {
                            message: e.to_string(),
                        },
                        e => AuthView::NeedsSignIn {
                            reason: e.to_string(),
                        },
                    });
                }
                self.finish_failed_sign_in(name, error.to_string()).await;
                Err(AppError::new("signIn", error))
            }
            Err(_) => {
                self.finish_failed_sign_in(name, "Sign-in cancelled.".to_owned())
                    .await;
                Err(AppError::new("cancelled", "Sign-in cancelled."))
            }
        }
    }

    /// The account a person named (`"default"`: the default account), else the one in use.
    fn account_or_active(&self, name: &str, account: Option<String>) -> Result<Option<String>> {
        match account {
            Some(label) => {
                parse_account(Some(label.trim())).map_err(|e| AppError::new("invalidAccount", e))
            }
            None => Ok(self.active_account(name)),
        }
    }

    async fn finish_failed_sign_in(&self, name: &str, message: String) {
        self.set_state(name, ConnectionState::NeedsSignIn);
        self.emit(AppEvent::SignInFinished {
            server: name.to_owned(),
            ok: false,
            message,
        });
        self.changed(name).await;
    }

    /// Stop a sign-in that waits for the person.
    pub fn cancel_sign_in(&self, name: &str) {
        if let Some(task) = self
            .inner
            .live
            .lock()
            .unwrap()
            .get_mut(name)
            .and_then(|l| l.sign_in.take())
        {
            task.abort();
        }
    }

    /// Sign out of `account` (`None`: the account in use): revoke at the sign-in server
    /// where it can, delete the tokens here. When it was the account in use, the connection
    /// moves to another signed-in account (the default one first), if any.
    pub async fn sign_out(&self, name: &str, account: Option<String>) -> Result<ServerView> {
        let ServerConfig::Remote(remote) = self.server(name)? else {
            return Err(AppError::new(
                "noSignIn",
                format!("{name} runs on this computer: it has no sign-in"),
            ));
        };
        let active = self.active_account(name);
        let account = self.account_or_active(name, account)?;
        let was_active = account == active;
        if was_active {
            self.drop_connection(name).await;
        }
        let store = grant_store(&self.inner.secrets, name, account.as_deref());
        let revocation = AuthSettings::from_server(name, &remote, &self.inner.secrets)
            .ok()
            .and_then(|s| s.revocation_url);
        auth::sign_out(&remote.url, revocation.as_deref(), &store)
            .await
            .map_err(|e| AppError::new("signOut", format!("Could not sign out of {name}: {e}")))?;
        if let Some(label) = account.clone() {
            let secrets = self.inner.secrets.clone();
            let owned = name.to_owned();
            let _ = tokio::task::spawn_blocking(move || {
                crate::secrets::remove_account(&secrets, &owned, &label)
            })
            .await;
        }
        self.inner
            .keeper
            .forget(&watch_key(name, account.as_deref()));
        if !was_active {
            return self.publish(name).await;
        }
        let next = self.accounts_of(name).await.into_iter().next();
        self.set_active_account(name, next.as_deref());
        if let Some(live) = self.inner.live.lock().unwrap().get_mut(name) {
            live.problem = None;
            live.challenge = None;
        }
        self.set_state(name, ConnectionState::Disconnected);
        self.publish(name).await
    }

    /// Store a client id and secret under `name` (shared by every server naming them).
    pub async fn set_credentials(&self, name: &str, client_id: &str, secret: &str) -> Result<()> {
        if name.trim().is_empty() || client_id.trim().is_empty() || secret.trim().is_empty() {
            return Err(AppError::new(
                "invalidCredentials",
                "Fill in both the client ID and the client secret.",
            ));
        }
        self.check_writable()?;
        let document = NamedCredentials::with_secret(client_id.trim(), secret.trim())
            .map_err(|reason| AppError::new("invalidCredentials", reason))?
            .to_json();
        let store = self.inner.secrets.clone();
        let key = credential_key(name);
        tokio::task::spawn_blocking(move || store.put(&key, document.as_bytes()))
            .await
            .map_err(|e| AppError::new("secrets", e))?
            .map_err(|e| AppError::new("secrets", e))?;
        // Servers whose secret was refused can try again.
        for live in self.inner.live.lock().unwrap().values_mut() {
            if matches!(live.problem, Some(AuthView::SecretRejected { .. })) {
                live.problem = None;
            }
        }
        Ok(())
    }

    /// Keeps `value` in the keychain as the secret `name`, for a `${secret:NAME}` placeholder in
    /// the servers file (a server's client secret given in the add dialog).
    pub async fn set_secret(&self, name: &str, value: &str) -> Result<()> {
        if name.trim().is_empty() || value.trim().is_empty() {
            return Err(AppError::new(
                "invalidSecret",
                "Give the secret a name and a value.",
            ));
        }
        self.check_writable()?;
        let store = self.inner.secrets.clone();
        let key = crate::secrets::secret_key(name.trim());
        let value = value.trim().to_owned();
        tokio::task::spawn_blocking(move || store.put(&key, value.as_bytes()))
            .await
            .map_err(|e| AppError::new("secrets", e))?
            .map_err(|e| AppError::new("secrets", e))
    }

    /// The sign-in the app's connection to `name` uses (that of the account in use).
    pub(super) async fn grant(&self, name: &str) -> Option<TokenMetadata> {
        let store = grant(
            &self.inner.secrets,
            name,
            self.active_account(name).as_deref(),
        );
        tokio::task::spawn_blocking(move || store.metadata().ok().flatten())
            .await
            .ok()
            .flatten()
            .filter(|m| m.has_access_token)
    }

    /// Servers that need the person (for the tray), with why.
    pub fn needing_attention(&self) -> Vec<(String, String)> {
        self.inner
            .live
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(name, live)| match &live.problem {
                Some(AuthView::NeedsSignIn { reason }) => Some((name.clone(), reason.clone())),
                Some(AuthView::SecretRejected { message }) => Some((name.clone(), message.clone())),
                _ => None,
            })
            .collect()
    }

    /// Mark `name` as needing a sign-in (the keeper's refresh was refused) and tell the UI.
    pub async fn mark_needs_sign_in(&self, name: &str, reason: &str) {
        self.drop_connection(name).await;
        {
            let mut live = self.inner.live.lock().unwrap();
            let live = live.entry(name.to_owned()).or_default();
            live.problem = Some(AuthView::NeedsSignIn {
                reason: reason.to_owned(),
            });
            live.state = Some(ConnectionState::NeedsSignIn);
        }
        self.emit(AppEvent::Attention {
            server: name.to_owned(),
            message: format!("{name} needs you to sign in again: {reason}"),
        });
        self.changed(name).await;
    }

    /// Keep every remote server's sign-in fresh (the keeper skips those without one).
    pub(super) fn watch_all(&self) {
        let Ok(config) = self.load_config() else {
            return;
        };
        for (name, server) in config.servers() {
            if !matches!(server, ServerConfig::Remote(_)) {
                continue;
            }
            self.watch(&name, None, &server);
            for account in accounts(&self.inner.secrets, &name) {
                if account != DEFAULT_ACCOUNT {
                    self.watch(&name, Some(&account), &server);
                }
            }
        }
    }

    /// Keep the grant of `name`'s `account` fresh, under the keeper name [`watch_key`].
    pub(super) fn watch(&self, name: &str, account: Option<&str>, server: &ServerConfig) {
        let ServerConfig::Remote(remote) = server else {
            return;
        };
        match KeeperTarget::for_server(
            name,
            remote,
            grant_store(&self.inner.secrets, name, account),
            Arc::new(self.inner.secrets.clone()),
        ) {
            Ok(target) => self.inner.keeper.watch(watch_key(name, account), target),
            Err(error) => tracing::debug!(server = name, %error, "not kept fresh"),
        }
    }

    /// The tray's "Refresh now".
    pub async fn refresh_now(&self) {
        self.inner.keeper.refresh_now();
    }
}
