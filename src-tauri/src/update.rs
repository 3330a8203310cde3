//! Signed updates through `tauri-plugin-updater`. Latch asks its update manifest (Tauri's
//! `latest.json`) at start and once a day, and offers a newer release only after its download
//! verified against the signing key in `tauri.conf.json` (`plugins.updater.pubkey`). Where the
//! plugin can replace this copy (an AppImage; the .app and the Windows installers) the offer
//! installs it; a .deb or .rpm belongs to the system's package tools, so the offer links to the
//! download instead. Off — no request at all — when no manifest address is set
//! (`plugins.updater.endpoints`, or `LATCH_UPDATE_URL`) or no key is.

use std::{
    path::PathBuf,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use latch_core::app::UpdateView;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_updater::{Error as PluginError, Update, UpdaterExt};
use url::Url;

/// The event the Settings page hears the update state on.
pub const UPDATE_EVENT: &str = "latch://update";
/// Overrides the manifest address of `tauri.conf.json`; set to nothing, it turns updates off.
pub const URL_ENV: &str = "LATCH_UPDATE_URL";
/// How often Latch asks, on the wall clock (a sleeping laptop catches up at the next tick).
const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
const TICK: Duration = Duration::from_secs(60 * 60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// How this copy of Latch is replaced by a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installer {
    /// The plugin installs it: over this AppImage (`Some`), or with the platform's installer.
    InApp(Option<PathBuf>),
    /// Installed from a .deb or .rpm, or built from source: the person downloads the release.
    Download,
}

impl Installer {
    /// What the running copy is, from the marker Tauri's bundler writes into the binary.
    pub fn detect<R: Runtime>(app: &AppHandle<R>) -> Self {
        use tauri::utils::{config::BundleType, platform::bundle_type};
        match bundle_type() {
            Some(BundleType::AppImage) => match &app.env().appimage {
                Some(path) => Installer::InApp(Some(PathBuf::from(path))),
                None => Installer::Download,
            },
            Some(BundleType::App | BundleType::Msi | BundleType::Nsis) => Installer::InApp(None),
            _ => Installer::Download,
        }
    }
}

/// The update check's state, kept by the app (`app.manage`).
pub struct Updates {
    endpoint: Option<Url>,
    installer: Installer,
    state: Mutex<State>,
    /// One check or install at a time.
    busy: tokio::sync::Mutex<()>,
}

struct State {
    view: UpdateView,
    /// The release on offer, whose download verified.
    offered: Option<Update>,
    last_check: Option<SystemTime>,
}

impl Updates {
    pub fn new(endpoint: Option<Url>, installer: Installer) -> Self {
        Updates {
            endpoint,
            installer,
            state: Mutex::new(State {
                view: UpdateView::Off,
                offered: None,
                last_check: None,
            }),
            busy: tokio::sync::Mutex::new(()),
        }
    }

    /// From the app's config and environment.
    pub fn from_app<R: Runtime>(app: &AppHandle<R>) -> Self {
        let endpoint = match endpoint(std::env::var(URL_ENV).ok(), app.config()) {
            Ok(Some(endpoint)) => Some(endpoint),
            Ok(None) => {
                tracing::info!("updates are off: no update address is set");
                None
            }
            Err(error) => {
                tracing::warn!(%error, "updates are off");
                None
            }
        };
        Updates::new(endpoint, Installer::detect(app))
    }

    pub fn enabled(&self) -> bool {
        self.endpoint.is_some()
    }

    pub fn view(&self) -> UpdateView {
        self.state.lock().unwrap().view.clone()
    }

    fn set_view(&self, view: UpdateView) {
        self.state.lock().unwrap().view = view;
    }

    /// Whether a day has passed on the wall clock since the last check (or none was made).
    fn due(&self) -> bool {
        match self.state.lock().unwrap().last_check {
            None => true,
            Some(at) => SystemTime::now()
                .duration_since(at)
                .map_or(true, |elapsed| elapsed >= EVERY),
        }
    }

    /// Ask the manifest; download and verify a newer release before offering it. Makes no
    /// request when updates are off.
    pub async fn check<R: Runtime>(&self, app: &AppHandle<R>) -> UpdateView {
        let Some(endpoint) = self.endpoint.clone() else {
            return UpdateView::Off;
        };
        let _busy = self.busy.lock().await;
        {
            let mut state = self.state.lock().unwrap();
            state.last_check = Some(SystemTime::now());
            if !matches!(state.view, UpdateView::Available { .. }) {
                state.view = UpdateView::Checking;
            }
        }
        let view = match self.find(app, &endpoint).await {
            Ok(view) => view,
            Err(message) => {
                tracing::info!(%message, "update check");
                self.state.lock().unwrap().offered = None;
                UpdateView::Failed { message }
            }
        };
        self.set_view(view.clone());
        view
    }

    async fn find<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        endpoint: &Url,
    ) -> Result<UpdateView, String> {
        let host = endpoint
            .host_str()
            .unwrap_or("the update address")
            .to_owned();
        let mut builder = app
            .updater_builder()
            .timeout(REQUEST_TIMEOUT)
            .endpoints(vec![endpoint.clone()])
            .map_err(|e| format!("The update address {endpoint} cannot be used: {e}"))?;
        if is_loopback(endpoint) {
            builder = builder.no_proxy();
        }
        if let Installer::InApp(Some(path)) = &self.installer {
            builder = builder.executable_path(path);
        }
        let updater = builder
            .build()
            .map_err(|e| format!("Latch cannot check for updates here: {e}"))?;
        let found = updater
            .check()
            .await
            .map_err(|e| format!("Could not check for updates at {host}: {}", one_line(&e)))?;
        let Some(update) = found else {
            self.state.lock().unwrap().offered = None;
            return Ok(UpdateView::UpToDate {
                checked_at: unix_now(),
            });
        };
        let known = self
            .state
            .lock()
            .unwrap()
            .offered
            .as_ref()
            .is_some_and(|offered| {
                offered.version == update.version
                    && offered.download_url == update.download_url
                    && offered.signature == update.signature
            });
        if !known {
            update
                .download(|_, _| {}, || {})
                .await
                .map_err(|e| download_failed(&update.version, &e))?;
            tracing::info!(version = %update.version, "a newer Latch verified");
        }
        let view = self.offer(&update);
        self.state.lock().unwrap().offered = Some(update);
        Ok(view)
    }

    fn offer(&self, update: &Update) -> UpdateView {
        UpdateView::Available {
            version: update.version.clone(),
            notes: update.body.clone().filter(|notes| !notes.trim().is_empty()),
            can_install: matches!(self.installer, Installer::InApp(_)),
            download_url: update.download_url.to_string(),
        }
    }

    /// Install the release on offer: downloaded again and verified again before anything is
    /// written. Returns its version; the caller restarts Latch.
    pub async fn install(&self) -> Result<String, String> {
        let _busy = self.busy.lock().await;
        let update = self.state.lock().unwrap().offered.clone();
        let Some(update) = update else {
            return Err("No newer Latch is on offer.".to_owned());
        };
        if self.installer == Installer::Download {
            return Err(format!(
                "Latch {} is available — download it from {}",
                update.version, update.download_url
            ));
        }
        self.set_view(UpdateView::Installing {
            version: update.version.clone(),
        });
        match update.download_and_install(|_, _| {}, || {}).await {
            Ok(()) => {
                tracing::info!(version = %update.version, "installed a newer Latch");
                Ok(update.version.clone())
            }
            Err(error) => {
                let message = match &error {
                    e if is_verification(e) => download_failed(&update.version, e),
                    e => format!(
                        "Could not install Latch {}: {}",
                        update.version,
                        one_line(e)
                    ),
                };
                let mut state = self.state.lock().unwrap();
                state.offered = None;
                state.view = UpdateView::Failed {
                    message: message.clone(),
                };
                Err(message)
            }
        }
    }

    /// The tray's line for the update, if there is one to show.
    pub fn tray_label(&self) -> Option<String> {
        match self.view() {
            UpdateView::Available {
                version,
                can_install: true,
                ..
            } => Some(format!("Latch {version} is available — install it")),
            UpdateView::Available { version, .. } => {
                Some(format!("Latch {version} is available — download it"))
            }
            UpdateView::Installing { version } => Some(format!("Installing Latch {version}…")),
            _ => None,
        }
    }
}

