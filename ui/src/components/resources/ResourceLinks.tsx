// Resource links in tool results open in the resource viewer: the server panel provides an
// opener for its server, a link's "Open" button (components/tools/Results.tsx) calls it, and the
// viewer shows in a dialog over whatever tab the link was in.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { Modal } from "../shared/Modal";
import { ResourceViewer } from "./ResourceViewer";

type Opener = (uri: string, title?: string | null) => void;

const OpenerContext = createContext<Opener | null>(null);

/** The opener of the server panel around, or null outside one (then links only show). */
export function useResourceOpener(): Opener | null {
  return useContext(OpenerContext);
}

export function ResourceLinkProvider({ server, children }: { server: string; children: ReactNode }) {
  const [open, setOpen] = useState<{ uri: string; title: string | null } | null>(null);
  const opener = useCallback<Opener>((uri, title) => setOpen({ uri, title: title ?? null }), []);
  const value = useMemo(() => opener, [opener]);
  return (
    <OpenerContext.Provider value={value}>
      {children}
      {open && (
        <Modal title={open.title ?? "Resource"} onClose={() => setOpen(null)} size="large" testId="resource-modal" closeTestId="resource-modal-close">
          <ResourceViewer server={server} uri={open.uri} />
        </Modal>
      )}
    </OpenerContext.Provider>
  );
}
