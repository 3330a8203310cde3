// A server asks its client for a model reply (MCP sampling). Latch has no model of its own, so
// the person is the model: the dialog shows what the server asks (the conversation, its system
// prompt, its model preferences, the token limit, the tools the reply may use) and lets them
// write the reply, or decline. Nothing is answered without them; one request at a time.
import { useId, useState } from "react";
import type { SamplingAnswer } from "../../bindings/SamplingAnswer";
import type { SamplingView } from "../../bindings/SamplingView";
import type { JsonValue } from "../../bindings/serde_json/JsonValue";
import { store, useStore, type SamplingRequestEvent } from "../../state/store";
import * as api from "../../tauri/api";
import { Modal } from "../shared/Modal";
import "./sampling.css";

/** The model name Latch reports for a reply the person wrote. */
export const PERSON_MODEL = "person in Latch";

export function SamplingDialog() {
  const request = useStore((s) => s.samplings[0]);
  if (!request) return null;
  return <SamplingForm key={request.id} request={request} />;
}

/** Send the answer and forget the request (it waits for nothing else). */
export async function answerSampling(id: string, answer: SamplingAnswer) {
  store.update((s) => ({ ...s, samplings: s.samplings.filter((r) => r.id !== id) }));
  try {
    await api.answerSampling(id, answer);
  } catch (e) {
    store.notify("error", api.toAppError(e).message);
  }
}

function SamplingForm({ request }: { request: SamplingRequestEvent }) {
  const [text, setText] = useState("");
  const [model, setModel] = useState(PERSON_MODEL);
  const [empty, setEmpty] = useState(false);
  const ids = { reply: useId(), model: useId() };
  const ask = request.request;
  const send = () => {
    if (!text.trim()) {
      setEmpty(true);
      return;
    }
    void answerSampling(request.id, { action: "reply", text, model: model.trim() || PERSON_MODEL });
  };
  const decline = () => void answerSampling(request.id, { action: "decline" });
  return (
    <Modal
      title={`${request.server} asks for a model reply`}
      onClose={decline}
      size="large"
      testId="sampling-dialog"
      footer={
        <>
          <button type="button" className="btn btn-secondary" onClick={decline} data-testid="sampling-decline">
            Decline
          </button>
          <button type="button" className="btn btn-primary" onClick={send} data-testid="sampling-send">
            Send reply
          </button>
        </>
      }
    >
      <div className="stack sampling">
        <p className="muted small">Latch has no model: you answer in its place. The server gets your reply as the model's message; nothing is sent until you choose.</p>
        {ask.systemPrompt && (
          <div>
            <h3 className="h-small">System prompt</h3>
            <p className="sampling-system pre-wrap" data-testid="sampling-system">
              {ask.systemPrompt}
            </p>
          </div>
        )}
        <div>
          <h3 className="h-small">Conversation</h3>
          <ol className="sampling-messages" data-testid="sampling-messages">
            {ask.messages.map((m, i) => (
              <li key={i} className={`sampling-message role-${m.role}`}>
                <span className="badge">{m.role}</span>
                <span className="pre-wrap break">{m.text}</span>
              </li>
            ))}
          </ol>
        </div>
        <RequestFacts ask={ask} />
        {ask.tools.length > 0 && <ToolsOffered tools={ask.tools} />}
        <div className="field">
          <label className="field-label" htmlFor={ids.reply}>
            Your reply
          </label>
          <textarea
            id={ids.reply}
            rows={5}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setEmpty(false);
            }}
            data-autofocus
            data-testid="sampling-reply"
            aria-invalid={empty}
          />
          {empty && (
            <p className="field-error" role="alert">
              Write a reply, or decline.
            </p>
          )}
        </div>
        <div className="field">
          <label className="field-label" htmlFor={ids.model}>
            Model name reported to the server
          </label>
          <input id={ids.model} value={model} onChange={(e) => setModel(e.target.value)} className="mono" data-testid="sampling-model" />
        </div>
      </div>
    </Modal>
  );
}

/** Token limit and model preferences, in words. */
function RequestFacts({ ask }: { ask: SamplingView }) {
  const prefs = isRecord(ask.modelPreferences) ? ask.modelPreferences : null;
  const hints = prefs && Array.isArray(prefs.hints) ? prefs.hints.map((h) => (isRecord(h) && typeof h.name === "string" ? h.name : null)).filter((h): h is string => !!h) : [];
  const priorities = (["intelligencePriority", "speedPriority", "costPriority"] as const)
    .map((key) => (prefs && typeof prefs[key] === "number" ? `${key.replace("Priority", "")} ${prefs[key]}` : null))
    .filter((p): p is string => !!p);
  return (
    <dl className="sampling-facts" data-testid="sampling-facts">
      <dt>Longest reply</dt>
      <dd>{ask.maxTokens >= 4294967295 ? "no limit given" : `${ask.maxTokens} tokens`}</dd>
      <dt>Models it prefers</dt>
      <dd>{hints.length > 0 ? hints.join(", ") : "none named"}</dd>
      {priorities.length > 0 && (
        <>
          <dt>Priorities (0–1)</dt>
          <dd>{priorities.join(" · ")}</dd>
        </>
      )}
    </dl>
  );
}

function ToolsOffered({ tools }: { tools: JsonValue[] }) {
  return (
    <div data-testid="sampling-tools">
      <h3 className="h-small">Tools the reply may call ({tools.length})</h3>
      <p className="muted small">Latch answers with text only; the tools are shown so you know what the server offered.</p>
      <ul className="sampling-tools">
        {tools.map((tool, i) => {
          const t = isRecord(tool) ? tool : {};
          return (
            <li key={i}>
              <span className="mono">{typeof t.name === "string" ? t.name : "(unnamed)"}</span>
              {typeof t.description === "string" && <span className="muted small"> — {t.description}</span>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function isRecord(v: unknown): v is Record<string, JsonValue> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}
