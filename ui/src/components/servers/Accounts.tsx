// Several accounts on one server (two Notion workspaces, two ad accounts): the card's account
// switch and the "Add another account" dialog, which asks for a label and signs in as it.
import { useId, useState } from "react";
import type { ServerView } from "../../bindings/ServerView";
import { actions } from "../../state/actions";
import { accountLabelProblem } from "../../lib/views";
import { Modal } from "../shared/Modal";

/** Which signed-in account the card's connection uses; shown when there are several. */
export function AccountSelect({ server, disabled }: { server: ServerView; disabled?: boolean }) {
  const id = useId();
  if (server.accounts.length < 2) return null;
  const active = server.accounts.find((a) => a.active)?.label ?? "";
  return (
    <div className="account-select small">
      <label htmlFor={id} className="muted">
        Account
      </label>
      <select
        id={id}
        value={active}
        disabled={disabled}
        onChange={(e) => void actions.useAccount(server.name, e.target.value)}
        data-testid={`account-select-${server.name}`}
      >
        {!server.accounts.some((a) => a.active) && <option value="">—</option>}
        {server.accounts.map((a) => (
          <option key={a.label} value={a.label}>
            {a.label}
            {a.signedIn ? "" : " (needs sign-in)"}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Asks for the new account's label, then signs in as it (the card then uses it). */
export function AddAccountDialog({ server, onClose }: { server: ServerView; onClose: () => void }) {
  const id = useId();
  const [label, setLabel] = useState("");
  const [tried, setTried] = useState(false);
  const problem = accountLabelProblem(label) ?? (server.accounts.some((a) => a.label === label.trim()) ? "That account is already signed in." : null);
  const submit = () => {
    setTried(true);
    if (problem) return;
    onClose();
    void actions.signIn(server.name, null, label.trim());
  };
  return (
    <Modal
      title={`Add another account to ${server.name}`}
      onClose={onClose}
      size="small"
      testId="add-account-dialog"
      footer={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" onClick={submit} data-testid="add-account-sign-in">
            Sign in
          </button>
        </>
      }
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <p className="muted">
          Sign in to {server.name} with another account — a second workspace or ad account. Give it a short name to tell them apart; agents can use
          it with <code className="mono">latch bridge {server.name} --account NAME</code>.
        </p>
        <div className="field">
          <label className="field-label" htmlFor={id}>
            Account name
          </label>
          <input
            id={id}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="work"
            autoComplete="off"
            className="mono"
            maxLength={80}
            data-autofocus
            data-testid="add-account-label"
          />
        </div>
        {tried && problem && (
          <p className="field-error" role="alert" data-testid="add-account-problem">
            {problem}
          </p>
        )}
      </form>
    </Modal>
  );
}
