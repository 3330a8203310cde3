// RFC 6570 URI templates, as far as a person filling in a resource template needs them: the
// variables a template names (for the form's fields) and the URI the values make (every
// operator of level 3 plus the prefix modifier; values are strings, lists and maps are not).

type Op = "" | "+" | "#" | "." | "/" | ";" | "?" | "&";

type VarSpec = { name: string; prefix: number | null };
type Expr = { op: Op; vars: VarSpec[] };

const EXPR = /\{([+#./;?&]?)([^{}]*)\}/g;

function parseExpr(op: string, body: string): Expr {
  const vars = body
    .split(",")
    .map((raw) => raw.trim())
    .filter(Boolean)
    .map((raw) => {
      const m = /^([^:*]+)(?::(\d+))?\*?$/.exec(raw);
      return { name: m ? m[1] : raw, prefix: m && m[2] ? Number(m[2]) : null };
    });
  return { op: op as Op, vars };
}

/** The variables a template names, in order, each once. */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(EXPR)) {
    for (const v of parseExpr(m[1], m[2]).vars) if (!names.includes(v.name)) names.push(v.name);
  }
  return names;
}

function encode(value: string, allowReserved: boolean): string {
  // encodeURIComponent leaves unreserved characters alone; reserved ones stay for + and #.
  const encoded = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (!allowReserved) return encoded;
  return encoded.replace(/%(3A|2F|3F|23|5B|5D|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (s) => decodeURIComponent(s));
}

const FIRST: Record<Op, string> = { "": "", "+": "", "#": "#", ".": ".", "/": "/", ";": ";", "?": "?", "&": "&" };
const SEP: Record<Op, string> = { "": ",", "+": ",", "#": ",", ".": ".", "/": "/", ";": ";", "?": "&", "&": "&" };

/** The URI the values make; an empty or missing value is left out, as RFC 6570 says for undefined. */
export function expandTemplate(template: string, values: Record<string, string>): string {
  return template.replace(EXPR, (_, op: string, body: string) => {
    const expr = parseExpr(op, body);
    const reserved = expr.op === "+" || expr.op === "#";
    const named = expr.op === ";" || expr.op === "?" || expr.op === "&";
    const parts: string[] = [];
    for (const v of expr.vars) {
      const raw = values[v.name];
      if (raw === undefined || raw === "") continue;
      const value = encode(v.prefix !== null ? Array.from(raw).slice(0, v.prefix).join("") : raw, reserved);
      parts.push(named ? `${v.name}=${value}` : value);
    }
    if (parts.length === 0) return "";
    return FIRST[expr.op] + parts.join(SEP[expr.op]);
  });
}

/** Whether every variable of the template has a value. */
export function templateComplete(template: string, values: Record<string, string>): boolean {
  return templateVariables(template).every((name) => (values[name] ?? "") !== "");
}
