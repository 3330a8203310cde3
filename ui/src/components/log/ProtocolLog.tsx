// The Log tab of a server: every JSON-RPC message and HTTP exchange the connection recorded
// (time, direction, method or status, size, latency), new ones live; a row opens its JSON or
// its headers (secrets come already shown as "[redacted]" from the core). Filters by kind, by
// text and to errors only; the server's own log messages with their level, and the level
// setting; "Export JSON…" through the system save dialog (or "Export" to a typed path) and
// "Clear". At most MAX_ROWS rows are drawn, so the 2,000 entries a server keeps stay fast.
import { useEffect, useMemo, useState } from "react";
import type { ProtocolEntry } from "../../bindings/ProtocolEntry";
import { inDownloads } from "../../lib/downloads";
import { useStore, type ServerLogLine } from "../../state/store";
import * as api from "../../tauri/api";
import { onProtocolEntry } from "../../tauri/events";
import "./log.css";

/** Entries a server keeps (the core drops the oldest beyond this). */
export const KEPT = 2000;
/** Rows drawn at once (the newest matching ones). */
export const MAX_ROWS = 300;
export const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

export type Show = "all" | "messages" | "http" | "serverLog";

/** A row of the table: a protocol entry or one of the server's log messages. */
export type Row = { key: string; at: number; entry?: ProtocolEntry; line?: ServerLogLine };

export function rowsOf(entries: ProtocolEntry[], lines: ServerLogLine[], show: Show, text: string, errorsOnly: boolean): Row[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (hay: string) => words.every((w) => hay.toLowerCase().includes(w));
  const rows: Row[] = [];
  if (show !== "serverLog") {
    for (const e of entries) {
      if (show === "messages" && e.kind !== "message") continue;
      if (show === "http" && e.kind !== "http") continue;
      if (errorsOnly && !e.isError) continue;
      if (words.length && !matches(`${e.summary} ${e.http?.url ?? ""} ${e.message ? JSON.stringify(e.message) : ""}`)) continue;
      rows.push({ key: `e${e.seq}`, at: e.atMs, entry: e });
    }
  }
  if (show === "all" || show === "serverLog") {
    lines.forEach((l, i) => {
      const isError = LEVELS.indexOf(l.level) >= LEVELS.indexOf("error");
      if (errorsOnly && !isError) return;
      if (words.length && !matches(`${l.level} ${l.logger ?? ""} ${JSON.stringify(l.data)}`)) return;
      rows.push({ key: `l${i}-${l.at}`, at: l.at, line: l });
    });
  }
  return rows.sort((a, b) => a.at - b.at);
}

/** The name the export's save dialog suggests: `<server>-protocol-log.json`, safe as a file name. */
export function logFileName(server: string): string {
  const safe = server.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "");
  return `${safe || "server"}-protocol-log.json`;
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const ARROWS = { sent: "→", received: "←", exchange: "⇄" } as const;
const NO_LINES: ServerLogLine[] = [];

