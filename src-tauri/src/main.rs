//! Latch's desktop app: the thin Tauri shell over `latch-core`. It starts the bundled demo
//! server, hands the UI's commands to the core, forwards the core's events to the window,
//! keeps a tray icon (closing the window leaves Latch and its token keeper running), and
//! receives `latch://` deep links — a second launch hands its URL to the first instance — and
//! checks for signed updates (`update`).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod apps;
mod commands;
mod tray;
mod update;

use latch_core::{app::Latch, auth::BrowserMode};
use tauri::{Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;

/// The event every core → UI message travels on.
pub const EVENT: &str = "latch://event";

/// The argument start-at-login passes: start in the tray with the window hidden.
const HIDDEN_ARG: &str = "--hidden";

fn main() {
    // Log lines go to $LATCH_HOME/logs/latch.log (and to stderr when RUST_LOG is set).
    latch_core::logging::init(latch_core::logging::Stderr::WhenAsked, false);
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            // A second launch: show the window we already have. Its `latch://` URL (if any)
            // reaches `on_open_url` through the deep-link plugin.
            tray::show_main_window(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            // Start at login writes `Exec=<this binary> --hidden` (on Linux
            // ~/.config/autostart/Latch.desktop): Latch starts in the tray, without its window.
            Some(vec![HIDDEN_ARG]),
        ))
        .plugin(tauri_plugin_updater::Builder::new().build())
        // System file dialogs: the Roots folder picker and the save dialogs (capability allows
        // only open and save).
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol(apps::SCHEME, apps::serve)
        .setup(|app| {
            // The window starts hidden (tauri.conf.json) and shows unless started at login.
            if std::env::args().any(|arg| arg == HIDDEN_ARG) {
                tracing::info!("started at login: the window stays hidden, Latch is in the tray");
            } else if let Some(window) = app.get_webview_window("main") {
                let _ = window.show();
            }
            let demo = tauri::async_runtime::block_on(start_demo());
            let demo_url = demo.as_ref().map(latch_demo::DemoServer::url);
            let latch = tauri::async_runtime::block_on(async {
                Latch::open_default(browser_mode(), demo_url.clone())
            })
            .map_err(|e| e.to_string())?;
            if let Some(url) = &demo_url {
                match latch.ensure_demo(url) {
                    Ok(true) => tracing::info!("first run: added the demo server"),
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, "could not add the demo server"),
                }
            }
            app.manage(latch.clone());
            if let Some(demo) = demo {
                app.manage(DemoHandle(std::sync::Mutex::new(Some(demo))));
            }
            forward_events(app.handle().clone(), &latch);
            tray::create(app.handle(), &latch)?;
            deep_links(app.handle());
            update::start(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Latch in the tray, refreshing sign-ins.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && window.label() == "main"
                && !tray::quitting()
            {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_servers,
            commands::add_server,
            commands::update_server,
            commands::remove_server,
            commands::probe_url,
            commands::presets,
            commands::connect,
            commands::disconnect,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::use_account,
            commands::set_credentials,
            commands::set_secret,
            commands::orgs,
            commands::add_org,
            commands::remove_org,
            commands::sign_in_org,
            commands::sign_out_org,
            commands::list_tools,
            commands::call_tool,
            commands::app_for_tool,
            apps::call_tool_from_app,
            apps::save_app_file,
            commands::cancel_call,
            commands::history,
            commands::clear_history,
            commands::doctor,
            commands::read_config,
            commands::save_config,
            commands::import_config,
            commands::plan_export,
            commands::apply_export,
            commands::settings,
            commands::keep_sign_ins_in_file,
            commands::answer_elicitation,
            commands::answer_sampling,
            commands::open_elicitation_page,
            commands::roots,
            commands::set_roots,
            commands::open_external,
            commands::start_at_login,
            commands::set_start_at_login,
            commands::update_status,
            commands::check_for_updates,
            commands::install_update,
            commands::list_resources,
            commands::read_resource,
            commands::save_resource,
            commands::subscribe_resource,
            commands::unsubscribe_resource,
            commands::list_prompts,
            commands::get_prompt,
            commands::protocol_log,
            commands::clear_protocol_log,
            commands::export_protocol_log,
            commands::log_level,
            commands::set_log_level,
            commands::complete,
        ])
        .build(tauri::generate_context!());
    match result {
        Ok(app) => app.run(|app, event| {
            if let tauri::RunEvent::Exit = event
                && let Some(latch) = app.try_state::<Latch>()
            {
                tauri::async_runtime::block_on(latch.shutdown());
            }
        }),
        Err(error) => {
            eprintln!("Latch could not start: {error}");
            std::process::exit(1);
        }
    }
}

/// Keeps the demo server running as long as the app.
struct DemoHandle(#[allow(dead_code)] std::sync::Mutex<Option<latch_demo::DemoServer>>);

/// Start the bundled demo server on its usual port. A busy port (another Latch, or
/// `latch demo`) is fine: the demo card then talks to whoever listens there.
async fn start_demo() -> Option<latch_demo::DemoServer> {
    let port = std::env::var("LATCH_DEMO_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(latch_demo::DEFAULT_PORT);
    let options = latch_demo::DemoOptions {
        port,
        ..latch_demo::DemoOptions::default()
    };
    match latch_demo::DemoServer::start(options).await {
        Ok(demo) => Some(demo),
        Err(error) => {
            tracing::warn!(%error, port, "the demo server did not start");
            None
        }
    }
}

/// How sign-in pages open: the system browser; `LATCH_BROWSER=headless` lets the
/// end-to-end tests sign in to servers that approve at once without a person.
fn browser_mode() -> BrowserMode {
    match std::env::var("LATCH_BROWSER").as_deref() {
        Ok("headless") => BrowserMode::Headless,
        Ok("print") => BrowserMode::Print,
        _ => BrowserMode::System,
    }
}

/// Every core event goes to the window as it happens (no polling on either side).
fn forward_events(app: tauri::AppHandle, latch: &Latch) {
    let mut events = latch.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(event) => {
                    tray::on_event(&app, &event);
                    if let Err(error) = app.emit(EVENT, &event) {
                        tracing::debug!(%error, "could not forward an event to the window");
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "the window fell behind on events")
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// `latch://oauth/callback?…` finishes a sign-in that used the deep-link redirect; any
/// `latch://` URL brings the window forward.
fn deep_links(app: &tauri::AppHandle) {
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    if let Err(error) = app.deep_link().register_all() {
        tracing::info!(%error, "could not register the latch:// handler");
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            // Never the query: it carries the authorization code.
            let host = url.host_str().unwrap_or_default();
            tracing::info!("a latch:// link arrived: latch://{host}{}", url.path());
            let url = url.to_string();
            tauri::async_runtime::spawn(async move {
                if !latch_core::auth::deliver_callback(&url).await {
                    tracing::info!("a latch:// link arrived that no sign-in waits for");
                }
            });
        }
        tray::show_main_window(&handle);
    });
}
