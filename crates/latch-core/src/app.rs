//! Latch as the desktop app uses it: one object that owns the live connections, the sign-ins
//! in progress, the running calls, the call history and the doctor's reports, and turns all of
//! it into the plain views and events of [`dto`]. The Tauri shell's commands are one-liners
//! over [`Latch`]; everything that decides anything is here, testable without a webview.
//!
//! This file holds the type, its construction and the events the UI hears; the facade's
//! methods live by concern in `app/`: `servers` (the config's entries and their cards),
//! `connections` (live connections and the doctor's reports), `sign_in` (signing in and out,
//! secrets, keeping sign-ins fresh), `accounts` (which account a connection uses), `tools`
//! (listing and calling tools), `resources` (resources, prompts and completions), `roots`
//! (the folders each server may see), `host` (what servers ask of the person: input, model
//! replies), `history` and `settings` (token store, servers file).

mod access;
mod accounts;
mod agents;
mod apps;
mod connections;
mod doctor;
pub mod dto;
mod history;
mod host;
mod log;
mod orgs;
mod presets;
mod probe;
mod resources;
mod roots;
mod servers;
mod settings;
mod sign_in;
#[cfg(test)]
mod test_peers;
mod tools;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use access::{
    accounts, connect_options, connect_options_for, grant, grant_store, parse_account,
    signs_in_unattended, split_watch_key, watch_key,
};
pub use agents::find_latch_binary;
pub use apps::{APP_MIME_TYPE, AppCsp, AppPage, AppView, UI_EXTENSION};
pub use doctor::examine as doctor_examine;
pub use dto::*;
pub use host::AppHost;
pub use log::LOG_LEVELS;
pub use orgs::{OrgInput, OrgView};
pub use presets::{MADGICX_CREDENTIALS, presets};
pub use probe::probe;
pub use resources::{CompletionTargetInput, ResourceListView};
pub use roots::{ROOTS_KEY, entry_roots, file_root};
pub use settings::KEYCHAIN_UNAVAILABLE;

use crate::{
    Connection, ConnectionState, Event, EventBus,
    auth::BrowserMode,
    config::{ConfigError, ConfigFile, ServerConfig},
    connection::ServerInfoView,
    history::History,
    keeper::Keeper,
    secrets::SecretStore,
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
    /// MCP App pages waiting for the shell to serve them.
    apps: apps::Pages,
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
        let host = AppHost::with_servers_file(events.clone(), Some(options.config_path.clone()));
        let latch = Latch {
            inner: Arc::new(Inner {
                config_path: options.config_path,
                secrets: options.secrets,
                history: options.history,
                browser: options.browser,
                demo_url: options.demo_url,
                host,
                events,
                live: Mutex::default(),
                busy: Mutex::default(),
                calls: Mutex::default(),
                doctor: Mutex::default(),
                active_accounts: Mutex::default(),
                keeper: Keeper::start(core_events.clone()),
                apps: Default::default(),
                core_events,
            }),
        };
        latch.forward_core_events();
        latch.forward_protocol_log();
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
                    Event::ResourceUpdated { server, uri } => {
                        latch.emit(AppEvent::ResourceUpdated { server, uri })
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

fn config_error(error: ConfigError) -> AppError {
    AppError::new("config", error)
}

#[cfg(test)]
mod tests {
    use super::*;

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
