// The only place that calls into the Tauri shell: one typed function per command of
// docs/APP-IPC.md, and the system file dialogs (dialog.ts). Everything else imports from
// here, so tests can mock this module.
import { invoke } from "@tauri-apps/api/core";
export { chooseFolder, chooseSavePath } from "./dialog";
import type { ProtocolEntry } from "../bindings/ProtocolEntry";
import type { AppError } from "../bindings/AppError";
import type { AppView } from "../bindings/AppView";
import type { CallRecord } from "../bindings/CallRecord";
import type { ResourceContents } from "../bindings/ResourceContents";
import type { ConfigText } from "../bindings/ConfigText";
import type { DoctorReport } from "../bindings/DoctorReport";
import type { ElicitationAnswer } from "../bindings/ElicitationAnswer";
import type { ExportDone } from "../bindings/ExportDone";
import type { ExportPlanView } from "../bindings/ExportPlanView";
import type { FlowInput } from "../bindings/FlowInput";
import type { ImportReport } from "../bindings/ImportReport";
import type { ImportSource } from "../bindings/ImportSource";
import type { OrgInput } from "../bindings/OrgInput";
import type { OrgView } from "../bindings/OrgView";
import type { Preset } from "../bindings/Preset";
import type { ProbeView } from "../bindings/ProbeView";
import type { SamplingAnswer } from "../bindings/SamplingAnswer";
import type { ServerEntryInput } from "../bindings/ServerEntryInput";
import type { ServerView } from "../bindings/ServerView";
import type { SettingsView } from "../bindings/SettingsView";
import type { TokenStoreView } from "../bindings/TokenStoreView";
import type { ToolView } from "../bindings/ToolView";
import type { UpdateView } from "../bindings/UpdateView";
import type { Completion } from "../bindings/Completion";
import type { CompletionTargetInput } from "../bindings/CompletionTargetInput";
import type { PromptResult } from "../bindings/PromptResult";
import type { PromptView } from "../bindings/PromptView";
import type { ResourceListView } from "../bindings/ResourceListView";
import type { ResourceRead } from "../bindings/ResourceRead";
import type { JsonValue } from "../bindings/serde_json/JsonValue";

/** Every command rejects with an AppError; anything else (a shell bug) is wrapped into one. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export function toAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "message" in e && typeof (e as AppError).message === "string") {
    const kind = typeof (e as AppError).kind === "string" ? (e as AppError).kind : "error";
    return { kind, message: (e as AppError).message };
  }
  return { kind: "error", message: typeof e === "string" ? e : "Something went wrong in Latch." };
}

export const listServers = () => call<ServerView[]>("list_servers");
export const addServer = (name: string, entry: ServerEntryInput) => call<ServerView>("add_server", { name, entry });
export const updateServer = (name: string, entry: ServerEntryInput) => call<ServerView>("update_server", { name, entry });
export const removeServer = (name: string) => call<void>("remove_server", { name });
export const probeUrl = (url: string) => call<ProbeView>("probe_url", { url });
export const presets = () => call<Preset[]>("presets");
export const connect = (name: string) => call<ServerView>("connect", { name });
export const disconnect = (name: string) => call<ServerView>("disconnect", { name });
/** Sign in; `account` is the label of the account to sign in as (`null`: the account in use). */
export const signIn = (name: string, flow: FlowInput | null = null, account: string | null = null) =>
  call<ServerView>("sign_in", { name, flow, account });
export const cancelSignIn = (name: string) => call<void>("cancel_sign_in", { name });
/** Sign out of `account` (`null`: the account in use); the server's other accounts stay. */
export const signOut = (name: string, account: string | null = null) => call<ServerView>("sign_out", { name, account });
/** Which signed-in account the app's connection to `name` uses (`null`: the default one). */
export const useAccount = (name: string, account: string | null) => call<ServerView>("use_account", { name, account });
export const setCredentials = (name: string, clientId: string, clientSecret: string) =>
  call<void>("set_credentials", { name, clientId, clientSecret });
/** A value for a `${secret:NAME}` placeholder, kept in the keychain (never in the file). */
export const setSecret = (name: string, value: string) => call<void>("set_secret", { name, value });
/** The organisations (companies whose sign-in signs the person in to servers). */
export const orgs = () => call<OrgView[]>("orgs");
export const addOrg = (input: OrgInput) => call<OrgView>("add_org", { input });
/** Rejects with kind `orgInUse` (its message names the servers) while servers use it. */
export const removeOrg = (name: string) => call<void>("remove_org", { name });
/** Sign in to the company in the browser (a `signInUrl` event names the page), then to its servers. */
export const signInOrg = (name: string) => call<OrgView>("sign_in_org", { name });
export const signOutOrg = (name: string) => call<OrgView>("sign_out_org", { name });
export const listTools = (name: string) => call<ToolView[]>("list_tools", { name });
export const callTool = (name: string, tool: string, args: JsonValue, callId: string) =>
  call<CallRecord>("call_tool", { name, tool, arguments: args, callId });
/** A call an MCP App makes: the core refuses it a tool only for people and agents (`visibility: ["model"]`). */
export const callToolFromApp = (name: string, tool: string, args: JsonValue, callId: string) =>
  call<CallRecord>("call_tool_from_app", { name, tool, arguments: args, callId });