export function ProtocolLogTab({ server }: { server: string }) {
  const [entries, setEntries] = useState<ProtocolEntry[]>([]);
  const lines = useStore((s) => s.logs[server]) ?? NO_LINES;
  const [show, setShow] = useState<Show>("all");
  const [text, setText] = useState("");
  const [errorsOnly, setErrorsOnly] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [level, setLevel] = useState<string>("");
  const [path, setPath] = useState("");
  const [note, setNote] = useState<{ kind: "ok" | "error"; text: string } | null>(null);

  useEffect(() => {
    let live = true;
    let seen = 0;
    const unlisten = onProtocolEntry(server, (entry) => {
      if (!live || entry.seq <= seen) return;
      seen = entry.seq;
      setEntries((old) => [...old, entry].slice(-KEPT));
    });
    void api.protocolLog(server).then(
      (kept) => {
        if (!live) return;
        // Live entries that came while loading are newer than what was kept.
        setEntries((arrived) => {
          const last = kept.length ? kept[kept.length - 1].seq : 0;
          seen = Math.max(seen, last);
          return [...kept, ...arrived.filter((e) => e.seq > last)].slice(-KEPT);
        });
      },
      (e) => live && setNote({ kind: "error", text: api.toAppError(e).message }),
    );
    void api.logLevel(server).then((l) => live && setLevel(l ?? ""), () => undefined);
    return () => {
      live = false;
      void unlisten.then((f) => f());
    };
  }, [server]);

  const rows = useMemo(() => rowsOf(entries, lines, show, text, errorsOnly), [entries, lines, show, text, errorsOnly]);
  const drawn = rows.slice(-MAX_ROWS);

  const chooseLevel = (next: string) => {
    setLevel(next);
    api.setLogLevel(server, next).then(
      () => setNote({ kind: "ok", text: `${server} now sends log messages from “${next}” up.` }),
      (e) => setNote({ kind: "error", text: api.toAppError(e).message }),
    );
  };
  const exportLog = (to: string = path.trim()) => {
    api.exportProtocolLog(server, to).then(
      (n) => setNote({ kind: "ok", text: `Wrote ${n} ${n === 1 ? "entry" : "entries"} to ${to}.` }),
      (e) => setNote({ kind: "error", text: api.toAppError(e).message }),
    );
  };
  // "Export JSON…": the system save dialog, suggesting the typed path or a name for this
  // server's log in Downloads; cancelled, nothing changes and nothing is said.
  const exportAs = async () => {
    let picked: string | null;
    try {
      const configPath = path.trim() ? null : (await api.settings().catch(() => null))?.configPath;
      picked = await api.chooseSavePath(path.trim() || inDownloads(logFileName(server), configPath), `Export the protocol log of ${server}`);
    } catch (e) {
      setNote({ kind: "error", text: `The save dialog did not open: ${api.toAppError(e).message} Type a path and press Export instead.` });
      return;
    }
    if (!picked) return;
    setPath(picked);
    exportLog(picked);
  };
  const clear = () => {
    api.clearProtocolLog(server).then(
      () => setEntries([]),
      (e) => setNote({ kind: "error", text: api.toAppError(e).message }),
    );
  };

  return (
    <div className="protocol-log" data-testid="protocol-log">
      <div className="log-toolbar">
        <div className="segmented" role="group" aria-label="Show">
          {(
            [
              ["all", "All"],
              ["messages", "Messages"],
              ["http", "HTTP"],
              ["serverLog", "Server log"],
            ] as [Show, string][]
          ).map(([value, label]) => (
            <button key={value} type="button" className={show === value ? "active" : ""} aria-pressed={show === value} onClick={() => setShow(value)}>
              {label}
            </button>
          ))}
        </div>
        <input className="search" type="search" placeholder="Filter" aria-label="Filter the log" value={text} onChange={(e) => setText(e.target.value)} />
        <label className="check">
          <input type="checkbox" checked={errorsOnly} onChange={(e) => setErrorsOnly(e.target.checked)} /> Errors only
        </label>
        <label className="check">
          Log level
          <select aria-label="Log level" value={level} onChange={(e) => chooseLevel(e.target.value)}>
            <option value="" disabled>
              server’s default
            </option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="log-toolbar">
        <input className="path" type="text" placeholder="/path/to/log.json" aria-label="Export to" value={path} onChange={(e) => setPath(e.target.value)} />
        <button type="button" className="btn btn-secondary btn-small" disabled={!path.trim()} onClick={() => exportLog()}>
          Export
        </button>
        <button type="button" className="btn btn-secondary btn-small" onClick={() => void exportAs()}>
          Export JSON…
        </button>
        <button type="button" className="btn btn-secondary btn-small" disabled={entries.length === 0} onClick={clear}>
          Clear
        </button>
        <span className="muted small" data-testid="log-count">
          {rows.length > drawn.length ? `the newest ${drawn.length} of ${rows.length}` : `${rows.length} ${rows.length === 1 ? "entry" : "entries"}`}
        </span>
      </div>
      {note && (
        <p className={note.kind === "error" ? "error small" : "muted small"} role={note.kind === "error" ? "alert" : "status"}>
          {note.text}
        </p>
      )}
      {drawn.length === 0 ? (
        <p className="muted empty">{entries.length || lines.length ? "Nothing matches the filter." : "Nothing yet: connect, or call a tool, and the traffic shows here."}</p>
      ) : (
        <table className="log-table mono small">
          <thead>
            <tr>
              <th>Time</th>
              <th aria-label="Direction" />
              <th>What</th>
              <th className="num">Size</th>
              <th className="num">ms</th>
            </tr>
          </thead>
          <tbody>
            {drawn.map((row) => (
              <LogRow key={row.key} row={row} open={open === row.key} onToggle={() => setOpen(open === row.key ? null : row.key)} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function time(at: number): string {
  const d = new Date(at);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

function LogRow({ row, open, onToggle }: { row: Row; open: boolean; onToggle: () => void }) {
  const { entry, line } = row;
  if (line) {
    return (
      <tr className={`log-row server-log log-${line.level}`} data-testid="log-row">
        <td>{time(line.at)}</td>
        <td className="arrow">←</td>
        <td colSpan={3}>
          <span className="log-level">{line.level}</span>
          {line.logger && <span className="muted"> [{line.logger}]</span>} {typeof line.data === "string" ? line.data : JSON.stringify(line.data)}
        </td>
      </tr>
    );
  }
  if (!entry) return null;
  return (
    <>
      <tr className={`log-row kind-${entry.kind}${entry.isError ? " is-error" : ""}${open ? " open" : ""}`} data-testid="log-row" onClick={onToggle} aria-expanded={open}>
        <td>{time(entry.atMs)}</td>
        <td className="arrow" title={entry.direction}>
          {ARROWS[entry.direction]}
        </td>
        <td>
          {entry.kind === "http" && <span className="tag">HTTP</span>} {entry.summary}
        </td>
        <td className="num">{sizeText(entry.size)}</td>
        <td className="num">{entry.latencyMs ?? ""}</td>
      </tr>
      {open && (
        <tr className="log-detail">
          <td colSpan={5}>
            <EntryDetail entry={entry} />
          </td>
        </tr>
      )}
    </>
  );
}

function Headers({ title, headers }: { title: string; headers: { name: string; value: string }[] }) {
  return (
    <div>
      <h4>{title}</h4>
      {headers.length === 0 ? (
        <p className="muted">none known</p>
      ) : (
        <dl className="headers">
          {headers.map((h, i) => (
            <div key={i}>
              <dt>{h.name}</dt>
              <dd>{h.value}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

export function EntryDetail({ entry }: { entry: ProtocolEntry }) {
  const http = entry.http;
  return (
    <div className="entry-detail" data-testid="entry-detail">
      {http && (
        <>
          <p>
            <strong>{http.method}</strong> {http.url} → {http.status ?? "no answer"}
            {http.responseSize != null && <span className="muted"> · {sizeText(http.responseSize)} back</span>}
          </p>
          {http.error && <p className="error">{http.error}</p>}
          <div className="headers-pair">
            <Headers title="Request headers" headers={http.requestHeaders} />
            <Headers title="Response headers" headers={http.responseHeaders} />
          </div>
        </>
      )}
      {entry.message != null && <pre className="json">{JSON.stringify(entry.message, null, 2)}</pre>}
    </div>
  );
}
