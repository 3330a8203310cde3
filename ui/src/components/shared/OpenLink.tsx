// Opening a link from a server: always through a question that shows the whole URL, and only
// for http(s). The shell's `open_external` hands it to the system browser.
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";
import * as api from "../../tauri/api";
import { isWebUrl } from "../../lib/safety";
import { Confirm } from "./Modal";

type OpenLink = (url: string) => void;

const OpenLinkContext = createContext<OpenLink | null>(null);

export function OpenLinkProvider({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const request = useCallback((url: string) => {
    if (!isWebUrl(url)) return;
    setError(null);
    setPending(url);
  }, []);
  return (
    <OpenLinkContext.Provider value={request}>
      {children}
      {pending !== null && (
        <Confirm
          title="Open this link in your browser?"
          confirmLabel="Open in browser"
          testId="open-link-dialog"
          onCancel={() => setPending(null)}
          onConfirm={() => {
            const url = pending;
            api.openExternal(url).then(
              () => setPending(null),
              (e) => setError(api.toAppError(e).message),
            );
          }}
        >
          <p>Latch will open this address in your web browser:</p>
          <p className="url-box mono" data-testid="open-link-url">
            {pending}
          </p>
          {error && <p className="field-error">{error}</p>}
        </Confirm>
      )}
    </OpenLinkContext.Provider>
  );
}

export function useOpenLink(): OpenLink {
  const ctx = useContext(OpenLinkContext);
  if (!ctx) throw new Error("useOpenLink outside OpenLinkProvider");
  return ctx;
}

/** A link-looking button that asks before it opens `url`. Non-web URLs show as plain text. */
export function ExternalLink({ url, children, className }: { url: string; children?: ReactNode; className?: string }) {
  const open = useOpenLink();
  if (!isWebUrl(url)) {
    return <span className={className}>{children ?? url}</span>;
  }
  return (
    <button type="button" className={`link-button ${className ?? ""}`} onClick={() => open(url)} title={url}>
      {children ?? url}
    </button>
  );
}
