// A light JSON highlighter for the resource viewer: pretty-printed JSON cut into tokens, each
// a text node inside a classed <span> (React escapes them: nothing from the server becomes
// markup). Large documents are shown plain, so a huge resource never stalls the window.
import { memo, type ReactNode } from "react";

/** Above this many characters the JSON is shown without colours. */
export const HIGHLIGHT_LIMIT = 200_000;

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],])/g;

export type JsonToken = { kind: "key" | "string" | "number" | "literal" | "punct" | "plain"; text: string };

export function tokenizeJson(text: string): JsonToken[] {
  const tokens: JsonToken[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) tokens.push({ kind: "plain", text: text.slice(last, at) });
    if (m[1] !== undefined) {
      tokens.push({ kind: m[2] !== undefined ? "key" : "string", text: m[1] });
      if (m[2] !== undefined) tokens.push({ kind: "punct", text: m[2] });
    } else if (m[3] !== undefined) tokens.push({ kind: "number", text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: "literal", text: m[4] });
    else tokens.push({ kind: "punct", text: m[5] });
    last = at + m[0].length;
  }
  if (last < text.length) tokens.push({ kind: "plain", text: text.slice(last) });
  return tokens;
}

/** The text pretty-printed when it is JSON, else null. */
export function prettyJson(text: string): string | null {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("[") || t.startsWith('"'))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}

export const JsonBlock = memo(function JsonBlock({ text, testId }: { text: string; testId?: string }) {
  if (text.length > HIGHLIGHT_LIMIT) {
    return (
      <pre className="json" data-testid={testId}>
        {text}
      </pre>
    );
  }
  const nodes: ReactNode[] = tokenizeJson(text).map((t, i) =>
    t.kind === "plain" ? (
      t.text
    ) : (
      <span key={i} className={`hl-${t.kind}`}>
        {t.text}
      </span>
    ),
  );
  return (
    <pre className="json highlighted" data-testid={testId}>
      {nodes}
    </pre>
  );
});
