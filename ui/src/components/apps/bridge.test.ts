import { describe, expect, it, vi } from "vitest";
import { InMemoryTransport } from "@modelcontextprotocol/client";
import { App } from "@modelcontextprotocol/ext-apps";
import type { ToolResult } from "../../bindings/ToolResult";
import {
  MAX_APP_HEIGHT,
  MAX_SHOWN_CHARS,
  capHeight,
  contentText,
  downloadName,
  downloadsOf,
  guardFrameMessages,
  makeBridge,
  messageTooBig,
  toWireResult,
  withoutNulls,
  type HostHandlers,
} from "./bridge";

describe("the message guard", () => {
  it("measures messages and refuses what cannot be JSON", () => {
    expect(messageTooBig({ jsonrpc: "2.0", method: "x" }, 100)).toBe(false);
    expect(messageTooBig({ jsonrpc: "2.0", method: "x".repeat(200) }, 100)).toBe(true);
    expect(messageTooBig("y".repeat(101), 100)).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(messageTooBig(cyclic, 100)).toBe(true);
  });

  it("stops a too-big message from the frame before anyone else hears it, and only that", () => {
    const frame = {} as Window;
    const other = {} as Window;
    const dropped = vi.fn();
    const heard = vi.fn();
    const unguard = guardFrameMessages(window, () => frame, dropped, 100);
    window.addEventListener("message", heard);
    const send = (data: unknown, source: Window) => window.dispatchEvent(new MessageEvent("message", { data, source: source as MessageEventSource }));
    send({ jsonrpc: "2.0", method: "big", params: { x: "z".repeat(500) } }, frame);
    expect(dropped).toHaveBeenCalledTimes(1);
    expect(heard).not.toHaveBeenCalled();
    send({ jsonrpc: "2.0", method: "small" }, frame);
    expect(heard).toHaveBeenCalledTimes(1);
    // Another window's messages are not the guard's business (the transport ignores them).
    send({ jsonrpc: "2.0", method: "big", params: { x: "z".repeat(500) } }, other);
    expect(dropped).toHaveBeenCalledTimes(1);
    unguard();
    window.removeEventListener("message", heard);
  });
});

describe("results for the app", () => {
  it("go back in MCP's wire shape", () => {
    const result: ToolResult = {
      content: [
        { type: "text", text: "hi" },
        { type: "resourceLink", uri: "ui://x", name: "x" },
        { type: "unknown", raw: { type: "future", v: 1 } },
      ],
      structuredContent: { time: "noon" },
      isError: false,
    };
    expect(toWireResult(result)).toEqual({
      content: [{ type: "text", text: "hi" }, { type: "resource_link", uri: "ui://x", name: "x" }, { type: "future", v: 1 }],
      structuredContent: { time: "noon" },
      isError: false,
    });
  });

  it("caps the height an app asks for", () => {
    expect(capHeight(99999)).toBe(MAX_APP_HEIGHT);
    expect(capHeight(-5)).toBe(60);
    expect(capHeight(Number.NaN)).toBeNull();
    expect(capHeight("400")).toBeNull();
  });
});

/** A real ext-apps `App` talking to Latch's bridge over an in-memory pair. */
async function connected(handlers: Partial<HostHandlers>) {
  const all: HostHandlers = {
    callTool: vi.fn(async () => ({ content: [{ type: "text", text: "ran" }] })),
    openLink: vi.fn(() => true),
    resize: vi.fn(),
    ...handlers,
  };
  const bridge = makeBridge(all);
  const [hostSide, appSide] = InMemoryTransport.createLinkedPair();
  await bridge.connect(hostSide);
  const app = new App({ name: "test-app", version: "1" }, {}, { autoResize: false });
  await app.connect(appSide);
  return { app, bridge, handlers: all };
}

