// Settings: the servers file as text (Save keeps the text when it doesn't parse and says
// where), import from other apps, where tokens are kept, your companies' sign-ins, and updates.
import { useEffect, useId, useState } from "react";
import type { ImportReport } from "../../bindings/ImportReport";
import type { ImportSource } from "../../bindings/ImportSource";
import type { SettingsView } from "../../bindings/SettingsView";
import * as api from "../../tauri/api";
import { actions } from "../../state/actions";
import { store, upsertServer, useStore } from "../../state/store";
import { KeepInFileButton, NO_KEYCHAIN, START_KEYCHAIN } from "../sign-in/KeychainConsent";
import { OrgsCard } from "../sign-in/company/OrgsCard";
import { UpdatesCard } from "./Updates";
import { UseInDialog } from "../servers/UseInDialog";

const SOURCES: { id: ImportSource; label: string }[] = [
  { id: "claude", label: "Claude Desktop" },
  { id: "vscode", label: "VS Code" },
  { id: "cursor", label: "Cursor" },
];

export function SettingsPanel() {
  const [info, setInfo] = useState<SettingsView | null>(null);
  const [autostart, setAutostart] = useState<boolean | null>(null);
  const [autostartError, setAutostartError] = useState<string | null>(null);
  const [infoError, setInfoError] = useState<string | null>(null);
  const [path, setPath] = useState("");
  const [text, setText] = useState("");
  const [loaded, setLoaded] = useState("");
  const [warnings, setWarnings] = useState<string[]>([]);
  const [configState, setConfigState] = useState<{ kind: "idle" | "loading" | "saving" } | { kind: "saved" } | { kind: "error"; message: string }>({ kind: "loading" });
  const [report, setReport] = useState<{ source: string; report: ImportReport } | { source: string; error: string } | null>(null);
  const [useIn, setUseIn] = useState(false);
  const editorId = useId();
  // The app's (it changes when the person chooses the file), else what this page loaded.
  const tokenStore = useStore((s) => s.tokenStore) ?? info?.tokenStore;

  const reload = () => {
    setConfigState({ kind: "loading" });
    api.readConfig().then(
      (config) => {
        setPath(config.path);
        setText(config.text);
        setLoaded(config.text);
        setWarnings(config.warnings);
        setConfigState({ kind: "idle" });
      },
      (e) => setConfigState({ kind: "error", message: api.toAppError(e).message }),
    );
  };

  useEffect(() => {
    api.settings().then(
      (loaded) => {
        setInfo(loaded);
        store.update((s) => ({ ...s, tokenStore: loaded.tokenStore }));
      },
      (e) => setInfoError(api.toAppError(e).message),
    );
    api.startAtLogin().then(setAutostart, (e) => setAutostartError(api.toAppError(e).message));
    reload();
  }, []);

  const save = async () => {
    setConfigState({ kind: "saving" });
    try {
      const servers = await api.saveConfig(text);
      setLoaded(text);
      setConfigState({ kind: "saved" });
      // Keys Latch ignores in what was just saved (usually typos).
      api.readConfig().then((config) => setWarnings(config.warnings), () => setWarnings([]));
      store.update((s) => servers.reduce(upsertServer, { ...s, servers: { status: "ready", data: [] } }));
    } catch (e) {
      // The file is untouched; keep the person's text so they can fix it.
      setConfigState({ kind: "error", message: api.toAppError(e).message });
    }
  };

  const runImport = async (source: ImportSource, label: string) => {
    try {
      const result = await api.importConfig(source);
      setReport({ source: label, report: result });
      void actions.loadServers();
      reload();
    } catch (e) {
      setReport({ source: label, error: api.toAppError(e).message });
    }
  };

  const dirty = text !== loaded;

  return (
    <section className="settings" aria-label="Settings" data-testid="settings">
      <h1 className="panel-title">Settings</h1>

      <section className="card">
        <h2>Where your sign-ins are kept</h2>
        {infoError && <p className="field-error">{infoError}</p>}
        {info && tokenStore ? (
          <>
            <p>
              Token store: <strong data-testid="token-store">{tokenStore.needsConsent ? "None yet (no keychain found)" : storeLabel(tokenStore.kind)}</strong>
            </p>
            {tokenStore.needsConsent ? (
              <div className="warning-box stack" role="alert" data-testid="token-store-warning">
                <p>{NO_KEYCHAIN}</p>
                <div className="row">
                  <KeepInFileButton testId="settings-keep-in-file" />
                  <span>— or {START_KEYCHAIN}</span>
                </div>
              </div>
            ) : (
              tokenStore.warning && (
                <p className="warning-box" role="alert" data-testid="token-store-warning">
                  {tokenStore.warning}
                </p>
              )
            )}
            <p className="muted small">
              Servers file: <span className="mono break">{info.configPath}</span> · Latch {info.version}
            </p>
          </>
        ) : (
          !infoError && <p className="muted">Loading…</p>
        )}
      </section>

      <OrgsCard />

      <section className="card">
        <h2>Keep sign-ins fresh</h2>
        <p className="muted small">
          Closing the window keeps Latch in the tray, where it refreshes every sign-in before it expires.
        </p>
        <label className="row">
          <input
            type="checkbox"
            data-testid="start-at-login"
            checked={autostart ?? false}
            disabled={autostart === null}
            onChange={(e) => {
              setAutostartError(null);
              api.setStartAtLogin(e.target.checked).then(setAutostart, (err) => setAutostartError(api.toAppError(err).message));
            }}
          />
          Start Latch when I log in
        </label>
        {autostartError && <p className="field-error">{autostartError}</p>}
      </section>

      <UpdatesCard />

      <section className="card">
        <h2>Import servers</h2>
        <p className="muted small">Copy the servers you already set up in another app. Servers with a name Latch already has are left alone.</p>
        <div className="row">
          {SOURCES.map((s) => (
            <button key={s.id} type="button" className="btn btn-secondary" onClick={() => void runImport(s.id, s.label)} data-testid={`import-${s.id}`}>
              From {s.label}
            </button>
          ))}
        </div>
        {report && (
          <div className="import-report" role="status" data-testid="import-report">
            {"error" in report ? (
              <p className="field-error">
                {report.source}: {report.error}
              </p>
            ) : (
              <>
                <p>
                  From <span className="mono break">{report.report.path}</span>:{" "}
                  {report.report.added.length === 0 ? "nothing new." : `added ${report.report.added.join(", ")}.`}
                </p>
                {report.report.skipped.length > 0 && <p className="muted small">Already there: {report.report.skipped.join(", ")}.</p>}
                {report.report.warnings.map((w, i) => (
                  <p key={i} className="warning-box small">
                    {w}
                  </p>
                ))}
              </>
            )}
          </div>
        )}
      </section>

      <section className="card">
        <h2>Use your servers in other apps</h2>
        <p className="muted small">Let Claude Desktop, Cursor or VS Code use every Latch server through Latch, which keeps the sign-ins. You see the changes before anything is written.</p>
        <div className="row">
          <button type="button" className="btn btn-secondary" onClick={() => setUseIn(true)} data-testid="use-in-all">
            Use in…
          </button>
        </div>
        {useIn && <UseInDialog names={[]} onClose={() => setUseIn(false)} />}
      </section>

      <section className="card">
        <div className="section-head">
          <h2>
            <label htmlFor={editorId}>Servers file</label>
          </h2>
          <span className="muted small mono break">{path}</span>
        </div>
        <textarea
          id={editorId}
          className="mono config-editor"
          spellCheck={false}
          rows={18}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            if (configState.kind === "saved") setConfigState({ kind: "idle" });
          }}
          data-testid="config-editor"
          aria-invalid={configState.kind === "error" ? true : undefined}
        />
        {configState.kind === "error" && (
          <p className="field-error" role="alert" data-testid="config-error">
            {configState.message}
          </p>
        )}
        {configState.kind === "saved" && (
          <p className="success-text" role="status">
            Saved.
          </p>
        )}
        {warnings.length > 0 && (
          <ul className="warning-box" data-testid="config-warnings">
            {warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        )}
        <div className="row">
          <button type="button" className="btn btn-primary" onClick={() => void save()} disabled={configState.kind === "saving" || configState.kind === "loading"} data-testid="config-save">
            {configState.kind === "saving" ? "Saving…" : "Save"}
          </button>
          <button type="button" className="btn btn-secondary" onClick={reload} data-testid="config-reload">
            {dirty ? "Discard changes and reload" : "Reload"}
          </button>
        </div>
      </section>
    </section>
  );
}

function storeLabel(kind: string): string {
  switch (kind) {
    case "keychain":
      return "System keychain";
    case "file":
      return "A private file (no keychain found)";
    case "memory":
      return "Memory only (nothing is kept)";
    default:
      return kind;
  }
}
