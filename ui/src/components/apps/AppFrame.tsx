// One MCP App, shown under the call of its tool: a frame with `sandbox="allow-scripts"` only
// (its own opaque origin: no access to Latch's window, storage or IPC; no top navigation, no
// popups, no forms) loading the page the shell serves with its Content-Security-Policy. The
// bridge is connected before the page loads, so the app's first message is heard. Its tool
// calls go through the same confirmation as the person's (destructive tools ask) and the core's
// rules for apps, its links through the same question as any link from a server, the files it
// offers through the save dialog (nothing is written unless the person picks a file), and what
// it shares for a model or wants sent to a conversation — Latch has neither — is shown under it.
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
import {
  DEFAULT_APP_HEIGHT,
  connectBridge,
  errorResult,
  guardFrameMessages,
  makeBridge,
  toWireResult,
  withoutNulls,
  type WireToolResult,
} from "./bridge";
import { saveDownloads } from "./downloads";

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
  const [shared, setShared] = useState<string | null>(null);
  const [wantsToSend, setWantsToSend] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [ended, setEnded] = useState(false);
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
      // A tool only for people and agents is refused by the core: no need to ask about it.
      if (isDestructive(tool) && !tool.ui?.modelOnly) {
        // One question at a time: a second destructive call while one waits is refused.
        if (askingRef.current) return errorResult("Latch is already asking the person about another call from this app.");
        askingRef.current = true;
        const yes = await new Promise<boolean>((answer) => setAsking({ tool, args, answer }));
        askingRef.current = false;
        setAsking(null);
        if (!yes) return errorResult("The person declined to run this tool.");
      }
      const outcome = await actions.runTool(app.server, name, args as JsonValue, `${APP_CALL_PREFIX}${newCallId()}`, true);
      if (!outcome.ok) return errorResult(outcome.error);
      if (outcome.record.result) return toWireResult(outcome.record.result);
      return errorResult(outcome.record.error ?? "The call did not finish.");
    };
    const bridge = makeBridge({
      callTool,
      shareContext: (text) => {
        if (!closed) setShared(text);
      },
      showMessage: (text) => {
        if (!closed) setWantsToSend(text);
      },
      downloadFiles: (files) =>
        saveDownloads(app.server, record.tool, files, (text) => {
          if (!closed) setSaved(text);
        }),
      listResources: async () => {
        const list = await api.listResources(app.server);
        return { resources: list.resources.map(withoutNulls), resourceTemplates: list.templates.map(withoutNulls) };
      },
      // Latch agrees: it tells the app to clean up, then takes the frame away.
      requestTeardown: () => {
        void bridge
          .teardownResource({})
          .catch(() => {})
          .finally(() => {
            void bridge.close();
            if (!closed) setEnded(true);
          });
      },
      readResource: async (uri) => {
        try {
          const read = await api.readResource(app.server, uri);
          return { contents: read.contents.map(withoutNulls) };
        } catch (e) {
          throw new Error(api.toAppError(e).message);
        }
      },
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
      {ended && (
        <p className="small muted" data-testid="mcp-app-ended">
          The app closed itself.
        </p>
      )}
      <iframe
        ref={frameRef}
        title={`App of ${record.tool} (${app.uri})`}
        sandbox="allow-scripts"
        referrerPolicy="no-referrer"
        style={{ height, width: "100%", border: 0, display: ended ? "none" : "block" }}
        data-testid="mcp-app-frame"
      />
      {dropped > 0 && (
        <p className="small muted" data-testid="mcp-app-dropped">
          Latch ignored {dropped} {dropped === 1 ? "message" : "messages"} from this app larger than 1 MB.
        </p>
      )}
      {(shared !== null || wantsToSend !== null || saved !== null) && (
        <div className="app-asks" style={{ marginTop: 6, display: "grid", gap: 4 }}>
          {shared !== null && (
            <p className="small app-shared" data-testid="mcp-app-shared" style={{ whiteSpace: "pre-wrap", margin: 0 }}>
              <strong>The app shared:</strong> {shared}
              <span className="muted"> (Latch has no model; it only shows this.)</span>
            </p>
          )}
          {wantsToSend !== null && (
            <p className="small app-message" data-testid="mcp-app-message" style={{ whiteSpace: "pre-wrap", margin: 0 }}>
              <strong>The app wants to send:</strong> {wantsToSend}
              <span className="muted"> (Not sent: Latch has no conversation.)</span>
            </p>
          )}
          {saved !== null && (
            <p className="small muted" data-testid="mcp-app-saved" style={{ margin: 0 }}>
              {saved}
            </p>
          )}
        </div>
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
