import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../tauri/api";
import { initialState, store } from "../../state/store";
import { presetFixtures, serverView } from "../../test/fixtures";
import { AddServerDialog } from "./AddServerDialog";
import { clientCredentialsAuth, emptyClientCredentials, tokenUrlProblem } from "./AddServerSignIn";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const SECRET = "s3cret-value-never-in-the-file";

async function openDialog() {
  const onClose = vi.fn();
  render(<AddServerDialog onClose={onClose} />);
  await screen.findByTestId("preset-madgicx-facebook");
  return onClose;
}

/** The entry the dialog asked the shell to add. */
function addedEntry() {
  expect(api.addServer).toHaveBeenCalledTimes(1);
  const [name, entry] = vi.mocked(api.addServer).mock.calls[0];
  expect(JSON.stringify(entry)).not.toContain(SECRET);
  return { name, entry };
}

describe("the add dialog", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.presets).mockReset().mockResolvedValue(presetFixtures());
    vi.mocked(api.probeUrl).mockReset().mockResolvedValue({
      url: "https://mcp.madgicx.com/mcp",
      reachable: true,
      needsSignIn: true,
      signInWith: null,
      summary: "It asks for a sign-in.",
      suggestedName: "madgicx",
    });
    vi.mocked(api.addServer).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.setCredentials).mockReset().mockResolvedValue(undefined as never);
    vi.mocked(api.signIn).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.connect).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.orgs).mockReset().mockResolvedValue([]);
  });

  it("signs in to Madgicx through the browser by default", async () => {
    const user = userEvent.setup();
    const onClose = await openDialog();
    await user.click(screen.getByTestId("preset-madgicx-facebook"));
    const browser = screen.getByTestId("sign-in-choice-browser") as HTMLInputElement;
    const agents = screen.getByTestId("sign-in-choice-clientCredentials") as HTMLInputElement;
    expect(browser.checked).toBe(true);
    expect(agents.checked).toBe(false);
    expect(screen.getByTestId("sign-in-choices")).toHaveTextContent("Sign in with Madgicx");
    expect(screen.getByTestId("sign-in-choices")).toHaveTextContent("Client ID and secret (for agents)");
    expect(screen.queryByTestId("client-credentials")).toBeNull();
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    const { name, entry } = addedEntry();
    expect(name).toBe("madgicx-facebook");
    expect(entry.url).toBe("https://mcp.madgicx.com/mcp");
    expect(entry.auth).toBeNull();
    expect(api.setCredentials).not.toHaveBeenCalled();
  });

  it("the Madgicx client-credentials choice keeps the pair as “madgicx” and says where to find it", async () => {
    const user = userEvent.setup();
    await openDialog();
    await user.click(screen.getByTestId("preset-madgicx-facebook"));
    await user.click(screen.getByTestId("sign-in-choice-clientCredentials"));
    const help = screen.getByTestId("credentials-help");
    expect(help).toHaveTextContent("MCP Integration settings");
    expect(help).not.toHaveTextContent("API access");
    expect(screen.getByTestId("client-credentials")).toHaveTextContent("Kept in your system keychain as “madgicx”");
    // The name is the preset's: nothing to type.
    expect(screen.queryByTestId("add-credentials-name")).toBeNull();
    await user.type(screen.getByTestId("add-client-id"), "madgicx-client");
    await user.type(screen.getByTestId("add-client-secret"), SECRET);
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(api.addServer).toHaveBeenCalled());
    expect(api.setCredentials).toHaveBeenCalledWith("madgicx", "madgicx-client", SECRET);
    expect(addedEntry().entry.auth).toEqual({ type: "client_credentials", credentials: "madgicx" });
  });

  it("asks for both halves of the pair", async () => {
    const user = userEvent.setup();
    await openDialog();
    await user.click(screen.getByTestId("preset-madgicx-facebook"));
    await user.click(screen.getByTestId("sign-in-choice-clientCredentials"));
    await user.type(screen.getByTestId("add-client-id"), "only-the-id");
    await user.click(screen.getByTestId("add-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Give both the client ID and the secret.");
    expect(api.addServer).not.toHaveBeenCalled();
    expect(api.setCredentials).not.toHaveBeenCalled();
  });

  it("Notion offers one sign-in, through the browser", async () => {
    const user = userEvent.setup();
    const onClose = await openDialog();
    await user.click(screen.getByTestId("preset-notion"));
    expect(screen.queryByTestId("sign-in-choices")).toBeNull();
    expect(screen.queryByTestId("client-credentials")).toBeNull();
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(addedEntry().entry.auth).toBeNull();
  });

  it("any web address can sign in with a client ID, secret, token URL and scopes", async () => {
    const user = userEvent.setup();
    await openDialog();
    await user.type(screen.getByTestId("add-url"), "https://mcp.example.com/mcp");
    await user.clear(screen.getByTestId("add-name"));
    await user.type(screen.getByTestId("add-name"), "example");
    expect(screen.queryByTestId("client-credentials")).toBeNull();
    await user.click(screen.getByText("Advanced sign-in"));
    await user.click(screen.getByTestId("sign-in-client-credentials"));
    // Without a name of its own, the pair is kept under the server's name.
    expect(screen.getByTestId("client-credentials")).toHaveTextContent("Kept in your system keychain as “example”");
    await user.type(screen.getByTestId("add-credentials-name"), "example-m2m");
    await user.type(screen.getByTestId("add-client-id"), "cid");
    await user.type(screen.getByTestId("add-client-secret"), SECRET);
    await user.type(screen.getByTestId("add-token-url"), "https://auth.example.com/o/token/");
    await user.type(screen.getByTestId("add-scopes"), "mcp:read, mcp:write");
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(api.addServer).toHaveBeenCalled());
    expect(api.setCredentials).toHaveBeenCalledWith("example-m2m", "cid", SECRET);
    const { name, entry } = addedEntry();
    expect(name).toBe("example");
    expect(entry.url).toBe("https://mcp.example.com/mcp");
    expect(entry.auth).toEqual({
      type: "client_credentials",
      credentials: "example-m2m",
      tokenUrl: "https://auth.example.com/o/token/",
      scopes: ["mcp:read", "mcp:write"],
    });
  });

  it("refuses a token URL that is not http(s) with a host, naming it", async () => {
    const user = userEvent.setup();
    await openDialog();
    await user.type(screen.getByTestId("add-url"), "https://mcp.example.com/mcp");
    await user.click(screen.getByText("Advanced sign-in"));
    await user.click(screen.getByTestId("sign-in-client-credentials"));
    await user.type(screen.getByTestId("add-token-url"), "ftp://auth.example.com/token");
    await user.click(screen.getByTestId("add-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("The token URL ftp://auth.example.com/token must start with https://");
    expect(api.addServer).not.toHaveBeenCalled();
  });
});

