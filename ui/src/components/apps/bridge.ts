// The host side of an MCP App (SEP-1865), around ext-apps' `AppBridge` and
// `PostMessageTransport`: what Latch tells the app it can do (call this server's tools, open
// links, log), how the app's requests reach Latch (through the handlers the frame passes in,
// which ask the person the way the rest of the UI does), the size the app may take, and a
// guard that drops any message from the app's frame larger than a cap before the transport
// parses it. Messages from any other window never reach the bridge: the transport checks
// `event.source` against the frame's window.
import { AppBridge, PostMessageTransport, type McpUiHostContext } from "@modelcontextprotocol/ext-apps/app-bridge";
import type { ContentView } from "../../bindings/ContentView";
import type { ToolResult } from "../../bindings/ToolResult";

/** A message from an app bigger than this is dropped unread. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The height an app may ask for, in CSS pixels. */
export const MIN_APP_HEIGHT = 60;
export const MAX_APP_HEIGHT = 1200;
export const DEFAULT_APP_HEIGHT = 320;

/** What a tool call gives back to the app, in MCP's wire shape. */
export type WireToolResult = { content: unknown[]; structuredContent?: unknown; isError?: boolean };

export type HostHandlers = {
  /** Run a tool of the app's server for the app (asking first when the person must agree). */
  callTool: (name: string, args: Record<string, unknown>) => Promise<WireToolResult>;
  /** Offer to open a link; false when Latch will not (not a web link). */
  openLink: (url: string) => boolean;
  /** The app's content height changed (already capped). */
  resize: (height: number) => void;
};

/** Whether a posted message is too big (or not something JSON-RPC could be). */
export function messageTooBig(data: unknown, cap: number = MAX_MESSAGE_BYTES): boolean {
  if (typeof data === "string") return data.length > cap;
  if (data === null || typeof data !== "object") return false;
  try {
    const text = JSON.stringify(data);
    return text === undefined || text.length > cap;
  } catch {
    return true;
  }
}

/**
 * Drop messages from `frameWindow()` bigger than `cap` before any other listener sees them.
 * Returns the function that removes the guard.
 */
export function guardFrameMessages(
  host: Window,
  frameWindow: () => Window | null,
  onDropped: () => void,
  cap: number = MAX_MESSAGE_BYTES,
): () => void {
  const listener = (event: MessageEvent) => {
    const frame = frameWindow();
    if (!frame || event.source !== frame) return;
    if (messageTooBig(event.data, cap)) {
      event.stopImmediatePropagation();
      onDropped();
    }
  };
  host.addEventListener("message", listener, true);
  return () => host.removeEventListener("message", listener, true);
}

export function capHeight(height: unknown): number | null {
  if (typeof height !== "number" || !Number.isFinite(height)) return null;
  return Math.round(Math.min(MAX_APP_HEIGHT, Math.max(MIN_APP_HEIGHT, height)));
}

function toWireContent(item: ContentView): unknown {
  switch (item.type) {
    case "resourceLink": {
      const { type: _type, ...rest } = item;
      return { type: "resource_link", ...rest };
    }
    case "unknown":
      return item.raw;
    default:
      return item;
  }
}

/** Latch's view of a tool result, back in MCP's wire shape for the app. */
export function toWireResult(result: ToolResult): WireToolResult {
  const wire: WireToolResult = { content: result.content.map(toWireContent), isError: result.isError };
  if (result.structuredContent !== undefined && result.structuredContent !== null) wire.structuredContent = result.structuredContent;
  return wire;
}

/** A failed call as the app hears it: a tool result with `isError` and the reason in words. */
export function errorResult(message: string): WireToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

export const HOST_INFO = { name: "Latch", version: "0.1.0" };

/** The bridge for one app frame, with Latch's answers wired in. Not connected yet. */
export function makeBridge(handlers: HostHandlers, hostContext: McpUiHostContext = {}): AppBridge {
  const bridge = new AppBridge(
    null,
    HOST_INFO,
    { openLinks: {}, serverTools: {}, logging: {} },
    { hostContext: { displayMode: "inline", availableDisplayModes: ["inline"], platform: "desktop", ...hostContext } },
  );
  bridge.oncalltool = async (params) => {
    const args = params.arguments && typeof params.arguments === "object" ? (params.arguments as Record<string, unknown>) : {};
    return (await handlers.callTool(String(params.name), args)) as never;
  };
  bridge.onopenlink = async ({ url }) => (handlers.openLink(String(url)) ? {} : { isError: true });
  bridge.onsizechange = ({ height }) => {
    const capped = capHeight(height);
    if (capped !== null) handlers.resize(capped);
  };
  // Latch has no conversation to put a message in, and shows apps inline only.
  bridge.onmessage = async () => ({ isError: true });
  bridge.onrequestdisplaymode = async () => ({ mode: "inline" });
  bridge.onloggingmessage = () => {};
  return bridge;
}

/** Connect `bridge` to the frame's window (set up before the frame loads its page). */
export async function connectBridge(bridge: AppBridge, frame: Window): Promise<void> {
  await bridge.connect(new PostMessageTransport(frame, frame));
}
