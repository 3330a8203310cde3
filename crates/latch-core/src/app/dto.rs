//! What the desktop UI sees of Latch: plain data, camelCase, never a token. Each type is
//! exported to TypeScript by ts-rs into `ui/src/bindings/`, so the UI and the shell share one
//! definition (CI regenerates them and fails on a difference).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::{ConnectionState, ToolResult, connection::ServerInfoView};

/// One server as its card shows it.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServerView {
    pub name: String,
    /// What the server is: a URL, or the command line of a local server.
    pub target: String,
    /// The host of a remote server (or the program of a local one), for the card's subtitle.
    pub host: String,
    pub kind: ServerKind,
    /// The configured transport: `auto`, `http`, `sse` or `stdio`.
    pub transport: String,
    pub state: ConnectionState,
    pub auth: AuthView,
    /// How this server signs people in, as far as Latch knows before connecting.
    pub sign_in: SignInKind,
    /// The named client credentials the server signs in with (`auth.credentials`), if any.
    pub credentials: Option<String>,
    /// Known once connected: the tools people see (not those only the server's app may
    /// call).
    pub tool_count: Option<u32>,
    pub server_info: Option<ServerInfoView>,
    /// Whether this is the demo server bundled with Latch.
    pub demo: bool,
    /// The accounts signed in to this server (the default one first), with which one the
    /// app's connection uses.
    pub accounts: Vec<AccountView>,
}

/// One account signed in to a server (several accounts: two Notion workspaces, say).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountView {
    /// The account's label (`default` for a sign-in made without one).
    pub label: String,
    /// When the access token expires, unix seconds.
    #[ts(type = "number | null")]
    pub expires_at: Option<u64>,
    pub scopes: Vec<String>,
    pub issuer: Option<String>,
    /// Whether Latch can refresh it without the person.
    pub refreshable: bool,
    /// False when the tokens were dropped (a refused refresh): it needs a sign-in again.
    pub signed_in: bool,
    /// Whether the app's connection to the server uses this account.
    pub active: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ServerKind {
    Remote,
    Command,
}

/// How a server signs people in.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum SignInKind {
    /// A local command: nothing to sign in to.
    None,
    /// Fixed headers from the config (an API key, say).
    Headers,
    /// Machine-to-machine: a stored client id and secret.
    ClientCredentials,
    /// A person signs in (browser or device code) when the server asks.
    Oauth,
}

/// The sign-in badge of a card. Metadata only.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(tag = "status", rename_all = "camelCase")]
#[ts(export)]
pub enum AuthView {
    /// No stored sign-in (and none needed as far as Latch knows).
    None,
    #[serde(rename_all = "camelCase")]
    SignedIn {
        /// Unix seconds.
        #[ts(type = "number | null")]
        expires_at: Option<u64>,
        scopes: Vec<String>,
        issuer: Option<String>,
        account: Option<String>,
        /// Whether Latch can refresh it without the person.
        refreshable: bool,
    },
    #[serde(rename_all = "camelCase")]
    NeedsSignIn { reason: String },
    /// The stored client secret (or key) was refused: paste the new one.
    #[serde(rename_all = "camelCase")]
    SecretRejected { message: String },
}

/// What adding a URL will lead to, in plain words.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProbeView {
    pub url: String,
    /// The server answered at all.
    pub reachable: bool,
    /// It asked for a sign-in (HTTP 401).
    pub needs_sign_in: bool,
    /// Who signs the person in (the authorization server's host), when known.
    pub sign_in_with: Option<String>,
    /// What Latch will do, in one or two sentences for a person.
    pub summary: String,
    /// A name to suggest for the server.
    pub suggested_name: String,
}

/// A well-known server the add dialog offers.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Preset {
    pub id: String,
    pub label: String,
    pub description: String,
    pub name: String,
    /// The entry as the default sign-in (the first of `sign_ins`) writes it.
    pub entry: ServerEntryInput,
    /// The ways to sign in the person can choose from, the default first (one for most).
    pub sign_ins: Vec<PresetSignIn>,
}

/// One way a preset's server signs in ("Sign in with Madgicx", "Client ID and secret").
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PresetSignIn {
    /// `browser` or `clientCredentials`.
    pub id: String,
    pub label: String,
    pub description: String,
    /// The entry's `auth` object for this choice; `None`: the server's own sign-in (browser).
    pub auth: Option<Value>,
    /// The named credentials this choice needs (a client id and secret), if any.
    pub credentials: Option<String>,
    /// Where the person finds those credentials.
    pub credentials_help: Option<String>,
}

