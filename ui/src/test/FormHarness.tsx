import { useMemo, useState } from "react";
import { ArgumentsEditor } from "../components/tools/SchemaForm";
import { defaultsFor, validate, type Json, type Schema } from "../lib/schema";

/** The schema form as the runner uses it, with its value shown for assertions. */
export function FormHarness({ schema }: { schema: Schema }) {
  const [value, setValue] = useState<Json | undefined>(() => defaultsFor(schema, schema) ?? {});
  const [submitted, setSubmitted] = useState(false);
  const errors = useMemo(() => validate(schema, value ?? {}), [schema, value]);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setSubmitted(true);
      }}
    >
      <ArgumentsEditor schema={schema} value={value} onChange={setValue} errors={errors} showAllErrors={submitted} />
      <button type="submit">Submit</button>
      <pre data-testid="value">{JSON.stringify(value ?? {})}</pre>
    </form>
  );
}

export function currentValue(el: HTMLElement): unknown {
  return JSON.parse(el.textContent ?? "null");
}
