//! The commands the UI may invoke: each a line over `latch_core::app::Latch`. They are
//! listed one by one in `generate_handler!` so Tauri's per-command permissions apply.

use latch_core::{
    ToolView,
    app::{
        AppError, CallRecord, ConfigText, DoctorReport, ElicitationAnswer, ExportDone,
        ExportPlanView, FlowInput, ImportReport, ImportSource, Latch, OrgInput, OrgView, Preset,
        ProbeView, ServerEntryInput, ServerView, SettingsView, TokenStoreView, UpdateView,
    },
};
use serde_json::Value;
use tauri::State;

type Result<T> = std::result::Result<T, AppError>;

#[tauri::command]
pub async fn list_servers(latch: State<'_, Latch>) -> Result<Vec<ServerView>> {
    latch.list_servers().await
}

#[tauri::command]
pub async fn add_server(
    latch: State<'_, Latch>,
    name: String,
    entry: ServerEntryInput,
) -> Result<ServerView> {
    latch.add_server(&name, entry).await
}

#[tauri::command]
pub async fn update_server(
    latch: State<'_, Latch>,
    name: String,
    entry: ServerEntryInput,
) -> Result<ServerView> {
    latch.update_server(&name, entry).await
}

#[tauri::command]
pub async fn remove_server(latch: State<'_, Latch>, name: String) -> Result<()> {
    latch.remove_server(&name).await
}

#[tauri::command]
pub async fn probe_url(url: String) -> ProbeView {
    latch_core::app::probe(&url).await
}

#[tauri::command]
pub fn presets() -> Vec<Preset> {
    latch_core::app::presets()
}

#[tauri::command]
pub async fn connect(latch: State<'_, Latch>, name: String) -> Result<ServerView> {
    latch.connect(&name).await
}

#[tauri::command]
pub async fn disconnect(latch: State<'_, Latch>, name: String) -> Result<ServerView> {
    latch.disconnect(&name).await
}

#[tauri::command]
pub async fn sign_in(
    latch: State<'_, Latch>,
    name: String,
    flow: Option<FlowInput>,
    account: Option<String>,
) -> Result<ServerView> {
    latch.sign_in(&name, flow, account).await
}

#[tauri::command]
pub fn cancel_sign_in(latch: State<'_, Latch>, name: String) {
    latch.cancel_sign_in(&name)
}

#[tauri::command]
pub async fn sign_out(
    latch: State<'_, Latch>,
    name: String,
    account: Option<String>,
) -> Result<ServerView> {
    latch.sign_out(&name, account).await
}

#[tauri::command]
pub async fn use_account(
    latch: State<'_, Latch>,
    name: String,
    account: Option<String>,
) -> Result<ServerView> {
    latch.use_account(&name, account).await
}

#[tauri::command]
pub async fn set_credentials(
    latch: State<'_, Latch>,
    name: String,
    client_id: String,
    client_secret: String,
) -> Result<()> {
    latch
        .set_credentials(&name, &client_id, &client_secret)
        .await
}

/// Keep the value of a `${secret:NAME}` placeholder in the keychain (a server's client secret
/// at its sign-in server, which the add dialog writes as a placeholder). Never logged.
#[tauri::command]
pub async fn set_secret(latch: State<'_, Latch>, name: String, value: String) -> Result<()> {
    latch.set_secret(&name, &value).await
}

#[tauri::command]
pub fn orgs(latch: State<'_, Latch>) -> Result<Vec<OrgView>> {
    latch.orgs()
}

#[tauri::command]
pub fn add_org(latch: State<'_, Latch>, input: OrgInput) -> Result<OrgView> {
    latch.add_org(input)
}

#[tauri::command]
pub fn remove_org(latch: State<'_, Latch>, name: String) -> Result<()> {
    latch.remove_org(&name)
}

#[tauri::command]
pub async fn sign_in_org(latch: State<'_, Latch>, name: String) -> Result<OrgView> {
    latch.sign_in_org(&name).await
}

#[tauri::command]
pub fn sign_out_org(latch: State<'_, Latch>, name: String) -> Result<OrgView> {
    latch.sign_out_org(&name)
}

#[tauri::command]
pub async fn list_tools(latch: State<'_, Latch>, name: String) -> Result<Vec<ToolView>> {
    latch.list_tools(&name).await
}

