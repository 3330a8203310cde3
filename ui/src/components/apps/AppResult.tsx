// Under a call of a tool that names an MCP App: the app, read from the server when the block
// opens. Nothing shows for other tools, nor under a call an app made itself (the app that
// made it is already on screen); a page that cannot be read says why in one line.
import { useEffect, useState } from "react";
import type { AppView } from "../../bindings/AppView";
import type { CallRecord } from "../../bindings/CallRecord";
import { useStore } from "../../state/store";
import * as api from "../../tauri/api";
import { APP_CALL_PREFIX, AppFrame } from "./AppFrame";

export function AppResult({ record }: { record: CallRecord }) {
  const tools = useStore((s) => s.tools[record.server]);
  const list = tools && "data" in tools && tools.data ? tools.data : [];
  const tool = list.find((t) => t.name === record.tool);
  const uri = record.id.startsWith(APP_CALL_PREFIX) ? null : (tool?.ui?.resourceUri ?? null);
  const [app, setApp] = useState<AppView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!uri || !record.result) return;
    let gone = false;
    api.appForTool(record.server, record.tool).then(
      (view) => {
        if (!gone) setApp(view);
      },
      (e) => {
        if (!gone) setError(api.toAppError(e).message);
      },
    );
    return () => {
      gone = true;
    };
  }, [uri, record.server, record.tool, record.result]);

  if (!uri || !record.result) return null;
  if (error)
    return (
      <p className="result-error small" data-testid="mcp-app-error">
        {error}
      </p>
    );
  if (!app) return <p className="muted small">Loading the app…</p>;
  return <AppFrame app={app} record={record} tools={list} />;
}
