import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { applyEvent, initialState, store, type ElicitationRequest } from "../../state/store";
import * as api from "../../tauri/api";
import { ElicitationDialog } from "../sign-in/SignIn";
import { pageHost } from "./ElicitationUrl";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const request: ElicitationRequest = {
  type: "elicitation",
  id: "elicit-1",
  server: "everything",
  message: "Please authorize access to your files",
  schema: null,
  url: "https://accounts.example.com/authorize?state=abc",
};

const ask = (r: ElicitationRequest = request) => act(() => store.update((s) => applyEvent(s, r)));

describe("a server asks the person to open a page", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.answerElicitation).mockReset().mockResolvedValue(undefined);
    vi.mocked(api.openElicitationPage).mockReset();
  });

  it("shows the host large and the whole URL, and opens nothing before the person agrees", () => {
    render(<ElicitationDialog />);
    ask();
    expect(screen.getByTestId("elicitation-host").textContent).toBe("accounts.example.com");
    expect(screen.getByTestId("elicitation-url").textContent).toBe(request.url);
    expect(screen.getByTestId("elicitation-open").textContent).toBe("Open accounts.example.com");
    expect(api.openElicitationPage).not.toHaveBeenCalled();
  });

  it("opens after the person agrees, says so, and accepts once they are done", async () => {
    const user = userEvent.setup();
    vi.mocked(api.openElicitationPage).mockResolvedValue(true);
    render(<ElicitationDialog />);
    ask();
    await user.click(screen.getByTestId("elicitation-open"));
    expect(api.openElicitationPage).toHaveBeenCalledWith(request.url);
    expect(screen.getByTestId("elicitation-opened").textContent).toContain("opened in your browser");
    expect(api.answerElicitation).not.toHaveBeenCalled();
    await user.click(screen.getByTestId("elicitation-done"));
    expect(api.answerElicitation).toHaveBeenCalledWith("elicit-1", { action: "accept", content: {} });
  });

  it("says honestly when no browser opened, and leaves the link to copy", async () => {
    const user = userEvent.setup();
    vi.mocked(api.openElicitationPage).mockResolvedValue(false);
    render(<ElicitationDialog />);
    ask();
    await user.click(screen.getByTestId("elicitation-open"));
    expect(screen.getByTestId("elicitation-not-opened").textContent).toContain("could not open your browser");
    expect(screen.queryByTestId("elicitation-opened")).toBeNull();
    expect(screen.getByTestId("elicitation-url").textContent).toBe(request.url);
  });

  it("declines without opening, and offers no Open button for a link Latch will not open", async () => {
    const user = userEvent.setup();
    render(<ElicitationDialog />);
    ask();
    await user.click(screen.getByTestId("elicitation-decline"));
    expect(api.answerElicitation).toHaveBeenCalledWith("elicit-1", { action: "decline" });
    ask({ ...request, id: "elicit-2", url: "file:///etc/passwd" });
    expect(screen.queryByTestId("elicitation-open")).toBeNull();
    expect(screen.getByTestId("elicitation-host").textContent).toBe("a link Latch will not open");
    expect(api.openElicitationPage).not.toHaveBeenCalled();
  });

  it("finds the host of web links only", () => {
    expect(pageHost("https://a.example:8443/x")).toBe("a.example:8443");
    expect(pageHost("https://user:pw@a.example/")).toBeNull();
    expect(pageHost("javascript:alert(1)")).toBeNull();
    expect(pageHost("not a url")).toBeNull();
  });
});