/// A server entry as the add/edit dialog sends it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServerEntryInput {
    #[serde(default)]
    pub url: Option<String>,
    /// `auto`, `http` or `sse`.
    #[serde(default)]
    pub transport: Option<String>,
    /// `auto`, `2026-07-28` or `2025-11-25` (the `"protocol"` key); none is `auto`.
    #[serde(default)]
    #[ts(optional)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub headers: Vec<HeaderInput>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// The `auth` object, as in the servers file.
    #[serde(default)]
    pub auth: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HeaderInput {
    pub name: String,
    pub value: String,
}

/// Which sign-in to run (`None`: what the server's config says).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum FlowInput {
    Browser,
    Device,
    ClientCredentials,
}

/// One tool call, as kept in the history and shown as a block.
pub use crate::history::{CallRecord, CallStatus};

/// The steps of the last connection or sign-in of a server.
#[derive(Debug, Clone, Serialize, PartialEq, Default, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DoctorReport {
    pub server: String,
    /// Unix milliseconds of the attempt; `None` when nothing was tried yet.
    #[ts(type = "number | null")]
    pub at: Option<u64>,
    pub steps: Vec<DoctorStep>,
}

#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DoctorStep {
    pub name: String,
    pub status: StepStatus,
    pub detail: String,
    /// What to do about a failed step.
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum StepStatus {
    Ok,
    Failed,
    Skipped,
}

/// The servers file as text, for the raw editor.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfigText {
    pub path: String,
    pub text: String,
    /// One line per key Latch does not know (a typo, usually), naming the nearest known key.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ImportSource {
    Claude,
    Vscode,
    Cursor,
}

#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportReport {
    /// The file read.
    pub path: String,
    pub added: Vec<String>,
    /// Names that already existed, left alone.
    pub skipped: Vec<String>,
    pub warnings: Vec<String>,
}

/// What "Use in…" would change in another app's config file, shown before anything is
/// written.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ExportPlanView {
    pub app: ImportSource,
    /// The other app's config file (created when missing).
    pub path: String,
    /// A unified diff of the change; empty when nothing would change.
    pub diff: String,
    pub added: Vec<String>,
    /// Latch entries rewritten (the `latch` command moved).
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Entries of the same name that Latch did not write: left alone.
    pub conflicts: Vec<String>,
    /// The `latch` command the entries start (absolute); `None` when it was not found.
    pub latch: Option<String>,
    /// Why nothing can be written, in plain words (no `latch` command found).
    pub problem: Option<String>,
}

/// What "Use in…" wrote.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ExportDone {
    pub path: String,
    /// The copy of the previous file, if there was one.
    pub backup: Option<String>,
    /// False when there was nothing to change.
    pub written: bool,
}

/// Where things are kept, for the settings page.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SettingsView {
    pub token_store: TokenStoreView,
    pub config_path: String,
    pub version: String,
}

/// The desktop app's update check, as the Settings page and the tray show it. The app offers
/// only a release whose download verified against its signing key.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum UpdateView {
    /// No update address (or no signing key) is set: Latch never asks.
    Off,
    /// Asking the update address, or verifying what it offered.
    Checking,
    /// The newest release is the one running.
    #[serde(rename_all = "camelCase")]
    UpToDate {
        /// When Latch last asked, unix seconds.
        #[ts(type = "number")]
        checked_at: u64,
    },
    /// A newer release whose download verified.
    #[serde(rename_all = "camelCase")]
    Available {
        version: String,
        notes: Option<String>,
        /// Latch can install it itself (an AppImage); otherwise the person downloads it
        /// (a .deb or .rpm goes through the system's package tools).
        can_install: bool,
        /// Where the release is downloaded from (the update manifest's link).
        download_url: String,
    },
    /// Downloading, verifying again and installing `version`.
    #[serde(rename_all = "camelCase")]
    Installing { version: String },
    /// The check, the download or the install failed, in a sentence; nothing was installed.
    #[serde(rename_all = "camelCase")]
    Failed { message: String },
}

/// Where sign-ins are kept, and whether they can be kept at all.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenStoreView {
    /// `keychain`, `file` or `memory`.
    pub kind: String,
    /// Why the store is not the keychain, or why nothing can be kept, in a sentence.
    pub warning: Option<String>,
    /// No keychain runs and the person has not said where to keep sign-ins: the app asks
    /// whether a file only they can read will do (`keep_sign_ins_in_file`); until then
    /// signing in fails with kind `keychainUnavailable`.
    pub needs_consent: bool,
}

