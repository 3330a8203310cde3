// A resource template filled in by hand: one field per variable of its URI template, each with
// the server's suggestions as the person types (the other fields sent as context), the URI the
// values make shown as it changes, and "Read" opening that URI in the viewer.
import { useMemo, useState } from "react";
import type { ResourceTemplateView } from "../../bindings/ResourceTemplateView";
import { plainText } from "../../lib/views";
import { CompletionField } from "./CompletionField";
import { ResourceViewer } from "./ResourceViewer";
import { expandTemplate, templateComplete, templateVariables } from "./uriTemplate";

export function TemplateForm({ server, template }: { server: string; template: ResourceTemplateView }) {
  const variables = useMemo(() => templateVariables(template.uriTemplate), [template.uriTemplate]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [reading, setReading] = useState<{ uri: string; key: number } | null>(null);
  const uri = expandTemplate(template.uriTemplate, values);
  const ready = templateComplete(template.uriTemplate, values);
  const target = useMemo(() => ({ kind: "template" as const, uri: template.uriTemplate }), [template.uriTemplate]);

  return (
    <div className="template-form" data-testid="template-form">
      <header className="viewer-head">
        <div className="viewer-title">
          <h3>{template.title ?? template.name}</h3>
          <p className="mono small break">{template.uriTemplate}</p>
        </div>
      </header>
      {template.description && <p className="small">{plainText(template.description)}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) setReading({ uri, key: Date.now() });
        }}
      >
        {variables.length === 0 && <p className="muted small">This template has no variables: it names one resource.</p>}
        {variables.map((name) => (
          <CompletionField
            key={name}
            server={server}
            target={target}
            name={name}
            required
            value={values[name] ?? ""}
            context={values}
            onChange={(v) => setValues((old) => ({ ...old, [name]: v }))}
            testId={`template-var-${name}`}
          />
        ))}
        <p className="small">
          <span className="muted">URI: </span>
          <span className="mono break" data-testid="template-uri">
            {uri}
          </span>
        </p>
        <div className="row">
          <button type="submit" className="btn btn-primary btn-small" disabled={!ready} data-testid="template-read">
            Read
          </button>
          {!ready && <span className="muted small">Fill in every field to read it.</span>}
        </div>
      </form>
      {reading && <ResourceViewer key={`${reading.uri}-${reading.key}`} server={server} uri={reading.uri} />}
    </div>
  );
}