/// The manifest address: `LATCH_UPDATE_URL` when set (empty: off), else the config's first
/// `plugins.updater.endpoints`; none when the config carries no signing key.
pub fn endpoint(env: Option<String>, config: &tauri::Config) -> Result<Option<Url>, String> {
    let updater = config.plugins.0.get("updater");
    let pubkey = updater
        .and_then(|u| u.get("pubkey"))
        .and_then(|k| k.as_str())
        .unwrap_or_default();
    let configured = updater
        .and_then(|u| u.get("endpoints"))
        .and_then(|e| e.as_array())
        .and_then(|e| e.first())
        .and_then(|e| e.as_str())
        .map(str::to_owned);
    let (address, source) = match env {
        Some(address) => (address, URL_ENV),
        None => (configured.unwrap_or_default(), "plugins.updater.endpoints"),
    };
    let address = address.trim();
    if address.is_empty() {
        return Ok(None);
    }
    if pubkey.trim().is_empty() {
        return Err("tauri.conf.json has no update signing key (plugins.updater.pubkey)".into());
    }
    match Url::parse(address) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(Some(url)),
        Ok(_) | Err(_) => Err(format!("{source} is not a web address: {address}")),
    }
}

/// Start checking: once now, then whenever a day has passed. Does nothing when updates are off.
pub fn start(app: &AppHandle) {
    let updates = Updates::from_app(app);
    let enabled = updates.enabled();
    app.manage(updates);
    if !enabled {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            if app.state::<Updates>().due() {
                check_and_tell(&app).await;
            }
            tokio::time::sleep(TICK).await;
        }
    });
}

