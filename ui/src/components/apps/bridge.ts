// The host side of an MCP App (SEP-1865), around ext-apps' `AppBridge` and
// `PostMessageTransport`: what Latch tells the app it can do (call this server's tools, open
// links, log, and — each declared only when the frame handles it — list and read this server's
// resources, save a file it offers, share context and ask for a message to be sent, which
// Latch, having no model and no conversation, shows instead), how the app's requests reach Latch (through the handlers the frame passes in,
// which ask the person the way the rest of the UI does), the size the app may take, and a
// guard that drops any message from the app's frame larger than a cap before the transport
// parses it. Messages from any other window never reach the bridge: the transport checks
// `event.source` against the frame's window.
import { AppBridge, PostMessageTransport, type McpUiHostCapabilities, type McpUiHostContext } from "@modelcontextprotocol/ext-apps/app-bridge";
import type { ContentView } from "../../bindings/ContentView";
import type { ToolResult } from "../../bindings/ToolResult";

/** A message from an app bigger than this is dropped unread. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The height an app may ask for, in CSS pixels. */
export const MIN_APP_HEIGHT = 60;
export const MAX_APP_HEIGHT = 1200;
export const DEFAULT_APP_HEIGHT = 320;

/** Shared context or a message longer than this is shown cut, with "…". */
export const MAX_SHOWN_CHARS = 2000;

/** A file an app offers (`ui/download-file`): inline contents, or a link Latch reads from the server. */
export type AppDownload =
  | { kind: "embedded"; name: string; file: { uri: string; mimeType?: string | null; text?: string | null; blob?: string | null } }
  | { kind: "link"; name: string; uri: string };

/** What a tool call gives back to the app, in MCP's wire shape. */
export type WireToolResult = { content: unknown[]; structuredContent?: unknown; isError?: boolean };

export type HostHandlers = {
  /** Run a tool of the app's server for the app (asking first when the person must agree). */
  callTool: (name: string, args: Record<string, unknown>) => Promise<WireToolResult>;
  /** Offer to open a link; false when Latch will not (not a web link). */
  openLink: (url: string) => boolean;
  /** The app's content height changed (already capped). */
  resize: (height: number) => void;
  /** The app shared context for the model (`ui/update-model-context`), as text: Latch shows it. */
  shareContext?: (text: string) => void;
  /** The app asked for a message to be sent (`ui/message`), as text: Latch shows it; it is never sent. */
  showMessage?: (text: string) => void;
  /** Offer the app's files to the person; true when every one was saved where they chose. */
  downloadFiles?: (files: AppDownload[]) => Promise<boolean>;
  /** This server's resources and templates, in MCP's wire shape. */
  listResources?: () => Promise<{ resources: unknown[]; resourceTemplates: unknown[] }>;
  /** One resource of this server, in MCP's wire shape; rejects with the reason in words. */
  readResource?: (uri: string) => Promise<{ contents: unknown[] }>;
  /** The app asked to be closed (`ui/notifications/request-teardown`). */
  requestTeardown?: () => void;
};

