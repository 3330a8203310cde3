// One MCP App, shown under the call of its tool: a frame with `sandbox="allow-scripts"` only
// (its own opaque origin: no access to Latch's window, storage or IPC; no top navigation, no
// popups, no forms) loading the page the shell serves with its Content-Security-Policy. The
// bridge is connected before the page loads, so the app's first message is heard. Its tool
// calls go through the same confirmation as the person's (destructive tools ask), and its
// links through the same question as any link from a server.
import { useEffect, useRef, useState } from "react";
import type { AppView } from "../../bindings/AppView";
import type { CallRecord } from "../../bindings/CallRecord";
import type { ToolView } from "../../bindings/ToolView";
import type { JsonValue } from "../../bindings/serde_json/JsonValue";
import { actions, newCallId } from "../../state/actions";
import * as api from "../../tauri/api";
import { isWebUrl } from "../../lib/safety";
import { Confirm } from "../shared/Modal";
import { useOpenLink } from "../shared/OpenLink";
import { toolTitle } from "../tools/Tools";
import { DEFAULT_APP_HEIGHT, connectBridge, errorResult, guardFrameMessages, makeBridge, toWireResult, type WireToolResult } from "./bridge";

/** The calls an app makes are kept with ids that say so: their blocks show no app of their own. */
export const APP_CALL_PREFIX = "app-";

type Asking = { tool: ToolView; args: Record<string, unknown>; answer: (yes: boolean) => void };

export function isDestructive(tool: ToolView): boolean {
  return tool.annotations?.destructiveHint === true && tool.annotations?.readOnlyHint !== true;
}

export function AppFrame({ app, record, tools }: { app: AppView; record: CallRecord; tools: ToolView[] }) {
  const frameRef = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(DEFAULT_APP_HEIGHT);
  const [asking, setAsking] = useState<Asking | null>(null);
  const [dropped, setDropped] = useState(0);
  const openLink = useOpenLink();
  const askingRef = useRef(false);
  const toolsRef = useRef(tools);
  toolsRef.current = tools;

  useEffect(() => {
    const frame = frameRef.current;
    const win = frame?.contentWindow;
    if (!frame || !win) return;
    let closed = false;
    const callTool = async (name: string, args: Record<string, unknown>): Promise<WireToolResult> => {
      const tool = toolsRef.current.find((t) => t.name === name);
      if (!tool) return errorResult(`${app.server} has no tool named ${name}.`);
      if (isDestructive(tool)) {
        // One question at a time: a second destructive call while one waits is refused.
        if (askingRef.current) return errorResult("Latch is already asking the person about another call from this app.");
        askingRef.current = true;
        const yes = await new Promise<boolean>((answer) => setAsking({ tool, args, answer }));
        askingRef.current = false;
        setAsking(null);
        if (!yes) return errorResult("The person declined to run this tool.");
      }
      const outcome = await actions.runTool(app.server, name, args as JsonValue, `${APP_CALL_PREFIX}${newCallId()}`);
      if (!outcome.ok) return errorResult(outcome.error);
      if (outcome.record.result) return toWireResult(outcome.record.result);
      return errorResult(outcome.record.error ?? "The call did not finish.");
    };
    const bridge = makeBridge({
      callTool,
      openLink: (url) => {
        if (!isWebUrl(url)) return false;
        openLink(url);
        return true;
      },
      resize: (h) => {
        if (!closed) setHeight(h);
      },
    });
    bridge.oninitialized = () => {
      void bridge.sendToolInput({ arguments: (record.arguments ?? {}) as Record<string, unknown> });
      if (record.result) void bridge.sendToolResult(toWireResult(record.result) as never);
    };
    const unguard = guardFrameMessages(window, () => frame.contentWindow, () => setDropped((n) => n + 1));
    void connectBridge(bridge, win).then(() => {
      if (!closed) frame.src = api.appPageUrl(app.id);
    });
    return () => {
      closed = true;
      unguard();
      void bridge.close();
    };
    // One bridge per page: a new page id is a new app.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [app.id]);

  return (
    <section className={`app-frame ${app.prefersBorder === false ? "" : "bordered"}`} data-testid="mcp-app" aria-label={`App of ${record.tool}`}>
      <iframe
        ref={frameRef}
        title={`App of ${record.tool} (${app.uri})`}
        sandbox="allow-scripts"
        referrerPolicy="no-referrer"
        style={{ height, width: "100%", border: 0, display: "block" }}
        data-testid="mcp-app-frame"
      />
      {dropped > 0 && (
        <p className="small muted" data-testid="mcp-app-dropped">
          Latch ignored {dropped} {dropped === 1 ? "message" : "messages"} from this app larger than 1 MB.
        </p>
      )}
      {asking && (
        <Confirm
          title={`Run ${toolTitle(asking.tool)}?`}
          confirmLabel="Run it"
          danger
          testId="app-destructive-confirm"
          onCancel={() => asking.answer(false)}
          onConfirm={() => asking.answer(true)}
        >
          <p>
            The app of {record.tool} asks to run {asking.tool.name} on {app.server}. The server says this tool may delete or overwrite things. Run it with
            these arguments?
          </p>
          <pre className="json small">{JSON.stringify(asking.args, null, 2)}</pre>
        </Confirm>
      )}
    </section>
  );
}
