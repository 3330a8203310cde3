// A form built from a JSON Schema (a tool's input schema, an elicitation request), with a raw
// JSON toggle that round-trips with it. No code generation: the schema is read, not compiled.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import {
  MAX_FORM_DEPTH,
  getIn,
  isObject,
  pathKey,
  primaryType,
  resolveSchema,
  setIn,
  type FieldErrors,
  type Json,
  type Schema,
} from "../../lib/schema";

type Path = (string | number)[];

type FieldContext = {
  root: Schema;
  idPrefix: string;
  errors: FieldErrors;
  showErrors: boolean;
  touched: Set<string>;
  onChange: (path: Path, value: Json | undefined) => void;
  onTouch: (path: Path) => void;
  disabled?: boolean;
};

export type SchemaFormProps = {
  schema: Schema;
  value: Json | undefined;
  onChange: (value: Json | undefined) => void;
  errors: FieldErrors;
  /** Show every error, not only those of fields the person has left (after a submit). */
  showAllErrors?: boolean;
  disabled?: boolean;
};

/** The form alone (no JSON toggle). */
export function SchemaForm({ schema, value, onChange, errors, showAllErrors = false, disabled }: SchemaFormProps) {
  const idPrefix = useId();
  const valueRef = useRef(value);
  valueRef.current = value;
  const [touched, setTouched] = useState<Set<string>>(() => new Set());

  const handleChange = useCallback(
    (path: Path, next: Json | undefined) => {
      const updated = setIn(valueRef.current, path, next);
      valueRef.current = updated;
      onChange(updated ?? {});
    },
    [onChange],
  );
  const handleTouch = useCallback((path: Path) => {
    const key = pathKey(path);
    setTouched((prev) => (prev.has(key) ? prev : new Set(prev).add(key)));
  }, []);

  const ctx: FieldContext = {
    root: schema,
    idPrefix,
    errors,
    showErrors: showAllErrors,
    touched,
    onChange: handleChange,
    onTouch: handleTouch,
    disabled,
  };
  const { schema: top } = resolveSchema(schema, schema);
  const rootErrors = showAllErrors ? errors[""] : undefined;

  if (primaryType(top) === "object" && (!top.properties || Object.keys(top.properties).length === 0) && !top.additionalProperties) {
    return (
      <div className="schema-form">
        <p className="muted">This takes no input.</p>
      </div>
    );
  }
  return (
    <div className="schema-form">
      {rootErrors && <FieldErrorList id={`${idPrefix}-root-err`} messages={rootErrors} />}
      {primaryType(top) === "object" && top.properties ? (
        <ObjectFields ctx={ctx} schema={top} path={[]} value={value} depth={0} />
      ) : (
        <Field ctx={ctx} schema={schema} path={[]} value={value} required depth={0} label="Value" />
      )}
    </div>
  );
}

function ObjectFields({ ctx, schema, path, value, depth }: { ctx: FieldContext; schema: Schema; path: Path; value: unknown; depth: number }) {
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {});
  return (
    <>
      {entries.map(([key, child]) => (
        <Field
          key={key}
          ctx={ctx}
          schema={child}
          path={[...path, key]}
          value={getIn(value, [key])}
          required={required.has(key)}
          depth={depth}
          label={key}
        />
      ))}
    </>
  );
}

type FieldProps = {
  ctx: FieldContext;
  schema: unknown;
  path: Path;
  value: unknown;
  required: boolean;
  depth: number;
  label: string;
  onRemove?: () => void;
};

function fieldTestId(path: Path): string {
  return `field-${path.length ? path.join(".") : "value"}`;
}

