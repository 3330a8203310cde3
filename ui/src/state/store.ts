// The app's state, in one small store (useSyncExternalStore). Events from the shell and the
// results of commands are applied here; components subscribe to slices with selectors, so a
// progress tick re-renders only the runner that shows it.
import { useSyncExternalStore } from "react";
import type { AppEvent } from "../bindings/AppEvent";
import type { BrowserOpen } from "../bindings/BrowserOpen";
import type { CallRecord } from "../bindings/CallRecord";
import type { FlowInput } from "../bindings/FlowInput";
import type { ServerView } from "../bindings/ServerView";
import type { TokenStoreView } from "../bindings/TokenStoreView";
import type { ToolView } from "../bindings/ToolView";

export type Loadable<T> =
  | { status: "idle" }
  | { status: "loading"; data?: T }
  | { status: "ready"; data: T }
  | { status: "error"; error: string; data?: T };

export type RunningCall = {
  callId: string;
  server: string;
  tool: string;
  startedAt: number;
  progress?: number;
  total?: number | null;
  message?: string | null;
  /** The task's status when the server runs the call as a task (`working`, `input_required`…). */
  task?: string | null;
};

export type DeviceCodeRequest = Extract<AppEvent, { type: "deviceCode" }>;
export type ElicitationRequest = Extract<AppEvent, { type: "elicitation" }>;
export type SamplingRequestEvent = Extract<AppEvent, { type: "sampling" }>;
export type ServerLogLine = Extract<AppEvent, { type: "serverLog" }> & { at: number };

export type Notice = { id: number; kind: "info" | "error" | "success"; text: string };

/** A sign-in refused because no keychain runs: it waits for the person to choose the file. */
export type ConsentRequest = { server: string; flow: FlowInput | null; account: string | null };

export type State = {
  servers: Loadable<ServerView[]>;
  selected: string | null;
  tools: Record<string, Loadable<ToolView[]>>;
  history: Record<string, Loadable<CallRecord[]>>;
  running: Record<string, RunningCall>;
  /** Servers whose sign-in is under way, with the URL the browser was sent to and whether
   * the browser opened. */
  signIn: Record<string, { url?: string; browser?: BrowserOpen }>;
  deviceCode: DeviceCodeRequest | null;
  elicitations: ElicitationRequest[];
  /** Servers' requests for a model reply, answered by hand (oldest first). */
  samplings: SamplingRequestEvent[];
  logs: Record<string, ServerLogLine[]>;
  notices: Notice[];
  /** Where sign-ins are kept (`needsConsent`: nowhere yet, no keychain runs); null until loaded. */
  tokenStore: TokenStoreView | null;
  consentFor: ConsentRequest | null;
};

export const initialState = (): State => ({
  servers: { status: "idle" },
  selected: null,
  tools: {},
  history: {},
  running: {},
  signIn: {},
  deviceCode: null,
  elicitations: [],
  samplings: [],
  logs: {},
  notices: [],
  tokenStore: null,
  consentFor: null,
});

type Listener = () => void;

export class Store {
  private state: State;
  private listeners = new Set<Listener>();
  private noticeId = 0;

  constructor(state: State = initialState()) {
    this.state = state;
  }

  get = (): State => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  update(fn: (s: State) => State) {
    const next = fn(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }

  notify(kind: Notice["kind"], text: string) {
    const id = ++this.noticeId;
    this.update((s) => ({ ...s, notices: [...s.notices.slice(-4), { id, kind, text }] }));
    return id;
  }

  dismiss(id: number) {
    this.update((s) => ({ ...s, notices: s.notices.filter((n) => n.id !== id) }));
  }
}

export const store = new Store();

/** Subscribe to a slice. The selector must return something already in the state (or a primitive). */
export function useStore<T>(selector: (s: State) => T, target: Store = store): T {
  return useSyncExternalStore(target.subscribe, () => selector(target.get()), () => selector(target.get()));
}

/** Put one server's new view in place (or add it). */
export function upsertServer(s: State, server: ServerView): State {
  const list = s.servers.status === "ready" || s.servers.status === "loading" ? s.servers.data ?? [] : [];
  const index = list.findIndex((x) => x.name === server.name);
  const data = index >= 0 ? list.map((x, i) => (i === index ? server : x)) : [...list, server];
  const signIn = { ...s.signIn };
  if (server.state.state !== "signingIn") delete signIn[server.name];
  return { ...s, servers: { status: "ready", data }, signIn };
}

export function removeServerFromState(s: State, name: string): State {
  const list = s.servers.status === "ready" ? s.servers.data : [];
  const rest = { ...s.tools };
  delete rest[name];
  return {
    ...s,
    servers: { status: "ready", data: list.filter((x) => x.name !== name) },
    tools: rest,
    selected: s.selected === name ? (list.find((x) => x.name !== name)?.name ?? null) : s.selected,
  };
}

const MAX_LOG_LINES = 200;

/** Apply one event from the shell. Pure: returns the next state. */
export function applyEvent(s: State, event: AppEvent): State {
  switch (event.type) {
    case "serverChanged":
      return upsertServer(s, event.server);
    case "progress": {
      const call = s.running[event.callId];
      if (!call) return s;
      return {
        ...s,
        running: {
          ...s.running,
          [event.callId]: { ...call, progress: event.progress, total: event.total, message: event.message, task: event.task },
        },
      };
    }
    case "toolsChanged": {
      const tools = s.tools[event.server];
      if (!tools) return s;
      // Stale now: the tools panel reloads what it shows.
      return { ...s, tools: { ...s.tools, [event.server]: { status: "idle" } } };
    }
    case "signInUrl":
      return { ...s, signIn: { ...s.signIn, [event.server]: { url: event.url, browser: event.browser } } };
    case "deviceCode":
      return { ...s, deviceCode: event };
    case "signInFinished": {
      const signIn = { ...s.signIn };
      delete signIn[event.server];
      const deviceCode = s.deviceCode?.server === event.server ? null : s.deviceCode;
      return { ...s, signIn, deviceCode };
    }
    case "elicitation":
      return { ...s, elicitations: [...s.elicitations, event] };
    case "sampling":
      return { ...s, samplings: [...s.samplings, event] };
    case "serverLog": {
      const lines = [...(s.logs[event.server] ?? []), { ...event, at: Date.now() }].slice(-MAX_LOG_LINES);
      return { ...s, logs: { ...s.logs, [event.server]: lines } };
    }
    default:
      return s;
  }
}
