// Everything the person sees while signing in: the "waiting for your browser" dialog, the
// device code, a server's request for input (elicitation), and new client credentials.
import { useEffect, useId, useMemo, useState } from "react";
import type { ServerView } from "../../bindings/ServerView";
import { actions } from "../../state/actions";
import { useStore, type ElicitationRequest } from "../../state/store";
import { defaultsFor, isObject, validate, type Json, type Schema } from "../../lib/schema";
import * as api from "../../tauri/api";
import { Modal } from "../shared/Modal";
import { ArgumentsEditor } from "../tools/SchemaForm";
import { ExternalLink, useOpenLink } from "../shared/OpenLink";
import { ElicitationUrlDialog } from "../sampling/ElicitationUrl";

/** Shown while a browser sign-in is under way. It says the browser opened only once the shell
 * said so; when no browser could be opened it shows the link to open by hand. */
export function SignInWaiting() {
  const signIn = useStore((s) => s.signIn);
  const servers = useStore((s) => s.servers);
  const deviceCode = useStore((s) => s.deviceCode);
  const entry = Object.entries(signIn).find(([name, info]) => {
    if (deviceCode?.server === name) return false;
    if (info.url) return true;
    const view = "data" in servers ? servers.data?.find((x) => x.name === name) : undefined;
    return view?.signIn === "oauth";
  });
  if (!entry) return null;
  const [name, info] = entry;
  const cancel = () => void actions.cancelSignIn(name);
  const notOpened = info.url !== undefined && info.browser === "notOpened";
  return (
    <Modal title={`Signing in to ${name}`} onClose={cancel} size="small" testId="sign-in-dialog">
      <div className="stack center">
        {notOpened ? (
          <>
            <p className="lead" data-testid="sign-in-status">
              Latch could not open your browser. Open this link to sign in:
            </p>
            <CopyableLink url={info.url!} />
            <p className="muted small">Open it in any browser on this computer. This window updates by itself once you have signed in.</p>
          </>
        ) : (
          <>
            <div className="spinner" aria-hidden="true" />
            <p className="lead" data-testid="sign-in-status">
              {info.browser === "opened"
                ? "Your browser opened… Waiting for you to approve."
                : info.url
                  ? "Opening your browser…"
                  : "Starting the sign-in…"}
            </p>
            {info.browser === "opened" && <p className="muted small">Finish signing in in your browser, then come back here. This window updates by itself.</p>}
            {info.browser === "opened" && info.url && (
              <p className="small">
                Don't see the page? <ExternalLink url={info.url}>Open the sign-in page</ExternalLink>
              </p>
            )}
          </>
        )}
        <button type="button" className="btn btn-secondary" onClick={cancel} data-testid="cancel-sign-in">
          Cancel
        </button>
      </div>
    </Modal>
  );
}

/** The sign-in link in full, selectable, with a button that copies it. */
function CopyableLink({ url }: { url: string }) {
  const [copied, setCopied] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <>
      <textarea
        className="url-box mono sign-in-link"
        readOnly
        value={url}
        rows={3}
        aria-label="Sign-in link"
        onFocus={(e) => e.currentTarget.select()}
        data-testid="sign-in-link"
      />
      <div className="row center">
        <button
          type="button"
          className="btn btn-primary"
          data-autofocus
          onClick={() => {
            const clipboard = navigator.clipboard;
            if (!clipboard) {
              setCopied("failed");
              return;
            }
            clipboard.writeText(url).then(
              () => setCopied("copied"),
              () => setCopied("failed"),
            );
          }}
          data-testid="copy-sign-in-link"
        >
          {copied === "copied" ? "Copied" : "Copy link"}
        </button>
      </div>
      {copied === "failed" && <p className="field-error small">Latch could not copy it: select the link and copy it yourself.</p>}
    </>
  );
}

export function DeviceCodeDialog() {
  const request = useStore((s) => s.deviceCode);
  const open = useOpenLink();
  const [copied, setCopied] = useState(false);
  if (!request) return null;
  const page = request.verificationUriComplete ?? request.verificationUri;
  const minutes = Math.max(1, Math.round(request.expiresIn / 60));
  return (
    <Modal
      title={`Sign in to ${request.server}`}
      onClose={() => void actions.cancelSignIn(request.server)}
      size="small"
      testId="device-code-dialog"
    >
      <div className="stack center">
        <p>Enter this code on the sign-in page:</p>
        <p className="device-code mono" data-testid="device-code">
          {request.userCode}
        </p>
        <div className="row center">
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => {
              void navigator.clipboard?.writeText(request.userCode).then(() => setCopied(true), () => setCopied(false));
            }}
          >
            {copied ? "Copied" : "Copy"}
          </button>
          <button type="button" className="btn btn-primary" onClick={() => open(page)} data-autofocus>
            Open the page
          </button>
        </div>
        <p className="muted small mono break">{request.verificationUri}</p>
        <p className="muted small">The code works for about {minutes} min.</p>
        <button type="button" className="btn btn-ghost" onClick={() => void actions.cancelSignIn(request.server)}>
          Cancel sign-in
        </button>
      </div>
    </Modal>
  );
}

