// The server panel's Roots tab: the folders this server may see when it asks its client for
// roots (MCP `roots/list`). They are kept in the server's entry of the servers file, so the
// CLI and the bridge offer the same ones; a connected 2025-era server is told when they
// change. "Add folder…" opens the system folder picker; a full path can also be typed (the
// fallback, and what the E2E tests drive). Either way Latch checks it exists and is a folder.
// A cancelled picker changes nothing and says nothing.
import { useEffect, useId, useState } from "react";
import * as api from "../../tauri/api";
import "../sampling/sampling.css";

export function RootsTab({ server }: { server: string }) {
  const [roots, setRoots] = useState<string[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [path, setPath] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();

  useEffect(() => {
    let live = true;
    api.roots(server).then(
      (list) => live && setRoots(list),
      (e) => live && setLoadError(api.toAppError(e).message),
    );
    return () => {
      live = false;
    };
  }, [server]);

  const save = async (next: string[]) => {
    setBusy(true);
    try {
      setRoots(await api.setRoots(server, next));
      setError(null);
      return true;
    } catch (e) {
      setError(api.toAppError(e).message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = async () => {
    const folder = path.trim();
    if (!folder) {
      setError("Type the full path of a folder.");
      return;
    }
    if (await save([...(roots ?? []), folder])) setPath("");
  };

  const choose = async () => {
    let folder: string | null;
    try {
      folder = await api.chooseFolder(`Choose a folder ${server} may see`);
    } catch (e) {
      setError(`The folder picker did not open: ${api.toAppError(e).message} Type the folder's full path instead.`);
      return;
    }
    if (!folder) return;
    setError(null);
    await save([...(roots ?? []), folder]);
  };

  if (loadError) {
    return (
      <p className="field-error" role="alert">
        {loadError}
      </p>
    );
  }
  if (!roots) return <p className="muted">Loading roots…</p>;
  return (
    <div className="roots-tab" data-testid="roots-tab">
      <p className="muted small">
        Folders {server} may see when it asks for roots. They are kept in its entry of the servers file; the server is told when they change (servers speaking MCP 2026 ask again instead).
      </p>
      {roots.length === 0 ? (
        <p className="muted" data-testid="roots-empty">
          No roots: {server} sees no folders.
        </p>
      ) : (
        <ul className="roots-list" data-testid="roots-list">
          {roots.map((root) => (
            <li key={root}>
              <span className="mono break">{root}</span>
              <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => void save(roots.filter((r) => r !== root))} aria-label={`Remove ${root}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="roots-choose">
        <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => void choose()} data-testid="roots-choose">
          Add folder…
        </button>
      </div>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <label className="field-label" htmlFor={inputId}>
          Or type a folder's full path
        </label>
        <div className="roots-add">
          <input
            id={inputId}
            className="mono"
            value={path}
            placeholder="/home/you/project"
            onChange={(e) => {
              setPath(e.target.value);
              setError(null);
            }}
            data-testid="roots-path"
            aria-invalid={!!error}
          />
          <button type="submit" className="btn btn-secondary" disabled={busy} data-testid="roots-add">
            Add
          </button>
        </div>
        {error && (
          <p className="field-error" role="alert" data-testid="roots-error">
            {error}
          </p>
        )}
      </form>
    </div>
  );
}
