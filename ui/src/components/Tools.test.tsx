import { fireEvent, render, screen, act } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ToolView } from "../bindings/ToolView";
import type { CallRecord } from "../bindings/CallRecord";
import * as api from "../tauri/api";
import { initialState, store } from "../state/store";
import { filterTools, indexTools, ToolList } from "./Tools";
import { ToolModal } from "./ToolModal";
import { ToolRunner } from "./ToolRunner";
import { CallBlock } from "./Results";
import { OpenLinkProvider } from "./OpenLink";

vi.mock("../tauri/api", async (orig) => (await import("../test/apiMock")).mockApi(orig));

const tool = (name: string, description = "", patch: Partial<ToolView> = {}): ToolView => ({
  name,
  description,
  inputSchema: { type: "object", properties: {} },
  annotations: {},
  ...patch,
});

describe("tool search", () => {
  const tools = [
    tool("search_pages", "Find Notion pages by title"),
    tool("create_page", "Create a page", { title: "New page" }),
    tool("get_campaigns", "List Facebook ad campaigns"),
  ];

  it("filters by name, title and description, every word", () => {
    const index = indexTools(tools);
    expect(filterTools(index, "").map((t) => t.name)).toEqual(["search_pages", "create_page", "get_campaigns"]);
    expect(filterTools(index, "PAGE").map((t) => t.name)).toEqual(["search_pages", "create_page"]);
    expect(filterTools(index, "new").map((t) => t.name)).toEqual(["create_page"]);
    expect(filterTools(index, "facebook campaigns").map((t) => t.name)).toEqual(["get_campaigns"]);
    expect(filterTools(index, "facebook pages")).toEqual([]);
  });

  it("stays instant for a thousand tools", async () => {
    const many = Array.from({ length: 1000 }, (_, i) => tool(`tool_${i}`, `Does thing number ${i} with ${i % 7 === 0 ? "rockets" : "paper"}`));
    const user = userEvent.setup();
    render(<ToolList tools={many} onOpen={() => undefined} />);
    expect(screen.getAllByTestId(/^tool-card-/)).toHaveLength(1000);
    const started = performance.now();
    await user.type(screen.getByTestId("tool-search"), "rockets");
    expect(screen.getAllByTestId(/^tool-card-/)).toHaveLength(143);
    expect(screen.getByTestId("tool-count")).toHaveTextContent("143 of 1000 tools");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("says so when nothing matches, and shows badges", async () => {
    const user = userEvent.setup();
    render(<ToolList tools={[tool("rm", "Delete", { annotations: { destructiveHint: true } }), tool("ls", "List", { annotations: { readOnlyHint: true } })]} onOpen={() => undefined} />);
    expect(screen.getByTestId("tool-card-rm")).toHaveTextContent("destructive");
    expect(screen.getByTestId("tool-card-ls")).toHaveTextContent("read-only");
    expect(screen.getByTestId("tool-card-rm").querySelector(".clamp-3")).not.toBeNull();
    await user.type(screen.getByTestId("tool-search"), "zzz");
    expect(screen.getByText(/No tool matches/)).toBeInTheDocument();
  });
});

describe("tool modal", () => {
  const t = tool("echo", "# Echo\nSays **it** back. <script>bad()</script>", { inputSchema: { type: "object", properties: { message: { type: "string" } } }, annotations: { readOnlyHint: true } });

  it("closes on Escape", async () => {
    const onClose = vi.fn();
    render(<OpenLinkProvider><ToolModal tool={t} onClose={onClose} onRun={() => undefined} /></OpenLinkProvider>);
    expect(screen.getByTestId("tool-modal")).toBeInTheDocument();
    fireEvent.keyDown(document, { key: "Escape" });
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("closes on a backdrop click but not on a click inside", () => {
    const onClose = vi.fn();
    render(<OpenLinkProvider><ToolModal tool={t} onClose={onClose} onRun={() => undefined} /></OpenLinkProvider>);
    fireEvent.mouseDown(screen.getByTestId("tool-modal"));
    expect(onClose).not.toHaveBeenCalled();
    fireEvent.mouseDown(screen.getByTestId("tool-modal-backdrop"));
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("closes with the X button, shows the description, schema and hints, and runs", async () => {
    const onClose = vi.fn();
    const onRun = vi.fn();
    const user = userEvent.setup();
    render(<OpenLinkProvider><ToolModal tool={t} onClose={onClose} onRun={onRun} /></OpenLinkProvider>);
    expect(screen.getByRole("heading", { name: "Echo" })).toBeInTheDocument();
    expect(screen.getByTestId("tool-modal").querySelector("script")).toBeNull();
    expect(JSON.parse(screen.getByTestId("tool-input-schema").textContent!)).toEqual(t.inputSchema);
    expect(screen.getByText("Only reads; changes nothing.")).toBeInTheDocument();
    await user.click(screen.getByTestId("tool-modal-run"));
    expect(onRun).toHaveBeenCalled();
    await user.click(screen.getByTestId("tool-modal-close"));
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("tool runner", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.callTool).mockReset();
  });

  const record = (id: string): CallRecord => ({
    id,
    server: "s",
    tool: "wipe",
    arguments: { target: "all" },
    startedAt: 1,
    durationMs: 12,
    status: "ok",
    result: { content: [{ type: "text", text: "done" }], isError: false },
    error: null,
  });

  it("asks before running a destructive tool, and runs only on yes", async () => {
    vi.mocked(api.callTool).mockImplementation(async (_s, _t, _a, id) => record(id));
    const user = userEvent.setup();
    const wipe = tool("wipe", "Deletes", { inputSchema: { type: "object", properties: { target: { type: "string" } }, required: ["target"] }, annotations: { destructiveHint: true } });
    render(<ToolRunner server="s" tool={wipe} onClose={() => undefined} />);

    await user.click(screen.getByTestId("run-tool"));
    expect(screen.getByText("Required")).toBeInTheDocument();
    expect(screen.queryByTestId("destructive-confirm")).toBeNull();

    await user.type(screen.getByTestId("field-target"), "all");
    await user.click(screen.getByTestId("run-tool"));
    expect(screen.getByTestId("destructive-confirm")).toBeInTheDocument();
    await user.click(screen.getByTestId("confirm-cancel"));
    expect(api.callTool).not.toHaveBeenCalled();

    await user.click(screen.getByTestId("run-tool"));
    await user.click(screen.getByTestId("confirm-ok"));
    expect(api.callTool).toHaveBeenCalledTimes(1);
    const [server, name, args, callId] = vi.mocked(api.callTool).mock.calls[0];
    expect([server, name, args]).toEqual(["s", "wipe", { target: "all" }]);
    expect(callId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("runs a harmless tool at once and can cancel a running call", async () => {
    let finish: (r: CallRecord) => void = () => undefined;
    vi.mocked(api.callTool).mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    vi.mocked(api.cancelCall).mockResolvedValue(undefined);
    const user = userEvent.setup();
    render(<ToolRunner server="s" tool={tool("echo")} onClose={() => undefined} />);
    await user.click(screen.getByTestId("run-tool"));
    expect(screen.queryByTestId("destructive-confirm")).toBeNull();
    const callId = vi.mocked(api.callTool).mock.calls[0][3];
    expect(screen.getByTestId("running-call")).toHaveAttribute("data-call-id", callId);
    await user.click(screen.getByTestId("cancel-call"));
    expect(api.cancelCall).toHaveBeenCalledWith(callId);
    await act(async () => finish({ ...record(callId), status: "cancelled", result: null, error: "Cancelled" }));
    expect(screen.getByTestId("run-tool")).toBeInTheDocument();
  });
});

describe("call blocks", () => {
  it("are collapsed to name, status and duration, and open to arguments and content", async () => {
    const user = userEvent.setup();
    const onRunAgain = vi.fn();
    const rec: CallRecord = {
      id: "r1",
      server: "s",
      tool: "get-sum",
      arguments: { a: 1, b: 2 },
      startedAt: 1,
      durationMs: 42,
      status: "toolError",
      result: { content: [{ type: "text", text: "bad input" }], structuredContent: { sum: 3 }, isError: true },
      error: null,
    };
    render(<OpenLinkProvider><CallBlock record={rec} onRunAgain={onRunAgain} /></OpenLinkProvider>);
    const block = screen.getByTestId("call-block");
    expect(block).toHaveAttribute("data-status", "error");
    expect(block).toHaveTextContent("get-sum");
    expect(block).toHaveTextContent("42 ms");
    expect(screen.queryByTestId("call-block-body")).toBeNull();
    await user.click(screen.getByTestId("call-block-toggle"));
    const body = screen.getByTestId("call-block-body");
    expect(body).toHaveTextContent('"a": 1');
    expect(body).toHaveTextContent("The tool reported an error");
    expect(body).toHaveTextContent('"sum": 3');
    await user.click(screen.getByTestId("run-again"));
    expect(onRunAgain).toHaveBeenCalledWith(rec);
  });
});
