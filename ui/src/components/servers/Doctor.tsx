// The steps of a server's last connection or sign-in, in plain words, with the fix for the
// step that failed.
import { useCallback, useEffect, useState } from "react";
import type { DoctorReport } from "../../bindings/DoctorReport";
import * as api from "../../tauri/api";
import { formatTime } from "../../lib/views";

const ICON: Record<string, string> = { ok: "✓", failed: "✕", skipped: "–" };
const WORD: Record<string, string> = { ok: "OK", failed: "Failed", skipped: "Skipped" };

export function DoctorPanel({ server }: { server: string }) {
  const [state, setState] = useState<{ status: "loading" } | { status: "ready"; report: DoctorReport } | { status: "error"; error: string }>({ status: "loading" });
  const load = useCallback(() => {
    setState({ status: "loading" });
    api.doctor(server).then(
      (report) => setState({ status: "ready", report }),
      (e) => setState({ status: "error", error: api.toAppError(e).message }),
    );
  }, [server]);
  useEffect(load, [load]);

  return (
    <section className="doctor" aria-label="Doctor" data-testid="doctor">
      <div className="section-head">
        <p className="muted small">
          {state.status === "ready" && state.report.at ? `Last attempt: ${formatTime(state.report.at)}` : "What happened the last time Latch connected or signed in."}
        </p>
        <button type="button" className="btn btn-ghost btn-small" onClick={load}>
          Refresh
        </button>
      </div>
      {state.status === "loading" && <p className="muted">Loading…</p>}
      {state.status === "error" && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
      {state.status === "ready" && state.report.steps.length === 0 && <p className="muted">Nothing tried yet. Connect or sign in, then look here.</p>}
      {state.status === "ready" && state.report.steps.length > 0 && (
        <ol className="doctor-steps">
          {state.report.steps.map((step, i) => (
            <li key={i} className={`doctor-step step-${step.status}`} data-testid="doctor-step" data-status={step.status}>
              <span className="step-icon" aria-hidden="true">
                {ICON[step.status] ?? "?"}
              </span>
              <div>
                <p className="step-name">
                  {step.name} <span className="visually-hidden">— </span>
                  <span className={`badge badge-${step.status === "ok" ? "ok" : step.status === "failed" ? "error" : "idle"}`}>{WORD[step.status] ?? step.status}</span>
                </p>
                <p className="step-detail">{step.detail}</p>
                {step.fix && (
                  <p className="step-fix">
                    <strong>What to do:</strong> {step.fix}
                  </p>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
