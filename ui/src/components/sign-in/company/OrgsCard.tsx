// Settings' "Your companies" card: each organisation (a company's identity provider) with its
// sign-in address, the servers that sign in through it, whether the person is signed in to it
// (until when), and Sign in / Sign out / Remove. When a company session has ended and servers
// use it, one "Sign in to your company" prompt stands for all of them.
import { useCallback, useEffect, useId, useState } from "react";
import type { OrgView } from "../../../bindings/OrgView";
import * as api from "../../../tauri/api";
import { signInToCompany } from "./companySave";
import { issuerProblem, newOrgInput, orgNameProblem, type NewOrgForm } from "./companyAuth";

type Busy = { org: string; what: "signIn" | "signOut" | "remove" } | null;

export function OrgsCard() {
  const [orgs, setOrgs] = useState<OrgView[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  /** The last action's error, shown under its organisation. */
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [adding, setAdding] = useState(false);

  const load = useCallback(() => {
    api.orgs().then(
      (list) => {
        setOrgs(list);
        setLoadError(null);
      },
      (e) => setLoadError(api.toAppError(e).message),
    );
  }, []);
  useEffect(load, [load]);

  const run = async (org: string, what: NonNullable<Busy>["what"], action: () => Promise<unknown>) => {
    setBusy({ org, what });
    setErrors((all) => withoutKey(all, org));
    try {
      await action();
    } catch (e) {
      setErrors((all) => ({ ...all, [org]: api.toAppError(e).message }));
    } finally {
      setBusy(null);
      load();
    }
  };

  const ended = (orgs ?? []).filter(needsCompanySignIn);

  return (
    <section className="card" data-testid="orgs">
      <h2>Your companies</h2>
      <p className="muted small">Servers set to “Sign in with your company” use your company's sign-in (Okta, Entra ID, Google Workspace): you sign in once, and Latch signs you in to each of them.</p>
      {loadError && (
        <p className="field-error" role="alert">
          {loadError}
        </p>
      )}
      {ended.map((org) => (
        <div key={org.name} className="warning-box stack" role="alert" data-testid={`org-prompt-${org.name}`}>
          <p>
            {org.servers.join(", ")} {org.servers.length === 1 ? "signs" : "sign"} in through {org.name}, and you are not signed in to {org.name} on this computer.
          </p>
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={busy !== null} onClick={() => void run(org.name, "signIn", () => signInToCompany(org.name))} data-testid={`org-prompt-sign-in-${org.name}`}>
              Sign in to your company ({org.name})
            </button>
          </div>
        </div>
      ))}
      {orgs === null && !loadError && <p className="muted">Loading…</p>}
      {orgs?.length === 0 && !adding && <p className="muted small" data-testid="orgs-empty">No company yet.</p>}
      {orgs && orgs.length > 0 && (
        <div role="list" data-testid="org-list">
          {orgs.map((org) => (
            <div role="listitem" key={org.name} className="fieldset" data-testid={`org-${org.name}`}>
              <div className="section-head">
                <strong>{org.name}</strong>
                <span className="muted small mono break">{org.issuer}</span>
              </div>
              <p className="small">
                <span data-testid={`org-status-${org.name}`}>{statusLine(org)}</span>{" "}
                <span className="muted" data-testid={`org-servers-${org.name}`}>
                  {org.servers.length ? `Used by ${org.servers.join(", ")}.` : "No server uses it yet."}
                </span>
              </p>
              {org.problem && <p className="warning-box small">{org.problem}</p>}
              <div className="row">
                {org.signedIn ? (
                  <button type="button" className="btn btn-secondary btn-small" disabled={busy !== null} onClick={() => void run(org.name, "signOut", () => api.signOutOrg(org.name))} data-testid={`org-sign-out-${org.name}`}>
                    {busy?.org === org.name && busy.what === "signOut" ? "Signing out…" : "Sign out"}
                  </button>
                ) : (
                  <button type="button" className="btn btn-secondary btn-small" disabled={busy !== null} onClick={() => void run(org.name, "signIn", () => signInToCompany(org.name))} data-testid={`org-sign-in-${org.name}`}>
                    {busy?.org === org.name && busy.what === "signIn" ? "Signing in…" : "Sign in"}
                  </button>
                )}
                <button type="button" className="btn btn-ghost btn-small" disabled={busy !== null} onClick={() => void run(org.name, "remove", () => api.removeOrg(org.name))} data-testid={`org-remove-${org.name}`}>
                  Remove
                </button>
              </div>
              {errors[org.name] && (
                <p className="field-error" role="alert" data-testid={`org-error-${org.name}`}>
                  {errors[org.name]}
                </p>
              )}
            </div>
          ))}
        </div>
      )}
      {adding ? (
        <AddOrgForm
          existing={(orgs ?? []).map((o) => o.name)}
          onDone={() => {
            setAdding(false);
            load();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <div className="row">
          <button type="button" className="btn btn-secondary" onClick={() => setAdding(true)} data-testid="org-add">
            Add your company…
          </button>
        </div>
      )}
    </section>
  );
}

/** Signed out of a company that servers still use: the one prompt for all of them. */
export function needsCompanySignIn(org: OrgView): boolean {
  return !org.signedIn && org.servers.length > 0;
}

function statusLine(org: OrgView): string {
  if (!org.signedIn) return "Not signed in.";
  if (org.expiresAt === null) return "Signed in.";
  return `Signed in until ${new Date(org.expiresAt * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}.`;
}

function withoutKey(all: Record<string, string>, key: string): Record<string, string> {
  const next = { ...all };
  delete next[key];
  return next;
}

function AddOrgForm({ existing, onDone, onCancel }: { existing: string[]; onDone: () => void; onCancel: () => void }) {
  const ids = { name: useId(), issuer: useId(), clientId: useId() };
  const [form, setForm] = useState<NewOrgForm>({ name: "", issuer: "", clientId: "" });
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<NewOrgForm>) => setForm({ ...form, ...patch });
  const save = async () => {
    const problem = orgNameProblem(form.name, existing) ?? issuerProblem(form.issuer) ?? (form.clientId.trim() ? null : "Give Latch's client ID at your company (your IT admin has it).");
    if (problem) {
      setError(problem);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await api.addOrg(newOrgInput(form));
      onDone();
    } catch (e) {
      setError(api.toAppError(e).message);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form
      className="stack fieldset"
      data-testid="org-add-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="field">
        <label className="field-label" htmlFor={ids.name}>
          Short name
        </label>
        <input id={ids.name} value={form.name} placeholder="acme" onChange={(e) => set({ name: e.target.value })} autoComplete="off" spellCheck={false} data-testid="org-add-name" />
      </div>
      <div className="field">
        <label className="field-label" htmlFor={ids.issuer}>
          Sign-in address (issuer)
        </label>
        <input id={ids.issuer} type="url" value={form.issuer} placeholder="https://acme.okta.com" onChange={(e) => set({ issuer: e.target.value })} className="mono" autoComplete="off" spellCheck={false} data-testid="org-add-issuer" />
      </div>
      <div className="field">
        <label className="field-label" htmlFor={ids.clientId}>
          Latch's client ID at your company
        </label>
        <input id={ids.clientId} value={form.clientId} onChange={(e) => set({ clientId: e.target.value })} autoComplete="off" spellCheck={false} data-testid="org-add-client-id" />
      </div>
      {error && (
        <p className="field-error" role="alert" data-testid="org-add-error">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="org-add-save">
          {saving ? "Adding…" : "Add company"}
        </button>
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
