// The selected server: its tools (search, description, runner), its results, its doctor and
// its log.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { CallRecord } from "../../bindings/CallRecord";
import type { ServerView } from "../../bindings/ServerView";
import type { ToolView } from "../../bindings/ToolView";
import { actions } from "../../state/actions";
import { useStore } from "../../state/store";
import type { Json } from "../../lib/schema";
import { mainAction, statusOf } from "../../lib/views";
import { Confirm } from "../shared/Modal";
import { DoctorPanel } from "./Doctor";
import { CallBlock } from "../tools/Results";
import { ToolList } from "../tools/Tools";
import { ToolModal } from "../tools/ToolModal";
import { ToolRunner } from "../tools/ToolRunner";
import { RunningCall } from "../tools/ToolRunner";
import { ProtocolLogTab } from "../log/ProtocolLog";
import { PromptsTab } from "../prompts/Prompts";
import { ResourceLinkProvider } from "../resources/ResourceLinks";
import { ResourcesTab } from "../resources/Resources";
import { RootsTab } from "./Roots";

type Tab = "tools" | "resources" | "prompts" | "roots" | "doctor" | "log";

const TAB_LABELS: Record<Tab, string> = { tools: "Tools", resources: "Resources", prompts: "Prompts", roots: "Roots", doctor: "Doctor", log: "Log" };

export function ServerPanel({ server }: { server: ServerView }) {
  const [tab, setTab] = useState<Tab>("tools");
  const status = statusOf(server.state);
  return (
    <section className="server-panel" aria-label={server.name}>
      <header className="panel-head">
        <div>
          <h1 className="panel-title">{server.serverInfo?.name && server.serverInfo.name !== server.name ? `${server.name}` : server.name}</h1>
          <p className="muted small mono break">{server.target}</p>
          {server.serverInfo && (
            <p className="muted small">
              {server.serverInfo.name ?? "Server"} {server.serverInfo.version ?? ""} · MCP {server.serverInfo.protocolVersion}
              {server.serverInfo.stateless ? " (stateless)" : ""}
            </p>
          )}
        </div>
        <span className={`status-pill tone-${status.tone}`}>
          <span className={`dot dot-${status.tone}`} aria-hidden="true" /> {status.text}
        </span>
      </header>
      <div className="tabs" role="tablist" aria-label="Server views">
        {(["tools", "resources", "prompts", "roots", "doctor", "log"] as Tab[]).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? "active" : ""} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
            {TAB_LABELS[t]}
          </button>
        ))}
      </div>
      <ResourceLinkProvider key={server.name} server={server.name}>
        {tab === "tools" && <ToolsTab key={server.name} server={server} />}
        {tab === "resources" && <ResourcesTab key={server.name} server={server} />}
        {tab === "prompts" && <PromptsTab key={server.name} server={server} />}
      </ResourceLinkProvider>
      {tab === "roots" && <RootsTab key={server.name} server={server.name} />}
      {tab === "doctor" && <DoctorPanel key={server.name} server={server.name} />}
      {tab === "log" && <ProtocolLogTab key={server.name} server={server.name} />}
    </section>
  );
}

const EMPTY: CallRecord[] = [];

