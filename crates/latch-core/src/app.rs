//! Latch as the desktop app uses it: one object that owns the live connections, the sign-ins
//! in progress, the running calls, the call history and the doctor's reports, and turns all of
//! it into the plain views and events of [`dto`]. The Tauri shell's commands are one-liners
//! over [`Latch`]; everything that decides anything is here, testable without a webview.

mod access;
mod agents;
mod doctor;
pub mod dto;
mod host;
mod presets;
mod probe;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Instant,
};

use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use access::{
    accounts, connect_options, connect_options_for, grant, grant_store, parse_account,
    signs_in_unattended, split_watch_key, watch_key,
};
pub use agents::find_latch_binary;
pub use dto::*;
pub use host::AppHost;
pub use presets::{MADGICX_CREDENTIALS, presets};
pub use probe::probe;

use crate::{
    CallError, CallOptions, ConnectError, Connection, ConnectionState, Event, EventBus, ToolView,
    auth::{self, AuthSettings, BrowserMode, Flow, NamedCredentials, SignInOptions},
    config::{
        CommandServer, ConfigError, ConfigFile, ExternalApp, RemoteServer, ServerConfig,
        TransportKind,
    },
    connection::ServerInfoView,
    history::History,
    keeper::{Keeper, KeeperTarget},
    secrets::{DEFAULT_ACCOUNT, SecretStore, TokenMetadata, credential_key},
};

/// What the app needs to start Latch.
pub struct LatchOptions {
    /// The servers file.
    pub config_path: PathBuf,
    pub secrets: SecretStore,
    pub history: History,
    /// How sign-in pages are opened (the system browser in the app).
    pub browser: BrowserMode,
    /// The URL of the bundled demo server, if the app runs one.
    pub demo_url: Option<String>,
}

/// The app's Latch. Cheap to clone.
#[derive(Clone)]
pub struct Latch {
    inner: Arc<Inner>,
}

struct Inner {
    config_path: PathBuf,
    secrets: SecretStore,
    history: History,
    browser: BrowserMode,
    demo_url: Option<String>,
    /// Core events of every connection and sign-in.
    core_events: EventBus,
    /// What the UI hears.
    events: broadcast::Sender<AppEvent>,
    host: Arc<AppHost>,
    live: Mutex<HashMap<String, Live>>,
    /// One connect or sign-in at a time per server.
    busy: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    calls: Mutex<HashMap<String, CancellationToken>>,
    doctor: Mutex<HashMap<String, DoctorReport>>,
    /// The account each server's connection uses, when not the default one.
    active_accounts: Mutex<HashMap<String, String>>,
    /// Refreshes every sign-in ahead of expiry while the app runs (the tray's job).
    keeper: Keeper,
}

/// What Latch knows of one server while the app runs.
#[derive(Default)]
struct Live {
    connection: Option<Arc<Connection>>,
    state: Option<ConnectionState>,
    tool_count: Option<u32>,
    server_info: Option<ServerInfoView>,
    /// Why the server needs the person, when it does.
    problem: Option<AuthView>,
    /// The server's last 401 challenge (names the scopes to ask for).
    challenge: Option<String>,
    sign_in: Option<tokio::task::AbortHandle>,
    /// The server answered without a token: it needs no sign-in (until it says otherwise).
    open: bool,
}

type Result<T> = std::result::Result<T, AppError>;

/// The [`AppError`] kind of a sign-in (or a secret) refused because no keychain runs and the
/// person has not agreed to keep sign-ins in a file: the UI offers that choice.
pub const KEYCHAIN_UNAVAILABLE: &str = "keychainUnavailable";

impl Latch {
    /// Latch over the files and store of this machine (`LATCH_HOME`, `LATCH_TOKEN_STORE`).
    pub fn open_default(browser: BrowserMode, demo_url: Option<String>) -> Result<Latch> {
        let secrets = SecretStore::open().map_err(|e| AppError::new("secrets", e))?;
        Ok(Self::new(LatchOptions {
            config_path: crate::config::default_path(),
            secrets,
            history: History::default_location(),
            browser,
            demo_url,
        }))
    }

