// What the add dialog writes for a server that signs in through the person's company
// (enterprise-managed authorization): `auth.org` naming the organisation, and — when the
// company's admin gave one — the server's own client at its sign-in server. Also the checks
// of the inline "Add your company…" form. Pure functions, so they are tested alone.
import type { OrgInput } from "../../../bindings/OrgInput";
import type { JsonValue } from "../../../bindings/serde_json/JsonValue";

type JsonObject = { [key: string]: JsonValue };

/** The select's value for "Add your company…". */
export const NEW_ORG = "";

/** What the person typed for a new organisation (the company's identity provider). */
export type NewOrgForm = { name: string; issuer: string; clientId: string };

/** The company choice of the add dialog. The secret never leaves the dialog except to the
 * keychain. */
export type CompanyForm = {
  /** The organisation's name, or NEW_ORG. */
  org: string;
  newOrg: NewOrgForm;
  /** The server's own client id at its sign-in server (the core needs it for the exchange)
   * and its secret (optional; empty keeps the one already in the keychain). */
  clientId: string;
  clientSecret: string;
};

export const emptyCompanyForm = (org = NEW_ORG): CompanyForm => ({ org, newOrg: { name: "", issuer: "", clientId: "" }, clientId: "", clientSecret: "" });

function asObject(value: JsonValue | null | undefined): JsonObject | null {
  return value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : null;
}

/** Whether an entry's `auth` signs in through an organisation. */
export function isCompanyAuth(auth: JsonValue | null | undefined): boolean {
  const obj = asObject(auth);
  return typeof obj?.org === "string" && obj.type !== "client_credentials" && obj.type !== "workload";
}

/** The organisation an entry's `auth` names, with the server's own client id. */
export function readCompanyAuth(auth: JsonValue | null | undefined): { org: string; clientId: string; hasSecret: boolean } | null {
  if (!isCompanyAuth(auth)) return null;
  const obj = asObject(auth)!;
  return { org: obj.org as string, clientId: typeof obj.clientId === "string" ? obj.clientId : "", hasSecret: typeof obj.clientSecret === "string" };
}

/** The keychain name of a server's client secret at its sign-in server. */
export const serverSecretName = (server: string) => `${server}-client-secret`;

/** The `auth` object of server `server` signing in through `org`, over `base` (the file's
 * `auth`, whose other keys — scopes, dpop — are kept). The client secret, when given, is
 * written as a `${secret:…}` placeholder; the value goes to the keychain. */
export function companyAuth(base: JsonValue | null | undefined, server: string, form: CompanyForm, org: string): JsonValue {
  const from = isCompanyAuth(base) ? { ...asObject(base)! } : {};
  const out: JsonObject = { ...from, type: "enterprise", org };
  delete out.credentials;
  const clientId = form.clientId.trim();
  if (clientId) out.clientId = clientId;
  else delete out.clientId;
  if (form.clientSecret.trim()) out.clientSecret = `\${secret:${serverSecretName(server)}}`;
  else if (!clientId) delete out.clientSecret;
  return out;
}

/** The core's input for a new organisation, from the form (no secret: a public client). */
export function newOrgInput(form: NewOrgForm): OrgInput {
  return { name: form.name.trim(), issuer: form.issuer.trim(), clientId: form.clientId.trim() || null, clientSecret: null, clientMetadataUrl: null, scopes: [] };
}

/** A name Latch accepts for an organisation (as for servers: letters, digits, `-`, `_`, `.`). */
export function orgNameProblem(name: string, existing: string[]): string | null {
  const trimmed = name.trim();
  if (!trimmed) return "Give your company a short name, like acme.";
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(trimmed)) return `The company name ${trimmed} may hold only letters, digits, “-”, “_” and “.”.`;
  if (existing.includes(trimmed)) return `There is already a company named ${trimmed}.`;
  return null;
}

/** Why `url` cannot be the company's sign-in address (its issuer); `null` when it can. */
export function issuerProblem(url: string): string | null {
  const trimmed = url.trim();
  if (!trimmed) return "Give your company's sign-in address, like https://acme.okta.com.";
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return `The sign-in address ${trimmed} must be a web address, like https://acme.okta.com.`;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `The sign-in address ${trimmed} must start with https://.`;
  return null;
}

/** The problems of the company choice, first one first. */
export function companyProblems(form: CompanyForm, existing: string[]): string[] {
  const list: string[] = [];
  if (form.org === NEW_ORG) {
    const name = orgNameProblem(form.newOrg.name, existing);
    if (name) list.push(name);
    const issuer = issuerProblem(form.newOrg.issuer);
    if (issuer) list.push(issuer);
    if (!form.newOrg.clientId.trim()) list.push("Give Latch's client ID at your company (your IT admin has it).");
  }
  if (!form.clientId.trim()) list.push("Give the client ID this server's sign-in server knows Latch by (your IT admin has it).");
  return list;
}
