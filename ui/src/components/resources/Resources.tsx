// The Resources tab of a server: its resources (name, title, URI, type, size) and its resource
// templates, with a filter when there are many; choosing a resource reads it in the viewer,
// choosing a template opens its form. Lists are fetched whole (the core follows the pages).
import { useCallback, useEffect, useId, useMemo, useState } from "react";
import type { AppError } from "../../bindings/AppError";
import type { ResourceTemplateView } from "../../bindings/ResourceTemplateView";
import type { ResourceView } from "../../bindings/ResourceView";
import type { ServerView } from "../../bindings/ServerView";
import { mainAction } from "../../lib/views";
import { actions } from "../../state/actions";
import * as api from "../../tauri/api";
import { formatBytes, ResourceViewer } from "./ResourceViewer";
import { TemplateForm } from "./TemplateForm";
import "./resources.css";

type Lists = { resources: ResourceView[]; templates: ResourceTemplateView[] };
type Load = { status: "idle" | "loading" } | { status: "error"; message: string } | { status: "ok"; lists: Lists };
type Selected = { kind: "resource"; resource: ResourceView } | { kind: "template"; template: ResourceTemplateView } | null;

/** More items than this and a filter box shows. */
export const FILTER_FROM = 8;
/** At most this many rows are drawn; the filter narrows the rest. */
export const MAX_ROWS = 500;

function matches(words: string[], ...fields: (string | null | undefined)[]): boolean {
  const hay = fields.filter(Boolean).join("\n").toLowerCase();
  return words.every((w) => hay.includes(w));
}