function ToolsTab({ server }: { server: ServerView }) {
  const name = server.name;
  const tools = useStore((s) => s.tools[name]);
  const history = useStore((s) => s.history[name]);
  const runningMap = useStore((s) => s.running);
  const running = useMemo(() => Object.values(runningMap).filter((c) => c.server === name), [runningMap, name]);
  const [modalTool, setModalTool] = useState<ToolView | null>(null);
  const [runner, setRunner] = useState<{ tool: ToolView; initial?: Json; key: number } | null>(null);
  const [confirmClear, setConfirmClear] = useState(false);
  const connected = server.state.state === "connected";
  const main = mainAction(server);

  useEffect(() => {
    if (connected && (!tools || tools.status === "idle")) void actions.loadTools(name);
  }, [connected, tools, name]);
  useEffect(() => {
    if (!history) void actions.loadHistory(name);
  }, [history, name]);

  const toolList = tools && "data" in tools ? tools.data : undefined;
  const records = (history && "data" in history ? history.data : undefined) ?? EMPTY;

  const runAgain = useCallback(
    (record: CallRecord) => {
      const tool = toolList?.find((t) => t.name === record.tool) ?? ({ name: record.tool, inputSchema: { type: "object" }, annotations: {} } as unknown as ToolView);
      setRunner({ tool, initial: (record.arguments ?? {}) as Json, key: Date.now() });
    },
    [toolList],
  );

  return (
    <div className="tools-tab">
      <div className="tools-col">
        {!connected && !toolList && (
          <div className="empty">
            <p className="empty-title">{server.state.state === "connecting" ? "Connecting…" : server.state.state === "signingIn" ? "Signing in…" : "Not connected"}</p>
            <p className="muted small">{main.action === "signIn" ? "Sign in to see this server's tools." : "Connect to see this server's tools."}</p>
            {server.state.state !== "connecting" &&
              server.state.state !== "signingIn" &&
              (main.action === "signIn" ? (
                <button type="button" className="btn btn-primary" onClick={() => void actions.signIn(name)} data-testid={`panel-sign-in-${name}`}>
                  Sign in
                </button>
              ) : (
                <button type="button" className="btn btn-primary" onClick={() => void actions.connect(name)} data-testid={`panel-connect-${name}`}>
                  {main.label}
                </button>
              ))}
          </div>
        )}
        {tools?.status === "loading" && !toolList && (
          <div className="empty" aria-busy="true">
            <p className="muted">Loading tools…</p>
          </div>
        )}
        {tools?.status === "error" && (
          <div className="empty error-box" role="alert">
            <p>Couldn't list the tools.</p>
            <p className="small">{tools.error}</p>
            <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.loadTools(name)}>
              Try again
            </button>
          </div>
        )}
        {toolList && toolList.length === 0 && (
          <div className="empty">
            <p className="empty-title">This server has no tools</p>
          </div>
        )}
        {toolList && toolList.length > 0 && <ToolList tools={toolList.filter((t) => !t.ui?.appOnly)} onOpen={setModalTool} />}
      </div>
      <div className="results-col">
        {runner ? (
          <ToolRunner key={`${runner.tool.name}-${runner.key}`} server={name} tool={runner.tool} initial={runner.initial} onClose={() => setRunner(null)} />
        ) : (
          <p className="muted small hint-box">Choose a tool, then “Run…”, to call it by hand.</p>
        )}
        <div className="section-head">
          <h2>Results</h2>
          {records.length > 0 && (
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirmClear(true)} data-testid="clear-history">
              Clear history
            </button>
          )}
        </div>
        {running.map((call) => (
          <div key={call.callId} className="call-block running-block" data-testid="call-running">
            <span className="call-tool mono">{call.tool}</span>
            <RunningCall callId={call.callId} />
          </div>
        ))}
        {history?.status === "error" && <p className="field-error">{history.error}</p>}
        {records.length === 0 && running.length === 0 && history?.status !== "error" && <p className="muted small">No calls yet. They are kept here across restarts.</p>}
        <div className="call-list">
          {records.map((record, i) => (
            <CallBlock key={record.id} record={record} onRunAgain={runAgain} defaultOpen={i === 0 && Date.now() - Number(record.startedAt) < 60_000} />
          ))}
        </div>
      </div>
      {modalTool && (
        <ToolModal
          tool={modalTool}
          onClose={() => setModalTool(null)}
          onRun={() => {
            setRunner({ tool: modalTool, key: Date.now() });
            setModalTool(null);
          }}
        />
      )}
      {confirmClear && (
        <Confirm
          title="Clear the history?"
          confirmLabel="Clear"
          danger
          onCancel={() => setConfirmClear(false)}
          onConfirm={() => {
            setConfirmClear(false);
            void actions.clearHistory(name);
          }}
        >
          <p>Every past call of {name} is forgotten.</p>
        </Confirm>
      )}
    </div>
  );
}
