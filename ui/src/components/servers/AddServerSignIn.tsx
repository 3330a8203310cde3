// How a server added in the add dialog signs in, when it is not simply "as the server asks":
// a preset's choices (Madgicx: the browser, or a client ID and secret for agents) and, for any
// web address, client credentials kept under a name, with an optional token URL and scopes.
// It only writes the entry's `auth` object; the core does the signing in.
import type { Preset } from "../../bindings/Preset";
import type { PresetSignIn } from "../../bindings/PresetSignIn";
import type { JsonValue } from "../../bindings/serde_json/JsonValue";

/** What the person typed for a client-credentials sign-in. The secret never leaves the
 * dialog except to the keychain (`setCredentials`). */
export type ClientCredentialsForm = {
  /** The credentials name; empty: the server's name. */
  credentials: string;
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  /** Scopes separated by spaces or commas. */
  scopes: string;
};

export const emptyClientCredentials = (): ClientCredentialsForm => ({ credentials: "", clientId: "", clientSecret: "", tokenUrl: "", scopes: "" });

type JsonObject = { [key: string]: JsonValue };

function asObject(value: JsonValue | null | undefined): JsonObject | null {
  return value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : null;
}

export function isClientCredentials(auth: JsonValue | null | undefined): boolean {
  return asObject(auth)?.type === "client_credentials";
}

/** Why `url` cannot be a token URL, in plain words; `null` when it can. */
export function tokenUrlProblem(url: string): string | null {
  const trimmed = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return "The token URL must be a web address, like https://auth.example.com/oauth/token.";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `The token URL ${trimmed} must start with https:// (or http://).`;
  if (!parsed.hostname) return `The token URL ${trimmed} has no host.`;
  return null;
}

export function splitScopes(line: string): string[] {
  return line.split(/[\s,]+/).filter((s) => s !== "");
}

/** The `auth` object for a client-credentials sign-in, over `base` (the preset's or the
 * file's `auth`, whose other keys are kept). */
export function clientCredentialsAuth(base: JsonValue | null | undefined, form: ClientCredentialsForm, credentials: string): JsonValue {
  const from = isClientCredentials(base) ? { ...asObject(base)! } : {};
  const out: JsonObject = { ...from, type: "client_credentials" };
  // An entry with its client id written inline keeps it, unless a name was asked for.
  const inline = typeof from.clientId === "string" && !from.credentials;
  if (!inline || form.credentials.trim() || form.clientId.trim()) out.credentials = credentials;
  const tokenUrl = form.tokenUrl.trim();
  if (tokenUrl) out.tokenUrl = tokenUrl;
  else delete out.tokenUrl;
  const scopes = splitScopes(form.scopes);
  if (scopes.length) out.scopes = scopes;
  else delete out.scopes;
  return out;
}

/** The form as a file's client-credentials `auth` fills it (editing a server). */
export function readClientCredentials(auth: JsonValue | null | undefined): ClientCredentialsForm | null {
  const obj = asObject(auth);
  if (!obj || obj.type !== "client_credentials") return null;
  const scopes = Array.isArray(obj.scopes) ? obj.scopes.map(String).join(" ") : typeof obj.scope === "string" ? obj.scope : "";
  return {
    ...emptyClientCredentials(),
    credentials: typeof obj.credentials === "string" ? obj.credentials : "",
    tokenUrl: typeof obj.tokenUrl === "string" ? obj.tokenUrl : "",
    scopes,
  };
}

/** The problems of a client-credentials form, first one first. */
export function clientCredentialsProblems(form: ClientCredentialsForm): string[] {
  const list: string[] = [];
  if ((form.clientId.trim() === "") !== (form.clientSecret.trim() === "")) list.push("Give both the client ID and the secret.");
  if (form.tokenUrl.trim()) {
    const problem = tokenUrlProblem(form.tokenUrl);
    if (problem) list.push(problem);
  }
  return list;
}

