import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ProtocolEntry } from "../../bindings/ProtocolEntry";
import { applyEvent, initialState, store } from "../../state/store";
import * as api from "../../tauri/api";
import * as events from "../../tauri/events";
import { logFileName, MAX_ROWS, ProtocolLogTab, rowsOf } from "./ProtocolLog";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));
vi.mock("../../tauri/events", () => ({ onProtocolEntry: vi.fn(), onAppEvent: vi.fn() }));

function message(seq: number, direction: "sent" | "received", summary: string, body: unknown, patch: Partial<ProtocolEntry> = {}): ProtocolEntry {
  return {
    seq,
    atMs: 1_700_000_000_000 + seq,
    kind: "message",
    direction,
    summary,
    method: "tools/call",
    id: "3",
    isError: false,
    size: JSON.stringify(body).length,
    latencyMs: direction === "received" ? 12 : null,
    message: body as never,
    http: null,
    ...patch,
  };
}

const exchange: ProtocolEntry = {
  seq: 3,
  atMs: 1_700_000_000_003,
  kind: "http",
  direction: "exchange",
  summary: "POST 200 (tools/call)",
  method: "tools/call",
  id: "3",
  isError: false,
  size: 80,
  latencyMs: 15,
  message: null,
  http: {
    method: "POST",
    url: "http://127.0.0.1:3001/mcp",
    status: 200,
    requestHeaders: [
      { name: "authorization", value: "[redacted]" },
      { name: "mcp-session-id", value: "abc" },
    ],
    responseHeaders: [{ name: "content-type", value: "application/json" }],
    requestSize: 80,
    responseSize: 120,
    error: null,
  },
};

const request = message(1, "sent", "tools/call", { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } });
const response = message(2, "received", "response to tools/call #3", { jsonrpc: "2.0", id: 3, result: { content: [{ type: "text", text: "Echo: hi" }] } });
const failed = message(4, "received", "error for tools/list #4", { jsonrpc: "2.0", id: 4, error: { code: -32601, message: "nope" } }, { isError: true });

let live: ((entry: ProtocolEntry) => void) | null = null;

beforeEach(() => {
  store.update(() => initialState());
  for (const f of [api.protocolLog, api.logLevel, api.setLogLevel, api.exportProtocolLog, api.clearProtocolLog, api.chooseSavePath, api.settings]) vi.mocked(f).mockReset();
  vi.mocked(api.protocolLog).mockResolvedValue([request, response, exchange, failed]);
  vi.mocked(api.logLevel).mockResolvedValue(null);
  vi.mocked(events.onProtocolEntry).mockImplementation(async (_server, handler) => {
    live = handler;
    return () => undefined;
  });
});