/// Check, then tell the window and the tray.
pub async fn check_and_tell(app: &AppHandle) -> UpdateView {
    let view = app.state::<Updates>().check(app).await;
    tell(app, &view);
    view
}

fn tell(app: &AppHandle, view: &UpdateView) {
    if let Err(error) = app.emit(UPDATE_EVENT, view) {
        tracing::debug!(%error, "could not tell the window about the update");
    }
    crate::tray::refresh(app);
}

/// Install the offered release and restart into it; on failure the window and tray say why.
pub async fn install_and_restart(app: &AppHandle) -> Result<(), String> {
    let updates = app.state::<Updates>();
    if let UpdateView::Available { version, .. } = updates.view() {
        tell(app, &UpdateView::Installing { version });
    }
    match updates.install().await {
        Ok(_) => app.restart(),
        Err(message) => {
            tell(app, &updates.view());
            Err(message)
        }
    }
}

/// The tray's update line was chosen: install, or open the download in the browser.
pub fn on_tray_click(app: &AppHandle) {
    match app.state::<Updates>().view() {
        UpdateView::Available {
            can_install: true, ..
        } => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(message) = install_and_restart(&app).await {
                    tracing::warn!(%message, "update");
                }
            });
        }
        UpdateView::Available { download_url, .. } => open_download(app, &download_url),
        _ => crate::tray::show_main_window(app),
    }
}

fn open_download(app: &AppHandle, url: &str) {
    use tauri_plugin_opener::OpenerExt;
    match latch_core::auth::check_url_to_open(url) {
        Ok(url) => {
            if let Err(error) = app.opener().open_url(url.as_str(), None::<&str>) {
                tracing::warn!(%error, "could not open the download page");
            }
        }
        Err(reason) => tracing::warn!(%reason, "will not open the update's download link"),
    }
}

fn is_verification(error: &PluginError) -> bool {
    matches!(
        error,
        PluginError::Minisign(_)
            | PluginError::Base64(_)
            | PluginError::SignatureUtf8(_)
            | PluginError::SignedVersionMismatch { .. }
            | PluginError::MissingSignedVersion
    )
}

fn download_failed(version: &str, error: &PluginError) -> String {
    if is_verification(error) {
        format!(
            "Latch {version} was offered but its download does not match Latch's signing key, so it was not installed."
        )
    } else {
        format!("Could not download Latch {version}: {}", one_line(error))
    }
}

fn one_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