    /// Must be called inside a Tokio runtime: it starts the task that turns core events
    /// into UI events.
    pub fn new(options: LatchOptions) -> Latch {
        let (events, _) = broadcast::channel(512);
        let core_events = EventBus::new();
        let latch = Latch {
            inner: Arc::new(Inner {
                config_path: options.config_path,
                secrets: options.secrets,
                history: options.history,
                browser: options.browser,
                demo_url: options.demo_url,
                host: AppHost::new(events.clone()),
                events,
                live: Mutex::default(),
                busy: Mutex::default(),
                calls: Mutex::default(),
                doctor: Mutex::default(),
                active_accounts: Mutex::default(),
                keeper: Keeper::start(core_events.clone()),
                core_events,
            }),
        };
        latch.forward_core_events();
        latch.watch_all();
        latch
    }

    /// Listen to what the UI should hear.
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.inner.events.subscribe()
    }

    /// The core events (for the tray and the keeper).
    pub fn core_events(&self) -> &EventBus {
        &self.inner.core_events
    }

    pub fn secrets(&self) -> &SecretStore {
        &self.inner.secrets
    }

    fn emit(&self, event: AppEvent) {
        let _ = self.inner.events.send(event);
    }

    /// A browser sign-in waits at `url`: open it (when the app opens browsers) and tell the
    /// UI whether the browser opened, so it can show the link instead.
    fn open_sign_in_page(&self, server: String, url: String) {
        if self.inner.browser != BrowserMode::System {
            self.emit(AppEvent::SignInUrl {
                server,
                url,
                browser: BrowserOpen::NotOpened,
            });
            return;
        }
        self.emit(AppEvent::SignInUrl {
            server: server.clone(),
            url: url.clone(),
            browser: BrowserOpen::Opening,
        });
        let latch = self.clone();
        tokio::spawn(async move {
            let browser = if host::open_browser(&url).await {
                BrowserOpen::Opened
            } else {
                BrowserOpen::NotOpened
            };
            latch.emit(AppEvent::SignInUrl {
                server,
                url,
                browser,
            });
        });
    }

    fn load_config(&self) -> Result<ConfigFile> {
        ConfigFile::load(&self.inner.config_path).map_err(config_error)
    }

    fn server(&self, name: &str) -> Result<ServerConfig> {
        self.load_config()?.server(name).map_err(config_error)
    }

    // ---- servers ----

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

    // ---- connections ----

    /// Connect (if not connected) and report the card.
    pub async fn connect(&self, name: &str) -> Result<ServerView> {
        self.connection(name).await?;
        self.server_view(name).await
    }

    /// Close the connection.
    pub async fn disconnect(&self, name: &str) -> Result<ServerView> {
        self.drop_connection(name).await;
        self.set_state(name, ConnectionState::Disconnected);
        let view = self.server_view(name).await?;
        self.emit(AppEvent::ServerChanged {
            server: view.clone(),
        });
        Ok(view)
    }

    async fn drop_connection(&self, name: &str) {
        let connection = self
            .inner
            .live
            .lock()
            .unwrap()
            .get_mut(name)
            .and_then(|live| {
                live.tool_count = None;
                live.connection.take()
            });
        if let Some(connection) = connection {
            match Arc::try_unwrap(connection) {
                Ok(connection) => connection.close().await,
                // A call still holds it; it closes when that call ends.
                Err(_) => tracing::debug!(server = name, "connection dropped while in use"),
            }
        }
    }

    fn busy_lock(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.inner
            .busy
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    /// The live connection to `name`, made now when there is none.
    async fn connection(&self, name: &str) -> Result<Arc<Connection>> {
        let lock = self.busy_lock(name);
        let _guard = lock.lock().await;
        if let Some(connection) = self.live_connection(name) {
            return Ok(connection);
        }
        let server = self.server(name)?;
        let account = self.active_account(name);
        let mut options =
            connect_options_for(&self.inner.secrets, name, account.as_deref(), &server);
        options.events = self.inner.core_events.clone();
        options.host = self.inner.host.clone();
        options.connect_attempts = 2;
        let result = Connection::connect(name, &server, options).await;
        let grant = self.grant(name).await;
        match result {
            Ok(connection) => {
                let connection = Arc::new(connection);
                let tools = connection.list_tools().await;
                let (count, tools_error) = match &tools {
                    Ok(tools) => (Some(tools.len()), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    live.connection = Some(connection.clone());
                    live.tool_count = count.map(|n| n as u32);
                    live.server_info = Some(connection.server_info());
                    live.problem = None;
                    live.challenge = None;
                    live.open = grant.is_none();
                }
                self.record_doctor(doctor::report(
                    name,
                    &server,
                    grant.as_ref(),
                    doctor::Outcome::Connected {
                        transport: connection.transport().to_string(),
                        tools: count,
                        tools_error,
                    },
                ));
                self.changed(name).await;
                Ok(connection)
            }
            Err(error) => {
                {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    live.problem = problem_of(&error);
                    live.open = false;
                    if let ConnectError::AuthRequired { challenge, .. } = &error {
                        live.challenge = challenge.clone();
                    }
                }
                self.record_doctor(doctor::report(
                    name,
                    &server,
                    grant.as_ref(),
                    doctor::Outcome::ConnectFailed(&error),
                ));
                self.changed(name).await;
                Err(connect_error(name, &error))
            }
        }
    }

    fn live_connection(&self, name: &str) -> Option<Arc<Connection>> {
        self.inner
            .live
            .lock()
            .unwrap()
            .get(name)
            .and_then(|l| l.connection.clone())
            // A connection whose transport ended (the server restarted, the network dropped)
            // is not live: the next use connects again.
            .filter(|c| !c.is_closed())
    }

    fn set_state(&self, name: &str, state: ConnectionState) {
        self.inner
            .live
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .state = Some(state);
    }

    /// Publish the card of `name` again.
    async fn changed(&self, name: &str) {
        if let Ok(view) = self.server_view(name).await {
            self.emit(AppEvent::ServerChanged { server: view });
        }
    }

    // ---- sign-in ----

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
        let account = match account {
            Some(label) => {
                parse_account(Some(label.trim())).map_err(|e| AppError::new("invalidAccount", e))?
            }
            None => self.active_account(name),
        };
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
        let account = match account {
            Some(label) => {
                parse_account(Some(label.trim())).map_err(|e| AppError::new("invalidAccount", e))?
            }
            None => active.clone(),
        };
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
            let view = self.server_view(name).await?;
            self.emit(AppEvent::ServerChanged {
                server: view.clone(),
            });
            return Ok(view);
        }
        let next = self.accounts_of(name).await.into_iter().next();
        self.set_active_account(name, next.as_deref());
        if let Some(live) = self.inner.live.lock().unwrap().get_mut(name) {
            live.problem = None;
            live.challenge = None;
        }
        self.set_state(name, ConnectionState::Disconnected);
        let view = self.server_view(name).await?;
        self.emit(AppEvent::ServerChanged {
            server: view.clone(),
        });
        Ok(view)
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

    /// The sign-in the app's connection to `name` uses (that of the account in use).
    async fn grant(&self, name: &str) -> Option<TokenMetadata> {
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

    // ---- accounts ----

    /// The account the app's connection to `name` uses; `None` is the default account.
    pub fn active_account(&self, name: &str) -> Option<String> {
        self.inner
            .active_accounts
            .lock()
            .unwrap()
            .get(name)
            .cloned()
    }

    fn set_active_account(&self, name: &str, account: Option<&str>) {
        let mut active = self.inner.active_accounts.lock().unwrap();
        match account {
            Some(label) if label != DEFAULT_ACCOUNT => {
                active.insert(name.to_owned(), label.to_owned());
            }
            _ => {
                active.remove(name);
            }
        }
    }

    /// The labels signed in to `name`, the default account first.
    async fn accounts_of(&self, name: &str) -> Vec<String> {
        let secrets = self.inner.secrets.clone();
        let owned = name.to_owned();
        tokio::task::spawn_blocking(move || accounts(&secrets, &owned))
            .await
            .unwrap_or_default()
    }

    /// Make the app's connection to `name` use `account` (`None` or `"default"`: the default
    /// account), which must be signed in; remembered while the app runs. Reconnects with it.
    pub async fn use_account(&self, name: &str, account: Option<String>) -> Result<ServerView> {
        let account = parse_account(account.as_deref().map(str::trim))
            .map_err(|e| AppError::new("invalidAccount", e))?;
        let label = account.as_deref().unwrap_or(DEFAULT_ACCOUNT);
        if !self.accounts_of(name).await.iter().any(|a| a == label) {
            return Err(AppError::new(
                "unknownAccount",
                format!(
                    "{name} has no account “{label}” signed in — add it with “Add another account”."
                ),
            ));
        }
        if self.active_account(name) == account {
            return self.server_view(name).await;
        }
        let lock = self.busy_lock(name);
        {
            let _guard = lock.lock().await;
            self.drop_connection(name).await;
            self.set_active_account(name, account.as_deref());
            let mut live = self.inner.live.lock().unwrap();
            let live = live.entry(name.to_owned()).or_default();
            live.problem = None;
            live.challenge = None;
            live.open = false;
            live.server_info = None;
            live.state = Some(ConnectionState::Disconnected);
        }
        // The card shows the outcome (connected, or needs sign-in); either is a good answer.
        if let Err(error) = self.connection(name).await {
            tracing::debug!(server = name, %error, "could not connect with the chosen account");
        }
        let view = self.server_view(name).await?;
        self.emit(AppEvent::ServerChanged {
            server: view.clone(),
        });
        Ok(view)
    }

    // ---- tools ----

    /// The server's tools (connecting first when needed).
    pub async fn list_tools(&self, name: &str) -> Result<Vec<ToolView>> {
        let connection = self.connection(name).await?;
        match connection.list_tools().await {
            Ok(tools) => {
                let count = tools.len() as u32;
                let changed = {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    let changed = live.tool_count != Some(count);
                    live.tool_count = Some(count);
                    changed
                };
                if changed {
                    self.changed(name).await;
                }
                Ok(tools.as_ref().clone())
            }
            Err(error) => Err(self.call_failed(name, &error).await),
        }
    }

    /// Run a tool. A tool that fails (`isError`), a timeout, a cancel or a lost connection
    /// still give a record (kept in the history); only a call that could not be made at all
    /// (not connected, unknown tool, arguments that break the schema) is an error.
    pub async fn call_tool(
        &self,
        name: &str,
        tool: &str,
        arguments: Value,
        call_id: &str,
    ) -> Result<CallRecord> {
        let arguments = match arguments {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => {
                return Err(AppError::new(
                    "invalidArguments",
                    "The arguments must be a JSON object.",
                ));
            }
        };
        let connection = self.connection(name).await?;
        let tools = connection
            .list_tools()
            .await
            .map_err(|e| AppError::new("call", e))?;
        let schema = tools
            .iter()
            .find(|t| t.name == tool)
            .map(|t| t.input_schema.clone());
        let cancel = CancellationToken::new();
        self.inner
            .calls
            .lock()
            .unwrap()
            .insert(call_id.to_owned(), cancel.clone());
        let (progress_tx, mut progress_rx) =
            tokio::sync::mpsc::unbounded_channel::<crate::tools::Progress>();
        let forward = {
            let latch = self.clone();
            let server = name.to_owned();
            let call_id = call_id.to_owned();
            tokio::spawn(async move {
                while let Some(p) = progress_rx.recv().await {
                    latch.emit(AppEvent::Progress {
                        server: server.clone(),
                        call_id: call_id.clone(),
                        progress: p.progress,
                        total: p.total,
                        message: p.message,
                    });
                }
            })
        };
        let options = CallOptions {
            cancel,
            progress: Some(progress_tx),
            ..CallOptions::default()
        };
        let started_at = now_ms();
        let clock = Instant::now();
        let outcome = connection.call_tool(tool, arguments.clone(), options).await;
        drop(connection);
        self.inner.calls.lock().unwrap().remove(call_id);
        let _ = forward.await;
        let mut record = CallRecord {
            id: call_id.to_owned(),
            server: name.to_owned(),
            tool: tool.to_owned(),
            arguments: Value::Object(arguments),
            started_at,
            duration_ms: clock.elapsed().as_millis() as u64,
            status: CallStatus::Ok,
            result: None,
            error: None,
        };
        match outcome {
            Ok(result) => {
                record.status = if result.is_error {
                    CallStatus::ToolError
                } else {
                    CallStatus::Ok
                };
                record.result = Some(result);
            }
            Err(error @ (CallError::UnknownTool { .. } | CallError::InvalidArguments { .. })) => {
                return Err(AppError::new("invalidArguments", error));
            }
            Err(CallError::Cancelled) => {
                record.status = CallStatus::Cancelled;
                record.error = Some("Cancelled; the server was told to stop.".to_owned());
            }
            Err(error) => {
                record.status = CallStatus::Failed;
                record.error = Some(error.to_string());
                let _ = self.call_failed(name, &error).await;
            }
        }
        let history = self.inner.history.clone();
        let stored = record.clone();
        let schema_for_history = schema.clone();
        match tokio::task::spawn_blocking(move || {
            history.record(&stored, schema_for_history.as_ref())
        })
        .await
        {
            Ok(Err(error)) => {
                tracing::warn!(server = name, %error, "could not save the call in the history")
            }
            Err(error) => {
                tracing::warn!(server = name, %error, "could not save the call in the history")
            }
            Ok(Ok(_)) => {}
        }
        Ok(record)
    }

    /// What a failed call means for the connection: a lost connection is dropped (the next
    /// call reconnects), a 401 means the person must sign in again.
    async fn call_failed(&self, name: &str, error: &CallError) -> AppError {
        match error {
            CallError::Disconnected { .. } => {
                self.drop_connection(name).await;
                self.set_state(
                    name,
                    ConnectionState::Failed {
                        reason: error.to_string(),
                    },
                );
                self.changed(name).await;
            }
            CallError::AuthRequired { challenge } => {
                self.drop_connection(name).await;
                {
                    let mut live = self.inner.live.lock().unwrap();
                    let live = live.entry(name.to_owned()).or_default();
                    live.challenge = challenge.clone();
                    live.problem = Some(AuthView::NeedsSignIn {
                        reason: "The server asked for a new sign-in.".to_owned(),
                    });
                    live.state = Some(ConnectionState::NeedsSignIn);
                }
                self.changed(name).await;
            }
            _ => {}
        }
        AppError::new("call", error)
    }

    /// Cancel a running call (the server is told).
    pub fn cancel_call(&self, call_id: &str) {
        if let Some(cancel) = self.inner.calls.lock().unwrap().remove(call_id) {
            cancel.cancel();
        }
    }

    /// The server's past calls, newest first.
    pub async fn history(&self, name: &str) -> Result<Vec<CallRecord>> {
        let history = self.inner.history.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || history.list(&name))
            .await
            .map_err(|e| AppError::new("history", e))?
            .map_err(|e| AppError::new("history", e))
    }

    pub async fn clear_history(&self, name: &str) -> Result<()> {
        let history = self.inner.history.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || history.clear(&name))
            .await
            .map_err(|e| AppError::new("history", e))?
            .map_err(|e| AppError::new("history", e))
    }

    // ---- doctor, settings, config ----

    fn record_doctor(&self, report: DoctorReport) {
        self.inner
            .doctor
            .lock()
            .unwrap()
            .insert(report.server.clone(), report);
    }

    /// The steps of the last connection or sign-in of `name`.
    pub fn doctor(&self, name: &str) -> DoctorReport {
        self.inner
            .doctor
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_else(|| DoctorReport {
                server: name.to_owned(),
                at: None,
                steps: Vec::new(),
            })
    }

    pub fn settings(&self) -> SettingsView {
        SettingsView {
            token_store: self.token_store(),
            config_path: self.inner.config_path.display().to_string(),
            version: crate::CLIENT_VERSION.to_owned(),
        }
    }

    /// Where sign-ins are kept, and whether the person must first say where (no keychain).
    pub fn token_store(&self) -> TokenStoreView {
        let secrets = &self.inner.secrets;
        TokenStoreView {
            kind: secrets.kind().as_str().to_owned(),
            warning: secrets.fallback_warning().map(str::to_owned),
            needs_consent: secrets.needs_consent(),
        }
    }

    /// The person agreed to keep sign-ins in a file only they can read, since no keychain
    /// runs (the app's banner): `secrets.json` is created in Latch's folder and used from now
    /// on — by every connection and the keeper at once, and by the app, the CLI and the bridge
    /// on every later start (see [`SecretStore::use_file_with_consent`]). Nothing happens
    /// when sign-ins can already be kept.
    pub async fn keep_sign_ins_in_file(&self) -> Result<TokenStoreView> {
        let secrets = self.inner.secrets.clone();
        tokio::task::spawn_blocking(move || secrets.use_file_with_consent())
            .await
            .map_err(|e| AppError::new("secrets", e))?
            .map_err(|e| AppError::new("secrets", e))?;
        Ok(self.token_store())
    }

    /// Fails with kind `keychainUnavailable`, in plain words, when sign-ins cannot be kept
    /// (no keychain, no consent to the file): checked before a sign-in or a secret is taken.
    fn check_writable(&self) -> Result<()> {
        self.inner.secrets.writable().map_err(|error| {
            tracing::info!(%error, "refused: sign-ins cannot be kept");
            AppError::new(
                KEYCHAIN_UNAVAILABLE,
                "No keychain is running on this computer, so Latch can't keep your sign-ins \
                 safely. Keep them in a file only you can read, or start your keychain (GNOME \
                 Keyring or KWallet) and reopen Latch.",
            )
        })
    }

    /// The servers file as text (the default document when there is none yet).
    pub async fn read_config(&self) -> Result<ConfigText> {
        let text = match std::fs::read_to_string(&self.inner.config_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ConfigFile::new(&self.inner.config_path).to_json_string()
            }
            Err(e) => {
                return Err(AppError::new(
                    "config",
                    format!("Could not read {}: {e}", self.inner.config_path.display()),
                ));
            }
        };
        // Keys Latch ignores (usually typos), for the editor to show; none when it does not
        // parse (saving says why).
        let warnings = ConfigFile::parse(&self.inner.config_path, &text)
            .map(|config| {
                config
                    .servers()
                    .iter()
                    .flat_map(|(name, server)| crate::config::entry_warnings(name, server))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ConfigText {
            path: self.inner.config_path.display().to_string(),
            text,
            warnings,
        })
    }

    /// Replace the servers file with `text` after checking it; the file is untouched when
    /// the text does not parse. Connections of changed or removed servers are closed.
    pub async fn save_config(&self, text: &str) -> Result<Vec<ServerView>> {
        let path = &self.inner.config_path;
        let (old_servers, new_servers) = ConfigFile::edit(path, |config| {
            let old: HashMap<String, ServerConfig> = config.servers().into_iter().collect();
            *config = ConfigFile::parse(path, text)?;
            let new: HashMap<String, ServerConfig> = config.servers().into_iter().collect();
            Ok::<_, ConfigError>((old, new))
        })
        .map_err(config_error)?;
        for (name, server) in &old_servers {
            if new_servers.get(name) != Some(server) {
                self.drop_connection(name).await;
                self.inner.live.lock().unwrap().remove(name);
            }
        }
        self.emit(AppEvent::ServersChanged);
        self.list_servers().await
    }

    /// Add the servers of another app's config (names already here are left alone).
    pub async fn import_config(&self, source: ImportSource) -> Result<ImportReport> {
        let app = match source {
            ImportSource::Claude => ExternalApp::Claude,
            ImportSource::Vscode => ExternalApp::VsCode,
            ImportSource::Cursor => ExternalApp::Cursor,
        };
        let imported = crate::config::import_app(app).map_err(config_error)?;
        // Saved (under the file's lock) only when a server was added.
        let merge = ConfigFile::edit(&self.inner.config_path, |config| {
            Ok::<_, ConfigError>(config.merge(imported.servers))
        })
        .map_err(config_error)?;
        if !merge.added.is_empty() {
            self.emit(AppEvent::ServersChanged);
        }
        let mut warnings = imported.warnings;
        warnings.extend(
            merge
                .rejected
                .into_iter()
                .map(|(name, reason)| format!("{name} was left out: {reason}")),
        );
        Ok(ImportReport {
            path: imported.path.display().to_string(),
            added: merge.added,
            skipped: merge.skipped,
            warnings,
        })
    }

    /// The person's answer to a server's question.
    pub fn answer_elicitation(&self, id: &str, answer: ElicitationAnswer) -> Result<()> {
        if self.inner.host.answer(id, answer) {
            Ok(())
        } else {
            Err(AppError::new(
                "expired",
                "That question is no longer waiting for an answer.",
            ))
        }
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
    fn watch_all(&self) {
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
    fn watch(&self, name: &str, account: Option<&str>, server: &ServerConfig) {
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

    /// Close every connection (on quit).
    pub async fn shutdown(&self) {
        let names: Vec<String> = self.inner.live.lock().unwrap().keys().cloned().collect();
        for name in names {
            self.drop_connection(&name).await;
        }
    }

    // ---- views ----

    async fn view(&self, name: &str, server: &ServerConfig) -> ServerView {
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

    /// Turn core events into UI events: state changes update the card; sign-in prompts pass
    /// through. Progress is routed per call by `call_tool`, not here.
    fn forward_core_events(&self) {
        let mut events = self.inner.core_events.subscribe();
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                let Some(inner) = weak.upgrade() else { break };
                let latch = Latch { inner };
                match event {
                    Event::StateChanged { server, state } => {
                        latch.set_state(&server, state);
                        latch.changed(&server).await;
                    }
                    Event::ToolsChanged { server } => {
                        if let Some(live) = latch.inner.live.lock().unwrap().get_mut(&server) {
                            live.tool_count = None;
                        }
                        latch.emit(AppEvent::ToolsChanged { server });
                    }
                    Event::SignInUrl { server, url } => latch.open_sign_in_page(server, url),
                    Event::DeviceCode {
                        server,
                        user_code,
                        verification_uri,
                        verification_uri_complete,
                        expires_in,
                    } => latch.emit(AppEvent::DeviceCode {
                        server,
                        user_code,
                        verification_uri,
                        verification_uri_complete,
                        expires_in,
                    }),
                    // The keeper names a grant `server` or `server#account` (see `watch_key`).
                    Event::TokenRefreshed { server, .. } | Event::RefreshFailed { server, .. } => {
                        latch.changed(split_watch_key(&server).0).await
                    }
                    Event::NeedsSignIn { server, reason } => {
                        let (name, account) = split_watch_key(&server);
                        if account.map(str::to_owned) == latch.active_account(name) {
                            latch.mark_needs_sign_in(name, &reason).await
                        } else {
                            latch.changed(name).await
                        }
                    }
                    Event::ServerLog {
                        server,
                        level,
                        logger,
                        data,
                    } => latch.emit(AppEvent::ServerLog {
                        server,
                        level,
                        logger,
                        data,
                    }),
                    _ => {}
                }
            }
        });
    }
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
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

fn config_error(error: ConfigError) -> AppError {
    AppError::new("config", error)
}

fn connect_error(name: &str, error: &ConnectError) -> AppError {
    if error.is_auth_required() {
        AppError::new(
            "needsSignIn",
            format!("{name} needs you to sign in — press “Sign in”."),
        )
    } else {
        AppError::new("connect", format!("Could not connect to {name}: {error}"))
    }
}

/// The sign-in problem a failed connection reveals.
fn problem_of(error: &ConnectError) -> Option<AuthView> {
    match error {
        ConnectError::AuthRequired { .. } => Some(AuthView::NeedsSignIn {
            reason: "The server asks for a sign-in.".to_owned(),
        }),
        ConnectError::SignIn(auth::SignInError::ClientCredentials(e)) => {
            Some(AuthView::SecretRejected {
                message: e.to_string(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::FILE_NAME;

    #[tokio::test]
    async fn without_a_keychain_sign_ins_wait_for_consent_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        let latch = Latch::new(LatchOptions {
            config_path: home.join("servers.json"),
            secrets: SecretStore::keychain_unavailable(home, "no D-Bus".to_owned()),
            history: History::open(home.join("history")),
            browser: BrowserMode::Headless,
            demo_url: None,
        });
        let entry = ServerEntryInput {
            url: Some("http://127.0.0.1:9/mcp".to_owned()),
            ..ServerEntryInput::default()
        };
        latch.add_server("remote", entry).await.unwrap();
        let store = latch.settings().token_store;
        assert!(store.needs_consent, "{store:?}");
        assert_eq!(store.kind, "keychain");

        // Refused before anything starts, with the kind the UI answers with the choice.
        let error = latch.sign_in("remote", None, None).await.unwrap_err();
        assert_eq!(error.kind, KEYCHAIN_UNAVAILABLE, "{error:?}");
        assert!(
            error.message.contains("a file only you can read"),
            "{error}"
        );
        assert!(
            !error.message.contains("LATCH_TOKEN_STORE"),
            "plain words: {error}"
        );
        let error = latch.set_credentials("pair", "id", "secret").await;
        assert_eq!(error.unwrap_err().kind, KEYCHAIN_UNAVAILABLE);
        assert!(!home.join(FILE_NAME).exists(), "nothing written");

        let store = latch.keep_sign_ins_in_file().await.unwrap();
        assert!(!store.needs_consent, "{store:?}");
        assert_eq!(store.kind, "file");
        assert!(store.warning.as_deref().unwrap().contains(FILE_NAME));
        assert_eq!(latch.settings().token_store, store);
        assert!(home.join(FILE_NAME).is_file());
        // The running app's store is the file now.
        latch.set_credentials("pair", "id", "secret").await.unwrap();
        let kept = SecretStore::file(home)
            .get(&credential_key("pair"))
            .unwrap();
        assert!(kept.is_some(), "the credentials are in the file");
        // Once more is harmless.
        assert_eq!(latch.keep_sign_ins_in_file().await.unwrap(), store);
    }

    /// The UI hears "opened" only when the browser took the page.
    #[tokio::test]
    async fn a_sign_in_page_that_could_not_be_opened_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        for (browser, url, expected) in [
            // An app that prints URLs never opens a browser.
            (
                BrowserMode::Print,
                "https://as.example/authorize",
                vec![BrowserOpen::NotOpened],
            ),
            // A page Latch refuses to open is not opened either.
            (
                BrowserMode::System,
                "file:///etc/passwd",
                vec![BrowserOpen::Opening, BrowserOpen::NotOpened],
            ),
        ] {
            let latch = Latch::new(LatchOptions {
                config_path: dir.path().join("servers.json"),
                secrets: SecretStore::memory(),
                history: History::open(dir.path().join("history")),
                browser,
                demo_url: None,
            });
            let mut events = latch.subscribe();
            latch.open_sign_in_page("s".to_owned(), url.to_owned());
            let mut seen = Vec::new();
            while seen.len() < expected.len() {
                if let AppEvent::SignInUrl {
                    server,
                    url: sent,
                    browser,
                } = events.recv().await.unwrap()
                {
                    assert_eq!((server.as_str(), sent.as_str()), ("s", url));
                    seen.push(browser);
                }
            }
            assert_eq!(seen, expected, "{browser:?}");
        }
    }
}
