import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountView } from "../../bindings/AccountView";
import type { ServerView } from "../../bindings/ServerView";
import * as api from "../../tauri/api";
import { ServerCard } from "./ServerList";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const NOW = 1_700_000_000_000;

const account = (label: string, active: boolean): AccountView => ({
  label,
  expiresAt: NOW / 1000 + 3600,
  scopes: ["read"],
  issuer: "https://auth.example.com",
  refreshable: true,
  signedIn: true,
  active,
});

function notion(accounts: AccountView[]): ServerView {
  const active = accounts.find((a) => a.active);
  return {
    name: "notion",
    target: "https://mcp.notion.com/mcp",
    host: "mcp.notion.com",
    kind: "remote",
    transport: "auto",
    state: { state: "connected", transport: "streamable-http" },
    auth: active
      ? { status: "signedIn", expiresAt: active.expiresAt, scopes: active.scopes, issuer: active.issuer, account: active.label, refreshable: true }
      : { status: "none" },
    signIn: "oauth",
    credentials: null,
    toolCount: 3,
    serverInfo: null,
    demo: false,
    accounts,
  };
}

const card = (server: ServerView) =>
  render(<ServerCard server={server} selected={false} now={NOW} onEdit={() => undefined} onCredentials={() => undefined} />);

describe("several accounts on one server", () => {
  beforeEach(() => {
    vi.mocked(api.useAccount).mockReset();
    vi.mocked(api.signIn).mockReset();
  });

  it("one unlabelled account: no label, no switch", () => {
    card(notion([account("default", true)]));
    expect(screen.getByTestId("server-auth-notion")).toHaveTextContent("Signed in · expires in 1 h");
    expect(screen.queryByTestId("account-select-notion")).toBeNull();
    expect(screen.getByTestId("add-account-notion")).toBeInTheDocument();
  });

  it("shows the account in the badge and switches between accounts", async () => {
    const user = userEvent.setup();
    const server = notion([account("work", false), account("home", true)]);
    vi.mocked(api.useAccount).mockResolvedValue(notion([account("work", true), account("home", false)]));
    card(server);
    expect(screen.getByTestId("server-auth-notion")).toHaveTextContent("Signed in as home · expires in 1 h");
    const select = screen.getByTestId("account-select-notion") as HTMLSelectElement;
    expect(select.value).toBe("home");
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["work", "home"]);
    await user.selectOptions(select, "work");
    expect(api.useAccount).toHaveBeenCalledWith("notion", "work");
  });

  it("Add another account asks for a usable label, then signs in as it", async () => {
    const user = userEvent.setup();
    vi.mocked(api.signIn).mockResolvedValue(notion([account("default", false), account("work", true)]));
    card(notion([account("default", true)]));
    await user.click(screen.getByTestId("add-account-notion"));
    const input = screen.getByTestId("add-account-label");

    await user.type(input, "my work");
    await user.click(screen.getByTestId("add-account-sign-in"));
    expect(screen.getByTestId("add-account-problem")).toHaveTextContent("no spaces");
    expect(api.signIn).not.toHaveBeenCalled();

    await user.clear(input);
    await user.type(input, "default");
    await user.click(screen.getByTestId("add-account-sign-in"));
    expect(screen.getByTestId("add-account-problem")).toHaveTextContent("already signed in");

    await user.clear(input);
    await user.type(input, "work{Enter}");
    expect(api.signIn).toHaveBeenCalledWith("notion", null, "work");
    expect(screen.queryByTestId("add-account-dialog")).toBeNull();
  });
});