function Field({ ctx, schema: raw, path, value, required, depth, label, onRemove }: FieldProps) {
  const { schema, unresolved } = resolveSchema(raw, ctx.root);
  const key = pathKey(path);
  const id = `${ctx.idPrefix}-${key || "root"}`;
  const errId = `${id}-err`;
  const helpId = `${id}-help`;
  const messages = ctx.showErrors || ctx.touched.has(key) ? ctx.errors[key] : undefined;
  const title = typeof schema.title === "string" && schema.title ? schema.title : label;
  const description = typeof schema.description === "string" ? schema.description : undefined;
  const type = primaryType(schema);
  const describedBy = [description || hintsFor(schema) ? helpId : "", messages ? errId : ""].filter(Boolean).join(" ") || undefined;
  const set = (next: Json | undefined) => ctx.onChange(path, next);
  const touch = () => ctx.onTouch(path);
  const common = {
    id,
    "data-testid": fieldTestId(path),
    "aria-invalid": messages ? true : undefined,
    "aria-describedby": describedBy,
    "aria-required": required || undefined,
    disabled: ctx.disabled,
    onBlur: touch,
  };

  const labelEl = (
    <label htmlFor={id} className="field-label">
      {title}
      {required && (
        <span className="required" aria-label="required" title="Required">
          *
        </span>
      )}
      {title !== label && <span className="field-key">{label}</span>}
    </label>
  );
  const help = (
    <FieldHelp id={helpId} description={description} hints={hintsFor(schema)} />
  );
  const removeButton = onRemove && (
    <button type="button" className="btn btn-ghost btn-small" onClick={onRemove} aria-label={`Remove ${title}`} disabled={ctx.disabled}>
      Remove
    </button>
  );

  // Too deep (a recursive schema) or something the form can't draw: raw JSON for this part.
  if (depth > MAX_FORM_DEPTH || unresolved || (!type && !Array.isArray(schema.enum) && schema.const === undefined)) {
    return (
      <div className="field">
        <div className="field-head">{labelEl}{removeButton}</div>
        <JsonField
          {...common}
          value={value}
          onValue={set}
          note={
            depth > MAX_FORM_DEPTH
              ? "Nested too deep for the form — enter this part as JSON."
              : unresolved
                ? `The schema refers to ${unresolved}, which Latch can't follow — enter JSON.`
                : "Any JSON value."
          }
        />
        {help}
        {messages && <FieldErrorList id={errId} messages={messages} />}
      </div>
    );
  }

  if (schema.const !== undefined) {
    return (
      <div className="field">
        <div className="field-head">{labelEl}{removeButton}</div>
        <output id={id} data-testid={fieldTestId(path)} className="const-value">
          {JSON.stringify(schema.const)}
        </output>
        {help}
      </div>
    );
  }

  if (Array.isArray(schema.enum)) {
    const options = schema.enum;
    const names = Array.isArray(schema.enumNames) ? schema.enumNames : undefined;
    const index = options.findIndex((o) => JSON.stringify(o) === JSON.stringify(value));
    return (
      <div className="field">
        <div className="field-head">{labelEl}{removeButton}</div>
        <select
          {...common}
          value={index >= 0 ? String(index) : ""}
          onChange={(e) => {
            set(e.target.value === "" ? undefined : (options[Number(e.target.value)] as Json));
            touch();
          }}
        >
          <option value="">{required ? "Choose…" : "(none)"}</option>
          {options.map((option, i) => (
            <option key={i} value={String(i)}>
              {names?.[i] ?? (typeof option === "string" ? option : JSON.stringify(option))}
            </option>
          ))}
        </select>
        {help}
        {messages && <FieldErrorList id={errId} messages={messages} />}
      </div>
    );
  }

  switch (type) {
    case "boolean":
      return (
        <div className="field field-checkbox">
          <div className="field-head">
            <input
              {...common}
              type="checkbox"
              checked={value === true}
              onChange={(e) => {
                set(e.target.checked);
                touch();
              }}
            />
            {labelEl}
            {removeButton}
          </div>
          {help}
          {messages && <FieldErrorList id={errId} messages={messages} />}
        </div>
      );
    case "number":
    case "integer":
      return (
        <div className="field">
          <div className="field-head">{labelEl}{removeButton}</div>
          <NumberInput {...common} integer={type === "integer"} value={value} onValue={set} min={schema.minimum} max={schema.maximum} />
          {help}
          {messages && <FieldErrorList id={errId} messages={messages} />}
        </div>
      );
    case "string": {
      const long = (schema.maxLength ?? 0) > 200 || schema.format === "textarea" || (typeof value === "string" && value.includes("\n"));
      const inputType = schema.format === "email" ? "email" : schema.format === "uri" || schema.format === "url" ? "url" : schema.format === "date" ? "date" : "text";
      const text = typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
      const onText = (next: string) => set(next === "" ? undefined : next);
      return (
        <div className="field">
          <div className="field-head">{labelEl}{removeButton}</div>
          {long ? (
            <textarea {...common} rows={4} value={text} maxLength={schema.maxLength} onChange={(e) => onText(e.target.value)} />
          ) : (
            <input
              {...common}
              type={inputType}
              value={text}
              maxLength={schema.maxLength}
              placeholder={placeholderFor(schema)}
              onChange={(e) => onText(e.target.value)}
            />
          )}
          {help}
          {messages && <FieldErrorList id={errId} messages={messages} />}
        </div>
      );
    }
    case "object": {
      if (!schema.properties || Object.keys(schema.properties).length === 0) {
        return (
          <div className="field">
            <div className="field-head">{labelEl}{removeButton}</div>
            <JsonField {...common} value={value} onValue={set} note="An object — enter it as JSON." />
            {help}
            {messages && <FieldErrorList id={errId} messages={messages} />}
          </div>
        );
      }
      return (
        <fieldset className="field fieldset" data-testid={`${fieldTestId(path)}-group`}>
          <legend className="field-label">
            {title}
            {required && (
              <span className="required" aria-label="required" title="Required">
                *
              </span>
            )}
            {removeButton}
          </legend>
          {help}
          {messages && <FieldErrorList id={errId} messages={messages} />}
          <ObjectFields ctx={ctx} schema={schema} path={path} value={value} depth={depth + 1} />
        </fieldset>
      );
    }
    case "array": {
      const items = Array.isArray(value) ? value : [];
      const itemSchema = Array.isArray(schema.items) ? undefined : schema.items;
      if (itemSchema === undefined && (Array.isArray(schema.items) || schema.prefixItems)) {
        return (
          <div className="field">
            <div className="field-head">{labelEl}{removeButton}</div>
            <JsonField {...common} value={value} onValue={set} note="A fixed list — enter it as JSON." />
            {help}
            {messages && <FieldErrorList id={errId} messages={messages} />}
          </div>
        );
      }
      const addItem = () => {
        const { schema: itemResolved } = resolveSchema(itemSchema, ctx.root);
        const t = primaryType(itemResolved);
        const initial: Json =
          itemResolved.default !== undefined
            ? (itemResolved.default as Json)
            : t === "object"
              ? {}
              : t === "array"
                ? []
                : t === "boolean"
                  ? false
                  : t === "number" || t === "integer"
                    ? 0
                    : t === "string" && !Array.isArray(itemResolved.enum)
                      ? ""
                      : null;
        set([...(items as Json[]), initial]);
        touch();
      };
      return (
        <fieldset className="field fieldset" data-testid={`${fieldTestId(path)}-group`}>
          <legend className="field-label">
            {title}
            {required && (
              <span className="required" aria-label="required" title="Required">
                *
              </span>
            )}
            {removeButton}
          </legend>
          {help}
          {messages && <FieldErrorList id={errId} messages={messages} />}
          {items.length === 0 && <p className="muted small">No items.</p>}
          <ol className="array-items">
            {items.map((item, i) => (
              <li key={i}>
                <Field
                  ctx={ctx}
                  schema={itemSchema}
                  path={[...path, i]}
                  value={item}
                  required={false}
                  depth={depth + 1}
                  label={`${label} ${i + 1}`}
                  onRemove={() => {
                    const next = (items as Json[]).filter((_, j) => j !== i);
                    set(next);
                    touch();
                  }}
                />
              </li>
            ))}
          </ol>
          <button
            type="button"
            className="btn btn-secondary btn-small"
            onClick={addItem}
            disabled={ctx.disabled || (schema.maxItems !== undefined && items.length >= schema.maxItems)}
            data-testid={`${fieldTestId(path)}-add`}
          >
            Add item
          </button>
        </fieldset>
      );
    }
    default:
      return (
        <div className="field">
          <div className="field-head">{labelEl}{removeButton}</div>
          <JsonField {...common} value={value} onValue={set} note="Enter JSON." />
          {help}
          {messages && <FieldErrorList id={errId} messages={messages} />}
        </div>
      );
  }
}