/** A preset's sign-in choices, as radio buttons (nothing when there is only one). */
export function PresetSignInChoices({ preset, chosen, onChoose }: { preset: Preset; chosen: PresetSignIn | null; onChoose: (id: string) => void }) {
  if (preset.signIns.length < 2) return null;
  return (
    <fieldset className="fieldset sign-in-choices" data-testid="sign-in-choices">
      <legend className="field-label">How to sign in to {preset.label}</legend>
      {preset.signIns.map((choice) => (
        <label key={choice.id} className="choice">
          <input
            type="radio"
            name={`sign-in-${preset.id}`}
            value={choice.id}
            checked={chosen?.id === choice.id}
            onChange={() => onChoose(choice.id)}
            data-testid={`sign-in-choice-${choice.id}`}
          />
          <span>
            <span className="choice-label">{choice.label}</span>
            <span className="field-help">{choice.description}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

type FieldsProps = {
  form: ClientCredentialsForm;
  onChange: (form: ClientCredentialsForm) => void;
  /** The preset's credentials name, which the person does not change. */
  fixedName?: string | null;
  /** The name used when the person gives none (the server's name). */
  defaultName: string;
  help?: string | null;
  ids: { name: string; id: string; secret: string; tokenUrl: string; scopes: string };
};

/** Client ID, secret (to the keychain under a name), and the optional token URL and scopes. */
export function ClientCredentialsFields({ form, onChange, fixedName, defaultName, help, ids }: FieldsProps) {
  const set = (patch: Partial<ClientCredentialsForm>) => onChange({ ...form, ...patch });
  const name = fixedName ?? (form.credentials.trim() || defaultName.trim());
  return (
    <fieldset className="fieldset" data-testid="client-credentials">
      <legend className="field-label">Client ID and secret</legend>
      {help && (
        <p className="field-help" data-testid="credentials-help">
          {help}
        </p>
      )}
      {!fixedName && (
        <div className="field">
          <label className="field-label" htmlFor={ids.name}>
            Credentials name
          </label>
          <input
            id={ids.name}
            value={form.credentials}
            placeholder={defaultName.trim() || "my-credentials"}
            onChange={(e) => set({ credentials: e.target.value })}
            className="mono"
            autoComplete="off"
            spellCheck={false}
            data-testid="add-credentials-name"
          />
        </div>
      )}
      <p className="field-help">
        Kept in your system keychain as “{name || "…"}” and shared by the servers that use that name. Leave them empty if you already gave them.
      </p>
      <div className="field">
        <label className="field-label" htmlFor={ids.id}>
          Client ID
        </label>
        <input id={ids.id} value={form.clientId} onChange={(e) => set({ clientId: e.target.value })} autoComplete="off" spellCheck={false} data-testid="add-client-id" />
      </div>
      <div className="field">
        <label className="field-label" htmlFor={ids.secret}>
          Client secret
        </label>
        <input id={ids.secret} type="password" value={form.clientSecret} onChange={(e) => set({ clientSecret: e.target.value })} autoComplete="off" data-testid="add-client-secret" />
      </div>
      <div className="field">
        <label className="field-label" htmlFor={ids.tokenUrl}>
          Token URL (optional)
        </label>
        <input
          id={ids.tokenUrl}
          type="url"
          value={form.tokenUrl}
          placeholder="https://auth.example.com/oauth/token"
          onChange={(e) => set({ tokenUrl: e.target.value })}
          className="mono"
          autoComplete="off"
          spellCheck={false}
          data-testid="add-token-url"
        />
        <p className="field-help">Where Latch gets tokens. Leave empty when the server says it itself.</p>
      </div>
      <div className="field">
        <label className="field-label" htmlFor={ids.scopes}>
          Scopes (optional)
        </label>
        <input id={ids.scopes} value={form.scopes} placeholder="mcp:read mcp:write" onChange={(e) => set({ scopes: e.target.value })} className="mono" autoComplete="off" spellCheck={false} data-testid="add-scopes" />
      </div>
    </fieldset>
  );
}
