import { fireEvent, render, screen, act } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ToolView } from "../../bindings/ToolView";
import type { CallRecord } from "../../bindings/CallRecord";
import * as api from "../../tauri/api";
import { initialState, store } from "../../state/store";
import { filterTools, indexTools, ToolList } from "./Tools";
import { ToolModal } from "./ToolModal";
import { ToolRunner } from "./ToolRunner";
import { CallBlock } from "./Results";
import { OpenLinkProvider } from "../shared/OpenLink";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

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

  it("stays instant for a thousand tools, and renders only a window of them", async () => {
    const many = Array.from({ length: 1000 }, (_, i) => tool(`tool_${i}`, `Does thing number ${i} with ${i % 7 === 0 ? "rockets" : "paper"}`));
    const user = userEvent.setup();
    render(<ToolList tools={many} onOpen={() => undefined} />);
    const cards = () => screen.getAllByTestId(/^tool-card-/).map((e) => e.getAttribute("data-testid")!.slice("tool-card-".length));
    const list = screen.getByTestId("tool-cards");
    expect(list).toHaveAttribute("data-count", "1000");
    expect(cards().length).toBeGreaterThan(3);
    expect(cards().length).toBeLessThan(40);
    expect(cards()[0]).toBe("tool_0");
    // jsdom lays nothing out: every card counts as the first estimate, the box holds them all.
    expect(list.style.height).toBe(`${1000 * 90 + 999 * 8}px`);
    const started = performance.now();
    await user.type(screen.getByTestId("tool-search"), "rockets");
    expect(list).toHaveAttribute("data-count", "143");
    expect(screen.getByTestId("tool-count")).toHaveTextContent("143 of 1000 tools");
    expect(cards()[0]).toBe("tool_0");
    expect(cards().every((name) => Number(name.slice(5)) % 7 === 0)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
    await user.type(screen.getByTestId("tool-search"), " 994");
    expect(cards()).toEqual(["tool_994"]);
    expect(screen.getByTestId("tool-cards")).not.toHaveClass("windowed");
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

describe("a long tool list", () => {
  const many = Array.from({ length: 1000 }, (_, i) => tool(`tool_${i}`, `Tool number ${i}`));
  const CARD = 60;
  const SLOT = CARD + 8;
  let scrolled = 0;

  // A scroll container 600 px tall whose content starts with 100 px above the list, and cards
  // 60 px tall: what jsdom can't lay out, given by hand.
  beforeEach(() => {
    scrolled = 0;
    vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(function (this: HTMLElement) {
      if (this.dataset.testid === "tool-cards") return new DOMRect(0, 100 - scrolled, 400, parseFloat(this.style.height) || 0);
      if (this.tagName === "LI") return new DOMRect(0, 0, 400, CARD);
      return new DOMRect(0, 0, 400, 600);
    });
    return () => vi.restoreAllMocks();
  });

  function mount() {
    const view = render(
      <div data-testid="scroller" style={{ overflowY: "auto" }}>
        <ToolList tools={many} onOpen={() => undefined} />
      </div>,
    );
    Object.defineProperty(screen.getByTestId("scroller"), "clientHeight", { value: 600 });
    // Measurements are taken after the first render; render again as a scroll would.
    scrollTo(0);
    return view;
  }
  function scrollTo(y: number) {
    scrolled = y;
    act(() => void screen.getByTestId("scroller").dispatchEvent(new Event("scroll")));
  }
  const rendered = () => screen.getAllByTestId(/^tool-card-/).map((e) => Number(e.getAttribute("data-testid")!.slice("tool-card-tool_".length)));

  it("renders the screenful and 400 px either side, at measured offsets, in a box of the full height", () => {
    mount();
    const list = screen.getByTestId("tool-cards");
    expect(list).toHaveClass("windowed");
    expect(list.style.height).toBe(`${1000 * SLOT - 8}px`);
    // Visible: list coordinates -100 to 500; with the overscan, up to 900.
    expect(rendered()).toEqual(Array.from({ length: 14 }, (_, i) => i));
    scrollTo(100 + 500 * SLOT);
    const shown = rendered();
    expect(shown).toContain(500);
    expect(shown).not.toContain(0);
    expect(shown.length).toBeLessThan(30);
    expect(screen.getByTestId("tool-card-tool_500").parentElement!.style.top).toBe(`${500 * SLOT}px`);
    expect(screen.getByTestId("tool-card-tool_500").parentElement).toHaveAttribute("aria-posinset", "501");
    expect(screen.getByTestId("tool-card-tool_500").parentElement).toHaveAttribute("aria-setsize", "1000");
  });

  it("moves focus with the arrows, Home and End, and Tab reaches the card after the window", async () => {
    const user = userEvent.setup();
    mount();
    screen.getByTestId("tool-card-tool_0").focus();
    await user.keyboard("{End}");
    expect(document.activeElement).toBe(screen.getByTestId("tool-card-tool_999"));
    await user.keyboard("{ArrowUp}");
    expect(document.activeElement).toBe(screen.getByTestId("tool-card-tool_998"));
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(document.activeElement).toBe(screen.getByTestId("tool-card-tool_999"));
    await user.keyboard("{Home}");
    expect(document.activeElement).toBe(screen.getByTestId("tool-card-tool_0"));
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(screen.getByTestId("tool-card-tool_1"));

    const last = Math.max(...rendered());
    screen.getByTestId(`tool-card-tool_${last}`).focus();
    await user.tab();
    expect(document.activeElement).toBe(screen.getByTestId(`tool-card-tool_${last + 1}`));
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(screen.getByTestId(`tool-card-tool_${last}`));
  });

  it("keeps the focused card and its neighbours when it scrolls away", () => {
    mount();
    screen.getByTestId("tool-card-tool_3").focus();
    scrollTo(100 + 600 * SLOT);
    const shown = rendered();
    expect(shown.slice(0, 3)).toEqual([2, 3, 4]);
    expect(shown).toContain(600);
    expect(document.activeElement).toBe(screen.getByTestId("tool-card-tool_3"));
  });

  it("keeps the first visible card in place when cards above it turn out taller than estimated", () => {
    // The first 20 cards are 60 px, the rest 120 px: at first every unmeasured card counts as 60.
    vi.mocked(HTMLElement.prototype.getBoundingClientRect).mockImplementation(function (this: HTMLElement) {
      if (this.dataset.testid === "tool-cards") return new DOMRect(0, 100 - scrolled, 400, parseFloat(this.style.height) || 0);
      if (this.tagName === "LI") return new DOMRect(0, 0, 400, Number(this.dataset.index) < 20 ? CARD : 120);
      return new DOMRect(0, 0, 400, 600);
    });
    mount();
    const scroller = screen.getByTestId("scroller");
    Object.defineProperty(scroller, "scrollTop", { get: () => scrolled, set: (v: number) => void (scrolled = v), configurable: true });
    // Card 500 at the top of the view, where the estimate puts it.
    expect(screen.getByTestId("tool-card-tool_0").parentElement!.style.top).toBe("0px");
    scrollTo(100 + 500 * SLOT);
    const top = parseFloat(screen.getByTestId("tool-card-tool_500").parentElement!.style.top);
    expect(top).toBeGreaterThan(500 * SLOT);
    // The scroll position moved by as much as card 500 did.
    expect(scrolled - 100).toBeCloseTo(top, 0);
  });

  it("opens a card with Enter", async () => {
    const onOpen = vi.fn();
    const user = userEvent.setup();
    render(<ToolList tools={many} onOpen={onOpen} />);
    screen.getByTestId("tool-card-tool_2").focus();
    await user.keyboard("{Enter}");
    expect(onOpen).toHaveBeenCalledWith(many[2]);
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
