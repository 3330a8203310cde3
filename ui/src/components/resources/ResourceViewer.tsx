// One resource read and shown: JSON pretty-printed and highlighted, markdown rendered through
// the safe Markdown component (or shown as source), other text as text, PNG/JPEG/GIF/WebP
// images shown, anything else offered as a file to save ("Save…" opens the system save
// dialog; a typed path with "Save" is the fallback). "Follow updates" subscribes to the
// resource and reads it again each time the server says it changed.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import type { AppError } from "../../bindings/AppError";
import type { ResourceContents } from "../../bindings/ResourceContents";
import type { ResourceRead } from "../../bindings/ResourceRead";
import { inDownloads } from "../../lib/downloads";
import { imageDataUrl, looksLikeMarkdown } from "../../lib/safety";
import * as api from "../../tauri/api";
import { onAppEvent } from "../../tauri/events";
import { Markdown } from "../shared/Markdown";
import { JsonBlock, prettyJson } from "./highlight";
import "./resources.css";

type Load = { status: "loading" } | { status: "error"; message: string } | { status: "ok"; read: ResourceRead };

function mimeOf(c: ResourceContents): string {
  return (c.mimeType ?? "").split(";")[0].trim().toLowerCase();
}

const TEXTUAL = /^(text\/|application\/(json|[a-z.+-]*\+json|xml|[a-z.+-]*\+xml|javascript|yaml|x-yaml|toml|x-sh|sql|graphql))/;

/** Whether a blob of this type is text worth decoding and showing. */
export function isTextual(mime: string): boolean {
  return TEXTUAL.test(mime);
}

