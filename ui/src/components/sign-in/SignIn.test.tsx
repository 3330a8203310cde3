import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../tauri/api";
import { actions } from "../../state/actions";
import { initialState, store } from "../../state/store";
import { serverView } from "../../test/fixtures";
import { OpenLinkProvider } from "../shared/OpenLink";
import { SignInWaiting } from "./SignIn";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const LINK = "https://auth.example.com/authorize?client_id=latch&state=xyz";

function dialog() {
  return render(
    <OpenLinkProvider>
      <SignInWaiting />
    </OpenLinkProvider>,
  );
}

describe("the sign-in dialog", () => {
  beforeEach(() => {
    store.update(() => ({
      ...initialState(),
      servers: { status: "ready", data: [serverView("notion", { state: { state: "signingIn" } })] },
      signIn: { notion: {} },
    }));
  });

  it("says the browser opened only once the shell said so", () => {
    dialog();
    expect(screen.getByTestId("sign-in-status")).toHaveTextContent("Starting the sign-in…");
    act(() => actions.handleEvent({ type: "signInUrl", server: "notion", url: LINK, browser: "opening" }));
    expect(screen.getByTestId("sign-in-status")).toHaveTextContent("Opening your browser…");
    expect(screen.getByTestId("sign-in-dialog")).not.toHaveTextContent("browser opened");
    act(() => actions.handleEvent({ type: "signInUrl", server: "notion", url: LINK, browser: "opened" }));
    expect(screen.getByTestId("sign-in-status")).toHaveTextContent("Your browser opened… Waiting for you to approve.");
    expect(screen.queryByTestId("sign-in-link")).toBeNull();
  });

  it("shows the link to copy when no browser could be opened", async () => {
    const user = userEvent.setup();
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    dialog();
    act(() => actions.handleEvent({ type: "signInUrl", server: "notion", url: LINK, browser: "opening" }));
    act(() => actions.handleEvent({ type: "signInUrl", server: "notion", url: LINK, browser: "notOpened" }));
    expect(screen.getByTestId("sign-in-status")).toHaveTextContent("Latch could not open your browser. Open this link to sign in:");
    expect(screen.getByTestId("sign-in-dialog")).not.toHaveTextContent("browser opened");
    expect(screen.getByTestId("sign-in-link")).toHaveValue(LINK);
    await user.click(screen.getByTestId("copy-sign-in-link"));
    expect(writeText).toHaveBeenCalledWith(LINK);
    expect(screen.getByTestId("copy-sign-in-link")).toHaveTextContent("Copied");
  });

  it("cancelling stops the sign-in", async () => {
    const user = userEvent.setup();
    vi.mocked(api.cancelSignIn).mockResolvedValue(undefined as never);
    dialog();
    act(() => actions.handleEvent({ type: "signInUrl", server: "notion", url: LINK, browser: "notOpened" }));
    await user.click(screen.getByTestId("cancel-sign-in"));
    expect(api.cancelSignIn).toHaveBeenCalledWith("notion");
    expect(screen.queryByTestId("sign-in-dialog")).toBeNull();
  });
});
