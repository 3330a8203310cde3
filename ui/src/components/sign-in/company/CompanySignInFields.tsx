// The add dialog's "Sign in with your company" section: which organisation (the company's
// identity provider) signs the person in to this server, or "Add your company…" inline, and
// the client ID (and secret) this server's sign-in server knows Latch by. It only fills the
// form; the dialog writes `auth.org` and the core does the signing in.
import { useId } from "react";
import type { OrgView } from "../../../bindings/OrgView";
import { NEW_ORG, type CompanyForm, type NewOrgForm } from "./companyAuth";

type Props = {
  form: CompanyForm;
  onChange: (form: CompanyForm) => void;
  /** The organisations Latch knows (none yet: only the inline form). */
  orgs: OrgView[];
  /** Editing: the entry already has a client secret in the keychain. */
  hasSecret?: boolean;
};

export function CompanySignInFields({ form, onChange, orgs, hasSecret = false }: Props) {
  const ids = { org: useId(), name: useId(), issuer: useId(), clientId: useId(), serverId: useId(), serverSecret: useId() };
  const set = (patch: Partial<CompanyForm>) => onChange({ ...form, ...patch });
  const setNew = (patch: Partial<NewOrgForm>) => set({ newOrg: { ...form.newOrg, ...patch } });
  const chosen = orgs.find((o) => o.name === form.org) ?? null;
  return (
    <fieldset className="fieldset" data-testid="company-sign-in">
      <legend className="field-label">Your company</legend>
      <p className="field-help">You sign in to your company once; Latch then signs you in to this server with it, with no browser page per server.</p>
      <div className="field">
        <label className="field-label" htmlFor={ids.org}>
          Company
        </label>
        <select id={ids.org} value={form.org} onChange={(e) => set({ org: e.target.value })} data-testid="company-org">
          {orgs.map((o) => (
            <option key={o.name} value={o.name}>
              {o.name} ({hostOf(o.issuer)})
            </option>
          ))}
          <option value={NEW_ORG}>Add your company…</option>
        </select>
        {chosen && (
          <p className="field-help" data-testid="company-org-status">
            {chosen.signedIn ? `You are signed in to ${chosen.name}.` : `You will be asked to sign in to ${chosen.name} in your browser.`}
          </p>
        )}
      </div>
      {form.org === NEW_ORG && (
        <div className="stack" data-testid="company-new">
          <div className="field">
            <label className="field-label" htmlFor={ids.name}>
              Short name
            </label>
            <input id={ids.name} value={form.newOrg.name} placeholder="acme" onChange={(e) => setNew({ name: e.target.value })} autoComplete="off" spellCheck={false} data-testid="company-new-name" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor={ids.issuer}>
              Sign-in address (issuer)
            </label>
            <input
              id={ids.issuer}
              type="url"
              value={form.newOrg.issuer}
              placeholder="https://acme.okta.com"
              onChange={(e) => setNew({ issuer: e.target.value })}
              className="mono"
              autoComplete="off"
              spellCheck={false}
              data-testid="company-new-issuer"
            />
          </div>
          <div className="field">
            <label className="field-label" htmlFor={ids.clientId}>
              Latch's client ID at your company
            </label>
            <input id={ids.clientId} value={form.newOrg.clientId} onChange={(e) => setNew({ clientId: e.target.value })} autoComplete="off" spellCheck={false} data-testid="company-new-client-id" />
            <p className="field-help">Your IT admin registered Latch with your company's sign-in and has both.</p>
          </div>
        </div>
      )}
      <div className="field">
        <label className="field-label" htmlFor={ids.serverId}>
          This server's client ID
        </label>
        <input id={ids.serverId} value={form.clientId} onChange={(e) => set({ clientId: e.target.value })} autoComplete="off" spellCheck={false} data-testid="company-client-id" />
        <p className="field-help">The client ID this server's sign-in server knows Latch by. Your IT admin gives it with the server.</p>
      </div>
      <div className="field">
        <label className="field-label" htmlFor={ids.serverSecret}>
          This server's client secret (if your admin gave one)
        </label>
        <input id={ids.serverSecret} type="password" value={form.clientSecret} onChange={(e) => set({ clientSecret: e.target.value })} autoComplete="off" data-testid="company-client-secret" />
        <p className="field-help">Kept in your system keychain, never in the servers file.{hasSecret ? " Leave it empty to keep the one already there." : ""}</p>
      </div>
    </fieldset>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
