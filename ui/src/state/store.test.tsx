import { act, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AppEvent } from "../bindings/AppEvent";
import type { ServerView } from "../bindings/ServerView";
import * as api from "../tauri/api";
import * as events from "../tauri/events";
import { applyEvent, initialState, store } from "./store";
import { actions } from "./actions";
import { ServerList } from "../components/servers/ServerList";
import { RunningCall } from "../components/tools/ToolRunner";

vi.mock("../tauri/api", async (orig) => (await import("../test/apiMock")).mockApi(orig));
vi.mock("../tauri/events", () => ({ onAppEvent: vi.fn() }));

export function server(name: string, patch: Partial<ServerView> = {}): ServerView {
  return {
    name,
    target: `https://${name}.example.com/mcp`,
    host: `${name}.example.com`,
    kind: "remote",
    transport: "auto",
    state: { state: "disconnected" },
    auth: { status: "none" },
    signIn: "oauth",
    credentials: null,
    toolCount: null,
    serverInfo: null,
    demo: false,
    accounts: [],
    ...patch,
  };
}

describe("the store", () => {
  let emit: (e: AppEvent) => void = () => undefined;
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(events.onAppEvent).mockImplementation(async (handler) => {
      emit = handler;
      return () => undefined;
    });
  });

  it("replaces a card when a serverChanged event arrives, without asking the shell again", async () => {
    vi.mocked(api.listServers).mockResolvedValue([server("notion"), server("madgicx")]);
    render(<ServerList onAdd={() => undefined} onEdit={() => undefined} onCredentials={() => undefined} />);
    await act(() => actions.start());
    expect(screen.getByTestId("server-status-notion")).toHaveTextContent("Not connected");
    expect(screen.getByTestId("server-auth-notion")).toHaveTextContent("Not signed in");

    const expiresAt = Math.floor(Date.now() / 1000) + 52 * 60;
    act(() =>
      emit({
        type: "serverChanged",
        server: server("notion", {
          state: { state: "connected", transport: "streamable-http" },
          auth: { status: "signedIn", expiresAt, scopes: [], issuer: null, account: null, refreshable: true },
          toolCount: 12,
        }),
      }),
    );
    expect(screen.getByTestId("server-status-notion")).toHaveTextContent("Connected");
    expect(screen.getByTestId("server-auth-notion")).toHaveTextContent("Signed in · expires in 52 min");
    expect(screen.getByTestId("server-card-notion")).toHaveTextContent("12 tools");
    expect(screen.getByTestId("sign-in-notion")).toHaveTextContent("Re-authorize");
    expect(screen.getByTestId("sign-out-notion")).toBeInTheDocument();
    // The other card is untouched and the list was read once.
    expect(screen.getByTestId("server-status-madgicx")).toHaveTextContent("Not connected");
    expect(api.listServers).toHaveBeenCalledTimes(1);

    act(() => emit({ type: "serverChanged", server: server("madgicx", { signIn: "clientCredentials", auth: { status: "secretRejected", message: "bad" }, state: { state: "failed", reason: "401" } }) }));
    expect(screen.getByTestId("server-auth-madgicx")).toHaveTextContent("Secret rejected");
    expect(screen.getByTestId("server-status-madgicx")).toHaveTextContent("Failed");
  });

  it("routes progress to the call with the same callId only", () => {
    let s = initialState();
    s = { ...s, running: { a: { callId: "a", server: "x", tool: "t", startedAt: 0 }, b: { callId: "b", server: "x", tool: "t", startedAt: 0 } } };
    s = applyEvent(s, { type: "progress", server: "x", callId: "b", progress: 3, total: 10, message: "three", task: null });
    expect(s.running.b).toMatchObject({ progress: 3, total: 10, message: "three", task: null });
    expect(s.running.a.progress).toBeUndefined();
    const same = applyEvent(s, { type: "progress", server: "x", callId: "zzz", progress: 1, total: null, message: null, task: null });
    expect(same).toBe(s);
  });

  it("shows progress in the runner of that call", () => {
    store.update((s) => ({ ...s, running: { c1: { callId: "c1", server: "x", tool: "slow", startedAt: 0 }, c2: { callId: "c2", server: "x", tool: "slow", startedAt: 0 } } }));
    render(
      <>
        <div data-testid="one">
          <RunningCall callId="c1" />
        </div>
        <div data-testid="two">
          <RunningCall callId="c2" />
        </div>
      </>,
    );
    act(() => actions.handleEvent({ type: "progress", server: "x", callId: "c2", progress: 5, total: 20, message: "step 5", task: null }));
    const bars = screen.getAllByTestId("progress");
    expect(bars[0]).not.toHaveAttribute("aria-valuenow");
    expect(bars[1]).toHaveAttribute("aria-valuenow", "5");
    expect(screen.getAllByTestId("progress-text")[1]).toHaveTextContent("5 of 20 · step 5");
    expect(screen.getAllByTestId("progress-text")[0]).toHaveTextContent("Running…");
  });

  it("shows a call the server runs as a task by its status and message, not a count", () => {
    store.update((s) => ({ ...s, running: { t1: { callId: "t1", server: "demo", tool: "make_report", startedAt: 0 } } }));
    render(<RunningCall callId="t1" />);
    act(() => actions.handleEvent({ type: "progress", server: "demo", callId: "t1", progress: 2, total: null, message: "Counting notes…", task: "working" }));
    expect(screen.getByTestId("task-status")).toHaveTextContent("Task · Working");
    expect(screen.getByTestId("progress-text")).toHaveTextContent("Task · Working · Counting notes…");
    expect(screen.getByTestId("progress-text")).not.toHaveTextContent("2");
    expect(screen.getByTestId("progress")).not.toHaveAttribute("aria-valuenow");
    act(() => actions.handleEvent({ type: "progress", server: "demo", callId: "t1", progress: 3, total: null, message: null, task: "input_required" }));
    expect(screen.getByTestId("task-status")).toHaveAttribute("data-status", "input_required");
    expect(screen.getByTestId("progress-text")).toHaveTextContent("Waiting for your answer · answer the server's question to go on");
  });

  it("keeps a sign-in's URL and the device code until the sign-in finishes", () => {
    let s = initialState();
    s = applyEvent(s, { type: "signInUrl", server: "notion", url: "https://auth.example/authorize?x=1", browser: "opening" });
    expect(s.signIn.notion.browser).toBe("opening");
    s = applyEvent(s, { type: "signInUrl", server: "notion", url: "https://auth.example/authorize?x=1", browser: "notOpened" });
    expect(s.signIn.notion.browser).toBe("notOpened");
    s = applyEvent(s, { type: "deviceCode", server: "notion", userCode: "ABCD-EFGH", verificationUri: "https://auth.example/device", verificationUriComplete: null, expiresIn: 600 });
    expect(s.signIn.notion.url).toBe("https://auth.example/authorize?x=1");
    expect(s.deviceCode?.userCode).toBe("ABCD-EFGH");
    s = applyEvent(s, { type: "signInFinished", server: "notion", ok: true, message: "" });
    expect(s.signIn.notion).toBeUndefined();
    expect(s.deviceCode).toBeNull();
  });

  it("puts a finished call on top of the server's history", async () => {
    vi.mocked(api.callTool).mockResolvedValue({
      id: "id-1",
      server: "x",
      tool: "echo",
      arguments: { a: 1 },
      startedAt: 1,
      durationMs: 5,
      status: "ok",
      result: { content: [{ type: "text", text: "hi" }], isError: false },
      error: null,
    });
    store.update((s) => ({ ...s, history: { x: { status: "ready", data: [] } } }));
    const outcome = await actions.runTool("x", "echo", { a: 1 }, "id-1");
    expect(outcome.ok).toBe(true);
    expect(api.callTool).toHaveBeenCalledWith("x", "echo", { a: 1 }, "id-1");
    const h = store.get().history.x;
    expect(h.status === "ready" && h.data.map((r) => r.id)).toEqual(["id-1"]);
    expect(store.get().running["id-1"]).toBeUndefined();
  });
});
