import { describe, expect, it, vi } from "vitest";
import { InMemoryTransport } from "@modelcontextprotocol/client";
import { App } from "@modelcontextprotocol/ext-apps";
import type { ToolResult } from "../../bindings/ToolResult";
import { MAX_APP_HEIGHT, capHeight, guardFrameMessages, makeBridge, messageTooBig, toWireResult, type HostHandlers } from "./bridge";

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
