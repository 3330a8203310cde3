// An organisation as the shell sends it, for the tests of this folder.
import type { OrgView } from "../../../bindings/OrgView";

export function orgView(name: string, patch: Partial<OrgView> = {}): OrgView {
  return { name, issuer: `https://${name}.okta.example`, clientId: "latch", servers: [], signedIn: false, expiresAt: null, renewable: false, problem: null, ...patch };
}
