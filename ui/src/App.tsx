import { useEffect, useState } from "react";
import type { ServerView } from "./bindings/ServerView";
import { AddServerDialog } from "./components/servers/AddServerDialog";
import { KeychainBanner, KeychainConsentDialog } from "./components/sign-in/KeychainConsent";
import { OpenLinkProvider } from "./components/shared/OpenLink";
import { ServerList } from "./components/servers/ServerList";
import { ServerPanel } from "./components/servers/ServerPanel";
import { SettingsPanel } from "./components/settings/Settings";
import { CredentialsDialog, DeviceCodeDialog, ElicitationDialog, SignInWaiting } from "./components/sign-in/SignIn";
import { SamplingDialog } from "./components/sampling/SamplingDialog";
import { actions } from "./state/actions";
import { store, useStore } from "./state/store";

export function App() {
  const [view, setView] = useState<"servers" | "settings">("servers");
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<ServerView | null>(null);
  const [credentials, setCredentials] = useState<ServerView | null>(null);
  const selected = useStore((s) => {
    if (!s.selected || !("data" in s.servers) || !s.servers.data) return undefined;
    return s.servers.data.find((x) => x.name === s.selected);
  });
  const hasServers = useStore((s) => "data" in s.servers && (s.servers.data?.length ?? 0) > 0);

  useEffect(() => {
    void actions.loadTokenStore();
  }, []);

  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    actions.start().then(
      (unlisten) => {
        if (cancelled) unlisten();
        else stop = unlisten;
      },
      () => void actions.loadServers(),
    );
    return () => {
      cancelled = true;
      stop?.();
    };
  }, []);

  return (
    <OpenLinkProvider>
      <div className="app-frame">
        <KeychainBanner />
        <div className="app">
          <aside className="sidebar">
            <div className="brand">
              <span className="brand-mark" aria-hidden="true" />
              <span className="brand-name">Latch</span>
            </div>
            <ServerList
              onAdd={() => {
                setView("servers");
                setAdding(true);
              }}
              onEdit={setEditing}
              onCredentials={setCredentials}
            />
            <nav className="sidebar-foot">
              <button type="button" className={`btn btn-ghost ${view === "settings" ? "active" : ""}`} onClick={() => setView(view === "settings" ? "servers" : "settings")} data-testid="open-settings" aria-pressed={view === "settings"}>
                ⚙ Settings
              </button>
            </nav>
          </aside>
          <main className="main">
            {view === "settings" ? (
              <SettingsPanel />
            ) : selected ? (
              <ServerPanel key={selected.name} server={selected} />
            ) : (
              <div className="welcome">
                <h1>Welcome to Latch</h1>
                <p className="muted">Sign in to your MCP servers once, then see and run every tool by hand.</p>
                {!hasServers && (
                  <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
                    Add a server
                  </button>
                )}
              </div>
            )}
          </main>
        </div>
      </div>
      <Notices />
      {adding && <AddServerDialog onClose={() => setAdding(false)} />}
      {editing && <AddServerDialog editing={editing} onClose={() => setEditing(null)} />}
      {credentials && <CredentialsDialog server={credentials} onClose={() => setCredentials(null)} />}
      <SignInWaiting />
      <KeychainConsentDialog />
      <DeviceCodeDialog />
      <ElicitationDialog />
      <SamplingDialog />
    </OpenLinkProvider>
  );
}

function Notices() {
  const notices = useStore((s) => s.notices);
  useEffect(() => {
    if (notices.length === 0) return;
    const latest = notices[notices.length - 1];
    if (latest.kind === "error") return;
    const id = window.setTimeout(() => store.dismiss(latest.id), 5000);
    return () => window.clearTimeout(id);
  }, [notices]);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} role={n.kind === "error" ? "alert" : "status"}>
          <span>{n.text}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => store.dismiss(n.id)}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
      ))}
    </div>
  );
}
