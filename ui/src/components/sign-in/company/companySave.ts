// What "Add server" does for a server that signs in through the person's company, around the
// dialog's own save: add the organisation first when it was typed inline, keep the server's
// client secret in the keychain, and afterwards sign in — to the company first (the browser,
// which also signs in every server of the company) when there is no company session yet, else
// to this server alone (a token exchange, no browser).
import type { JsonValue } from "../../../bindings/serde_json/JsonValue";
import type { OrgView } from "../../../bindings/OrgView";
import * as api from "../../../tauri/api";
import { actions } from "../../../state/actions";
import { store } from "../../../state/store";
import { NEW_ORG, companyAuth, newOrgInput, serverSecretName, type CompanyForm } from "./companyAuth";

/** The organisation the form names (the one typed inline, once added). */
export function chosenOrg(form: CompanyForm): string {
  return form.org === NEW_ORG ? form.newOrg.name.trim() : form.org;
}

/** The entry's `auth` for server `server`. */
export function companyAuthToWrite(base: JsonValue | null, form: CompanyForm, server: string): JsonValue {
  return companyAuth(base, server, form, chosenOrg(form));
}

/** Before the server is written: the server's client secret, then the inline organisation
 * (returned, so that a second try after a failed save picks it instead of adding it again). */
export async function beforeSave(form: CompanyForm, server: string): Promise<OrgView | null> {
  if (form.clientSecret.trim()) await api.setSecret(serverSecretName(server), form.clientSecret.trim());
  return form.org === NEW_ORG ? await api.addOrg(newOrgInput(form.newOrg)) : null;
}

/** The name a company sign-in's `signInUrl` events carry (core: `auth/enterprise/company.rs`),
 * under which the "waiting for your browser" dialog shows it. */
export const companySignInKey = (org: string) => `organisation ${org}`;

/** Sign in to the company (the browser, as the shell reports it), and close the waiting
 * dialog once the sign-in is over either way: no server view ends it for a company. */
export async function signInToCompany(org: string) {
  try {
    return await api.signInOrg(org);
  } finally {
    const key = companySignInKey(org);
    store.update((s) => {
      if (!s.signIn[key]) return s;
      const signIn = { ...s.signIn };
      delete signIn[key];
      return { ...s, signIn };
    });
  }
}

/** After the server is added: the company sign-in when there is none yet (it signs in its
 * servers too, this one included), else this server's own. */
export async function signInAfterAdd(org: string, server: string, known: OrgView[]): Promise<void> {
  if (known.find((o) => o.name === org)?.signedIn) {
    await actions.signIn(server);
    return;
  }
  try {
    await signInToCompany(org);
  } catch (e) {
    store.notify("error", api.toAppError(e).message);
    return;
  }
  await actions.connect(server);
}
