// A server asks the person to visit a page (URL-mode elicitation: a sign-in at a third party,
// a payment). The page's host is shown large — it is who the person will deal with — with the
// whole URL under it; Latch opens it only when the person agrees, through the core's checked
// opener, and then says honestly whether the browser opened (if not, the link is there to
// copy). The server hears "accept" once the person is done, "decline" or "cancel" otherwise.
import { useState } from "react";
import { actions } from "../../state/actions";
import type { ElicitationRequest } from "../../state/store";
import * as api from "../../tauri/api";
import { Modal } from "../shared/Modal";
import "./sampling.css";

type Opened = "no" | "opening" | "opened" | "notOpened";

/** The host of `url`, or null when it is not an http(s) URL Latch would open. */
export function pageHost(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
    if (parsed.username || parsed.password) return null;
    return parsed.host;
  } catch {
    return null;
  }
}

export function ElicitationUrlDialog({ request }: { request: ElicitationRequest & { url: string } }) {
  const [opened, setOpened] = useState<Opened>("no");
  const host = pageHost(request.url);
  const answer = (action: "accept" | "decline" | "cancel") => {
    if (action === "accept") void actions.answerElicitation(request.id, { action: "accept", content: {} });
    else void actions.answerElicitation(request.id, { action });
  };
  const open = async () => {
    setOpened("opening");
    let ok = false;
    try {
      ok = await api.openElicitationPage(request.url);
    } catch {
      ok = false;
    }
    setOpened(ok ? "opened" : "notOpened");
  };
  const asked = opened === "no" || opened === "opening";
  return (
    <Modal
      title={`${request.server} asks you to open a page`}
      onClose={() => answer("cancel")}
      testId="elicitation-url-dialog"
      footer={
        asked ? (
          <>
            <button type="button" className="btn btn-ghost" onClick={() => answer("cancel")} data-testid="elicitation-cancel">
              Cancel
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => answer("decline")} data-testid="elicitation-decline">
              Don't open
            </button>
            {host && (
              <button type="button" className="btn btn-primary" onClick={() => void open()} disabled={opened === "opening"} data-testid="elicitation-open">
                {opened === "opening" ? "Opening…" : `Open ${host}`}
              </button>
            )}
          </>
        ) : (
          <>
            <button type="button" className="btn btn-ghost" onClick={() => answer("cancel")} data-testid="elicitation-cancel">
              Cancel
            </button>
            <button type="button" className="btn btn-primary" onClick={() => answer("accept")} data-testid="elicitation-done">
              Done
            </button>
          </>
        )
      }
    >
      <div className="stack">
        <p className="lead pre-wrap">{request.message}</p>
        <div>
          <p className="muted small">The page is on</p>
          <p className="elicit-host mono" data-testid="elicitation-host">
            {host ?? "a link Latch will not open"}
          </p>
          <p className="url-box mono small" data-testid="elicitation-url">
            {request.url}
          </p>
          {!host && <p className="field-error">Latch opens only plain web links (http or https, no user name or password in them).</p>}
        </div>
        {opened === "no" && host && <p className="muted small">Nothing is opened until you choose “Open {host}”. Only continue if you expected {request.server} to send you there.</p>}
        {opened === "opened" && (
          <p className="elicit-status opened" role="status" data-testid="elicitation-opened">
            The page opened in your browser. Finish there, then choose Done.
          </p>
        )}
        {opened === "notOpened" && (
          <p className="elicit-status not-opened" role="alert" data-testid="elicitation-not-opened">
            Latch could not open your browser. Copy the link above into it, finish there, then choose Done.
          </p>
        )}
      </div>
    </Modal>
  );
}
