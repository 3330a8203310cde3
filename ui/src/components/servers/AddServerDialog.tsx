// Adding (or editing) a server: paste an address and Latch says in plain words what will
// happen; or pick a preset (and how to sign in to it); or give a local command. Any web
// address can sign in with a client ID and secret instead ("Advanced sign-in").
import { useEffect, useId, useMemo, useRef, useState } from "react";
import type { HeaderInput } from "../../bindings/HeaderInput";
import type { Preset } from "../../bindings/Preset";
import type { ProbeView } from "../../bindings/ProbeView";
import type { ServerEntryInput } from "../../bindings/ServerEntryInput";
import type { ServerView } from "../../bindings/ServerView";
import type { JsonValue } from "../../bindings/serde_json/JsonValue";
import * as api from "../../tauri/api";
import { actions } from "../../state/actions";
import { Modal } from "../shared/Modal";
import type { OrgView } from "../../bindings/OrgView";
import { CompanySignInFields } from "../sign-in/company/CompanySignInFields";
import { companyProblems, emptyCompanyForm, readCompanyAuth, type CompanyForm } from "../sign-in/company/companyAuth";
import { beforeSave, chosenOrg, companyAuthToWrite, signInAfterAdd } from "../sign-in/company/companySave";
import {
  ClientCredentialsFields,
  PresetSignInChoices,
  clientCredentialsAuth,
  clientCredentialsProblems,
  emptyClientCredentials,
  isClientCredentials,
  readClientCredentials,
  type ClientCredentialsForm,
} from "./AddServerSignIn";

type Mode = "url" | "command";

export type AddServerDialogProps = {
  onClose: () => void;
  /** Set when editing an existing server. */
  editing?: ServerView;
};

export function suggestName(url: string): string {
  try {
    const host = new URL(url).hostname.replace(/^(www|mcp|api)\./, "");
    const base = host.split(".").slice(0, -1).join("-") || host;
    return base.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "server";
  } catch {
    return "";
  }
}