function cut(text: string, max: number = MAX_SHOWN_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Content blocks (and structured content) as the text Latch shows: text as is, the rest named. */
export function contentText(content: unknown, structured?: unknown): string {
  const parts: string[] = [];
  for (const block of Array.isArray(content) ? content : []) {
    const b = (block ?? {}) as Record<string, unknown>;
    const resource = (b.resource ?? {}) as Record<string, unknown>;
    if (b.type === "text" && typeof b.text === "string") parts.push(b.text);
    else if (b.type === "image" || b.type === "audio") parts.push(`[${b.type}${typeof b.mimeType === "string" ? ` ${b.mimeType}` : ""}]`);
    else if (b.type === "resource_link") parts.push(`[link ${String(b.uri)}]`);
    else if (b.type === "resource")
      parts.push(typeof resource.text === "string" ? resource.text : `[resource ${String(resource.uri)}]`);
    else parts.push(`[${String(b.type)}]`);
  }
  if (structured !== undefined && structured !== null) {
    try {
      parts.push(JSON.stringify(structured, null, 2));
    } catch {
      parts.push("[structured content]");
    }
  }
  return cut(parts.join("\n"));
}

/** A file name for what an app offers: its name, else the last part of its URI. */
export function downloadName(uri: string, name?: unknown): string {
  if (typeof name === "string" && name.trim()) return name.trim().replace(/[\\/]/g, "_");
  const last = uri.split(/[?#]/)[0].split("/").filter(Boolean).pop() ?? "";
  const decoded = (() => {
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  })();
  return decoded.replace(/[\\/:]/g, "_") || "download";
}

/** The files of a `ui/download-file` request; null when one of them is neither kind. */
export function downloadsOf(contents: unknown): AppDownload[] | null {
  const files: AppDownload[] = [];
  for (const item of Array.isArray(contents) ? contents : []) {
    const c = (item ?? {}) as Record<string, unknown>;
    const r = (c.resource ?? {}) as Record<string, unknown>;
    if (c.type === "resource" && typeof r.uri === "string" && (typeof r.text === "string" || typeof r.blob === "string")) {
      const file = { uri: r.uri, mimeType: typeof r.mimeType === "string" ? r.mimeType : null, text: typeof r.text === "string" ? r.text : null, blob: typeof r.blob === "string" ? r.blob : null };
      files.push({ kind: "embedded", name: downloadName(r.uri), file });
    } else if (c.type === "resource_link" && typeof c.uri === "string") {
      files.push({ kind: "link", name: downloadName(c.uri, c.name), uri: c.uri });
    } else return null;
  }
  return files.length > 0 ? files : null;
}

/** An object without its null fields (Latch's views say null where MCP's wire leaves a key out). */
export function withoutNulls<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

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
  const capabilities: McpUiHostCapabilities = { openLinks: {}, serverTools: {}, logging: {} };
  if (handlers.shareContext) capabilities.updateModelContext = { text: {}, structuredContent: {} };
  if (handlers.showMessage) capabilities.message = { text: {} };
  if (handlers.downloadFiles) capabilities.downloadFile = {};
  if (handlers.readResource && handlers.listResources) capabilities.serverResources = {};
  const bridge = new AppBridge(null, HOST_INFO, capabilities, {
    hostContext: { displayMode: "inline", availableDisplayModes: ["inline"], platform: "desktop", ...hostContext },
  });
  bridge.oncalltool = async (params) => {
    const args = params.arguments && typeof params.arguments === "object" ? (params.arguments as Record<string, unknown>) : {};
    return (await handlers.callTool(String(params.name), args)) as never;
  };
  bridge.onopenlink = async ({ url }) => (handlers.openLink(String(url)) ? {} : { isError: true });
  bridge.onsizechange = ({ height }) => {
    const capped = capHeight(height);
    if (capped !== null) handlers.resize(capped);
  };
  // Latch has no conversation to put a message in: it shows what the app wanted to send and
  // tells the app it was not sent. It has no model either: shared context is shown, newest only.
  bridge.onmessage = async ({ content }) => {
    handlers.showMessage?.(contentText(content));
    return { isError: true };
  };
  const { shareContext, downloadFiles, listResources, readResource } = handlers;
  if (shareContext)
    bridge.onupdatemodelcontext = async ({ content, structuredContent }) => {
      shareContext(contentText(content, structuredContent));
      return {};
    };
  if (downloadFiles)
    bridge.ondownloadfile = async ({ contents }) => {
      const files = downloadsOf(contents);
      if (!files) return { isError: true };
      return (await downloadFiles(files)) ? {} : { isError: true };
    };
  if (listResources && readResource) {
    bridge.onlistresources = async () => ({ resources: (await listResources()).resources }) as never;
    bridge.onlistresourcetemplates = async () => ({ resourceTemplates: (await listResources()).resourceTemplates }) as never;
    bridge.onreadresource = async ({ uri }) => (await readResource(String(uri))) as never;
  }
  bridge.onrequestdisplaymode = async () => ({ mode: "inline" });
  bridge.onloggingmessage = () => {};
  if (handlers.requestTeardown) bridge.onrequestteardown = () => handlers.requestTeardown?.();
  return bridge;
}

/** Connect `bridge` to the frame's window (set up before the frame loads its page). */
export async function connectBridge(bridge: AppBridge, frame: Window): Promise<void> {
  await bridge.connect(new PostMessageTransport(frame, frame));
}