/// The person's answer to a server's request for input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[serde(tag = "action", rename_all = "camelCase")]
#[ts(export)]
pub enum ElicitationAnswer {
    Accept {
        content: serde_json::Map<String, Value>,
    },
    Decline,
    Cancel,
}

/// What a server asks a model to answer (`sampling/createMessage`, or a 2026 input request),
/// as the sampling dialog shows it.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SamplingView {
    /// The conversation so far, oldest first.
    pub messages: Vec<SamplingMessageView>,
    pub system_prompt: Option<String>,
    /// The server's model preferences (`hints`, `costPriority`…), as sent.
    pub model_preferences: Option<Value>,
    /// The most tokens the reply may have.
    pub max_tokens: u32,
    /// The tools the model may call (sampling with tools), as sent.
    pub tools: Vec<Value>,
}

/// One message of a [`SamplingView`]; content that is not text is described in words.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SamplingMessageView {
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
}

/// The person's answer to a sampling request: the reply they wrote and the model name to
/// report, or no reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[serde(tag = "action", rename_all = "camelCase")]
#[ts(export)]
pub enum SamplingAnswer {
    Reply { text: String, model: String },
    Decline,
}

/// A failed command: `kind` for code, `message` for the person (it says what to do).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppError {
    pub kind: String,
    pub message: String,
}

impl AppError {
    pub fn new(kind: &str, message: impl std::fmt::Display) -> Self {
        Self {
            kind: kind.to_owned(),
            message: message.to_string(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// What the UI hears, on one channel.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(export)]
// A card per event, sent once per change: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AppEvent {
    /// A card changed (state, sign-in, tool count).
    #[serde(rename_all = "camelCase")]
    ServerChanged { server: ServerView },
    /// The list of servers changed (added, removed, config reloaded).
    ServersChanged,
    #[serde(rename_all = "camelCase")]
    Progress {
        server: String,
        call_id: String,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
        /// The task's status (`working`, `input_required`, …) when the server runs the call
        /// as a task; `message` is then its status message.
        task: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    ToolsChanged { server: String },
    /// A resource the person follows changed: read it again to show it.
    #[serde(rename_all = "camelCase")]
    ResourceUpdated { server: String, uri: String },
    /// A browser sign-in waits at `url`; sent when it starts (`opening`) and again once
    /// Latch knows whether the browser opened.
    #[serde(rename_all = "camelCase")]
    SignInUrl {
        server: String,
        url: String,
        browser: BrowserOpen,
    },
    #[serde(rename_all = "camelCase")]
    DeviceCode {
        server: String,
        user_code: String,
        verification_uri: String,
        verification_uri_complete: Option<String>,
        #[ts(type = "number")]
        expires_in: u64,
    },
    #[serde(rename_all = "camelCase")]
    SignInFinished {
        server: String,
        ok: bool,
        message: String,
    },
    #[serde(rename_all = "camelCase")]
    Elicitation {
        id: String,
        server: String,
        message: String,
        schema: Option<Value>,
        url: Option<String>,
    },
    /// A server asks for a model reply; answered with `answer_sampling(id, …)`.
    #[serde(rename_all = "camelCase")]
    Sampling {
        id: String,
        server: String,
        request: SamplingView,
    },
    #[serde(rename_all = "camelCase")]
    ServerLog {
        server: String,
        level: String,
        logger: Option<String>,
        data: Value,
    },
    /// A server needs the person (its refresh token was refused): the tray notifies.
    #[serde(rename_all = "camelCase")]
    Attention { server: String, message: String },
    /// A new entry in a server's protocol log (see `protocol_log`).
    #[serde(rename_all = "camelCase")]
    ProtocolEntry {
        server: String,
        entry: Box<crate::connection::tap::ProtocolEntry>,
    },
}

/// Whether Latch got the system browser to show a sign-in page.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum BrowserOpen {
    /// Latch is asking the system to open it.
    Opening,
    /// The system's opener took the page.
    Opened,
    /// No browser could be opened (or Latch does not open one): the person opens the link.
    NotOpened,
}

/// `ToolResult` is part of [`CallRecord`]; re-exported for the shell.
pub type CallResult = ToolResult;
