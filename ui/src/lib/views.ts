// How the shell's views read to a person: status words, badges, durations. One place, so a
// change of a view's shape is a change here.
import type { AuthView } from "../bindings/AuthView";
import type { ConnectionState } from "../bindings/ConnectionState";
import type { ServerView } from "../bindings/ServerView";

export type Tone = "ok" | "busy" | "warn" | "error" | "idle";

export function statusOf(state: ConnectionState): { text: string; tone: Tone; detail?: string } {
  switch (state.state) {
    case "connected":
      return { text: "Connected", tone: "ok", detail: transportLabel(state.transport) };
    case "connecting":
      return { text: "Connecting…", tone: "busy" };
    case "signingIn":
      return { text: "Signing in…", tone: "busy" };
    case "needsSignIn":
      return { text: "Needs sign-in", tone: "warn" };
    case "failed":
      return { text: "Failed", tone: "error", detail: state.reason };
    case "disconnected":
    default:
      return { text: "Not connected", tone: "idle" };
  }
}

export function transportLabel(transport: string): string {
  switch (transport) {
    case "streamable-http":
    case "http":
      return "Streamable HTTP";
    case "sse":
      return "HTTP + SSE";
    case "stdio":
      return "Local command";
    case "auto":
      return "Auto";
    default:
      return transport;
  }
}

/** "52 min", "3 h 5 min", "2 days". */
export function humanDuration(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  return `${Math.round(hours / 24)} days`;
}

/** The label of an account as the card shows it: `null` for the only, unlabelled one. */
export function accountLabel(server: ServerView): string | null {
  const auth = server.auth;
  const label = auth.status === "signedIn" ? auth.account : (server.accounts.find((a) => a.active)?.label ?? null);
  if (label == null) return null;
  return label === "default" && server.accounts.length <= 1 ? null : label;
}

/** Labels are 1 to 64 letters, digits, `-`, `_`, `.` or `@` (checked again by the core). */
export function accountLabelProblem(label: string): string | null {
  const trimmed = label.trim();
  if (trimmed === "") return "Give the account a name, like “work”.";
  if (trimmed.length > 64) return "At most 64 characters.";
  if (!/^[A-Za-z0-9._@-]+$/.test(trimmed)) return "Use letters, digits and - _ . @ only (no spaces).";
  return null;
}

export function authBadge(server: ServerView, nowMs: number = Date.now()): { text: string; tone: Tone } {
  const auth: AuthView = server.auth;
  switch (auth.status) {
    case "signedIn": {
      const account = accountLabel(server);
      const who = account ? ` as ${account}` : "";
      if (auth.expiresAt == null) return { text: `Signed in${who}`, tone: "ok" };
      const left = auth.expiresAt - Math.floor(nowMs / 1000);
      if (left <= 0) {
        return auth.refreshable ? { text: `Signed in${who} · renews when used`, tone: "ok" } : { text: `Signed in${who} · expired`, tone: "warn" };
      }
      return { text: `Signed in${who} · expires in ${humanDuration(left)}`, tone: "ok" };
    }
    case "needsSignIn":
      return { text: "Needs sign-in", tone: "warn" };
    case "secretRejected":
      return { text: "Secret rejected", tone: "error" };
    case "none":
    default:
      if (server.signIn === "oauth" || server.signIn === "clientCredentials") return { text: "Not signed in", tone: "idle" };
      return { text: "No sign-in needed", tone: "idle" };
  }
}

export function canSignIn(server: ServerView): boolean {
  return server.kind === "remote" && server.signIn !== "headers" && server.signIn !== "none";
}

/** The server is waiting for the person to sign in (not for a new client secret). */
export function needsSignIn(server: ServerView): boolean {
  if (!canSignIn(server) || server.auth.status === "secretRejected") return false;
  return server.state.state === "needsSignIn" || server.auth.status === "needsSignIn";
}

/** What a card's main button does: sign in when the server waits for that, otherwise
 * connect (or reconnect a connected or failed server). */
export function mainAction(server: ServerView): { action: "signIn" | "connect"; label: string } {
  if (needsSignIn(server)) return { action: "signIn", label: "Sign in" };
  const again = server.state.state === "connected" || server.state.state === "failed";
  return { action: "connect", label: again ? "Reconnect" : "Connect" };
}

export function isConnected(server: ServerView): boolean {
  return server.state.state === "connected";
}

export function formatMs(ms: number | null | undefined): string {
  if (ms == null) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTime(ms: number | null | undefined): string {
  if (ms == null) return "";
  const d = new Date(ms);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Markdown as the plain text a tool card shows in three lines: emphasis, code marks, link
 * targets, headings and HTML tags dropped (the text stays text: React escapes it). */
export function plainText(markdown: string): string {
  return markdown
    .replace(/<[^>]*>/g, "")
    .replace(/!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)/g, "$1")
    .replace(/(\*\*|__|\*|`)/g, "")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/\s+/g, " ")
    .trim();
}
