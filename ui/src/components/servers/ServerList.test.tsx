import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerView } from "../../bindings/ServerView";
import * as api from "../../tauri/api";
import { initialState, store } from "../../state/store";
import { serverView } from "../../test/fixtures";
import { ServerCard } from "./ServerList";
import { ServerPanel } from "./ServerPanel";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const card = (server: ServerView) =>
  render(<ServerCard server={server} selected={false} now={Date.now()} onEdit={() => undefined} onCredentials={() => undefined} />);

describe("the main button of a card", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.signIn).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.connect).mockReset().mockImplementation(async (name) => serverView(name));
  });

  it("is “Sign in” when the server needs a sign-in, and signs in", async () => {
    const user = userEvent.setup();
    card(serverView("notion", { state: { state: "needsSignIn" }, auth: { status: "needsSignIn", reason: "The sign-in expired." } }));
    const main = screen.getByTestId("sign-in-notion");
    expect(main).toHaveTextContent(/^Sign in$/);
    expect(main).toHaveClass("btn-primary");
    expect(screen.queryByTestId("connect-notion")).toBeNull();
    expect(screen.queryByRole("button", { name: /^(Re)?connect$/i })).toBeNull();
    await user.click(main);
    expect(api.signIn).toHaveBeenCalledWith("notion", null, null);
    expect(api.connect).not.toHaveBeenCalled();
  });

  it("is “Sign in” too when only the badge says so (the stored sign-in was refused)", () => {
    card(serverView("notion", { auth: { status: "needsSignIn", reason: "Refused." } }));
    expect(screen.getByTestId("sign-in-notion")).toHaveClass("btn-primary");
    expect(screen.queryByTestId("connect-notion")).toBeNull();
  });

  it("stays “Connect” or “Reconnect” in the other states", async () => {
    const user = userEvent.setup();
    const { unmount } = card(serverView("a"));
    expect(screen.getByTestId("connect-a")).toHaveTextContent(/^Connect$/);
    // Signing in is still offered, as a second button.
    expect(screen.getByTestId("sign-in-a")).toHaveTextContent("Sign in");
    expect(screen.getByTestId("sign-in-a")).not.toHaveClass("btn-primary");
    await user.click(screen.getByTestId("connect-a"));
    expect(api.connect).toHaveBeenCalledWith("a");
    unmount();
    card(serverView("b", { state: { state: "failed", reason: "The server at https://b.example.com/mcp did not answer." } }));
    expect(screen.getByTestId("connect-b")).toHaveTextContent(/^Reconnect$/);
  });

  it("a rejected client secret still asks for the new secret", () => {
    card(serverView("m2m", { signIn: "clientCredentials", state: { state: "needsSignIn" }, auth: { status: "secretRejected", message: "Refused." } }));
    expect(screen.getByTestId("sign-in-m2m")).toHaveTextContent("Update secret");
    expect(screen.getByTestId("connect-m2m")).toBeInTheDocument();
  });
});

describe("the server panel of a server that needs sign-in", () => {
  beforeEach(() => {
    store.update(() => ({ ...initialState(), history: { notion: { status: "ready", data: [] } } }));
    vi.mocked(api.signIn).mockReset().mockImplementation(async (name) => serverView(name));
    vi.mocked(api.connect).mockReset();
  });

  it("offers “Sign in”, not “Connect”", async () => {
    const user = userEvent.setup();
    render(<ServerPanel server={serverView("notion", { state: { state: "needsSignIn" } })} />);
    expect(screen.getByText("Sign in to see this server's tools.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Connect" })).toBeNull();
    await user.click(screen.getByTestId("panel-sign-in-notion"));
    expect(api.signIn).toHaveBeenCalledWith("notion", null, null);
    expect(api.connect).not.toHaveBeenCalled();
  });

  it("offers “Connect” to a server that is not connected", () => {
    render(<ServerPanel server={serverView("plain", { signIn: "none", state: { state: "disconnected" } })} />);
    expect(screen.getByTestId("panel-connect-plain")).toHaveTextContent("Connect");
  });
});
