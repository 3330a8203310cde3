// Run one tool: the form from its input schema (or raw JSON), a confirmation first for tools
// that say they are destructive, progress while it runs, and Cancel.
import { useEffect, useMemo, useState } from "react";
import type { ToolView } from "../../bindings/ToolView";
import type { JsonValue } from "../../bindings/serde_json/JsonValue";
import { actions, newCallId } from "../../state/actions";
import { useStore } from "../../state/store";
import { asSchema, defaultsFor, validate, type Json } from "../../lib/schema";
import { ArgumentsEditor } from "./SchemaForm";
import { Confirm } from "../shared/Modal";
import { ToolBadges, toolTitle } from "./Tools";

export type ToolRunnerProps = {
  server: string;
  tool: ToolView;
  /** Arguments to start from ("Run again"). */
  initial?: Json;
  onClose: () => void;
};

export function ToolRunner({ server, tool, initial, onClose }: ToolRunnerProps) {
  const schema = useMemo(() => asSchema(tool.inputSchema), [tool.inputSchema]);
  const [value, setValue] = useState<Json | undefined>(() => initial ?? defaultsFor(schema, schema) ?? {});
  const [submitted, setSubmitted] = useState(false);
  const [rawError, setRawError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [callId, setCallId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const errors = useMemo(() => validate(schema, value ?? {}), [schema, value]);
  const invalid = Object.keys(errors).length > 0 || !!rawError;
  const destructive = tool.annotations?.destructiveHint === true && tool.annotations?.readOnlyHint !== true;

  useEffect(() => {
    if (initial !== undefined) setValue(initial);
  }, [initial]);

  const start = async () => {
    setConfirming(false);
    const id = newCallId();
    setCallId(id);
    setError(null);
    const outcome = await actions.runTool(server, tool.name, (value ?? {}) as JsonValue, id);
    setCallId((current) => (current === id ? null : current));
    if (!outcome.ok) setError(outcome.error);
  };

  const run = () => {
    setSubmitted(true);
    if (invalid) return;
    if (destructive) setConfirming(true);
    else void start();
  };

  return (
    <section className="runner" aria-label={`Run ${toolTitle(tool)}`} data-testid="tool-runner">
      <header className="runner-head">
        <div>
          <h3>
            {toolTitle(tool)} <ToolBadges tool={tool} />
          </h3>
          {toolTitle(tool) !== tool.name && <p className="mono small muted">{tool.name}</p>}
        </div>
        <button type="button" className="icon-button" aria-label="Close the runner" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </header>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <ArgumentsEditor schema={schema} value={value} onChange={setValue} errors={errors} showAllErrors={submitted} onRawError={setRawError} disabled={!!callId} />
        {error && (
          <p className="field-error" role="alert" data-testid="run-error">
            {error}
          </p>
        )}
        <div className="runner-actions">
          {callId ? (
            <RunningCall callId={callId} />
          ) : (
            <button type="submit" className={`btn ${destructive ? "btn-danger" : "btn-primary"}`} data-testid="run-tool">
              Run
            </button>
          )}
          {submitted && invalid && !callId && <span className="field-error small">Fix the highlighted fields first.</span>}
        </div>
      </form>
      {confirming && (
        <Confirm
          title={`Run ${toolTitle(tool)}?`}
          confirmLabel="Run it"
          danger
          testId="destructive-confirm"
          onCancel={() => setConfirming(false)}
          onConfirm={() => void start()}
        >
          <p>The server says this tool may delete or overwrite things. Run it with these arguments?</p>
          <pre className="json small">{JSON.stringify(value ?? {}, null, 2)}</pre>
        </Confirm>
      )}
    </section>
  );
}

/** A task's status in words (the wire's words otherwise). */
const TASK_WORDS: Record<string, string> = {
  working: "Working",
  input_required: "Waiting for your answer",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** Progress of one call, from `progress` events with its callId; a call the server runs as a
 * task shows the task's status and message instead of a count. */
export function RunningCall({ callId }: { callId: string }) {
  const call = useStore((s) => s.running[callId]);
  const task = call?.task ?? undefined;
  const progress = task ? undefined : call?.progress;
  const total = task ? undefined : (call?.total ?? undefined);
  const percent = progress !== undefined && total ? Math.min(100, Math.max(0, (progress / total) * 100)) : undefined;
  return (
    <div className="running" data-testid="running-call" data-call-id={callId}>
      <div className="progress-wrap">
        <div
          className={`progress ${percent === undefined ? "indeterminate" : ""}`}
          role="progressbar"
          aria-label="Tool progress"
          aria-valuemin={0}
          aria-valuemax={total ?? undefined}
          aria-valuenow={progress}
          data-testid="progress"
        >
          <div className="progress-fill" style={percent !== undefined ? { width: `${percent}%` } : undefined} />
        </div>
        {task ? (
          <span className="small" data-testid="progress-text">
            <span className={`task-status task-${task}`} data-testid="task-status" data-status={task}>
              Task · {TASK_WORDS[task] ?? task}
            </span>
            {call?.message ? <span className="muted"> · {call.message}</span> : null}
            {task === "input_required" ? <span className="muted"> · answer the server's question to go on</span> : null}
          </span>
        ) : (
          <span className="small muted" data-testid="progress-text">
            {progress === undefined ? "Running…" : total ? `${progress} of ${total}` : `${progress}`}
            {call?.message ? ` · ${call.message}` : ""}
          </span>
        )}
      </div>
      <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.cancelCall(callId)} data-testid="cancel-call">
        Cancel
      </button>
    </div>
  );
}