/** A server asks the person for something (MCP elicitation): one request at a time. */
export function ElicitationDialog() {
  const request = useStore((s) => s.elicitations[0]);
  if (!request) return null;
  if (request.url) return <ElicitationUrlDialog key={request.id} request={{ ...request, url: request.url }} />;
  return <ElicitationForm key={request.id} request={request} />;
}

function ElicitationForm({ request }: { request: ElicitationRequest }) {
  const schema = useMemo<Schema>(() => (isObject(request.schema) ? (request.schema as Schema) : { type: "object", properties: {} }), [request.schema]);
  const [value, setValue] = useState<Json | undefined>(() => defaultsFor(schema, schema) ?? {});
  const [submitted, setSubmitted] = useState(false);
  const [rawError, setRawError] = useState<string | null>(null);
  const errors = useMemo(() => validate(schema, value ?? {}), [schema, value]);
  const answer = (action: "accept" | "decline" | "cancel") => {
    if (action === "accept") {
      setSubmitted(true);
      if (rawError || Object.keys(errors).length > 0) return;
      void actions.answerElicitation(request.id, { action: "accept", content: (isObject(value) ? value : {}) as Record<string, never> });
      return;
    }
    void actions.answerElicitation(request.id, { action });
  };
  return (
    <Modal
      title={`${request.server} asks`}
      onClose={() => answer("cancel")}
      testId="elicitation-dialog"
      footer={
        <>
          <button type="button" className="btn btn-ghost" onClick={() => answer("cancel")} data-testid="elicitation-cancel">
            Cancel
          </button>
          <button type="button" className="btn btn-secondary" onClick={() => answer("decline")} data-testid="elicitation-decline">
            Decline
          </button>
          <button type="button" className="btn btn-primary" onClick={() => answer("accept")} data-testid="elicitation-accept">
            Accept
          </button>
        </>
      }
    >
      <div className="stack">
        <p className="lead pre-wrap">{request.message}</p>
        <ArgumentsEditor schema={schema} value={value} onChange={setValue} errors={errors} showAllErrors={submitted} onRawError={setRawError} />
      </div>
    </Modal>
  );
}

/** Paste a new client id and secret (a server answered "secret rejected"). */
export function CredentialsDialog({ server, onClose }: { server: ServerView; onClose: () => void }) {
  const [credName, setCredName] = useState("");
  const [clientId, setClientId] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), id: useId(), secret: useId() };
  useEffect(() => {
    // The server's `auth.credentials` name; a server with inline credentials has none, so
    // offer its own name.
    setCredName(server.credentials ?? server.name);
  }, [server]);
  const save = async () => {
    if (!credName.trim() || !clientId.trim() || !secret.trim()) {
      setError("Fill in all three fields.");
      return;
    }
    try {
      await api.setCredentials(credName.trim(), clientId.trim(), secret.trim());
      onClose();
      void actions.connect(server.name);
    } catch (e) {
      setError(api.toAppError(e).message);
    }
  };
  return (
    <Modal
      title={`New client secret for ${server.name}`}
      onClose={onClose}
      size="small"
      footer={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" onClick={() => void save()}>
            Save and connect
          </button>
        </>
      }
    >
      <div className="stack">
        <p className="muted">The server refused the stored client secret. Paste the current client ID and secret; they are kept in your keychain.</p>
        <div className="field">
          <label className="field-label" htmlFor={ids.name}>
            Credentials name
          </label>
          <input id={ids.name} value={credName} onChange={(e) => setCredName(e.target.value)} className="mono" />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={ids.id}>
            Client ID
          </label>
          <input id={ids.id} value={clientId} onChange={(e) => setClientId(e.target.value)} autoComplete="off" data-autofocus />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={ids.secret}>
            Client secret
          </label>
          <input id={ids.secret} type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="off" />
        </div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </Modal>
  );
}