describe("the bridge", () => {
  it("routes the app's tool calls to Latch and gives it the result", async () => {
    const callTool = vi.fn(async (name: string) => ({ content: [{ type: "text", text: `ran ${name}` }], isError: false }));
    const { app } = await connected({ callTool });
    const result = await app.callServerTool({ name: "get-time", arguments: { zone: "UTC" } });
    expect(callTool).toHaveBeenCalledWith("get-time", { zone: "UTC" });
    expect(result.content).toEqual([{ type: "text", text: "ran get-time" }]);
    await app.close();
  });

  it("says a link Latch will not open was not opened", async () => {
    const openLink = vi.fn((url: string) => url.startsWith("https://"));
    const { app } = await connected({ openLink });
    expect((await app.openLink({ url: "https://example.com/docs" })).isError).toBeFalsy();
    expect((await app.openLink({ url: "javascript:alert(1)" })).isError).toBe(true);
    expect(openLink).toHaveBeenCalledTimes(2);
    await app.close();
  });

  it("applies size changes capped", async () => {
    const resize = vi.fn();
    const { app } = await connected({ resize });
    await app.sendSizeChanged({ width: 300, height: 50_000 });
    await vi.waitFor(() => expect(resize).toHaveBeenCalledWith(MAX_APP_HEIGHT));
    await app.close();
  });

  it("declines messages meant for a conversation Latch does not have", async () => {
    const { app } = await connected({});
    const answer = await app.sendMessage({ role: "user", content: [{ type: "text", text: "hi" }] });
    expect(answer.isError).toBe(true);
    await app.close();
  });
});

describe("what an app shares, sends and offers", () => {
  it("reads as text: text blocks as they are, other blocks named, structured content as JSON, long text cut", () => {
    expect(
      contentText(
        [
          { type: "text", text: "3 rows selected" },
          { type: "image", data: "AAAA", mimeType: "image/png" },
          { type: "resource_link", uri: "file:///a.csv", name: "a" },
          { type: "resource", resource: { uri: "x://y", text: "inline" } },
        ],
        { rows: [1, 2, 3] },
      ),
    ).toBe('3 rows selected\n[image image/png]\n[link file:///a.csv]\ninline\n{\n  "rows": [\n    1,\n    2,\n    3\n  ]\n}');
    expect(contentText([{ type: "text", text: "x".repeat(MAX_SHOWN_CHARS + 10) }])).toHaveLength(MAX_SHOWN_CHARS + 1);
    expect(contentText(undefined)).toBe("");
  });

  it("names files from their name or URI, never with a path in it", () => {
    expect(downloadName("file:///exports/report%20q3.csv")).toBe("report q3.csv");
    expect(downloadName("ui://x/a.json?v=1")).toBe("a.json");
    expect(downloadName("https://x/", "../../etc/passwd")).toBe(".._.._etc_passwd");
    expect(downloadName("data:")).toBe("data_");
  });

  it("takes embedded files and links, and nothing else", () => {
    expect(
      downloadsOf([
        { type: "resource", resource: { uri: "file:///r.csv", mimeType: "text/csv", text: "a,b" } },
        { type: "resource_link", uri: "ui://app/data.bin", name: "data.bin" },
      ]),
    ).toEqual([
      { kind: "embedded", name: "r.csv", file: { uri: "file:///r.csv", mimeType: "text/csv", text: "a,b", blob: null } },
      { kind: "link", name: "data.bin", uri: "ui://app/data.bin" },
    ]);
    expect(downloadsOf([{ type: "text", text: "no file" }])).toBeNull();
    expect(downloadsOf([{ type: "resource", resource: { uri: "file:///empty" } }])).toBeNull();
    expect(downloadsOf([])).toBeNull();
  });

  it("leaves Latch's nulls out of MCP's wire shape", () => {
    expect(withoutNulls({ uri: "a://b", name: "b", title: null, size: 0 })).toEqual({ uri: "a://b", name: "b", size: 0 });
  });
});

