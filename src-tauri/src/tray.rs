//! The tray icon: one line per server with its status, "Refresh now", "Open Latch" and
//! "Quit", with "Latch X.Y is available" above them when a verified update is on offer. The
//! icon turns orange when a server needs the person, and a desktop notification says which.
//! Closing the window only hides it; "Quit" ends Latch.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use latch_core::{
    ConnectionState,
    app::{AppEvent, AuthView, Latch, ServerView},
};
use tauri::{
    AppHandle, Manager,
    image::Image,
    menu::{Menu, MenuItem, PredefinedMenuItem},
    tray::{TrayIcon, TrayIconBuilder},
};
use tauri_plugin_notification::NotificationExt;

const TRAY_ID: &str = "latch";
static QUITTING: AtomicBool = AtomicBool::new(false);

/// Whether "Quit" was chosen (then closing the window really closes).
pub fn quitting() -> bool {
    QUITTING.load(Ordering::SeqCst)
}

/// Each server's status line, kept for rebuilding the menu.
#[derive(Default)]
struct TrayState {
    lines: Mutex<BTreeMap<String, (String, bool)>>,
}

pub fn create(app: &AppHandle, latch: &Latch) -> tauri::Result<()> {
    app.manage(TrayState::default());
    let state = app.state::<TrayState>();
    if let Ok(servers) = tauri::async_runtime::block_on(latch.list_servers()) {
        let mut lines = state.lines.lock().unwrap();
        for server in &servers {
            lines.insert(server.name.clone(), status_line(server));
        }
    }
    let menu = build_menu(app)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(false))
        .tooltip("Latch")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => show_main_window(app),
            "refresh" => refresh_now(app),
            "update" => crate::update::on_tray_click(app),
            "quit" => {
                QUITTING.store(true, Ordering::SeqCst);
                app.exit(0);
            }
            id if id.starts_with("server:") => show_main_window(app),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

/// React to a core event: update the server's line and the icon; notify when a server needs
/// the person.
pub fn on_event(app: &AppHandle, event: &AppEvent) {
    let Some(state) = app.try_state::<TrayState>() else {
        return;
    };
    match event {
        AppEvent::ServerChanged { server } => {
            state
                .lines
                .lock()
                .unwrap()
                .insert(server.name.clone(), status_line(server));
        }
        AppEvent::ServersChanged => {
            if let Some(latch) = app.try_state::<Latch>() {
                let latch = latch.inner().clone();
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    if let Ok(servers) = latch.list_servers().await {
                        if let Some(state) = app.try_state::<TrayState>() {
                            *state.lines.lock().unwrap() = servers
                                .iter()
                                .map(|s| (s.name.clone(), status_line(s)))
                                .collect();
                        }
                        rebuild(&app);
                    }
                });
            }
            return;
        }
        AppEvent::Attention { message, .. } => {
            let _ = app
                .notification()
                .builder()
                .title("Latch: sign-in needed")
                .body(message)
                .show();
        }
        _ => return,
    }
    rebuild(app);
}

/// Rebuild the menu (the update line changed).
pub fn refresh(app: &AppHandle) {
    rebuild(app);
}

fn rebuild(app: &AppHandle) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    if let Ok(menu) = build_menu(app) {
        let _ = tray.set_menu(Some(menu));
    }
    let attention = app
        .try_state::<TrayState>()
        .is_some_and(|s| s.lines.lock().unwrap().values().any(|(_, bad)| *bad));
    set_icon(&tray, attention);
}

fn set_icon(tray: &TrayIcon, attention: bool) {
    let _ = tray.set_icon(Some(icon(attention)));
    let _ = tray.set_tooltip(Some(if attention {
        "Latch — a server needs you"
    } else {
        "Latch"
    }));
}

fn icon(attention: bool) -> Image<'static> {
    let bytes: &'static [u8] = if attention {
        include_bytes!("../../icons/tray-attention.png")
    } else {
        include_bytes!("../../icons/tray.png")
    };
    Image::from_bytes(bytes).expect("the tray icons are valid PNGs")
}

fn build_menu(app: &AppHandle) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    if let Some(label) = app
        .try_state::<crate::update::Updates>()
        .and_then(|updates| updates.tray_label())
    {
        menu.append(&MenuItem::with_id(
            app,
            "update",
            label,
            true,
            None::<&str>,
        )?)?;
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    let lines = app
        .try_state::<TrayState>()
        .map(|s| s.lines.lock().unwrap().clone())
        .unwrap_or_default();
    if lines.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "none",
            "No servers yet",
            false,
            None::<&str>,
        )?)?;
    }
    for (name, (line, _)) in &lines {
        menu.append(&MenuItem::with_id(
            app,
            format!("server:{name}"),
            format!("{name} — {line}"),
            true,
            None::<&str>,
        )?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "refresh",
        "Refresh now",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Latch",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// A server's status in a few words, and whether it needs the person.
fn status_line(server: &ServerView) -> (String, bool) {
    match (&server.auth, &server.state) {
        (AuthView::NeedsSignIn { .. }, _) | (_, ConnectionState::NeedsSignIn) => {
            ("needs sign-in".to_owned(), true)
        }
        (AuthView::SecretRejected { .. }, _) => ("secret rejected".to_owned(), true),
        (_, ConnectionState::Connected { .. }) => ("connected".to_owned(), false),
        (_, ConnectionState::Connecting) => ("connecting…".to_owned(), false),
        (_, ConnectionState::SigningIn) => ("signing in…".to_owned(), false),
        (_, ConnectionState::Failed { .. }) => ("failed".to_owned(), false),
        (AuthView::SignedIn { .. }, _) => ("signed in".to_owned(), false),
        _ => ("not connected".to_owned(), false),
    }
}

/// "Refresh now": refresh every sign-in the keeper watches.
fn refresh_now(app: &AppHandle) {
    if let Some(latch) = app.try_state::<Latch>() {
        let latch = latch.inner().clone();
        tauri::async_runtime::spawn(async move { latch.refresh_now().await });
    }
}

pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}