describe("the Log tab", () => {
  it("lists messages and exchanges; a row opens its JSON or its headers", async () => {
    const user = userEvent.setup();
    render(<ProtocolLogTab server="everything" />);
    expect(await screen.findByText("response to tools/call #3")).toBeInTheDocument();
    expect(screen.getByTestId("log-count")).toHaveTextContent("4 entries");
    const rows = screen.getAllByTestId("log-row");
    expect(rows[1]).toHaveTextContent("←");
    expect(rows[1]).toHaveTextContent("12");

    await user.click(screen.getByText("response to tools/call #3"));
    expect(screen.getByTestId("entry-detail")).toHaveTextContent('"text": "Echo: hi"');

    await user.click(screen.getByText("POST 200 (tools/call)"));
    const detail = screen.getByTestId("entry-detail");
    expect(detail).toHaveTextContent("http://127.0.0.1:3001/mcp");
    expect(within(detail).getByText("authorization").nextSibling).toHaveTextContent("[redacted]");
    expect(detail).toHaveTextContent("application/json");
  });

  it("filters by kind, by text and to errors; shows the server's log messages", async () => {
    const user = userEvent.setup();
    act(() => store.update((s) => applyEvent(s, { type: "serverLog", server: "everything", level: "warning", logger: "demo", data: "disk almost full" })));
    render(<ProtocolLogTab server="everything" />);
    await screen.findByText("tools/call");
    expect(screen.getByText("disk almost full")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "HTTP" }));
    expect(screen.getAllByTestId("log-row")).toHaveLength(1);
    await user.click(screen.getByRole("button", { name: "Server log" }));
    expect(screen.getAllByTestId("log-row")).toHaveLength(1);
    expect(within(screen.getByTestId("log-row")).getByText("warning")).toHaveClass("log-level");

    await user.click(screen.getByRole("button", { name: "All" }));
    await user.click(screen.getByLabelText(/Errors only/));
    expect(screen.getAllByTestId("log-row")).toHaveLength(1);
    expect(screen.getByText("error for tools/list #4")).toBeInTheDocument();

    await user.click(screen.getByLabelText(/Errors only/));
    await user.type(screen.getByLabelText("Filter the log"), "echo");
    expect(screen.getAllByTestId("log-row")).toHaveLength(2);
  });

  it("adds live entries, sets the level, exports and clears", async () => {
    const user = userEvent.setup();
    vi.mocked(api.setLogLevel).mockResolvedValue(undefined);
    vi.mocked(api.exportProtocolLog).mockResolvedValue(5);
    vi.mocked(api.clearProtocolLog).mockResolvedValue(undefined);
    render(<ProtocolLogTab server="everything" />);
    await screen.findByText("tools/call");
    act(() => live?.(message(5, "sent", "ping", { jsonrpc: "2.0", id: 5, method: "ping" })));
    expect(screen.getByText("ping")).toBeInTheDocument();
    // The same entry again (it came live and in the list) is shown once.
    act(() => live?.(message(5, "sent", "ping", { jsonrpc: "2.0", id: 5, method: "ping" })));
    expect(screen.getAllByText("ping")).toHaveLength(1);

    await user.selectOptions(screen.getByLabelText("Log level"), "error");
    expect(api.setLogLevel).toHaveBeenCalledWith("everything", "error");
    expect(await screen.findByRole("status")).toHaveTextContent("from “error” up");

    await user.type(screen.getByLabelText("Export to"), "/tmp/log.json");
    await user.click(screen.getByRole("button", { name: "Export" }));
    expect(api.exportProtocolLog).toHaveBeenCalledWith("everything", "/tmp/log.json");
    expect(await screen.findByText("Wrote 5 entries to /tmp/log.json.")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Clear" }));
    expect(api.clearProtocolLog).toHaveBeenCalledWith("everything");
    expect(await screen.findByText(/Nothing yet/)).toBeInTheDocument();
  });

  it("draws at most MAX_ROWS rows of the 2,000 kept", async () => {
    const many = Array.from({ length: 2000 }, (_, i) => message(i + 1, "sent", `m${i + 1}`, { id: i + 1 }));
    vi.mocked(api.protocolLog).mockResolvedValue(many);
    render(<ProtocolLogTab server="everything" />);
    expect(await screen.findByText("m2000")).toBeInTheDocument();
    expect(screen.getAllByTestId("log-row")).toHaveLength(MAX_ROWS);
    expect(screen.getByTestId("log-count")).toHaveTextContent(`the newest ${MAX_ROWS} of 2000`);
    expect(screen.queryByText("m1")).not.toBeInTheDocument();
    expect(rowsOf(many, [], "all", "m1999", false)).toHaveLength(1);
  });

  it("exports through the system save dialog, suggesting a name for the server's log", async () => {
    const user = userEvent.setup();
    vi.mocked(api.exportProtocolLog).mockResolvedValue(4);
    vi.mocked(api.chooseSavePath).mockResolvedValue("/home/ada/everything-log.json");
    vi.mocked(api.settings).mockResolvedValue({ configPath: "/home/ada/.config/latch/servers.json" } as never);
    render(<ProtocolLogTab server="everything" />);
    await screen.findByText("tools/call");
    await user.click(screen.getByRole("button", { name: "Export JSON…" }));
    expect(api.chooseSavePath).toHaveBeenCalledWith("/home/ada/Downloads/everything-protocol-log.json", expect.any(String));
    expect(api.exportProtocolLog).toHaveBeenCalledWith("everything", "/home/ada/everything-log.json");
    expect(await screen.findByText("Wrote 4 entries to /home/ada/everything-log.json.")).toBeInTheDocument();
    expect(screen.getByLabelText("Export to")).toHaveValue("/home/ada/everything-log.json");
    expect(logFileName("my server/../x")).toBe("my_server_.._x-protocol-log.json");
  });

  it("changes nothing and says nothing when the save dialog is cancelled", async () => {
    const user = userEvent.setup();
    vi.mocked(api.chooseSavePath).mockResolvedValue(null);
    render(<ProtocolLogTab server="everything" />);
    await screen.findByText("tools/call");
    await user.type(screen.getByLabelText("Export to"), "/tmp/typed.json");
    await user.click(screen.getByRole("button", { name: "Export JSON…" }));
    expect(api.chooseSavePath).toHaveBeenCalledWith("/tmp/typed.json", expect.any(String));
    expect(api.exportProtocolLog).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Export to")).toHaveValue("/tmp/typed.json");
    expect(screen.queryByRole("status")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
