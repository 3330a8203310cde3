import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../../tauri/api";
import { initialState, store } from "../../../state/store";
import { serverView } from "../../../test/fixtures";
import { AddServerDialog } from "../../servers/AddServerDialog";
import { orgView } from "./testFixtures";

vi.mock("../../../tauri/api", async (orig) => (await import("../../../test/apiMock")).mockApi(orig));

const SECRET = "wiki-secret-never-in-the-file";

async function openWithUrl(url = "https://wiki.example.com/mcp") {
  const user = userEvent.setup();
  const onClose = vi.fn();
  render(<AddServerDialog onClose={onClose} />);
  await user.type(screen.getByTestId("add-url"), url);
  await user.clear(screen.getByTestId("add-name"));
  await user.type(screen.getByTestId("add-name"), "wiki");
  return { user, onClose };
}

describe("“Sign in with your company” in the add dialog", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.presets).mockReset().mockResolvedValue([]);
    vi.mocked(api.probeUrl).mockReset().mockResolvedValue({ url: "https://wiki.example.com/mcp", reachable: true, needsSignIn: true, signInWith: null, summary: "It asks for a sign-in.", suggestedName: "wiki" });
    vi.mocked(api.addServer).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.signIn).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.connect).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.setSecret).mockReset().mockResolvedValue(undefined as never);
    vi.mocked(api.addOrg).mockReset().mockImplementation(async (input) => orgView(input.name));
    vi.mocked(api.signInOrg).mockReset().mockImplementation(async (name) => orgView(name, { signedIn: true }));
  });

  it("writes auth.org with the server's client id, keeps the secret in the keychain, and signs in with no browser when the company session stands", async () => {
    vi.mocked(api.orgs).mockReset().mockResolvedValue([orgView("acme", { signedIn: true, servers: ["crm"] })]);
    const { user, onClose } = await openWithUrl();
    // With a company set up, the sign-in choices are shown open.
    await waitFor(() => expect(screen.getByTestId("advanced-sign-in")).toHaveAttribute("open"));
    await user.click(screen.getByTestId("sign-in-company"));
    expect((screen.getByTestId("company-org") as HTMLSelectElement).value).toBe("acme");
    expect(screen.getByTestId("company-org-status")).toHaveTextContent("You are signed in to acme.");
    // The server's client id is needed for the exchange.
    await user.click(screen.getByTestId("add-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Give the client ID this server's sign-in server knows Latch by");
    expect(api.addServer).not.toHaveBeenCalled();

    await user.type(screen.getByTestId("company-client-id"), "wiki-client");
    await user.type(screen.getByTestId("company-client-secret"), SECRET);
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(api.setSecret).toHaveBeenCalledWith("wiki-client-secret", SECRET);
    const [name, entry] = vi.mocked(api.addServer).mock.calls[0];
    expect(name).toBe("wiki");
    expect(entry.auth).toEqual({ type: "enterprise", org: "acme", clientId: "wiki-client", clientSecret: "${secret:wiki-client-secret}" });
    expect(JSON.stringify(entry)).not.toContain(SECRET);
    await waitFor(() => expect(api.signIn).toHaveBeenCalledWith("wiki", null, null));
    expect(api.signInOrg).not.toHaveBeenCalled();
    expect(api.addOrg).not.toHaveBeenCalled();
  });

  it("adds the company typed inline, then signs in to it once (which covers the server)", async () => {
    vi.mocked(api.orgs).mockReset().mockResolvedValue([]);
    const { user, onClose } = await openWithUrl();
    await user.click(screen.getByText("Advanced sign-in"));
    await user.click(screen.getByTestId("sign-in-company"));
    expect((screen.getByTestId("company-org") as HTMLSelectElement).value).toBe("");
    await user.type(screen.getByTestId("company-new-name"), "acme");
    await user.type(screen.getByTestId("company-new-issuer"), "ftp://acme.okta.example");
    await user.type(screen.getByTestId("company-client-id"), "wiki-client");
    await user.click(screen.getByTestId("add-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("The sign-in address ftp://acme.okta.example must start with https://.");
    await user.clear(screen.getByTestId("company-new-issuer"));
    await user.type(screen.getByTestId("company-new-issuer"), "https://acme.okta.example");
    await user.type(screen.getByTestId("company-new-client-id"), "latch-at-acme");
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(api.addOrg).toHaveBeenCalledWith({ name: "acme", issuer: "https://acme.okta.example", clientId: "latch-at-acme", clientSecret: null, clientMetadataUrl: null, scopes: [] });
    expect(vi.mocked(api.addServer).mock.calls[0][1].auth).toEqual({ type: "enterprise", org: "acme", clientId: "wiki-client" });
    expect(api.setSecret).not.toHaveBeenCalled();
    await waitFor(() => expect(api.connect).toHaveBeenCalledWith("wiki"));
    expect(api.signInOrg).toHaveBeenCalledWith("acme");
    expect(api.signIn).not.toHaveBeenCalled();
  });

  it("shows the core's line when the company cannot be added, and writes no server", async () => {
    vi.mocked(api.orgs).mockReset().mockResolvedValue([]);
    vi.mocked(api.addOrg).mockReset().mockRejectedValue({ kind: "invalidOrg", message: "organisation acme: `issuer`: the address has no host" });
    const { user, onClose } = await openWithUrl();
    await user.click(screen.getByText("Advanced sign-in"));
    await user.click(screen.getByTestId("sign-in-company"));
    await user.type(screen.getByTestId("company-new-name"), "acme");
    await user.type(screen.getByTestId("company-new-issuer"), "https://acme.okta.example");
    await user.type(screen.getByTestId("company-new-client-id"), "latch");
    await user.type(screen.getByTestId("company-client-id"), "wiki-client");
    await user.click(screen.getByTestId("add-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("organisation acme: `issuer`: the address has no host");
    expect(api.addServer).not.toHaveBeenCalled();
    expect(onClose).not.toHaveBeenCalled();
  });

  it("a company sign-in that fails says so in one line and does not go on to the server", async () => {
    vi.mocked(api.orgs).mockReset().mockResolvedValue([orgView("acme")]);
    vi.mocked(api.signInOrg).mockReset().mockRejectedValue({ kind: "orgSignIn", message: "signing in to your company (acme) did not work: the sign-in was cancelled" });
    const { user, onClose } = await openWithUrl();
    await user.click(screen.getByTestId("sign-in-company"));
    expect(screen.getByTestId("company-org-status")).toHaveTextContent("You will be asked to sign in to acme in your browser.");
    await user.type(screen.getByTestId("company-client-id"), "wiki-client");
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    await waitFor(() => expect(store.get().notices.at(-1)?.text).toBe("signing in to your company (acme) did not work: the sign-in was cancelled"));
    expect(api.connect).not.toHaveBeenCalled();
    expect(api.signIn).not.toHaveBeenCalled();
  });
});

describe("a failed save after the company was added inline", () => {
  it("picks the added company on the second try instead of adding it again", async () => {
    store.update(() => initialState());
    vi.mocked(api.orgs).mockReset().mockResolvedValue([]);
    vi.mocked(api.addOrg).mockReset().mockImplementation(async (input) => orgView(input.name));
    vi.mocked(api.addServer)
      .mockReset()
      .mockRejectedValueOnce({ kind: "exists", message: "A server named wiki already exists." })
      .mockImplementation(async (name) => serverView(name));
    vi.mocked(api.signInOrg).mockReset().mockImplementation(async (name) => orgView(name, { signedIn: true }));
    vi.mocked(api.connect).mockReset().mockImplementation(async (name) => serverView(name));
    const { user, onClose } = await openWithUrl();
    await user.click(screen.getByText("Advanced sign-in"));
    await user.click(screen.getByTestId("sign-in-company"));
    await user.type(screen.getByTestId("company-new-name"), "acme");
    await user.type(screen.getByTestId("company-new-issuer"), "https://acme.okta.example");
    await user.type(screen.getByTestId("company-new-client-id"), "latch");
    await user.type(screen.getByTestId("company-client-id"), "wiki-client");
    await user.click(screen.getByTestId("add-save"));
    expect(await screen.findByRole("alert")).toHaveTextContent("A server named wiki already exists.");
    expect((screen.getByTestId("company-org") as HTMLSelectElement).value).toBe("acme");
    await user.click(screen.getByTestId("add-save"));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(api.addOrg).toHaveBeenCalledTimes(1);
    expect(api.addServer).toHaveBeenCalledTimes(2);
  });
});
