// What the UI does: commands to the shell, with their results put into the store.
import type { AppEvent } from "../bindings/AppEvent";
import type { CallRecord } from "../bindings/CallRecord";
import type { ElicitationAnswer } from "../bindings/ElicitationAnswer";
import type { FlowInput } from "../bindings/FlowInput";
import type { ServerEntryInput } from "../bindings/ServerEntryInput";
import type { JsonValue } from "../bindings/serde_json/JsonValue";
import * as api from "../tauri/api";
import { onAppEvent } from "../tauri/events";
import { applyEvent, removeServerFromState, store as defaultStore, upsertServer, type Store } from "./store";

/** The kind of a sign-in refused because no keychain runs and the person hasn't chosen the file yet. */
export const KEYCHAIN_UNAVAILABLE = "keychainUnavailable";

export function errorText(e: unknown): string {
  return api.toAppError(e).message;
}

export function createActions(store: Store = defaultStore) {
  const fail = (e: unknown) => {
    store.notify("error", errorText(e));
  };

  // Only the latest listing's answer counts (main.tsx lists the servers before the first
  // render, and `start` again once subscribed).
  let listing = 0;

  const actions = {
    async loadServers() {
      const request = ++listing;
      store.update((s) => ({ ...s, servers: { status: "loading", data: s.servers.status === "ready" ? s.servers.data : undefined } }));
      try {
        const data = await api.listServers();
        if (request !== listing) return;
        store.update((s) => ({
          ...s,
          servers: { status: "ready", data },
          selected: s.selected && data.some((x) => x.name === s.selected) ? s.selected : (data[0]?.name ?? null),
        }));
      } catch (e) {
        if (request !== listing) return;
        store.update((s) => ({ ...s, servers: { status: "error", error: errorText(e) } }));
      }
    },

    select(name: string | null) {
      store.update((s) => (s.selected === name ? s : { ...s, selected: name }));
    },

    /** Run a command that returns the server's new view. */
    async serverCommand(run: () => Promise<unknown>) {
      try {
        const view = await run();
        if (view && typeof view === "object" && "name" in view && "state" in view) {
          store.update((s) => upsertServer(s, view as Parameters<typeof upsertServer>[1]));
        }
        return true;
      } catch (e) {
        fail(e);
        return false;
      }
    },

    connect: (name: string) => actions.serverCommand(() => api.connect(name)),
    disconnect: (name: string) => actions.serverCommand(() => api.disconnect(name)),
    signOut: (name: string, account: string | null = null) => actions.serverCommand(() => api.signOut(name, account)),
    /** Switch the server's connection to another signed-in account. */
    useAccount: (name: string, account: string) => actions.serverCommand(() => api.useAccount(name, account)),
    async signIn(name: string, flow: FlowInput | null = null, account: string | null = null) {
      store.update((s) => ({ ...s, signIn: { ...s.signIn, [name]: s.signIn[name] ?? {} } }));
      let ok = false;
      try {
        const view = await api.signIn(name, flow, account);
        store.update((s) => upsertServer(s, view));
        ok = true;
      } catch (e) {
        if (api.toAppError(e).kind === KEYCHAIN_UNAVAILABLE) {
          // Not an error to show: a choice to offer (keep sign-ins in a file), then go on.
          store.update((s) => ({
            ...s,
            tokenStore: s.tokenStore ? { ...s.tokenStore, needsConsent: true } : s.tokenStore,
            consentFor: { server: name, flow, account },
          }));
        } else {
          fail(e);
        }
      }
      store.update((s) => {
        if (!s.signIn[name]) return s;
        const signIn = { ...s.signIn };
        delete signIn[name];
        return { ...s, signIn };
      });
      return ok;
    },
    async cancelSignIn(name: string) {
      try {
        await api.cancelSignIn(name);
      } catch (e) {
        fail(e);
      }
      store.update((s) => {
        const signIn = { ...s.signIn };
        delete signIn[name];
        return { ...s, signIn, deviceCode: s.deviceCode?.server === name ? null : s.deviceCode };
      });
    },

    async addServer(name: string, entry: ServerEntryInput) {
      const view = await api.addServer(name, entry);
      store.update((s) => ({ ...upsertServer(s, view), selected: view.name }));
      return view;
    },
    async updateServer(name: string, entry: ServerEntryInput) {
      const view = await api.updateServer(name, entry);
      store.update((s) => upsertServer(s, view));
      return view;
    },
    async removeServer(name: string) {
      try {
        await api.removeServer(name);
        store.update((s) => removeServerFromState(s, name));
      } catch (e) {
        fail(e);
      }
    },

    async loadTools(name: string) {
      store.update((s) => {
        const prev = s.tools[name];
        const data = prev && "data" in prev ? prev.data : undefined;
        return { ...s, tools: { ...s.tools, [name]: { status: "loading", data } } };
      });
      try {
        const data = await api.listTools(name);
        store.update((s) => ({ ...s, tools: { ...s.tools, [name]: { status: "ready", data } } }));
      } catch (e) {
        store.update((s) => ({ ...s, tools: { ...s.tools, [name]: { status: "error", error: errorText(e) } } }));
      }
    },

    async loadHistory(name: string) {
      store.update((s) => {
        const prev = s.history[name];
        const data = prev && "data" in prev ? prev.data : undefined;
        return { ...s, history: { ...s.history, [name]: { status: "loading", data } } };
      });
      try {
        const data = await api.history(name);
        store.update((s) => ({ ...s, history: { ...s.history, [name]: { status: "ready", data } } }));
      } catch (e) {
        store.update((s) => ({ ...s, history: { ...s.history, [name]: { status: "error", error: errorText(e) } } }));
      }
    },

    async clearHistory(name: string) {
      try {
        await api.clearHistory(name);
        store.update((s) => ({ ...s, history: { ...s.history, [name]: { status: "ready", data: [] } } }));
      } catch (e) {
        fail(e);
      }
    },

    /**
     * Call a tool. The call shows as running (with progress) until the shell answers; its
     * record then goes on top of the server's history.
     */
    /** `fromApp`: the call comes from the server's MCP App (the core applies the rules for apps). */
    async runTool(
      server: string,
      tool: string,
      args: JsonValue,
      callId: string = newCallId(),
      fromApp = false,
    ): Promise<{ ok: true; record: CallRecord } | { ok: false; error: string }> {
      store.update((s) => ({
        ...s,
        running: { ...s.running, [callId]: { callId, server, tool, startedAt: Date.now() } },
      }));
      try {
        const record = await (fromApp ? api.callToolFromApp : api.callTool)(server, tool, args, callId);
        store.update((s) => {
          const prev = s.history[server];
          const list = prev && "data" in prev && prev.data ? prev.data : [];
          return { ...s, history: { ...s.history, [server]: { status: "ready", data: [record, ...list.filter((r) => r !== record)] } } };
        });
        return { ok: true, record };
      } catch (e) {
        return { ok: false, error: errorText(e) };
      } finally {
        store.update((s) => {
          const running = { ...s.running };
          delete running[callId];
          return { ...s, running };
        });
      }
    },

    async cancelCall(callId: string) {
      try {
        await api.cancelCall(callId);
      } catch (e) {
        fail(e);
      }
    },

    async answerElicitation(id: string, answer: ElicitationAnswer) {
      store.update((s) => ({ ...s, elicitations: s.elicitations.filter((r) => r.id !== id) }));
      try {
        await api.answerElicitation(id, answer);
      } catch (e) {
        fail(e);
      }
    },

    /** Where sign-ins are kept, and whether the person must first choose (no keychain). */
    async loadTokenStore() {
      try {
        const { tokenStore } = await api.settings();
        store.update((s) => ({ ...s, tokenStore }));
      } catch {
        // The settings page says why; without it no banner shows.
      }
    },

    /**
     * No keychain runs and the person chose to keep sign-ins in a file only they can read:
     * from now on (and on every later start) Latch keeps them there. A sign-in that waited
     * for this choice goes on.
     */
    async keepSignInsInFile() {
      try {
        const tokenStore = await api.keepSignInsInFile();
        const waiting = store.get().consentFor;
        store.update((s) => ({ ...s, tokenStore, consentFor: null }));
        store.notify("success", "Latch keeps your sign-ins in a file only you can read.");
        if (waiting) void actions.signIn(waiting.server, waiting.flow, waiting.account);
        return true;
      } catch (e) {
        fail(e);
        return false;
      }
    },

    /** The person closed the question without choosing: the sign-in stays undone. */
    dismissConsent() {
      store.update((s) => (s.consentFor ? { ...s, consentFor: null } : s));
    },

    dismissDeviceCode() {
      store.update((s) => ({ ...s, deviceCode: null }));
    },

    /** Apply an event and do what it asks of the UI (reload lists, tell the person). */
    handleEvent(event: AppEvent) {
      store.update((s) => applyEvent(s, event));
      switch (event.type) {
        case "serversChanged":
          void actions.loadServers();
          break;
        case "toolsChanged":
          if (store.get().selected === event.server) void actions.loadTools(event.server);
          break;
        case "signInFinished":
          store.notify(event.ok ? "success" : "error", event.ok ? `Signed in to ${event.server}.` : `${event.server}: ${event.message}`);
          break;
        case "attention":
          store.notify("error", `${event.server}: ${event.message}`);
          break;
        default:
          break;
      }
    },

    /** Listen to the shell's events; returns the function that stops listening. */
    async start(): Promise<() => void> {
      const unlisten = await onAppEvent((event) => actions.handleEvent(event));
      await actions.loadServers();
      return unlisten;
    },
  };
  return actions;
}

export function newCallId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `call-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export const actions = createActions();
export type Actions = ReturnType<typeof createActions>;