#[tauri::command]
pub async fn call_tool(
    latch: State<'_, Latch>,
    name: String,
    tool: String,
    arguments: Value,
    call_id: String,
) -> Result<CallRecord> {
    latch.call_tool(&name, &tool, arguments, &call_id).await
}

/// The MCP App the tool shows after a call, if it names one.
#[tauri::command]
pub async fn app_for_tool(
    latch: State<'_, Latch>,
    name: String,
    tool: String,
) -> Result<Option<latch_core::app::AppView>> {
    latch.app_for_tool(&name, &tool).await
}

#[tauri::command]
pub fn cancel_call(latch: State<'_, Latch>, call_id: String) {
    latch.cancel_call(&call_id)
}

#[tauri::command]
pub async fn history(latch: State<'_, Latch>, name: String) -> Result<Vec<CallRecord>> {
    latch.history(&name).await
}

#[tauri::command]
pub async fn clear_history(latch: State<'_, Latch>, name: String) -> Result<()> {
    latch.clear_history(&name).await
}

#[tauri::command]
pub fn doctor(latch: State<'_, Latch>, name: String) -> DoctorReport {
    latch.doctor(&name)
}

#[tauri::command]
pub async fn read_config(latch: State<'_, Latch>) -> Result<ConfigText> {
    latch.read_config().await
}

#[tauri::command]
pub async fn save_config(latch: State<'_, Latch>, text: String) -> Result<Vec<ServerView>> {
    latch.save_config(&text).await
}

#[tauri::command]
pub async fn import_config(latch: State<'_, Latch>, source: ImportSource) -> Result<ImportReport> {
    latch.import_config(source).await
}

#[tauri::command]
pub async fn plan_export(
    latch: State<'_, Latch>,
    app: ImportSource,
    names: Vec<String>,
) -> Result<ExportPlanView> {
    latch.plan_export(app, names).await
}

#[tauri::command]
pub async fn apply_export(
    latch: State<'_, Latch>,
    app: ImportSource,
    names: Vec<String>,
    diff: String,
) -> Result<ExportDone> {
    latch.apply_export(app, names, diff).await
}

#[tauri::command]
pub fn settings(latch: State<'_, Latch>) -> SettingsView {
    latch.settings()
}

#[tauri::command]
pub async fn keep_sign_ins_in_file(latch: State<'_, Latch>) -> Result<TokenStoreView> {
    latch.keep_sign_ins_in_file().await
}

#[tauri::command]
pub fn answer_elicitation(
    latch: State<'_, Latch>,
    id: String,
    answer: ElicitationAnswer,
) -> Result<()> {
    latch.answer_elicitation(&id, answer)
}

#[tauri::command]
pub fn answer_sampling(
    latch: State<'_, Latch>,
    id: String,
    answer: latch_core::app::SamplingAnswer,
) -> Result<()> {
    latch.answer_sampling(&id, answer)
}

/// Open the page of a URL-mode elicitation, after the person agreed; `false`: not opened.
#[tauri::command]
pub async fn open_elicitation_page(latch: State<'_, Latch>, url: String) -> Result<bool> {
    Ok(latch.open_elicitation_page(&url).await)
}

#[tauri::command]
pub fn roots(latch: State<'_, Latch>, name: String) -> Result<Vec<String>> {
    latch.roots(&name)
}

#[tauri::command]
pub async fn set_roots(
    latch: State<'_, Latch>,
    name: String,
    paths: Vec<String>,
) -> Result<Vec<String>> {
    latch.set_roots(&name, paths).await
}

/// Open an http(s) link in the system browser (the UI asked the person first).
#[tauri::command]
pub fn open_external(app: tauri::AppHandle, url: String) -> Result<()> {
    use tauri_plugin_opener::OpenerExt;
    let checked = latch_core::auth::check_url_to_open(&url).map_err(|reason| {
        AppError::new(
            "unsafeUrl",
            format!("Latch will not open that link: {reason}"),
        )
    })?;
    app.opener()
        .open_url(checked.as_str(), None::<&str>)
        .map_err(|e| AppError::new("open", format!("Could not open the browser: {e}")))
}

/// Whether Latch starts when the person logs in (so the tray keeps sign-ins fresh).
#[tauri::command]
pub fn start_at_login(app: tauri::AppHandle) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| {
        AppError::new(
            "autostart",
            format!("Could not read the start-at-login setting: {e}"),
        )
    })
}

