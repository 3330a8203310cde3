// JSON Schema helpers for the tool runner and elicitation forms: local `$ref` resolution with a
// bounded depth, defaults, and validation through @cfworker/json-schema (an interpreter — no
// code generation, so it runs under the app's CSP without `eval`).
import { Validator, type Schema as CfSchema, type SchemaDraft } from "@cfworker/json-schema";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A JSON Schema as servers send it: an object (or `true`/`false`). */
export type Schema = {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  multipleOf?: number;
  properties?: Record<string, Schema | boolean>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema | boolean | Array<Schema | boolean>;
  prefixItems?: Array<Schema | boolean>;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
  $defs?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
  anyOf?: Array<Schema | boolean>;
  oneOf?: Array<Schema | boolean>;
  allOf?: Array<Schema | boolean>;
  enumNames?: string[];
  [key: string]: unknown;
};

/** How deep the form nests objects and arrays before it offers raw JSON for the rest. */
export const MAX_FORM_DEPTH = 6;
/** How many `$ref` hops one resolution may take (a ref to a ref to …). */
const MAX_REF_HOPS = 16;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asSchema(value: unknown): Schema {
  if (value === true || value === undefined || value === null) return {};
  if (value === false) return { not: {} };
  return isObject(value) ? (value as Schema) : {};
}

/** Follow a local JSON pointer (`#/$defs/Node`) inside `root`. */
function lookupPointer(root: Schema, ref: string): Schema | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
    if (node === undefined) return undefined;
  }
  return asSchema(node);
}

export type Resolved = {
  schema: Schema;
  /** Set when a `$ref` could not be followed (remote, missing, or a loop). */
  unresolved?: string;
};

/**
 * Resolve `$ref` (local only) and merge `allOf`, and unwrap the common "nullable" shapes
 * (`anyOf: [X, {type: "null"}]`, `type: ["string", "null"]`). Sibling keywords of `$ref` win
 * over the referenced schema's (titles and descriptions are often put beside a ref).
 */
export function resolveSchema(input: unknown, root: Schema): Resolved {
  let schema = asSchema(input);
  let hops = 0;
  while (typeof schema.$ref === "string") {
    if (++hops > MAX_REF_HOPS) return { schema: stripRef(schema), unresolved: schema.$ref };
    const target = lookupPointer(root, schema.$ref);
    if (!target) return { schema: stripRef(schema), unresolved: schema.$ref };
    schema = { ...target, ...stripRef(schema) };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    let merged: Schema = { ...schema };
    delete merged.allOf;
    for (const part of schema.allOf) {
      const r = resolveSchema(part, root);
      merged = {
        ...r.schema,
        ...merged,
        properties: { ...(r.schema.properties ?? {}), ...(merged.properties ?? {}) },
        required: [...(r.schema.required ?? []), ...(merged.required ?? [])],
      };
    }
    if (Object.keys(merged.properties ?? {}).length === 0) delete merged.properties;
    if ((merged.required ?? []).length === 0) delete merged.required;
    schema = merged;
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    const nonNull = alternatives.filter((alt) => !(isObject(alt) && alt.type === "null"));
    if (nonNull.length === 1 && nonNull.length < alternatives.length) {
      const rest: Schema = { ...schema };
      delete rest.anyOf;
      delete rest.oneOf;
      const inner = resolveSchema(nonNull[0], root);
      return { schema: { ...inner.schema, ...rest }, unresolved: inner.unresolved };
    }
  }
  return { schema };
}

function stripRef(schema: Schema): Schema {
  const copy = { ...schema };
  delete copy.$ref;
  return copy;
}

/** The one type a form control is built for, or undefined when the schema says none. */
export function primaryType(schema: Schema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== "null") ?? schema.type[0];
  if (typeof schema.type === "string") return schema.type;
  if (schema.properties) return "object";
  if (schema.items) return "array";
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return typeof schema.enum[0] === "string" ? "string" : undefined;
  }
  return undefined;
}

