// The left column: one card per server, live from `serverChanged` events.
import { memo, useEffect, useState } from "react";
import type { ServerView } from "../../bindings/ServerView";
import { actions } from "../../state/actions";
import { useStore } from "../../state/store";
import { authBadge, canSignIn, mainAction, statusOf, transportLabel } from "../../lib/views";
import { AccountSelect, AddAccountDialog } from "./Accounts";
import { Confirm } from "../shared/Modal";
import { UseInDialog } from "./UseInDialog";

export function ServerList({ onAdd, onEdit, onCredentials }: { onAdd: () => void; onEdit: (s: ServerView) => void; onCredentials: (s: ServerView) => void }) {
  const servers = useStore((s) => s.servers);
  const selected = useStore((s) => s.selected);
  const now = useMinuteClock();

  return (
    <section className="server-list" aria-label="Servers">
      <div className="section-head">
        <h2>Servers</h2>
        <button type="button" className="btn btn-primary btn-small" onClick={onAdd} data-testid="add-server">
          + Add server
        </button>
      </div>
      {servers.status === "error" && (
        <div className="empty error-box" role="alert">
          <p>Latch couldn't read your servers.</p>
          <p className="small">{servers.error}</p>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.loadServers()}>
            Try again
          </button>
        </div>
      )}
      {(servers.status === "idle" || (servers.status === "loading" && !servers.data)) && (
        <div className="empty" aria-busy="true">
          <div className="skeleton-card" />
          <div className="skeleton-card" />
          <span className="visually-hidden">Loading servers…</span>
        </div>
      )}
      {"data" in servers && servers.data && servers.data.length === 0 && (
        <div className="empty">
          <p className="empty-title">No servers yet</p>
          <p className="muted small">Add Notion, your Madgicx ad accounts, or any MCP server by its address.</p>
          <button type="button" className="btn btn-primary" onClick={onAdd}>
            Add your first server
          </button>
        </div>
      )}
      {"data" in servers && servers.data && servers.data.length > 0 && (
        <ul className="cards">
          {servers.data.map((server) => (
            <li key={server.name}>
              <ServerCard server={server} selected={server.name === selected} now={now} onEdit={onEdit} onCredentials={onCredentials} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Re-render badges once a minute so "expires in" stays true (no polling of the shell). */
function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}

type CardProps = {
  server: ServerView;
  selected: boolean;
  now: number;
  onEdit: (s: ServerView) => void;
  onCredentials: (s: ServerView) => void;
};

export const ServerCard = memo(function ServerCard({ server, selected, now, onEdit, onCredentials }: CardProps) {
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [useIn, setUseIn] = useState(false);
  const [addAccount, setAddAccount] = useState(false);
  const status = statusOf(server.state);
  const badge = authBadge(server, now);
  const busy = server.state.state === "connecting" || server.state.state === "signingIn";
  const connected = server.state.state === "connected";
  const signedIn = server.auth.status === "signedIn";
  const main = mainAction(server);
  const name = server.name;

  return (
    <article
      className={`server-card ${selected ? "selected" : ""}`}
      data-testid={`server-card-${name}`}
      aria-current={selected ? "true" : undefined}
    >
      <button type="button" className="server-card-main" onClick={() => actions.select(name)} aria-label={`Show ${name}`}>
        <span className="server-card-title">
          <span className={`dot dot-${status.tone}`} aria-hidden="true" />
          <span className="server-name">{name}</span>
          {server.demo && <span className="badge badge-idle">demo</span>}
        </span>
        <span className="server-host mono small" title={server.target}>
          {server.host || server.target}
        </span>
        <span className="server-meta small">
          <span data-testid={`server-status-${name}`} className={`status-text tone-${status.tone}`}>
            {status.text}
          </span>
          <span aria-hidden="true"> · </span>
          <span>{status.detail && connected ? status.detail : transportLabel(server.transport)}</span>
          {server.toolCount != null && (
            <>
              <span aria-hidden="true"> · </span>
              <span>
                {server.toolCount} {server.toolCount === 1 ? "tool" : "tools"}
              </span>
            </>
          )}
        </span>
        <span className={`badge badge-${badge.tone}`} data-testid={`server-auth-${name}`}>
          {badge.text}
        </span>
        {server.state.state === "failed" && (
          <span className="server-reason small" title={server.state.reason}>
            {server.state.reason}
          </span>
        )}
      </button>
      <AccountSelect server={server} disabled={busy} />
      <div className="server-actions">
        {main.action === "signIn" ? (
          <button type="button" className="btn btn-primary btn-small" disabled={busy} onClick={() => void actions.signIn(name)} data-testid={`sign-in-${name}`}>
            {main.label}
          </button>
        ) : (
          <button type="button" className="btn btn-secondary btn-small" disabled={busy} onClick={() => void actions.connect(name)} data-testid={`connect-${name}`}>
            {main.label}
          </button>
        )}
        {canSignIn(server) &&
          main.action !== "signIn" &&
          (server.signIn === "clientCredentials" && server.auth.status === "secretRejected" ? (
            <button type="button" className="btn btn-secondary btn-small" onClick={() => onCredentials(server)} data-testid={`sign-in-${name}`}>
              Update secret
            </button>
          ) : (
            <button type="button" className="btn btn-secondary btn-small" disabled={busy} onClick={() => void actions.signIn(name)} data-testid={`sign-in-${name}`}>
              {signedIn ? "Re-authorize" : "Sign in"}
            </button>
          ))}
        {signedIn && (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => void actions.signOut(name)} data-testid={`sign-out-${name}`}>
            Sign out
          </button>
        )}
        {server.signIn === "oauth" && (signedIn || server.accounts.length > 0) && (
          <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => setAddAccount(true)} data-testid={`add-account-${name}`}>
            Add another account
          </button>
        )}
        <button type="button" className="btn btn-ghost btn-small" onClick={() => onEdit(server)} data-testid={`edit-${name}`}>
          Edit
        </button>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => setUseIn(true)} data-testid={`use-in-server-${name}`}>
          Use in…
        </button>
        <button type="button" className="btn btn-ghost btn-small btn-danger-text" onClick={() => setConfirmRemove(true)} data-testid={`remove-${name}`}>
          Remove
        </button>
      </div>
      {useIn && <UseInDialog names={[name]} onClose={() => setUseIn(false)} />}
      {addAccount && <AddAccountDialog server={server} onClose={() => setAddAccount(false)} />}
      {confirmRemove && (
        <Confirm
          title={`Remove ${name}?`}
          confirmLabel="Remove"
          danger
          onCancel={() => setConfirmRemove(false)}
          onConfirm={() => {
            setConfirmRemove(false);
            void actions.removeServer(name);
          }}
        >
          <p>
            Latch forgets this server and stops using it. You can add it again later.
          </p>
        </Confirm>
      )}
    </article>
  );
});