#[tauri::command]
pub fn set_start_at_login(app: tauri::AppHandle, enabled: bool) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let autolaunch = app.autolaunch();
    let done = if enabled {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    };
    done.map_err(|e| AppError::new("autostart", format!("Could not change start at login: {e}")))?;
    Ok(enabled)
}

/// The update check's state (`off` when no update address is set).
#[tauri::command]
pub fn update_status(updates: State<'_, crate::update::Updates>) -> UpdateView {
    updates.view()
}

/// Ask the update manifest now (no request when updates are off).
#[tauri::command]
pub async fn check_for_updates(app: tauri::AppHandle) -> UpdateView {
    crate::update::check_and_tell(&app).await
}

/// Install the verified release on offer and restart into it.
#[tauri::command]
pub async fn install_update(app: tauri::AppHandle) -> Result<()> {
    crate::update::install_and_restart(&app)
        .await
        .map_err(|message| AppError::new("update", message))
}

/// The server's resources and resource templates.
#[tauri::command]
pub async fn list_resources(
    latch: State<'_, Latch>,
    name: String,
) -> Result<latch_core::app::ResourceListView> {
    latch.list_resources(&name).await
}

#[tauri::command]
pub async fn read_resource(
    latch: State<'_, Latch>,
    name: String,
    uri: String,
) -> Result<latch_core::connection::ResourceRead> {
    latch.read_resource(&name, &uri).await
}

/// Read a resource into the file the person chose; the bytes written.
#[tauri::command]
pub async fn save_resource(
    latch: State<'_, Latch>,
    name: String,
    uri: String,
    path: String,
) -> Result<u64> {
    latch.save_resource(&name, &uri, &path).await
}

/// Follow a resource: each change comes as a `resourceUpdated` event.
#[tauri::command]
pub async fn subscribe_resource(latch: State<'_, Latch>, name: String, uri: String) -> Result<()> {
    latch.subscribe_resource(&name, &uri).await
}

#[tauri::command]
pub async fn unsubscribe_resource(
    latch: State<'_, Latch>,
    name: String,
    uri: String,
) -> Result<()> {
    latch.unsubscribe_resource(&name, &uri).await
}

#[tauri::command]
pub async fn list_prompts(
    latch: State<'_, Latch>,
    name: String,
) -> Result<Vec<latch_core::connection::PromptView>> {
    latch.list_prompts(&name).await
}

#[tauri::command]
pub async fn get_prompt(
    latch: State<'_, Latch>,
    name: String,
    prompt: String,
    arguments: std::collections::BTreeMap<String, String>,
) -> Result<latch_core::connection::PromptResult> {
    latch.get_prompt(&name, &prompt, arguments).await
}

/// The values the server suggests for an argument of a prompt or resource template.
#[tauri::command]
pub async fn complete(
    latch: State<'_, Latch>,
    name: String,
    target: latch_core::app::CompletionTargetInput,
    argument: String,
    prefix: String,
    context: std::collections::BTreeMap<String, String>,
) -> Result<latch_core::connection::Completion> {
    latch
        .complete(&name, target, &argument, &prefix, context)
        .await
}

/// A server's protocol log: every JSON-RPC message and HTTP exchange kept (the last 2,000).
#[tauri::command]
pub fn protocol_log(
    latch: State<'_, Latch>,
    name: String,
) -> Vec<latch_core::connection::tap::ProtocolEntry> {
    latch.protocol_log(&name)
}

#[tauri::command]
pub fn clear_protocol_log(latch: State<'_, Latch>, name: String) {
    latch.clear_protocol_log(&name)
}

/// Write a server's protocol log to `path` as JSON; how many entries it holds.
#[tauri::command]
pub async fn export_protocol_log(
    latch: State<'_, Latch>,
    name: String,
    path: String,
) -> Result<usize> {
    latch
        .export_protocol_log(&name, std::path::Path::new(&path))
        .await
}

/// The level chosen for a server's log messages, if one was.
#[tauri::command]
pub fn log_level(latch: State<'_, Latch>, name: String) -> Option<String> {
    latch.log_level(&name)
}

#[tauri::command]
pub async fn set_log_level(latch: State<'_, Latch>, name: String, level: String) -> Result<()> {
    latch.set_log_level(&name, &level).await
}
