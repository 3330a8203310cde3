import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { UpdateView } from "../../bindings/UpdateView";
import * as api from "../../tauri/api";
import * as events from "../../tauri/events";
import { OpenLinkProvider } from "../shared/OpenLink";
import { UpdatesCard } from "./Updates";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));
vi.mock("../../tauri/events", () => ({ onUpdate: vi.fn() }));

const ui = () =>
  render(
    <OpenLinkProvider>
      <UpdatesCard />
    </OpenLinkProvider>,
  );

let pushUpdate: (view: UpdateView) => void = () => {};

describe("the Updates card", () => {
  beforeEach(() => {
    vi.mocked(api.updateStatus).mockReset();
    vi.mocked(api.checkForUpdates).mockReset();
    vi.mocked(api.installUpdate).mockReset();
    vi.mocked(api.openExternal).mockReset().mockResolvedValue(undefined);
    vi.mocked(events.onUpdate).mockReset().mockImplementation(async (handler) => {
      pushUpdate = handler;
      return () => {};
    });
  });

  it("says when updates are off, and offers no check", async () => {
    vi.mocked(api.updateStatus).mockResolvedValue({ state: "off" });
    ui();
    expect(await screen.findByTestId("update-status")).toHaveTextContent("does not check for updates");
    expect(screen.queryByTestId("update-check")).toBeNull();
  });

  it("offers an installable release with its notes, and shows the install's failure", async () => {
    vi.mocked(api.updateStatus)
      .mockResolvedValueOnce({ state: "upToDate", checkedAt: 1767225600 })
      .mockResolvedValueOnce({ state: "failed", message: "Latch 0.2.0 was offered but its download does not match Latch's signing key, so it was not installed." });
    ui();
    expect(await screen.findByTestId("update-status")).toHaveTextContent("You have the newest Latch.");
    vi.mocked(api.checkForUpdates).mockResolvedValue({ state: "available", version: "0.2.0", notes: "Faster sign-in.", canInstall: true, downloadUrl: "https://releases.example/Latch.AppImage" });
    await userEvent.click(screen.getByTestId("update-check"));
    expect(await screen.findByTestId("update-status")).toHaveTextContent("Latch 0.2.0 is available.");
    expect(screen.getByTestId("update-notes")).toHaveTextContent("Faster sign-in.");

    vi.mocked(api.installUpdate).mockRejectedValue({ kind: "update", message: "Latch 0.2.0 was offered but its download does not match Latch's signing key, so it was not installed." });
    await userEvent.click(screen.getByTestId("update-install"));
    expect(await screen.findByTestId("update-error")).toHaveTextContent("not installed");
    await waitFor(() => expect(screen.queryByTestId("update-install")).toBeNull());
    expect(api.installUpdate).toHaveBeenCalledTimes(1);
  });

  it("links a package install to the download instead of installing", async () => {
    vi.mocked(api.updateStatus).mockResolvedValue({ state: "checking" });
    ui();
    expect(await screen.findByTestId("update-status")).toHaveTextContent("Checking for updates…");
    act(() => pushUpdate({ state: "available", version: "0.2.0", notes: null, canInstall: false, downloadUrl: "https://releases.example/latch_0.2.0_amd64.deb" }));
    expect(screen.getByTestId("update-status")).toHaveTextContent("Latch 0.2.0 is available — download it from https://releases.example/latch_0.2.0_amd64.deb");
    expect(screen.queryByTestId("update-install")).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "https://releases.example/latch_0.2.0_amd64.deb" }));
    await userEvent.click(await screen.findByRole("button", { name: "Open in browser" }));
    expect(api.openExternal).toHaveBeenCalledWith("https://releases.example/latch_0.2.0_amd64.deb");
  });
});
