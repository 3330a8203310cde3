// The Prompts tab of a server: its prompts (name, title, description, arguments with the
// required ones marked); choosing one shows its arguments as fields with the server's
// suggestions, "Get" shows the messages it makes (text, images, embedded resources through the
// same views as tool results) and "Copy as JSON" copies them.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { AppError } from "../../bindings/AppError";
import type { PromptResult } from "../../bindings/PromptResult";
import type { PromptView } from "../../bindings/PromptView";
import type { ServerView } from "../../bindings/ServerView";
import { plainText } from "../../lib/views";
import * as api from "../../tauri/api";
import { CompletionField } from "../resources/CompletionField";
import { NotConnected } from "../resources/Resources";
import { ContentItem } from "../tools/Results";
import "../resources/resources.css";

type Load = { status: "idle" | "loading" } | { status: "error"; message: string } | { status: "ok"; prompts: PromptView[] };

/** More prompts than this and a filter box shows. */
const FILTER_FROM = 8;

export function filterPrompts(prompts: PromptView[], query: string): PromptView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return prompts;
  return prompts.filter((p) => {
    const hay = `${p.name}\n${p.title ?? ""}\n${p.description ?? ""}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function PromptsTab({ server }: { server: ServerView }) {
  const name = server.name;
  const connected = server.state.state === "connected";
  const [load, setLoad] = useState<Load>({ status: "idle" });
  const [selected, setSelected] = useState<PromptView | null>(null);
  const [query, setQuery] = useState("");

  const refresh = useCallback(() => {
    setLoad({ status: "loading" });
    api.listPrompts(name).then(
      (prompts) => setLoad({ status: "ok", prompts: prompts ?? [] }),
      (e: AppError) => setLoad({ status: "error", message: e.message }),
    );
  }, [name]);

  useEffect(() => {
    if (connected && load.status === "idle") refresh();
  }, [connected, load.status, refresh]);

  const prompts = load.status === "ok" ? load.prompts : null;
  const shown = useMemo(() => (prompts ? filterPrompts(prompts, query) : []), [prompts, query]);

  if (!connected && !prompts) return <NotConnected server={server} what="prompts" />;

  return (
    <div className="split-tab prompts-tab">
      <div className="split-list">
        {(load.status === "loading" || load.status === "idle") && (
          <p className="muted" aria-busy="true">
            Loading prompts…
          </p>
        )}
        {load.status === "error" && (
          <div className="empty error-box" role="alert">
            <p>Couldn't list the prompts.</p>
            <p className="small">{load.message}</p>
            <button type="button" className="btn btn-secondary btn-small" onClick={refresh}>
              Try again
            </button>
          </div>
        )}
        {prompts && prompts.length === 0 && (
          <div className="empty" data-testid="prompts-empty">
            <p className="empty-title">This server offers no prompts.</p>
            <p className="muted small">Its tools and resources may still be worth a look.</p>
          </div>
        )}
        {prompts && prompts.length > 0 && (
          <>
            <div className="list-head">
              <p className="muted small" aria-live="polite" data-testid="prompt-count">
                {query.trim() ? `${shown.length} of ${prompts.length} prompts` : `${prompts.length} ${prompts.length === 1 ? "prompt" : "prompts"}`}
              </p>
              <button type="button" className="btn btn-ghost btn-small" onClick={refresh} data-testid="prompts-refresh">
                Refresh
              </button>
            </div>
            {prompts.length > FILTER_FROM && (
              <div className="search">
                <input type="search" aria-label="Filter prompts" placeholder={`Filter ${prompts.length} prompts…`} value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" spellCheck={false} data-testid="prompt-filter" />
              </div>
            )}
            {shown.length === 0 && <p className="muted small">No prompt matches “{query}”.</p>}
            <ul className="item-list" data-testid="prompt-list">
              {shown.map((p) => (
                <li key={p.name}>
                  <button
                    type="button"
                    className={`item-card ${selected?.name === p.name ? "selected" : ""}`}
                    aria-pressed={selected?.name === p.name}
                    onClick={() => setSelected(p)}
                    data-testid={`prompt-${p.name}`}
                  >
                    <span className="item-name">{p.title ?? p.name}</span>
                    {p.title && p.title !== p.name && <span className="item-uri mono small">{p.name}</span>}
                    {p.description && <span className="item-desc small clamp-2">{plainText(p.description)}</span>}
                    {p.arguments.length > 0 && (
                      <span className="item-args small">
                        {p.arguments.map((a) => (
                          <span key={a.name} className="arg-chip mono">
                            {a.name}
                            {a.required && (
                              <span className="required" aria-label="required">
                                *
                              </span>
                            )}
                          </span>
                        ))}
                      </span>
                    )}
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      <div className="split-detail">
        {selected ? (
          <PromptForm key={selected.name} server={name} prompt={selected} />
        ) : (
          prompts && prompts.length > 0 && <p className="muted small hint-box">Choose a prompt to fill in its arguments and see its messages.</p>
        )}
      </div>
    </div>
  );
}

/** Copies text: the clipboard API where the webview allows it, else a hidden text area. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the text area.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export function PromptForm({ server, prompt }: { server: string; prompt: PromptView }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [state, setState] = useState<{ status: "idle" | "getting" } | { status: "error"; message: string } | { status: "ok"; result: PromptResult }>({ status: "idle" });
  const [copied, setCopied] = useState<string | null>(null);
  const target = useMemo(() => ({ kind: "prompt" as const, name: prompt.name }), [prompt.name]);
  const missing = prompt.arguments.filter((a) => a.required && !(values[a.name] ?? "").trim()).map((a) => a.name);

  const get = async () => {
    setState({ status: "getting" });
    setCopied(null);
    const args = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
    try {
      setState({ status: "ok", result: await api.getPrompt(server, prompt.name, args) });
    } catch (e) {
      setState({ status: "error", message: (e as AppError).message });
    }
  };

  return (
    <div className="prompt-form" data-testid="prompt-form">
      <header className="viewer-head">
        <div className="viewer-title">
          <h3>{prompt.title ?? prompt.name}</h3>
          {prompt.title && prompt.title !== prompt.name && <p className="mono small">{prompt.name}</p>}
        </div>
      </header>
      {prompt.description && <p className="small">{plainText(prompt.description)}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (missing.length === 0) void get();
        }}
      >
        {prompt.arguments.length === 0 && <p className="muted small">This prompt takes no arguments.</p>}
        {prompt.arguments.map((a) => (
          <CompletionField
            key={a.name}
            server={server}
            target={target}
            name={a.name}
            label={a.title}
            description={a.description}
            required={a.required}
            value={values[a.name] ?? ""}
            context={values}
            onChange={(v) => setValues((old) => ({ ...old, [a.name]: v }))}
            testId={`prompt-arg-${a.name}`}
          />
        ))}
        <div className="row">
          <button type="submit" className="btn btn-primary btn-small" disabled={missing.length > 0 || state.status === "getting"} data-testid="prompt-get">
            {state.status === "getting" ? "Getting…" : "Get"}
          </button>
          {missing.length > 0 && <span className="muted small">Fill in {missing.join(", ")} first.</span>}
        </div>
      </form>
      {state.status === "error" && (
        <p className="result-error" role="alert" data-testid="prompt-error">
          {state.message}
        </p>
      )}
      {state.status === "ok" && (
        <section className="prompt-result" aria-label="Messages" data-testid="prompt-result">
          <div className="list-head">
            <h4 className="h-small">
              {state.result.messages.length} {state.result.messages.length === 1 ? "message" : "messages"}
            </h4>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              onClick={() => void copyText(JSON.stringify(state.result, null, 2)).then((ok) => setCopied(ok ? "Copied." : "Couldn't reach the clipboard."))}
              data-testid="prompt-copy"
            >
              Copy as JSON
            </button>
          </div>
          {copied && (
            <p className="small muted" role="status">
              {copied}
            </p>
          )}
          {state.result.description && <p className="small">{plainText(state.result.description)}</p>}
          {state.result.messages.length === 0 && <p className="muted small">The prompt made no messages.</p>}
          <ol className="messages">
            {state.result.messages.map((m, i) => (
              <li key={i} className={`message role-${m.role === "assistant" ? "assistant" : "user"}`} data-testid="prompt-message">
                <span className="role-label small">{m.role === "assistant" ? "Assistant" : m.role === "user" ? "User" : m.role}</span>
                <ContentItem item={m.content} />
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}