/** Split a command line into words, honouring "quotes" and 'quotes'. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3]));
  return out;
}

function joinArgs(args: string[]): string {
  return args.map((a) => (/[\s"']/.test(a) ? `"${a.replace(/(["\\])/g, "\\$1")}"` : a)).join(" ");
}

export function AddServerDialog({ onClose, editing }: AddServerDialogProps) {
  const [mode, setMode] = useState<Mode>(editing?.kind === "command" ? "command" : "url");
  const [url, setUrl] = useState(editing?.kind === "remote" ? editing.target : "");
  const [name, setName] = useState(editing?.name ?? "");
  const [nameEdited, setNameEdited] = useState(!!editing);
  const [transport, setTransport] = useState("auto");
  const [protocol, setProtocol] = useState("auto");
  const [headers, setHeaders] = useState<HeaderInput[]>([]);
  const [command, setCommand] = useState("");
  const [argsLine, setArgsLine] = useState("");
  const [auth, setAuth] = useState<JsonValue | null>(null);
  const [preset, setPreset] = useState<Preset | null>(null);
  /** The preset's sign-in choice (its id); the preset's first when unset. */
  const [signInChoice, setSignInChoice] = useState<string | null>(null);
  /** "Advanced sign-in": client credentials for a server that is not a preset. */
  const [useClientCredentials, setUseClientCredentials] = useState(false);
  const [cc, setCc] = useState<ClientCredentialsForm>(emptyClientCredentials);
  /** "Sign in with your company": an organisation signs the person in (not for presets). */
  const [useCompany, setUseCompany] = useState(false);
  const [company, setCompany] = useState<CompanyForm>(() => emptyCompanyForm());
  const [orgList, setOrgList] = useState<OrgView[]>([]);
  const [presetList, setPresetList] = useState<Preset[]>([]);
  const [probe, setProbe] = useState<{ status: "idle" | "loading" | "done" | "error"; view?: ProbeView; error?: string }>({ status: "idle" });
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { url: useId(), name: useId(), transport: useId(), protocol: useId(), command: useId(), args: useId() };
  const ccIds = { name: useId(), id: useId(), secret: useId(), tokenUrl: useId(), scopes: useId() };
  const choice = preset ? (preset.signIns.find((c) => c.id === signInChoice) ?? preset.signIns[0] ?? null) : null;
  const clientCredentials = mode === "url" && (preset ? !!choice?.credentials : useClientCredentials);
  const credentialsName = (preset ? choice?.credentials : null) ?? (cc.credentials.trim() || name.trim());
  const throughCompany = mode === "url" && !preset && useCompany;

  useEffect(() => {
    if (editing) return;
    api.presets().then(setPresetList, () => setPresetList([]));
  }, [editing]);

  useEffect(() => {
    api.orgs().then(
      (list) => {
        setOrgList(list);
        if (list.length) setCompany((c) => (c.org === "" ? { ...c, org: list[0].name } : c));
      },
      () => setOrgList([]),
    );
  }, []);

  // Editing: the card doesn't carry headers, args or auth, so read them from the config file.
  useEffect(() => {
    if (!editing) return;
    api.readConfig().then(
      (config) => {
        try {
          const entry = (JSON.parse(config.text) as { mcpServers?: Record<string, Record<string, unknown>> }).mcpServers?.[editing.name];
          if (!entry) return;
          if (typeof entry.url === "string") setUrl(entry.url);
          if (typeof entry.transport === "string") setTransport(entry.transport === "streamable-http" ? "http" : entry.transport);
          if (entry.headers && typeof entry.headers === "object") {
            setHeaders(Object.entries(entry.headers as Record<string, string>).map(([k, v]) => ({ name: k, value: String(v) })));
          }
          if (typeof entry.command === "string") setCommand(entry.command);
          if (Array.isArray(entry.args)) setArgsLine(joinArgs(entry.args.map(String)));
          if (entry.auth !== undefined) {
            setAuth(entry.auth as JsonValue);
            const form = readClientCredentials(entry.auth as JsonValue);
            if (form) {
              setCc(form);
              setUseClientCredentials(true);
            }
            const org = readCompanyAuth(entry.auth as JsonValue);
            if (org) {
              setCompany((c) => ({ ...c, org: org.org, clientId: org.clientId }));
              setUseCompany(true);
            }
          }
        } catch {
          /* the card's address is enough to start from */
        }
      },
      () => undefined,
    );
  }, [editing]);

  // Probe the address a moment after typing stops.
  const probeSeq = useRef(0);
  const nameEditedRef = useRef(nameEdited);
  nameEditedRef.current = nameEdited;
  useEffect(() => {
    if (mode !== "url" || editing) return;
    const trimmed = url.trim();
    if (!/^https?:\/\/[^/\s]+/i.test(trimmed)) {
      setProbe({ status: "idle" });
      return;
    }
    const seq = ++probeSeq.current;
    setProbe({ status: "loading" });
    const timer = window.setTimeout(() => {
      api.probeUrl(trimmed).then(
        (view) => {
          if (seq !== probeSeq.current) return;
          setProbe({ status: "done", view });
          // The latest answer, not the one when typing the address: a name typed while the
          // probe ran stays.
          if (!nameEditedRef.current && view.suggestedName) setName(view.suggestedName);
        },
        (e) => {
          if (seq === probeSeq.current) setProbe({ status: "error", error: api.toAppError(e).message });
        },
      );
    }, 450);
    return () => window.clearTimeout(timer);
    // The name is read (through a ref), not watched: typing a name must not probe again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url, mode, editing]);

  const onUrl = (value: string) => {
    setUrl(value);
    if (!nameEdited && !preset) setName(suggestName(value.trim()));
  };

  const choosePreset = (p: Preset) => {
    setPreset(p);
    setSignInChoice(p.signIns[0]?.id ?? null);
    setUseClientCredentials(false);
    setMode(p.entry.command ? "command" : "url");
    setUrl(p.entry.url ?? "");
    setName(p.name);
    setNameEdited(true);
    setTransport(p.entry.transport ?? "auto");
    setHeaders(p.entry.headers ?? []);
    setAuth(p.entry.auth ?? null);
    setCommand(p.entry.command ?? "");
    setArgsLine(joinArgs(p.entry.args ?? []));
  };

  const problems = useMemo(() => {
    const list: string[] = [];
    if (!name.trim()) list.push("Give the server a name.");
    if (mode === "url") {
      try {
        const u = new URL(url.trim());
        if (u.protocol !== "http:" && u.protocol !== "https:") list.push("The address must start with https:// (or http://).");
      } catch {
        list.push("Paste the server's address, like https://mcp.example.com/mcp.");
      }
    } else if (!command.trim()) {
      list.push("Give the command that starts the server.");
    }
    if (clientCredentials) list.push(...clientCredentialsProblems(cc));
    if (throughCompany) list.push(...companyProblems(company, orgList.map((o) => o.name)));
    return list;
  }, [name, mode, url, command, clientCredentials, cc, throughCompany, company, orgList]);

  /** The entry's `auth`: the sign-in chosen, over what the file had. */
  const authToWrite = (): JsonValue | null => {
    if (clientCredentials) return clientCredentialsAuth(preset ? (choice?.auth ?? null) : auth, cc, credentialsName);
    if (preset) return choice?.auth ?? null;
    if (throughCompany) return companyAuthToWrite(auth, company, name.trim());
    // Client credentials (or the company) turned off: the server's own sign-in.
    return isClientCredentials(auth) || readCompanyAuth(auth) ? null : auth;
  };

  const save = async () => {
    if (problems.length) {
      setError(problems[0]);
      return;
    }
    const entry: ServerEntryInput =
      mode === "url"
        ? {
            url: url.trim(),
            transport: transport === "auto" ? null : transport,
            protocol: protocol === "auto" ? undefined : protocol,
            headers: headers.filter((h) => h.name.trim() !== ""),
            command: null,
            args: [],
            auth: authToWrite(),
          }
        : { url: null, transport: null, protocol: protocol === "auto" ? undefined : protocol, headers: [], command: command.trim(), args: splitArgs(argsLine), auth: null };
    setSaving(true);
    setError(null);
    try {
      if (clientCredentials && cc.clientId.trim() && cc.clientSecret.trim()) {
        await api.setCredentials(credentialsName, cc.clientId.trim(), cc.clientSecret.trim());
      }
      const addedOrg = throughCompany ? await beforeSave(company, name.trim()) : null;
      if (addedOrg) {
        setOrgList((list) => [...list, addedOrg]);
        setCompany((c) => ({ ...c, org: addedOrg.name }));
      }
      const serverName = name.trim();
      if (editing) {
        await actions.updateServer(editing.name, entry);
      } else {
        await actions.addServer(serverName, entry);
      }
      onClose();
      if (!editing) {
        if (throughCompany) void signInAfterAdd(chosenOrg(company), serverName, orgList);
        else if (probe.view?.needsSignIn) void actions.signIn(serverName);
        else void actions.connect(serverName);
      }
    } catch (e) {
      setError(api.toAppError(e).message);
    } finally {
      setSaving(false);
    }
  };

  const ccFields = (
    <ClientCredentialsFields
      form={cc}
      onChange={setCc}
      fixedName={preset ? choice?.credentials : null}
      defaultName={name}
      help={preset ? choice?.credentialsHelp : null}
      ids={ccIds}
    />
  );

  return (
    <Modal
      title={editing ? `Edit ${editing.name}` : "Add a server"}
      onClose={onClose}
      size="medium"
      testId="add-dialog"
      footer={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" onClick={() => void save()} disabled={saving} data-testid="add-save">
            {saving ? "Saving…" : editing ? "Save" : "Add server"}
          </button>
        </>
      }
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {!editing && presetList.length > 0 && (
          <div className="presets" role="group" aria-label="Popular servers">
            {presetList.map((p) => (
              <button
                key={p.id}
                type="button"
                className={`preset ${preset?.id === p.id ? "active" : ""}`}
                aria-pressed={preset?.id === p.id}
                onClick={() => choosePreset(p)}
                data-testid={`preset-${p.id}`}
              >
                <span className="preset-label">{p.label}</span>
                <span className="preset-desc small">{p.description}</span>
              </button>
            ))}
          </div>
        )}

        {!editing && (
          <div className="tabs" role="tablist" aria-label="Kind of server">
            <button type="button" role="tab" aria-selected={mode === "url"} className={mode === "url" ? "active" : ""} onClick={() => setMode("url")} data-testid="tab-url">
              Web address
            </button>
            <button type="button" role="tab" aria-selected={mode === "command"} className={mode === "command" ? "active" : ""} onClick={() => setMode("command")} data-testid="tab-command">
              Local command
            </button>
          </div>
        )}

        {mode === "url" ? (
          <>
            <div className="field">
              <label className="field-label" htmlFor={ids.url}>
                Server address
              </label>
              <input
                id={ids.url}
                type="url"
                value={url}
                placeholder="https://mcp.example.com/mcp"
                onChange={(e) => onUrl(e.target.value)}
                data-testid="add-url"
                data-autofocus
                autoComplete="off"
                spellCheck={false}
              />
            </div>
            <ProbeSummary probe={probe} />
          </>
        ) : (
          <>
            <div className="field">
              <label className="field-label" htmlFor={ids.command}>
                Command
              </label>
              <input id={ids.command} value={command} placeholder="npx" onChange={(e) => setCommand(e.target.value)} className="mono" data-testid="add-command" spellCheck={false} />
            </div>
            <div className="field">
              <label className="field-label" htmlFor={ids.args}>
                Arguments
              </label>
              <input
                id={ids.args}
                value={argsLine}
                placeholder="-y @modelcontextprotocol/server-everything"
                onChange={(e) => setArgsLine(e.target.value)}
                className="mono"
                data-testid="add-args"
                spellCheck={false}
              />
              <p className="field-help">Separated by spaces; put an argument with spaces in "quotes".</p>
            </div>
          </>
        )}

        <div className="field">
          <label className="field-label" htmlFor={ids.name}>
            Name
          </label>
          <input id={ids.name} value={name} disabled={!!editing} onChange={(e) => { setName(e.target.value); setNameEdited(true); }} data-testid="add-name" autoComplete="off" />
          {!editing && <p className="field-help">How Latch and your agents refer to this server.</p>}
        </div>

        {mode === "url" && preset && <PresetSignInChoices preset={preset} chosen={choice} onChoose={setSignInChoice} />}

        {clientCredentials && preset && ccFields}

        {mode === "url" && !preset && (
          <details className="advanced" open={useClientCredentials || useCompany || orgList.length > 0 ? true : undefined} data-testid="advanced-sign-in">
            <summary>Advanced sign-in</summary>
            <label className="choice">
              <input type="radio" name="sign-in-kind" checked={!useClientCredentials && !useCompany} onChange={() => { setUseClientCredentials(false); setUseCompany(false); }} data-testid="sign-in-as-server-asks" />
              <span>
                <span className="choice-label">As the server asks</span>
                <span className="field-help">Your browser opens (or a code is shown) when the server wants a sign-in.</span>
              </span>
            </label>
            <label className="choice">
              <input type="radio" name="sign-in-kind" checked={useClientCredentials} onChange={() => { setUseClientCredentials(true); setUseCompany(false); }} data-testid="sign-in-client-credentials" />
              <span>
                <span className="choice-label">Client ID and secret</span>
                <span className="field-help">For agents and automation: Latch gets tokens with a client ID and secret, no browser.</span>
              </span>
            </label>
            {clientCredentials && ccFields}
            <label className="choice">
              <input type="radio" name="sign-in-kind" checked={useCompany} onChange={() => { setUseCompany(true); setUseClientCredentials(false); }} data-testid="sign-in-company" />
              <span>
                <span className="choice-label">Sign in with your company</span>
                <span className="field-help">Your company's sign-in (Okta, Entra ID, Google Workspace) lets you in, once for all its servers.</span>
              </span>
            </label>
            {throughCompany && <CompanySignInFields form={company} onChange={setCompany} orgs={orgList} hasSecret={!!readCompanyAuth(auth)?.hasSecret} />}
          </details>
        )}

        {mode === "url" && (
          <details className="advanced" open={headers.length > 0 || transport !== "auto" || protocol !== "auto" ? true : undefined}>
            <summary>Advanced: transport, protocol and headers</summary>
            <div className="field">
              <label className="field-label" htmlFor={ids.transport}>
                Transport
              </label>
              <select id={ids.transport} value={transport} onChange={(e) => setTransport(e.target.value)} data-testid="add-transport">
                <option value="auto">Automatic (Streamable HTTP, then SSE)</option>
                <option value="http">Streamable HTTP</option>
                <option value="sse">HTTP + SSE (older servers)</option>
              </select>
            </div>
            <div className="field">
              <label className="field-label" htmlFor={ids.protocol}>
                Protocol version
              </label>
              <select id={ids.protocol} value={protocol} onChange={(e) => setProtocol(e.target.value)} data-testid="add-protocol">
                <option value="auto">Automatic (2026-07-28, then 2025-11-25)</option>
                <option value="2026-07-28">2026-07-28 only (stateless)</option>
                <option value="2025-11-25">2025-11-25 only (session)</option>
              </select>
            </div>
            <HeaderRows headers={headers} onChange={setHeaders} />
          </details>
        )}

        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
      </form>
    </Modal>
  );
}

function ProbeSummary({ probe }: { probe: { status: string; view?: ProbeView; error?: string } }) {
  if (probe.status === "idle") return null;
  if (probe.status === "loading")
    return (
      <p className="probe probe-loading" aria-live="polite" data-testid="probe-summary">
        Checking the server…
      </p>
    );
  if (probe.status === "error")
    return (
      <p className="probe probe-error" aria-live="polite" data-testid="probe-summary">
        {probe.error}
      </p>
    );
  const view = probe.view!;
  return (
    <p className={`probe ${view.reachable ? "probe-ok" : "probe-warn"}`} aria-live="polite" data-testid="probe-summary">
      {view.summary}
    </p>
  );
}

function HeaderRows({ headers, onChange }: { headers: HeaderInput[]; onChange: (h: HeaderInput[]) => void }) {
  const set = (i: number, patch: Partial<HeaderInput>) => onChange(headers.map((h, j) => (j === i ? { ...h, ...patch } : h)));
  return (
    <div className="field">
      <span className="field-label">Custom headers</span>
      <p className="field-help">
        For servers that use an API key. Write <code>{"${secret:NAME}"}</code> to keep the value in your keychain instead of the file.
      </p>
      {headers.map((h, i) => (
        <div className="header-row" key={i}>
          <input aria-label={`Header ${i + 1} name`} placeholder="Authorization" value={h.name} onChange={(e) => set(i, { name: e.target.value })} className="mono" data-testid={`header-name-${i}`} />
          <input aria-label={`Header ${i + 1} value`} placeholder="Bearer …" value={h.value} onChange={(e) => set(i, { value: e.target.value })} className="mono" data-testid={`header-value-${i}`} />
          <button type="button" className="btn btn-ghost btn-small" aria-label={`Remove header ${i + 1}`} onClick={() => onChange(headers.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-secondary btn-small" onClick={() => onChange([...headers, { name: "", value: "" }])} data-testid="add-header">
        Add header
      </button>
    </div>
  );
}