/** Write a file an MCP App offered (`ui/download-file`) to `path`, chosen by the person; resolves to the bytes written. */
export const saveAppFile = (file: ResourceContents, path: string) => call<number>("save_app_file", { file, path });
export const cancelCall = (callId: string) => call<void>("cancel_call", { callId });
/** The MCP App a tool shows after a call (read from the server), or null. */
export const appForTool = (name: string, tool: string) => call<AppView | null>("app_for_tool", { name, tool });
/** Where the shell serves an app's page (its own origin, the `latch-app` scheme). */
export function appPageUrl(id: string): string {
  const windows = typeof navigator !== "undefined" && /Windows/i.test(navigator.userAgent);
  const path = encodeURIComponent(id);
  return windows ? `http://latch-app.localhost/${path}` : `latch-app://localhost/${path}`;
}
export const history = (name: string) => call<CallRecord[]>("history", { name });
export const clearHistory = (name: string) => call<void>("clear_history", { name });
export const doctor = (name: string) => call<DoctorReport>("doctor", { name });
export const readConfig = () => call<ConfigText>("read_config");
export const saveConfig = (text: string) => call<ServerView[]>("save_config", { text });
export const importConfig = (source: ImportSource) => call<ImportReport>("import_config", { source });
/** "Use in…": what would be written into that app's config file (every server when `names` is empty). */
export const planExport = (app: ImportSource, names: string[]) => call<ExportPlanView>("plan_export", { app, names });
/** Writes the plan whose diff the person saw; rejects with kind `changed` when it is no longer that. */
export const applyExport = (app: ImportSource, names: string[], diff: string) => call<ExportDone>("apply_export", { app, names, diff });
export const settings = () => call<SettingsView>("settings");
/** No keychain runs: the person agreed to keep sign-ins in a file only they can read (`TokenStoreView.needsConsent`). */
export const keepSignInsInFile = () => call<TokenStoreView>("keep_sign_ins_in_file");
export const answerElicitation = (id: string, answer: ElicitationAnswer) => call<void>("answer_elicitation", { id, answer });
export const answerSampling = (id: string, answer: SamplingAnswer) => call<void>("answer_sampling", { id, answer });
/** Open a URL-mode elicitation's page, after the person agreed; `false`: no browser opened it. */
export const openElicitationPage = (url: string) => call<boolean>("open_elicitation_page", { url });
/** The folders offered to a server as roots. */
export const roots = (name: string) => call<string[]>("roots", { name });
/** Replace a server's roots (each an existing folder); resolves to the list kept. */
export const setRoots = (name: string, paths: string[]) => call<string[]>("set_roots", { name, paths });
export const startAtLogin = () => call<boolean>("start_at_login");
export const setStartAtLogin = (enabled: boolean) => call<boolean>("set_start_at_login", { enabled });
/** The update check as it stands (`off`: no update address is set, Latch never asks). */
export const updateStatus = () => call<UpdateView>("update_status");
/** Ask the update address now; a newer release is offered only once its download verified. */
export const checkForUpdates = () => call<UpdateView>("check_for_updates");
/** Install the release on offer (only where `canInstall`) and restart Latch into it. */
export const installUpdate = () => call<void>("install_update");
/** Opens http(s) URLs only; callers confirm with the person first (see OpenLink). */
export const openExternal = (url: string) => {
  if (!/^https?:\/\//i.test(url)) return Promise.reject<void>({ kind: "badUrl", message: "Latch opens only web links (http or https)." });
  return call<void>("open_external", { url });
};
/** The server's resources and resource templates (both empty when it offers none). */
export const listResources = (name: string) => call<ResourceListView>("list_resources", { name });
/** Rejects with kind `notFound` (its message names the URI) when the server has no such resource. */
export const readResource = (name: string, uri: string) => call<ResourceRead>("read_resource", { name, uri });
/** Read a resource into the file at `path` (a blob decoded, text as UTF-8); resolves to the bytes written. */
export const saveResource = (name: string, uri: string, path: string) => call<number>("save_resource", { name, uri, path });
/** Follow a resource: each change comes as a `resourceUpdated` event; rejects when the server announces no updates. */
export const subscribeResource = (name: string, uri: string) => call<void>("subscribe_resource", { name, uri });
export const unsubscribeResource = (name: string, uri: string) => call<void>("unsubscribe_resource", { name, uri });
export const listPrompts = (name: string) => call<PromptView[]>("list_prompts", { name });
export const getPrompt = (name: string, prompt: string, args: Record<string, string>) =>
  call<PromptResult>("get_prompt", { name, prompt, arguments: args });
/** The values the server suggests for `argument` given `prefix`; `context`: the other arguments' values. Empty when it does not complete. */
export const complete = (
  name: string,
  target: CompletionTargetInput,
  argument: string,
  prefix: string,
  context: Record<string, string> = {},
) => call<Completion>("complete", { name, target, argument, prefix, context });
/** A server's protocol log: its JSON-RPC messages and HTTP exchanges, oldest first (the last 2,000). */
export const protocolLog = (name: string) => call<ProtocolEntry[]>("protocol_log", { name });
export const clearProtocolLog = (name: string) => call<void>("clear_protocol_log", { name });
/** Write a server's protocol log to `path` as a JSON array; resolves to how many entries it holds. */
export const exportProtocolLog = (name: string, path: string) => call<number>("export_protocol_log", { name, path });
/** The level chosen for a server's log messages, or null. */
export const logLevel = (name: string) => call<string | null>("log_level", { name });
export const setLogLevel = (name: string, level: string) => call<void>("set_log_level", { name, level });
