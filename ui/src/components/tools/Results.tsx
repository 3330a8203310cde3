// Tool calls as collapsible blocks, newest first: collapsed they say which tool, how it went
// and how long it took; open they show the arguments and every piece of the result.
import { memo, useState } from "react";
import type { CallRecord } from "../../bindings/CallRecord";
import type { ContentView } from "../../bindings/ContentView";
import type { ToolResult } from "../../bindings/ToolResult";
import { audioDataUrl, imageDataUrl, looksLikeMarkdown } from "../../lib/safety";
import { formatMs, formatTime } from "../../lib/views";
import { Markdown } from "../shared/Markdown";
import { ExternalLink } from "../shared/OpenLink";
import { useResourceOpener } from "../resources/ResourceLinks";
import { AppResult } from "../apps/AppResult";

export type BlockStatus = "ok" | "error" | "cancelled";

export function blockStatus(record: CallRecord): BlockStatus {
  const status = String(record.status);
  if (status === "ok") return record.result?.isError ? "error" : "ok";
  if (status === "cancelled") return "cancelled";
  return "error";
}

const STATUS_TEXT: Record<BlockStatus, string> = { ok: "ok", error: "error", cancelled: "cancelled" };

export const CallBlock = memo(function CallBlock({
  record,
  onRunAgain,
  defaultOpen = false,
}: {
  record: CallRecord;
  onRunAgain?: (record: CallRecord) => void;
  defaultOpen?: boolean;
}) {
  const [open, setOpen] = useState(defaultOpen);
  const status = blockStatus(record);
  const bodyId = `call-${record.id}`;
  return (
    <article className={`call-block status-${status}`} data-testid="call-block" data-status={status}>
      <button type="button" className="call-block-head" aria-expanded={open} aria-controls={bodyId} onClick={() => setOpen(!open)} data-testid="call-block-toggle">
        <span className={`chevron ${open ? "open" : ""}`} aria-hidden="true">
          ▸
        </span>
        <span className="call-tool mono">{record.tool}</span>
        <span className={`badge badge-${status === "ok" ? "ok" : status === "error" ? "error" : "idle"}`}>{STATUS_TEXT[status]}</span>
        <span className="call-time small muted">
          {formatMs(record.durationMs)}
          {record.startedAt ? <span className="call-when"> · {formatTime(record.startedAt)}</span> : null}
        </span>
      </button>
      {open && (
        <div className="call-block-body" id={bodyId} data-testid="call-block-body">
          <section>
            <h4 className="h-small">Arguments</h4>
            <pre className="json">{JSON.stringify(record.arguments ?? {}, null, 2)}</pre>
          </section>
          {record.error && (
            <p className="result-error" role="status">
              {record.error}
            </p>
          )}
          {record.result && <ResultView result={record.result} />}
          {record.result && <AppResult record={record} />}
          {onRunAgain && (
            <div className="row">
              <button type="button" className="btn btn-secondary btn-small" onClick={() => onRunAgain(record)} data-testid="run-again">
                Run again
              </button>
            </div>
          )}
        </div>
      )}
    </article>
  );
});

export function ResultView({ result }: { result: ToolResult }) {
  return (
    <section className={`result ${result.isError ? "is-error" : ""}`}>
      <h4 className="h-small">{result.isError ? "The tool reported an error" : "Result"}</h4>
      {result.content.length === 0 && result.structuredContent == null && <p className="muted small">The tool returned nothing.</p>}
      {result.content.map((item, i) => (
        <ContentItem key={i} item={item} isError={result.isError} />
      ))}
      {result.structuredContent != null && (
        <div className="content-item">
          <p className="content-kind">Structured content</p>
          <pre className="json">{JSON.stringify(result.structuredContent, null, 2)}</pre>
        </div>
      )}
    </section>
  );
}

function prettyJsonText(text: string): string | null {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}

export function TextContent({ text, isError }: { text: string; isError?: boolean }) {
  const json = prettyJsonText(text);
  if (json !== null) return <pre className={`json ${isError ? "text-error" : ""}`}>{json}</pre>;
  if (looksLikeMarkdown(text)) return <Markdown text={text} className={isError ? "text-error" : ""} />;
  return <pre className={`text ${isError ? "text-error" : ""}`}>{text}</pre>;
}

export function ContentItem({ item, isError }: { item: ContentView; isError?: boolean }) {
  switch (item.type) {
    case "text":
      return (
        <div className="content-item">
          <TextContent text={item.text} isError={isError} />
        </div>
      );
    case "image": {
      const src = imageDataUrl(item.mimeType, item.data);
      return (
        <div className="content-item">
          {src ? (
            <img className="result-image" src={src} alt="Image from the tool" data-testid="result-image" />
          ) : (
            <p className="muted small" data-testid="image-blocked">
              An image of type {item.mimeType || "unknown"} was not shown (Latch shows PNG, JPEG, GIF and WebP only).
            </p>
          )}
        </div>
      );
    }
    case "audio": {
      const src = audioDataUrl(item.mimeType, item.data);
      return (
        <div className="content-item">
          {src ? (
            <audio controls src={src} data-testid="result-audio">
              Audio from the tool
            </audio>
          ) : (
            <p className="muted small">Audio of type {item.mimeType || "unknown"} can't be played here.</p>
          )}
        </div>
      );
    }
    case "resource": {
      const r = item.resource;
      const image = r.blob ? imageDataUrl(r.mimeType, r.blob) : null;
      return (
        <div className="content-item resource">
          <p className="content-kind">
            Embedded resource <span className="mono small break">{r.uri}</span>
            {r.mimeType && <span className="muted small"> · {r.mimeType}</span>}
          </p>
          {r.text != null && <TextContent text={r.text} />}
          {image && <img className="result-image" src={image} alt={r.uri} />}
          {r.blob && !image && <p className="muted small">Binary data ({Math.round((r.blob.length * 3) / 4).toLocaleString()} bytes).</p>}
        </div>
      );
    }
    case "resourceLink":
      return <ResourceLinkItem item={item} />;
    case "unknown":
    default:
      return (
        <div className="content-item">
          <p className="content-kind">Content Latch doesn't know</p>
          <pre className="json">{JSON.stringify("raw" in item ? item.raw : item, null, 2)}</pre>
        </div>
      );
  }
}

function ResourceLinkItem({ item }: { item: Extract<ContentView, { type: "resourceLink" }> }) {
  const open = useResourceOpener();
  return (
    <div className="content-item resource-link">
      <p className="content-kind">Link to a resource</p>
      <p>
        <strong>{item.title ?? item.name ?? item.uri}</strong>
        {item.mimeType && <span className="muted small"> · {item.mimeType}</span>}
      </p>
      {item.description && <p className="small">{item.description}</p>}
      <p className="small">
        <ExternalLink url={item.uri} className="mono break">
          {item.uri}
        </ExternalLink>
      </p>
      {open && (
        <button type="button" className="btn btn-secondary btn-small" onClick={() => open(item.uri, item.title ?? item.name)} data-testid="open-resource-link">
          Open
        </button>
      )}
    </div>
  );
}
