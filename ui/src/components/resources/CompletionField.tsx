// One argument of a prompt or a resource template as a text field that asks the server for
// suggestions (`completion/complete`) as the person types: debounced, with the other fields as
// context, answers that arrive late for an older prefix ignored. The suggestions are an ARIA
// listbox: Down/Up move, Enter picks, Escape closes. A server that can't complete gets asked
// no more for this field and the field stays a plain text field.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import type { CompletionTargetInput } from "../../bindings/CompletionTargetInput";
import * as api from "../../tauri/api";

export type CompletionTarget = CompletionTargetInput;

/** How long typing must pause before the server is asked, in ms. */
export const COMPLETION_DELAY_MS = 250;

export function CompletionField({
  server,
  target,
  name,
  label,
  description,
  required = false,
  value,
  context,
  onChange,
  testId,
}: {
  server: string;
  target: CompletionTarget;
  name: string;
  label?: string | null;
  description?: string | null;
  required?: boolean;
  value: string;
  /** The other fields' values, sent so the server can narrow its suggestions. */
  context: Record<string, string>;
  onChange: (value: string) => void;
  testId?: string;
}) {
  const id = useId();
  const listId = `${id}-list`;
  const [values, setValues] = useState<string[]>([]);
  const [more, setMore] = useState(false);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const asked = useRef(0);
  const unsupported = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const contextRef = useRef(context);
  contextRef.current = context;

  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const ask = (prefix: string) => {
    if (unsupported.current) return;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const n = ++asked.current;
      const others = Object.fromEntries(Object.entries(contextRef.current).filter(([k, v]) => k !== name && v !== ""));
      api.complete(server, target, name, prefix, others).then(
        (c) => {
          if (n !== asked.current) return;
          const shown = c?.values ?? [];
          setValues(shown);
          setMore(Boolean(c?.hasMore));
          setActive(-1);
          setOpen(shown.length > 0);
        },
        () => {
          // The server offers no completions (or failed at it): the field works without them.
          if (n !== asked.current) return;
          unsupported.current = true;
          setValues([]);
          setOpen(false);
        },
      );
    }, COMPLETION_DELAY_MS);
  };

  const pick = (v: string) => {
    onChange(v);
    setOpen(false);
    setValues([]);
    asked.current++;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (!open || values.length === 0) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        ask(value);
      }
      return;
    }
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => (a + 1) % values.length);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => (a <= 0 ? values.length - 1 : a - 1));
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      pick(values[active]);
    } else if (e.key === "Escape") {
      // Only the list closes; a dialog around the field stays open.
      e.preventDefault();
      e.stopPropagation();
      e.nativeEvent.stopImmediatePropagation();
      setOpen(false);
    }
  };

  return (
    <div className="field completion-field" data-testid={testId}>
      <div className="field-head">
        <label htmlFor={id} className="field-label">
          {label && label !== name ? label : name}
          {required && (
            <span className="required" aria-label="required">
              *
            </span>
          )}
          {label && label !== name && <span className="field-key">{name}</span>}
        </label>
      </div>
      {description && <p className="field-help">{description}</p>}
      <div className="completion-wrap">
        <input
          id={id}
          type="text"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
          aria-required={required}
          value={value}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => {
            onChange(e.target.value);
            ask(e.target.value);
          }}
          onFocus={() => ask(value)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={onKeyDown}
          data-testid={testId ? `${testId}-input` : undefined}
        />
        {open && values.length > 0 && (
          <ul id={listId} role="listbox" className="suggestions" aria-label={`Suggestions for ${name}`} data-testid={testId ? `${testId}-suggestions` : "suggestions"}>
            {values.map((v, i) => (
              <li
                key={`${v}-${i}`}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                className={i === active ? "active" : ""}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(v);
                }}
              >
                {v}
              </li>
            ))}
            {more && <li className="muted small suggestions-more">More values exist: keep typing to narrow them.</li>}
          </ul>
        )}
      </div>
    </div>
  );
}