describe("the bridge's answers to what an app asks", () => {
  it("declares only what the frame handles", async () => {
    const bare = await connected({});
    expect(bare.app.getHostCapabilities()).toEqual({ openLinks: {}, serverTools: {}, logging: {} });
    await bare.app.close();
    const full = await connected({
      shareContext: vi.fn(),
      showMessage: vi.fn(),
      downloadFiles: vi.fn(async () => true),
      listResources: vi.fn(async () => ({ resources: [], resourceTemplates: [] })),
      readResource: vi.fn(async () => ({ contents: [] })),
    });
    expect(full.app.getHostCapabilities()).toEqual({
      openLinks: {},
      serverTools: {},
      logging: {},
      updateModelContext: { text: {}, structuredContent: {} },
      message: { text: {} },
      downloadFile: {},
      serverResources: {},
    });
    await full.app.close();
  });

  it("shows the context an app shares, newest each time", async () => {
    const shareContext = vi.fn();
    const { app } = await connected({ shareContext });
    await app.updateModelContext({ content: [{ type: "text", text: "first" }] });
    await app.updateModelContext({ content: [{ type: "text", text: "second" }], structuredContent: { n: 2 } });
    expect(shareContext.mock.calls).toEqual([["first"], ['second\n{\n  "n": 2\n}']]);
    await app.close();
  });

  it("shows the message an app wants sent, and tells it the message was not sent", async () => {
    const showMessage = vi.fn();
    const { app } = await connected({ showMessage });
    const answer = await app.sendMessage({ role: "user", content: [{ type: "text", text: "Please wipe everything" }] });
    expect(showMessage).toHaveBeenCalledWith("Please wipe everything");
    expect(answer.isError).toBe(true);
    await app.close();
  });

  it("hands an app's files to the person, and says when they were not saved", async () => {
    let saved = true;
    const downloadFiles = vi.fn(async () => saved);
    const { app } = await connected({ downloadFiles });
    const contents = [{ type: "resource" as const, resource: { uri: "file:///r.csv", mimeType: "text/csv", text: "a,b" } }];
    expect((await app.downloadFile({ contents })).isError).toBeFalsy();
    expect(downloadFiles).toHaveBeenCalledWith([
      { kind: "embedded", name: "r.csv", file: { uri: "file:///r.csv", mimeType: "text/csv", text: "a,b", blob: null } },
    ]);
    saved = false; // the person cancelled the save dialog
    expect((await app.downloadFile({ contents })).isError).toBe(true);
    // Nothing the person could save: refused without asking them.
    await expect(app.downloadFile({ contents: [{ type: "resource", resource: { uri: "file:///x" } }] as never })).rejects.toThrow(/Invalid params/);
    expect(downloadFiles).toHaveBeenCalledTimes(2);
    await app.close();
  });

  it("lists and reads the server's resources through Latch, and passes a failed read on as an error", async () => {
    const listResources = vi.fn(async () => ({
      resources: [{ uri: "ui://hostile/app.html", name: "hostile app" }],
      resourceTemplates: [{ uriTemplate: "demo://{id}", name: "demo" }],
    }));
    const readResource = vi.fn(async (uri: string) => {
      if (uri === "demo://missing") throw new Error("The server has no resource demo://missing.");
      return { contents: [{ uri, mimeType: "text/plain", text: "hello" }] };
    });
    const { app } = await connected({ listResources, readResource });
    expect((await app.listServerResources()).resources).toEqual([{ uri: "ui://hostile/app.html", name: "hostile app" }]);
    expect((await app.readServerResource({ uri: "demo://a" })).contents).toEqual([{ uri: "demo://a", mimeType: "text/plain", text: "hello" }]);
    await expect(app.readServerResource({ uri: "demo://missing" })).rejects.toThrow(/no resource demo:\/\/missing/);
    await app.close();
  });

  it("hears an app ask to be closed, when the frame can close it", async () => {
    const requestTeardown = vi.fn();
    const { app } = await connected({ requestTeardown });
    await app.requestTeardown();
    await vi.waitFor(() => expect(requestTeardown).toHaveBeenCalledTimes(1));
    await app.close();
  });
});