function placeholderFor(schema: Schema): string | undefined {
  if (schema.default !== undefined && typeof schema.default === "string") return schema.default;
  switch (schema.format) {
    case "date-time":
      return "2025-01-31T09:00:00Z";
    case "time":
      return "09:00:00Z";
    case "email":
      return "name@example.com";
    case "uri":
    case "url":
      return "https://";
    default:
      return undefined;
  }
}

function hintsFor(schema: Schema): string[] {
  const hints: string[] = [];
  if (schema.format && !["textarea"].includes(schema.format)) hints.push(`format: ${schema.format}`);
  if (schema.pattern) hints.push(`pattern: ${schema.pattern}`);
  if (schema.minLength !== undefined) hints.push(`at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) hints.push(`at most ${schema.maxLength} characters`);
  if (schema.minimum !== undefined) hints.push(`min ${schema.minimum}`);
  if (schema.maximum !== undefined) hints.push(`max ${schema.maximum}`);
  if (typeof schema.exclusiveMinimum === "number") hints.push(`more than ${schema.exclusiveMinimum}`);
  if (typeof schema.exclusiveMaximum === "number") hints.push(`less than ${schema.exclusiveMaximum}`);
  if (schema.minItems !== undefined) hints.push(`at least ${schema.minItems} items`);
  if (schema.maxItems !== undefined) hints.push(`at most ${schema.maxItems} items`);
  if (schema.default !== undefined) hints.push(`default: ${JSON.stringify(schema.default)}`);
  return hints;
}

function FieldHelp({ id, description, hints }: { id: string; description?: string; hints: string[] }) {
  if (!description && hints.length === 0) return null;
  return (
    <div id={id} className="field-help">
      {description && <p>{description}</p>}
      {hints.length > 0 && <p className="field-hints">{hints.join(" · ")}</p>}
    </div>
  );
}

function FieldErrorList({ id, messages }: { id: string; messages: string[] }) {
  return (
    <p id={id} className="field-error" role="alert">
      {messages.join(" · ")}
    </p>
  );
}

type InputCommon = {
  id: string;
  "data-testid": string;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
  "aria-required"?: boolean;
  disabled?: boolean;
  onBlur: () => void;
};

function NumberInput({
  integer,
  value,
  onValue,
  min,
  max,
  ...rest
}: InputCommon & { integer: boolean; value: unknown; onValue: (v: Json | undefined) => void; min?: number; max?: number }) {
  const external = value === undefined || value === null ? "" : String(value);
  const [text, setText] = useState(external);
  // Follow changes made elsewhere (the JSON editor, "Run again") without fighting the typist.
  useEffect(() => {
    setText((current) => (parseNumber(current) === value || (current === "" && value === undefined) ? current : external));
  }, [external, value]);
  return (
    <input
      {...rest}
      type="text"
      inputMode={integer ? "numeric" : "decimal"}
      aria-valuemin={min}
      aria-valuemax={max}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        const parsed = parseNumber(e.target.value);
        // Something that isn't a number stays a string, so validation says so inline.
        onValue(e.target.value.trim() === "" ? undefined : parsed ?? e.target.value);
      }}
    />
  );
}

function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === "" || !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** A small JSON editor for one part of the value. */
function JsonField({ value, onValue, note, ...rest }: InputCommon & { value: unknown; onValue: (v: Json | undefined) => void; note: string }) {
  const external = value === undefined ? "" : JSON.stringify(value, null, 2);
  const [text, setText] = useState(external);
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(() => {
    setText((current) => {
      try {
        if (current.trim() !== "" && JSON.stringify(JSON.parse(current)) === JSON.stringify(value)) return current;
      } catch {
        /* keep what the person is typing */
        return current;
      }
      return external;
    });
  }, [external, value]);
  return (
    <>
      <p className="muted small">{note}</p>
      <textarea
        {...rest}
        className="mono"
        rows={3}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setParseError(null);
            onValue(undefined);
            return;
          }
          try {
            onValue(JSON.parse(e.target.value) as Json);
            setParseError(null);
          } catch (err) {
            setParseError(err instanceof Error ? err.message : "Not valid JSON");
          }
        }}
      />
      {parseError && <p className="field-error">Not valid JSON: {parseError}</p>}
    </>
  );
}

export type ArgumentsEditorProps = SchemaFormProps & {
  /** Called with the raw-mode flag so callers can block submitting unparsable JSON. */
  onRawError?: (error: string | null) => void;
};

/** The schema form with a "Form / JSON" toggle; the two views edit the same value. */
export function ArgumentsEditor(props: ArgumentsEditorProps) {
  const { value, onChange, onRawError, errors, showAllErrors, disabled } = props;
  const [raw, setRaw] = useState(false);
  const [text, setText] = useState("");
  const [rawError, setRawError] = useState<string | null>(null);
  const textId = useId();
  const pretty = useMemo(() => JSON.stringify(value ?? {}, null, 2), [value]);

  const toRaw = () => {
    setText(pretty);
    setRawError(null);
    onRawError?.(null);
    setRaw(true);
  };
  const toForm = () => {
    if (rawError) return;
    setRaw(false);
  };
  const rawMessages = Object.entries(errors).flatMap(([path, list]) => list.map((m) => (path ? `${path.replace(/\//g, ".")}: ${m}` : m)));

  return (
    <div className="args-editor">
      <div className="segmented" role="group" aria-label="Edit arguments as">
        <button type="button" className={!raw ? "active" : ""} aria-pressed={!raw} onClick={toForm} disabled={!!rawError} data-testid="mode-form">
          Form
        </button>
        <button type="button" className={raw ? "active" : ""} aria-pressed={raw} onClick={toRaw} data-testid="mode-json">
          JSON
        </button>
      </div>
      {raw ? (
        <div className="field">
          <label htmlFor={textId} className="field-label">
            Arguments (JSON)
          </label>
          <textarea
            id={textId}
            className="mono raw-json"
            data-testid="raw-json"
            rows={12}
            spellCheck={false}
            value={text}
            disabled={disabled}
            aria-invalid={rawError ? true : undefined}
            onChange={(e) => {
              setText(e.target.value);
              try {
                const parsed = e.target.value.trim() === "" ? {} : (JSON.parse(e.target.value) as Json);
                if (!isObject(parsed)) throw new Error("The arguments must be a JSON object { … }");
                setRawError(null);
                onRawError?.(null);
                onChange(parsed);
              } catch (err) {
                const message = err instanceof Error ? err.message : "Not valid JSON";
                setRawError(message);
                onRawError?.(message);
              }
            }}
          />
          {rawError ? (
            <p className="field-error" role="alert">
              Not valid JSON: {rawError}
            </p>
          ) : (
            showAllErrors &&
            rawMessages.length > 0 && (
              <ul className="field-error" role="alert">
                {rawMessages.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )
          )}
        </div>
      ) : (
        <SchemaForm {...props} />
      )}
    </div>
  );
}