/** The bytes a base64 string stands for, or null when it is not base64. */
export function base64Bytes(b64: string): Uint8Array | null {
  try {
    const bin = atob(b64.replace(/\s+/g, ""));
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

function decodeText(b64: string): string | null {
  const bytes = base64Bytes(b64);
  if (!bytes) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n.toLocaleString()} ${n === 1 ? "byte" : "bytes"}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A file name for the resource: the last part of its URI, else "resource". */
export function fileNameFor(uri: string): string {
  const last = decodeURIComponentSafe(uri.split(/[?#]/)[0].replace(/\/+$/, "").split("/").pop() ?? "");
  const clean = last.replace(/[^A-Za-z0-9._ -]/g, "_").replace(/^\.+/, "");
  return clean && !/^[a-z][a-z0-9+.-]*:$/i.test(last) ? clean : "resource";
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Where "Save" writes by default: the Downloads folder of the home the config lives in. */
export function defaultSavePath(uri: string, configPath: string | null): string {
  const path = inDownloads(fileNameFor(uri), configPath);
  return path === fileNameFor(uri) ? `~/Downloads/${path}` : path;
}

function timeOfDay(d: Date): string {
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export function ResourceViewer({ server, uri, title }: { server: string; uri: string; title?: string | null }) {
  const [load, setLoad] = useState<Load>({ status: "loading" });
  const [following, setFollowing] = useState(false);
  const [followError, setFollowError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const reads = useRef(0);
  const followingRef = useRef(false);

  const read = useCallback(() => {
    const n = ++reads.current;
    setLoad((l) => (l.status === "ok" ? l : { status: "loading" }));
    return api.readResource(server, uri).then(
      (r) => {
        if (n === reads.current) setLoad({ status: "ok", read: r });
      },
      (e: AppError) => {
        if (n === reads.current) setLoad({ status: "error", message: e.message });
      },
    );
  }, [server, uri]);

  useEffect(() => {
    setLoad({ status: "loading" });
    void read();
  }, [read]);

  // Updates from the server: read again, say when.
  useEffect(() => {
    if (!following) return;
    let stop: (() => void) | undefined;
    let gone = false;
    void onAppEvent((event) => {
      if (event.type === "resourceUpdated" && event.server === server && event.uri === uri) {
        void read().then(() => setUpdatedAt(new Date()));
      }
    }).then((un) => {
      if (gone) un();
      else stop = un;
    });
    return () => {
      gone = true;
      stop?.();
    };
  }, [following, server, uri, read]);

  // Leaving the resource stops following it.
  useEffect(
    () => () => {
      if (followingRef.current) void api.unsubscribeResource(server, uri).catch(() => undefined);
      followingRef.current = false;
    },
    [server, uri],
  );

  const toggleFollow = async () => {
    setFollowError(null);
    try {
      if (following) {
        followingRef.current = false;
        setFollowing(false);
        await api.unsubscribeResource(server, uri);
      } else {
        await api.subscribeResource(server, uri);
        followingRef.current = true;
        setFollowing(true);
      }
    } catch (e) {
      setFollowError((e as AppError).message);
    }
  };

  return (
    <section className="resource-viewer" aria-label={`Resource ${uri}`} data-testid="resource-viewer">
      <header className="viewer-head">
        <div className="viewer-title">
          {title && <h3>{title}</h3>}
          <p className="mono small break" data-testid="viewer-uri">
            {uri}
          </p>
        </div>
        <div className="row viewer-actions">
          <label className="follow-toggle small">
            <input type="checkbox" checked={following} onChange={() => void toggleFollow()} data-testid="resource-subscribe" /> Follow updates
          </label>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => void read()} data-testid="resource-reload">
            Read again
          </button>
        </div>
      </header>
      {followError && (
        <p className="field-error" role="alert">
          {followError}
        </p>
      )}
      {following && (
        <p className="muted small" aria-live="polite" data-testid="resource-updated">
          {updatedAt ? `Updated ${timeOfDay(updatedAt)}` : "Following: changes show here as the server sends them."}
        </p>
      )}
      {load.status === "loading" && (
        <p className="muted" aria-busy="true">
          Reading…
        </p>
      )}
      {load.status === "error" && (
        <div className="empty error-box" role="alert" data-testid="resource-error">
          <p>{load.message}</p>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => void read()}>
            Try again
          </button>
        </div>
      )}
      {load.status === "ok" && load.read.contents.length === 0 && <p className="muted">The server sent nothing for this resource.</p>}
      {load.status === "ok" &&
        load.read.contents.map((c, i) => <ContentsView key={`${c.uri}-${i}`} server={server} contents={c} showUri={c.uri !== uri || load.read.contents.length > 1} />)}
    </section>
  );
}

export function ContentsView({ server, contents, showUri }: { server: string; contents: ResourceContents; showUri?: boolean }) {
  const mime = mimeOf(contents);
  const [source, setSource] = useState(false);
  let body: ReactNode;
  let text: string | null = contents.text ?? null;
  let size: number | null = text !== null ? new TextEncoder().encode(text).length : null;
  if (text === null && contents.blob != null) {
    const bytes = base64Bytes(contents.blob);
    size = bytes ? bytes.length : null;
    if (isTextual(mime)) text = decodeText(contents.blob);
  }
  const markdown =
    text !== null &&
    !mime.includes("json") &&
    (mime === "text/markdown" || mime === "text/x-markdown" || ((mime === "" || mime === "text/plain") && looksLikeMarkdown(text)));
  if (text !== null) {
    const json = mime.includes("json") || !mime || mime === "text/plain" ? prettyJson(text) : null;
    if (json !== null) body = <JsonBlock text={json} testId="resource-json" />;
    else if (markdown && !source) body = <Markdown text={text} className="resource-markdown" />;
    else
      body = (
        <pre className="text" data-testid="resource-text">
          {text}
        </pre>
      );
  } else if (contents.blob != null) {
    const image = imageDataUrl(mime, contents.blob);
    body = image ? (
      <img className="result-image" src={image} alt={contents.uri} data-testid="resource-image" />
    ) : (
      <p className="muted small" data-testid="resource-binary">
        Binary data{mime ? ` of type ${mime}` : ""}{size !== null ? ` (${formatBytes(size)})` : ""}: Latch doesn't show it, save it to open it elsewhere.
      </p>
    );
  } else {
    body = <p className="muted small">This resource has no contents.</p>;
  }
  return (
    <div className="resource-contents" data-testid="resource-contents">
      <p className="content-kind">
        {showUri && <span className="mono break">{contents.uri} · </span>}
        {mime || "no type given"}
        {size !== null && ` · ${formatBytes(size)}`}
        {markdown && (
          <button type="button" className="link-button small" onClick={() => setSource(!source)} data-testid="markdown-source">
            {source ? "Show rendered" : "Show source"}
          </button>
        )}
      </p>
      {body}
      {contents.blob != null && text === null && !imageDataUrl(mime, contents.blob) && <SaveForm server={server} uri={contents.uri} />}
    </div>
  );
}

function SaveForm({ server, uri }: { server: string; uri: string }) {
  const [path, setPath] = useState<string | null>(null);
  const [state, setState] = useState<{ status: "idle" | "saving" } | { status: "saved"; bytes: number; path: string } | { status: "error"; message: string }>({ status: "idle" });
  useEffect(() => {
    let live = true;
    api.settings().then(
      (s) => live && setPath((p) => p ?? defaultSavePath(uri, s?.configPath ?? null)),
      () => live && setPath((p) => p ?? defaultSavePath(uri, null)),
    );
    return () => {
      live = false;
    };
  }, [uri]);
  const save = async (to: string | null = path) => {
    if (!to) return;
    setState({ status: "saving" });
    try {
      const bytes = await api.saveResource(server, uri, to);
      setState({ status: "saved", bytes: Number(bytes), path: to });
    } catch (e) {
      setState({ status: "error", message: (e as AppError).message });
    }
  };
  // "Save…": the system save dialog, starting at the path shown; cancelled, nothing changes.
  const saveAs = async () => {
    let picked: string | null;
    try {
      picked = await api.chooseSavePath(path && !path.startsWith("~") ? path : fileNameFor(uri), `Save ${fileNameFor(uri)}`);
    } catch (e) {
      setState({ status: "error", message: `The save dialog did not open: ${api.toAppError(e).message} Type a path and press Save instead.` });
      return;
    }
    if (!picked) return;
    setPath(picked);
    await save(picked);
  };
  return (
    <form
      className="save-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label className="field-label small" htmlFor={`save-${uri}`}>
        Save to
      </label>
      <div className="row">
        <input id={`save-${uri}`} type="text" className="mono" value={path ?? ""} onChange={(e) => setPath(e.target.value)} spellCheck={false} data-testid="resource-save-path" />
        <button type="submit" className="btn btn-secondary btn-small" disabled={!path || state.status === "saving"} data-testid="resource-save">
          {state.status === "saving" ? "Saving…" : "Save"}
        </button>
        <button type="button" className="btn btn-secondary btn-small" disabled={state.status === "saving"} onClick={() => void saveAs()} data-testid="resource-save-as">
          Save…
        </button>
      </div>
      {state.status === "saved" && (
        <p className="small success-text" role="status">
          Saved {formatBytes(state.bytes)} to {state.path}.
        </p>
      )}
      {state.status === "error" && (
        <p className="field-error" role="alert">
          {state.message}
        </p>
      )}
    </form>
  );
}
