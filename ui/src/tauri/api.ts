// The only place that calls into the Tauri shell: one typed function per command of
// docs/APP-IPC.md. Everything else imports from here, so tests can mock this module.
import { invoke } from "@tauri-apps/api/core";
import type { AppError } from "../bindings/AppError";
import type { CallRecord } from "../bindings/CallRecord";
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
import type { ServerEntryInput } from "../bindings/ServerEntryInput";
import type { ServerView } from "../bindings/ServerView";
import type { SettingsView } from "../bindings/SettingsView";
import type { TokenStoreView } from "../bindings/TokenStoreView";
import type { ToolView } from "../bindings/ToolView";
import type { UpdateView } from "../bindings/UpdateView";
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
export const cancelCall = (callId: string) => call<void>("cancel_call", { callId });
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