describe("editing a server that signs in with client credentials", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.updateServer).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.setCredentials).mockReset();
  });

  it("shows its credentials name, token URL and scopes, and keeps the file's other keys", async () => {
    const user = userEvent.setup();
    const auth = { type: "client_credentials", credentials: "m2m", tokenUrl: "https://auth.example.com/o/token/", scopes: ["read"], audience: "api" };
    vi.mocked(api.readConfig).mockResolvedValue({
      path: "/tmp/servers.json",
      warnings: [],
      text: JSON.stringify({ mcpServers: { m2m: { url: "https://m2m.example.com/mcp", auth } } }),
    });
    render(<AddServerDialog editing={serverView("m2m", { signIn: "clientCredentials", credentials: "m2m" })} onClose={() => undefined} />);
    await waitFor(() => expect((screen.getByTestId("add-token-url") as HTMLInputElement).value).toBe("https://auth.example.com/o/token/"));
    expect((screen.getByTestId("add-credentials-name") as HTMLInputElement).value).toBe("m2m");
    expect((screen.getByTestId("sign-in-client-credentials") as HTMLInputElement).checked).toBe(true);
    await user.type(screen.getByTestId("add-scopes"), " write");
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(api.updateServer).toHaveBeenCalled());
    const [, entry] = vi.mocked(api.updateServer).mock.calls[0];
    expect(entry.auth).toEqual({ ...auth, scopes: ["read", "write"] });
    expect(api.setCredentials).not.toHaveBeenCalled();
  });
});

describe("the auth object the dialog writes", () => {
  it("checks token URLs", () => {
    expect(tokenUrlProblem("https://auth.example.com/o/token/")).toBeNull();
    expect(tokenUrlProblem("http://127.0.0.1:9000/token")).toBeNull();
    expect(tokenUrlProblem("auth.example.com/token")).toMatch(/must be a web address/);
    expect(tokenUrlProblem("file:///etc/passwd")).toMatch(/must start with https/);
    expect(tokenUrlProblem("https://")).not.toBeNull();
  });

  it("keeps the file's other keys, and drops a token URL or scopes left empty", () => {
    const base = { type: "client_credentials", credentials: "old", tokenUrl: "https://old.example/token", scopes: ["a"], audience: "x" };
    expect(clientCredentialsAuth(base, emptyClientCredentials(), "old")).toEqual({ type: "client_credentials", credentials: "old", audience: "x" });
  });
});
