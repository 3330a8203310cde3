// Views as the shell sends them, for component tests: one place to follow a change of shape.
import type { Preset } from "../bindings/Preset";
import type { ServerView } from "../bindings/ServerView";

export function serverView(name: string, patch: Partial<ServerView> = {}): ServerView {
  return {
    name,
    target: `https://${name}.example.com/mcp`,
    host: `${name}.example.com`,
    kind: "remote",
    transport: "auto",
    state: { state: "disconnected" },
    auth: { status: "none" },
    signIn: "oauth",
    credentials: null,
    toolCount: null,
    serverInfo: null,
    demo: false,
    accounts: [],
    ...patch,
  };
}

/** The presets as `latch_core::app::presets()` gives them (see its tests). */
export function presetFixtures(): Preset[] {
  const madgicxChoices = [
    {
      id: "browser",
      label: "Sign in with Madgicx",
      description: "Your browser opens so you can choose a Madgicx team and approve Latch. Each team you sign in with is an account in Latch.",
      auth: null,
      credentials: null,
      credentialsHelp: null,
    },
    {
      id: "clientCredentials",
      label: "Client ID and secret (for agents)",
      description: "For agents and automation: Latch signs in with a client ID and secret, no browser. One pair serves both Madgicx servers.",
      auth: { type: "client_credentials", credentials: "madgicx" },
      credentials: "madgicx",
      credentialsHelp: "In Madgicx, open the MCP Integration settings and copy the client ID and client secret. If Madgicx gives you a token URL too, paste it under Token URL.",
    },
  ];
  const entry = (url: string) => ({ url, transport: null, headers: [], command: null, args: [], auth: null });
  return [
    {
      id: "notion",
      label: "Notion",
      description: "Your Notion pages and databases.",
      name: "notion",
      entry: entry("https://mcp.notion.com/mcp"),
      signIns: [{ id: "browser", label: "Sign in with Notion", description: "Your browser opens.", auth: null, credentials: null, credentialsHelp: null }],
    },
    {
      id: "madgicx-facebook",
      label: "Madgicx · Facebook Ads",
      description: "Your Facebook and Instagram ad accounts through Madgicx.",
      name: "madgicx-facebook",
      entry: entry("https://mcp.madgicx.com/mcp"),
      signIns: madgicxChoices,
    },
  ];
}