export function filterResources(lists: Lists, query: string): Lists {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return lists;
  return {
    resources: lists.resources.filter((r) => matches(words, r.name, r.title, r.uri, r.description, r.mimeType)),
    templates: lists.templates.filter((t) => matches(words, t.name, t.title, t.uriTemplate, t.description, t.mimeType)),
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function NotConnected({ server, what }: { server: ServerView; what: string }) {
  const main = mainAction(server);
  const busy = server.state.state === "connecting" || server.state.state === "signingIn";
  return (
    <div className="empty">
      <p className="empty-title">{server.state.state === "connecting" ? "Connecting…" : server.state.state === "signingIn" ? "Signing in…" : "Not connected"}</p>
      <p className="muted small">{main.action === "signIn" ? `Sign in to see this server's ${what}.` : `Connect to see this server's ${what}.`}</p>
      {!busy &&
        (main.action === "signIn" ? (
          <button type="button" className="btn btn-primary" onClick={() => void actions.signIn(server.name)}>
            Sign in
          </button>
        ) : (
          <button type="button" className="btn btn-primary" onClick={() => void actions.connect(server.name)}>
            {main.label}
          </button>
        ))}
    </div>
  );
}

export function ResourcesTab({ server }: { server: ServerView }) {
  const name = server.name;
  const connected = server.state.state === "connected";
  const [load, setLoad] = useState<Load>({ status: "idle" });
  const [query, setQuery] = useState("");
  const [selected, setSelected] = useState<Selected>(null);
  const filterId = useId();

  const refresh = useCallback(() => {
    setLoad({ status: "loading" });
    api.listResources(name).then(
      (lists) => setLoad({ status: "ok", lists: { resources: lists?.resources ?? [], templates: lists?.templates ?? [] } }),
      (e: AppError) => setLoad({ status: "error", message: e.message }),
    );
  }, [name]);

  useEffect(() => {
    if (connected && load.status === "idle") refresh();
  }, [connected, load.status, refresh]);

  const lists = load.status === "ok" ? load.lists : null;
  const shown = useMemo(() => (lists ? filterResources(lists, query) : null), [lists, query]);
  const total = lists ? lists.resources.length + lists.templates.length : 0;

  if (!connected && !lists) return <NotConnected server={server} what="resources" />;

  return (
    <div className="split-tab resources-tab">
      <div className="split-list">
        {(load.status === "loading" || load.status === "idle") && (
          <p className="muted" aria-busy="true">
            Loading resources…
          </p>
        )}
        {load.status === "error" && (
          <div className="empty error-box" role="alert">
            <p>Couldn't list the resources.</p>
            <p className="small">{load.message}</p>
            <button type="button" className="btn btn-secondary btn-small" onClick={refresh}>
              Try again
            </button>
          </div>
        )}
        {lists && total === 0 && (
          <div className="empty" data-testid="resources-empty">
            <p className="empty-title">This server offers no resources.</p>
            <p className="muted small">Its tools and prompts may still be worth a look.</p>
          </div>
        )}
        {lists && shown && total > 0 && (
          <>
            <div className="list-head">
              <p className="muted small" aria-live="polite" data-testid="resource-count">
                {query.trim()
                  ? `${shown.resources.length + shown.templates.length} of ${total} match`
                  : `${plural(lists.resources.length, "resource", "resources")} · ${plural(lists.templates.length, "template", "templates")}`}
              </p>
              <button type="button" className="btn btn-ghost btn-small" onClick={refresh} data-testid="resources-refresh">
                Refresh
              </button>
            </div>
            {total > FILTER_FROM && (
              <div className="search">
                <label htmlFor={filterId} className="visually-hidden">
                  Filter resources
                </label>
                <input id={filterId} type="search" placeholder={`Filter ${total} resources and templates…`} value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" spellCheck={false} data-testid="resource-filter" />
              </div>
            )}
            {lists.resources.length > 0 && (
              <section aria-label="Resources">
                <h2 className="h-small">Resources</h2>
                {shown.resources.length === 0 && <p className="muted small">No resource matches “{query}”.</p>}
                <ul className="item-list" data-testid="resource-list">
                  {shown.resources.slice(0, MAX_ROWS).map((r) => (
                    <li key={r.uri}>
                      <button
                        type="button"
                        className={`item-card ${selected?.kind === "resource" && selected.resource.uri === r.uri ? "selected" : ""}`}
                        aria-pressed={selected?.kind === "resource" && selected.resource.uri === r.uri}
                        onClick={() => setSelected({ kind: "resource", resource: r })}
                        data-testid={`resource-${r.uri}`}
                      >
                        <span className="item-head">
                          <span className="item-name">{r.title ?? r.name}</span>
                          <span className="item-meta small muted">
                            {[r.mimeType, r.size != null ? formatBytes(Number(r.size)) : null].filter(Boolean).join(" · ") || "type not given"}
                          </span>
                        </span>
                        <span className="item-uri mono small">{r.uri}</span>
                        {r.description && <span className="item-desc small clamp-1">{r.description}</span>}
                      </button>
                    </li>
                  ))}
                </ul>
                {shown.resources.length > MAX_ROWS && <p className="muted small">Showing the first {MAX_ROWS}: filter to find the others.</p>}
              </section>
            )}
            {lists.templates.length > 0 && (
              <section aria-label="Resource templates">
                <h2 className="h-small">Templates</h2>
                {shown.templates.length === 0 && <p className="muted small">No template matches “{query}”.</p>}
                <ul className="item-list" data-testid="template-list">
                  {shown.templates.slice(0, MAX_ROWS).map((t) => (
                    <li key={t.uriTemplate}>
                      <button
                        type="button"
                        className={`item-card ${selected?.kind === "template" && selected.template.uriTemplate === t.uriTemplate ? "selected" : ""}`}
                        aria-pressed={selected?.kind === "template" && selected.template.uriTemplate === t.uriTemplate}
                        onClick={() => setSelected({ kind: "template", template: t })}
                        data-testid={`template-${t.uriTemplate}`}
                      >
                        <span className="item-head">
                          <span className="item-name">{t.title ?? t.name}</span>
                          {t.mimeType && <span className="item-meta small muted">{t.mimeType}</span>}
                        </span>
                        <span className="item-uri mono small">{t.uriTemplate}</span>
                        {t.description && <span className="item-desc small clamp-2">{t.description}</span>}
                      </button>
                    </li>
                  ))}
                </ul>
              </section>
            )}
          </>
        )}
      </div>
      <div className="split-detail">
        {selected === null && lists && total > 0 && <p className="muted small hint-box">Choose a resource to read it, or a template to fill it in.</p>}
        {selected?.kind === "resource" && <ResourceViewer key={selected.resource.uri} server={name} uri={selected.resource.uri} title={selected.resource.title ?? selected.resource.name} />}
        {selected?.kind === "template" && <TemplateForm key={selected.template.uriTemplate} server={name} template={selected.template} />}
      </div>
    </div>
  );
}
