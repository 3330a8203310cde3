import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../tauri/api";
import { initialState, store } from "../../state/store";
import { SettingsPanel } from "./Settings";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const TYPO = "server `madgicx`: Latch does not know the key `auth.token_url` and ignores it — did you mean `auth.tokenUrl`?";

describe("the servers file editor", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.settings).mockReset().mockReturnValue(new Promise(() => {}));
    vi.mocked(api.startAtLogin).mockReset().mockResolvedValue(false);
    vi.mocked(api.updateStatus).mockReset().mockResolvedValue({ state: "off" });
    vi.mocked(api.saveConfig).mockReset().mockResolvedValue([]);
    vi.mocked(api.orgs).mockReset().mockResolvedValue([]);
  });

  it("names the keys Latch ignores, and updates the list after a save", async () => {
    vi.mocked(api.readConfig)
      .mockReset()
      .mockResolvedValueOnce({ path: "/home/a/servers.json", text: "{}", warnings: [TYPO] })
      .mockResolvedValueOnce({ path: "/home/a/servers.json", text: "{}", warnings: [] });
    render(<SettingsPanel />);
    expect(await screen.findByTestId("config-warnings")).toHaveTextContent(TYPO);

    await userEvent.click(screen.getByTestId("config-save"));
    await waitFor(() => expect(screen.queryByTestId("config-warnings")).toBeNull());
    expect(api.saveConfig).toHaveBeenCalledWith("{}");
  });

  it("shows no warning box for a clean file", async () => {
    vi.mocked(api.readConfig).mockReset().mockResolvedValue({ path: "/p", text: "{}", warnings: [] });
    render(<SettingsPanel />);
    await screen.findByDisplayValue("{}");
    expect(screen.queryByTestId("config-warnings")).toBeNull();
  });
});