/** The initial value of a form: defaults, recursively, only where a schema gives one. */
export function defaultsFor(input: unknown, root: Schema, depth = 0): Json | undefined {
  if (depth > MAX_FORM_DEPTH) return undefined;
  const { schema } = resolveSchema(input, root);
  if (schema.default !== undefined) return schema.default as Json;
  if (primaryType(schema) === "object" && schema.properties) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(schema.properties)) {
      const value = defaultsFor(child, root, depth + 1);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
  return undefined;
}

export type FieldErrors = Record<string, string[]>;

/** A path inside the value as a key: `""` is the root, `"a/0/b"` a nested field. */
export function pathKey(path: (string | number)[]): string {
  return path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

function draftOf(schema: Schema): SchemaDraft {
  const s = typeof schema.$schema === "string" ? schema.$schema : "";
  if (s.includes("draft-04")) return "4";
  if (s.includes("draft-07") || s.includes("draft-06")) return "7";
  if (s.includes("2019-09")) return "2019-09";
  return "2020-12";
}

const CONTAINER_KEYWORDS = new Set([
  "properties",
  "items",
  "prefixItems",
  "additionalProperties",
  "patternProperties",
  "$ref",
  "$recursiveRef",
  "$dynamicRef",
  "allOf",
  "anyOf",
  "oneOf",
  "dependentSchemas",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contains",
  "if",
  "then",
  "else",
]);

function humanize(keyword: string, error: string): string {
  switch (keyword) {
    case "required":
      return "Required";
    case "type": {
      const m = /Expected "([^"]+)"/.exec(error);
      return m ? `Must be ${article(m[1])}` : "Wrong type";
    }
    default:
      return error.replace(/^Instance /, "Value ").replace(/\.$/, "");
  }
}

function article(type: string): string {
  const a = /^[aeiou]/.test(type) ? "an" : "a";
  return `${a} ${type}`;
}

/**
 * Validate `value` against `schema`. Errors are keyed by the path of the field they belong to
 * (a missing required property is reported on that property, not its parent).
 */
export function validate(schema: Schema, value: unknown): FieldErrors {
  const errors: FieldErrors = {};
  const add = (key: string, message: string) => {
    const list = (errors[key] ??= []);
    if (!list.includes(message)) list.push(message);
  };
  let result;
  try {
    // The validator annotates the schema it is given, so it gets its own copy.
    const validator = new Validator(structuredClone(schema) as CfSchema, draftOf(schema), false);
    result = validator.validate(value === undefined ? {} : value);
  } catch (e) {
    add("", `This schema can't be checked here: ${e instanceof Error ? e.message : String(e)}`);
    return errors;
  }
  if (result.valid) return errors;
  for (const unit of result.errors) {
    if (CONTAINER_KEYWORDS.has(unit.keyword)) continue;
    const pointer = unit.instanceLocation.replace(/^#\/?/, "");
    if (unit.keyword === "required") {
      const m = /required property "([^"]+)"/.exec(unit.error);
      if (m) {
        const escaped = m[1].replace(/~/g, "~0").replace(/\//g, "~1");
        add(pointer ? `${pointer}/${escaped}` : escaped, "Required");
        continue;
      }
    }
    add(pointer, humanize(unit.keyword, unit.error));
  }
  return errors;
}

/** Set `value` at `path` inside `root`, immutably; `undefined` removes the key. */
export function setIn(root: Json | undefined, path: (string | number)[], value: Json | undefined): Json | undefined {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const list = Array.isArray(root) ? [...root] : [];
    const next = setIn(list[head], rest, value);
    list[head] = next === undefined ? null : next;
    return list;
  }
  const obj: JsonObject = isObject(root) ? { ...(root as JsonObject) } : {};
  const next = setIn(obj[head], rest, value);
  if (next === undefined) delete obj[head];
  else obj[head] = next;
  return obj;
}

export function getIn(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
