import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../../tauri/api";
import { OrgsCard } from "./OrgsCard";
import { orgView } from "./testFixtures";

vi.mock("../../../tauri/api", async (orig) => (await import("../../../test/apiMock")).mockApi(orig));

describe("Settings' companies card", () => {
  beforeEach(() => {
    vi.mocked(api.orgs).mockReset();
    vi.mocked(api.signInOrg).mockReset();
    vi.mocked(api.signOutOrg).mockReset();
    vi.mocked(api.removeOrg).mockReset();
    vi.mocked(api.addOrg).mockReset();
  });

  it("shows each company's sign-in address, its servers and whether (until when) the person is signed in", async () => {
    const until = Date.UTC(2026, 11, 2, 15, 30) / 1000;
    vi.mocked(api.orgs).mockResolvedValue([
      orgView("acme", { signedIn: true, expiresAt: until, servers: ["crm", "wiki"] }),
      orgView("globex", { issuer: "https://login.globex.example" }),
    ]);
    render(<OrgsCard />);
    const acme = await screen.findByTestId("org-acme");
    expect(acme).toHaveTextContent("https://acme.okta.example");
    expect(screen.getByTestId("org-servers-acme")).toHaveTextContent("Used by crm, wiki.");
    expect(screen.getByTestId("org-status-acme")).toHaveTextContent(/^Signed in until .*2026/);
    expect(within(acme).getByTestId("org-sign-out-acme")).toBeInTheDocument();
    expect(within(acme).queryByTestId("org-sign-in-acme")).toBeNull();
    expect(screen.getByTestId("org-status-globex")).toHaveTextContent("Not signed in.");
    expect(screen.getByTestId("org-servers-globex")).toHaveTextContent("No server uses it yet.");
    // Nobody needs globex yet: no prompt.
    expect(screen.queryByTestId("org-prompt-globex")).toBeNull();
  });

  it("one “Sign in to your company” prompt for all the servers of an ended session; signing in refreshes the card", async () => {
    vi.mocked(api.orgs)
      .mockResolvedValueOnce([orgView("acme", { servers: ["crm", "docs", "wiki"] })])
      .mockResolvedValue([orgView("acme", { servers: ["crm", "docs", "wiki"], signedIn: true })]);
    vi.mocked(api.signInOrg).mockResolvedValue(orgView("acme", { signedIn: true }));
    const user = userEvent.setup();
    render(<OrgsCard />);
    const prompt = await screen.findByTestId("org-prompt-acme");
    expect(prompt).toHaveTextContent("crm, docs, wiki sign in through acme, and you are not signed in to acme on this computer.");
    expect(screen.getAllByRole("button", { name: /Sign in to your company/ })).toHaveLength(1);
    await user.click(screen.getByTestId("org-prompt-sign-in-acme"));
    expect(api.signInOrg).toHaveBeenCalledWith("acme");
    await waitFor(() => expect(screen.queryByTestId("org-prompt-acme")).toBeNull());
    expect(screen.getByTestId("org-status-acme")).toHaveTextContent("Signed in.");
  });

  it("a sign-in that fails shows the core's line and still says not signed in", async () => {
    vi.mocked(api.orgs).mockResolvedValue([orgView("acme")]);
    vi.mocked(api.signInOrg).mockRejectedValue({ kind: "orgSignIn", message: "could not find how https://acme.okta.example signs people in (organisation acme): it could not be reached" });
    const user = userEvent.setup();
    render(<OrgsCard />);
    await user.click(await screen.findByTestId("org-sign-in-acme"));
    expect(await screen.findByTestId("org-error-acme")).toHaveTextContent("could not find how https://acme.okta.example signs people in (organisation acme): it could not be reached");
    expect(screen.getByTestId("org-status-acme")).toHaveTextContent("Not signed in.");
    expect(screen.getByTestId("org-sign-in-acme")).toHaveTextContent("Sign in");
  });

  it("Remove is refused while servers use the company, with the core's line; Sign out signs out", async () => {
    vi.mocked(api.orgs).mockResolvedValue([orgView("acme", { signedIn: true, servers: ["wiki"] })]);
    vi.mocked(api.removeOrg).mockRejectedValue({ kind: "orgInUse", message: "organisation acme is used by wiki — change or remove those servers first" });
    vi.mocked(api.signOutOrg).mockResolvedValue(orgView("acme", { servers: ["wiki"] }));
    const user = userEvent.setup();
    render(<OrgsCard />);
    await user.click(await screen.findByTestId("org-remove-acme"));
    expect(await screen.findByTestId("org-error-acme")).toHaveTextContent("organisation acme is used by wiki — change or remove those servers first");
    expect(screen.getByTestId("org-acme")).toBeInTheDocument();

    vi.mocked(api.orgs).mockResolvedValue([orgView("acme", { servers: ["wiki"] })]);
    await user.click(screen.getByTestId("org-sign-out-acme"));
    expect(api.signOutOrg).toHaveBeenCalledWith("acme");
    expect(await screen.findByTestId("org-prompt-acme")).toBeInTheDocument();
    expect(screen.queryByTestId("org-error-acme")).toBeNull();
  });

  it("adds a company from its form after checking it", async () => {
    vi.mocked(api.orgs).mockResolvedValueOnce([]).mockResolvedValue([orgView("acme")]);
    vi.mocked(api.addOrg).mockResolvedValue(orgView("acme"));
    const user = userEvent.setup();
    render(<OrgsCard />);
    expect(await screen.findByTestId("orgs-empty")).toHaveTextContent("No company yet.");
    await user.click(screen.getByTestId("org-add"));
    await user.type(screen.getByTestId("org-add-name"), "acme");
    await user.type(screen.getByTestId("org-add-issuer"), "https://acme.okta.example");
    await user.click(screen.getByTestId("org-add-save"));
    expect(await screen.findByTestId("org-add-error")).toHaveTextContent("Give Latch's client ID at your company (your IT admin has it).");
    expect(api.addOrg).not.toHaveBeenCalled();
    await user.type(screen.getByTestId("org-add-client-id"), "latch");
    await user.click(screen.getByTestId("org-add-save"));
    expect(await screen.findByTestId("org-acme")).toBeInTheDocument();
    expect(api.addOrg).toHaveBeenCalledWith({ name: "acme", issuer: "https://acme.okta.example", clientId: "latch", clientSecret: null, clientMetadataUrl: null, scopes: [] });
    expect(screen.queryByTestId("org-add-form")).toBeNull();
  });
});

describe("the waiting dialog of a company sign-in", () => {
  it("closes once the sign-in is over, since no server view ends it", async () => {
    const { store, initialState } = await import("../../../state/store");
    store.update(() => initialState());
    vi.mocked(api.orgs).mockReset().mockResolvedValue([orgView("acme", { servers: ["wiki"] })]);
    let finish: (v: unknown) => void = () => {};
    vi.mocked(api.signInOrg).mockReset().mockReturnValue(new Promise((resolve) => (finish = resolve)) as never);
    const user = userEvent.setup();
    render(<OrgsCard />);
    await user.click(await screen.findByTestId("org-sign-in-acme"));
    expect(screen.getByTestId("org-sign-in-acme")).toHaveTextContent("Signing in…");
    // The shell's event while the browser is open.
    store.update((s) => ({ ...s, signIn: { ...s.signIn, "organisation acme": { url: "https://acme.okta.example/authorize", browser: "opened" } } }));
    finish(orgView("acme", { signedIn: true }));
    await waitFor(() => expect(store.get().signIn["organisation acme"]).toBeUndefined());
  });
});
