// A tool's full description, its input schema and its annotations.
import type { ToolView } from "../../bindings/ToolView";
import { Markdown } from "../shared/Markdown";
import { Modal } from "../shared/Modal";
import { ToolBadges, toolTitle } from "./Tools";

const HINTS: { key: "readOnlyHint" | "destructiveHint" | "idempotentHint" | "openWorldHint"; label: string; yes: string; no: string }[] = [
  { key: "readOnlyHint", label: "Read-only", yes: "Only reads; changes nothing.", no: "May change things." },
  { key: "destructiveHint", label: "Destructive", yes: "May delete or overwrite things.", no: "Only adds; doesn't destroy." },
  { key: "idempotentHint", label: "Idempotent", yes: "Running it twice does the same as once.", no: "Running it twice may do more." },
  { key: "openWorldHint", label: "Open world", yes: "Reaches outside systems (the web, other services).", no: "Works on a closed set of data." },
];

export function ToolModal({ tool, onClose, onRun }: { tool: ToolView; onClose: () => void; onRun: () => void }) {
  const title = toolTitle(tool);
  const annotations = tool.annotations ?? {};
  const hints = HINTS.filter((h) => typeof annotations[h.key] === "boolean");
  return (
    <Modal
      title={
        <span className="modal-title-tool">
          {title} <ToolBadges tool={tool} />
        </span>
      }
      onClose={onClose}
      size="large"
      testId="tool-modal"
      closeTestId="tool-modal-close"
      footer={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Close
          </button>
          <button type="button" className="btn btn-primary" onClick={onRun} data-testid="tool-modal-run" data-autofocus>
            Run…
          </button>
        </>
      }
    >
      <div className="stack">
        {title !== tool.name && <p className="mono small muted">{tool.name}</p>}
        {tool.description ? <Markdown text={tool.description} /> : <p className="muted">This tool has no description.</p>}
        {hints.length > 0 && (
          <section>
            <h3 className="h-small">Hints from the server</h3>
            <dl className="hints">
              {hints.map((h) => (
                <div key={h.key}>
                  <dt>{h.label}</dt>
                  <dd>{annotations[h.key] ? h.yes : h.no}</dd>
                </div>
              ))}
            </dl>
          </section>
        )}
        <details className="schema-details">
          <summary>Input schema</summary>
          <pre className="json" data-testid="tool-input-schema">
            {JSON.stringify(tool.inputSchema, null, 2)}
          </pre>
        </details>
        {tool.outputSchema != null && (
          <details className="schema-details">
            <summary>Output schema</summary>
            <pre className="json">{JSON.stringify(tool.outputSchema, null, 2)}</pre>
          </details>
        )}
      </div>
    </Modal>
  );
}
