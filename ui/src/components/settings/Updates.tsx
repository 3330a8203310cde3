// Settings' "Updates" card: what the shell's update check found (a newer Latch is offered only
// once its download verified against Latch's signing key), with "Check now", and "Install and
// restart" where Latch can install it itself — otherwise the download link.
import { useEffect, useState } from "react";
import type { UpdateView } from "../../bindings/UpdateView";
import * as api from "../../tauri/api";
import { onUpdate } from "../../tauri/events";
import { ExternalLink } from "../shared/OpenLink";

export function UpdatesCard() {
  const [view, setView] = useState<UpdateView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let gone = false;
    api.updateStatus().then(setView, (e) => setError(api.toAppError(e).message));
    onUpdate(setView).then(
      (u) => (gone ? u() : (unlisten = u)),
      () => {},
    );
    return () => {
      gone = true;
      unlisten?.();
    };
  }, []);

  const checkNow = async () => {
    setError(null);
    setBusy(true);
    setView({ state: "checking" });
    try {
      setView(await api.checkForUpdates());
    } catch (e) {
      setError(api.toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const install = async () => {
    setError(null);
    setBusy(true);
    try {
      // Latch restarts into the new version when this succeeds.
      await api.installUpdate();
    } catch (e) {
      setError(api.toAppError(e).message);
      api.updateStatus().then(setView, () => {});
    } finally {
      setBusy(false);
    }
  };

  const canCheck = view !== null && view.state !== "off" && view.state !== "checking" && view.state !== "installing";

  return (
    <section className="card" data-testid="updates">
      <h2>Updates</h2>
      <UpdateStatus view={view} busy={busy} onInstall={() => void install()} />
      {error && (
        <p className="field-error" role="alert" data-testid="update-error">
          {error}
        </p>
      )}
      {canCheck && (
        <div className="row">
          <button type="button" className="btn btn-secondary" onClick={() => void checkNow()} disabled={busy} data-testid="update-check">
            Check now
          </button>
        </div>
      )}
    </section>
  );
}

function UpdateStatus({ view, busy, onInstall }: { view: UpdateView | null; busy: boolean; onInstall: () => void }) {
  if (view === null) return <p className="muted">Loading…</p>;
  switch (view.state) {
    case "off":
      return (
        <p className="muted small" data-testid="update-status">
          This copy of Latch does not check for updates (no update address is set).
        </p>
      );
    case "checking":
      return (
        <p className="muted" data-testid="update-status">
          Checking for updates…
        </p>
      );
    case "upToDate":
      return (
        <p data-testid="update-status">
          You have the newest Latch. <span className="muted small">Checked {new Date(view.checkedAt * 1000).toLocaleString()}.</span>
        </p>
      );
    case "installing":
      return (
        <p role="status" data-testid="update-status">
          Installing Latch {view.version}… Latch restarts when it is done.
        </p>
      );
    case "failed":
      return (
        <p className="warning-box" role="alert" data-testid="update-status">
          {view.message}
        </p>
      );
    case "available":
      return (
        <div className="stack" data-testid="update-status">
          {view.canInstall ? (
            <p>
              <strong>Latch {view.version} is available.</strong>
            </p>
          ) : (
            <p>
              <strong>Latch {view.version} is available</strong> — download it from <ExternalLink url={view.downloadUrl} /> and install it as you installed Latch.
            </p>
          )}
          {view.notes && (
            <p className="muted small" style={{ whiteSpace: "pre-wrap" }} data-testid="update-notes">
              {view.notes}
            </p>
          )}
          {view.canInstall && (
            <div className="row">
              <button type="button" className="btn btn-primary" onClick={onInstall} disabled={busy} data-testid="update-install">
                {busy ? "Installing…" : "Install and restart"}
              </button>
            </div>
          )}
        </div>
      );
  }
}
