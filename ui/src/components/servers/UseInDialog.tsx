// "Use in…": hands Latch's servers to Claude Desktop, Cursor or VS Code. The person picks the
// app, sees exactly what would change in its config file (a diff, as plain text) and where,
// then writes it or cancels. Nothing is written before "Write".
import { useState } from "react";
import type { ExportDone } from "../../bindings/ExportDone";
import type { ExportPlanView } from "../../bindings/ExportPlanView";
import type { ImportSource } from "../../bindings/ImportSource";
import * as api from "../../tauri/api";
import { Modal } from "../shared/Modal";

const APPS: { id: ImportSource; label: string }[] = [
  { id: "claude", label: "Claude Desktop" },
  { id: "cursor", label: "Cursor" },
  { id: "vscode", label: "VS Code" },
];

type Step =
  | { kind: "pick" }
  | { kind: "loading"; app: ImportSource }
  | { kind: "plan"; plan: ExportPlanView }
  | { kind: "writing"; plan: ExportPlanView }
  | { kind: "done"; plan: ExportPlanView; done: ExportDone }
  | { kind: "error"; app: ImportSource | null; message: string; plan?: ExportPlanView };

function label(app: ImportSource): string {
  return APPS.find((a) => a.id === app)?.label ?? app;
}

/** `names` empty: every server. */
export function UseInDialog({ names, onClose }: { names: string[]; onClose: () => void }) {
  const [step, setStep] = useState<Step>({ kind: "pick" });
  const what = names.length === 0 ? "your Latch servers" : names.join(", ");

  const plan = async (app: ImportSource) => {
    setStep({ kind: "loading", app });
    try {
      setStep({ kind: "plan", plan: await api.planExport(app, names) });
    } catch (e) {
      setStep({ kind: "error", app, message: api.toAppError(e).message });
    }
  };

  const write = async (p: ExportPlanView) => {
    setStep({ kind: "writing", plan: p });
    try {
      setStep({ kind: "done", plan: p, done: await api.applyExport(p.app, names, p.diff) });
    } catch (e) {
      setStep({ kind: "error", app: p.app, message: api.toAppError(e).message, plan: p });
    }
  };

  const shown = step.kind === "plan" || step.kind === "writing" ? step.plan : null;
  const canWrite = shown !== null && !shown.problem && shown.diff !== "";

  return (
    <Modal
      title={`Use ${what} in…`}
      onClose={onClose}
      size="large"
      testId="use-in-dialog"
      footer={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} data-testid="use-in-cancel">
            {step.kind === "done" ? "Close" : "Cancel"}
          </button>
          {shown && (
            <button type="button" className="btn btn-primary" disabled={!canWrite || step.kind === "writing"} onClick={() => void write(shown)} data-testid="use-in-write">
              {step.kind === "writing" ? "Writing…" : "Write"}
            </button>
          )}
        </>
      }
    >
      <p className="muted small">
        The app will reach each server through Latch (<span className="mono">latch bridge NAME</span>), so Latch keeps the sign-ins. Its other settings stay as they are, and
        the old file is backed up first.
      </p>
      <div className="row" role="group" aria-label="App">
        {APPS.map((a) => (
          <button
            key={a.id}
            type="button"
            className={`btn ${currentApp(step) === a.id ? "btn-primary" : "btn-secondary"}`}
            aria-pressed={currentApp(step) === a.id}
            disabled={step.kind === "loading" || step.kind === "writing"}
            onClick={() => void plan(a.id)}
            data-testid={`use-in-${a.id}`}
          >
            {a.label}
          </button>
        ))}
      </div>
      {step.kind === "loading" && <p className="muted" aria-busy="true">Reading {label(step.app)}'s settings…</p>}
      {shown && <PlanBody plan={shown} />}
      {step.kind === "done" && (
        <p className="success-text" role="status" data-testid="use-in-done">
          {step.done.written ? `Wrote ${step.done.path}.` : `${step.done.path} already had everything.`}
          {step.done.backup && ` The old file is kept as ${step.done.backup}.`} Restart {label(step.plan.app)} to use the servers.
        </p>
      )}
      {step.kind === "error" && (
        <p className="field-error" role="alert" data-testid="use-in-error">
          {step.message}
        </p>
      )}
    </Modal>
  );
}

function currentApp(step: Step): ImportSource | null {
  switch (step.kind) {
    case "pick":
      return null;
    case "loading":
      return step.app;
    case "error":
      return step.app;
    default:
      return step.plan.app;
  }
}

function PlanBody({ plan }: { plan: ExportPlanView }) {
  if (plan.problem) {
    return (
      <p className="warning-box" role="alert" data-testid="use-in-problem">
        {plan.problem}
      </p>
    );
  }
  return (
    <div data-testid="use-in-plan">
      <p className="small">
        File: <span className="mono break" data-testid="use-in-path">{plan.path}</span>
      </p>
      {plan.added.length > 0 && <p className="small">Adds {plan.added.join(", ")}.</p>}
      {plan.updated.length > 0 && <p className="small">Updates {plan.updated.join(", ")}.</p>}
      {plan.unchanged.length > 0 && <p className="muted small">Already there: {plan.unchanged.join(", ")}.</p>}
      {plan.conflicts.length > 0 && (
        <p className="warning-box small" data-testid="use-in-conflicts">
          {label(plan.app)} already has {plan.conflicts.length === 1 ? "a server" : "servers"} named {plan.conflicts.join(", ")} that Latch did not set up; left as
          {plan.conflicts.length === 1 ? " it is" : " they are"}. Rename the server in Latch, or remove it in {label(plan.app)}, to hand it over.
        </p>
      )}
      {plan.diff === "" ? (
        <p className="muted" data-testid="use-in-nothing">
          Nothing to change.
        </p>
      ) : (
        <pre className="text small" data-testid="use-in-diff" aria-label={`Changes to ${plan.path}`}>
          {plan.diff}
        </pre>
      )}
    </div>
  );
}
