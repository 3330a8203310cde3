import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../tauri/api";
import type { AppDownload } from "./bridge";
import { saveDownloads } from "./downloads";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const csv: AppDownload = { kind: "embedded", name: "r.csv", file: { uri: "file:///r.csv", mimeType: "text/csv", text: "a,b", blob: null } };
const link: AppDownload = { kind: "link", name: "data.bin", uri: "ui://app/data.bin" };

describe("saving what an app offers", () => {
  beforeEach(() => {
    for (const f of [api.chooseSavePath, api.saveAppFile, api.saveResource]) vi.mocked(f).mockReset();
  });

  it("writes nothing unless the person chooses a file, and stops at the first cancel", async () => {
    vi.mocked(api.chooseSavePath).mockResolvedValue(null);
    const note = vi.fn();
    expect(await saveDownloads("hostile", "hostile-app", [csv, link], note)).toBe(false);
    expect(api.chooseSavePath).toHaveBeenCalledTimes(1);
    expect(api.chooseSavePath).toHaveBeenCalledWith("r.csv", "Save r.csv from the app of hostile-app");
    expect(api.saveAppFile).not.toHaveBeenCalled();
    expect(api.saveResource).not.toHaveBeenCalled();
    expect(note).not.toHaveBeenCalled();
  });

  it("writes inline files as sent and reads links from the app's server, each where the person chose", async () => {
    vi.mocked(api.chooseSavePath).mockImplementation(async (name) => `/home/me/${name}`);
    vi.mocked(api.saveAppFile).mockResolvedValue(3 as never);
    vi.mocked(api.saveResource).mockResolvedValue(10 as never);
    const note = vi.fn();
    expect(await saveDownloads("hostile", "hostile-app", [csv, link], note)).toBe(true);
    expect(api.saveAppFile).toHaveBeenCalledWith(csv.file, "/home/me/r.csv");
    expect(api.saveResource).toHaveBeenCalledWith("hostile", "ui://app/data.bin", "/home/me/data.bin");
    expect(note).toHaveBeenLastCalledWith("Saved data.bin from the app to /home/me/data.bin.");
  });

  it("says in words why a file was not written", async () => {
    vi.mocked(api.chooseSavePath).mockResolvedValue("/ro/r.csv");
    vi.mocked(api.saveAppFile).mockRejectedValue({ kind: "save", message: "Could not write file:///r.csv to /ro/r.csv: read-only." });
    const note = vi.fn();
    expect(await saveDownloads("hostile", "hostile-app", [csv], note)).toBe(false);
    expect(note).toHaveBeenCalledWith("Could not save r.csv: Could not write file:///r.csv to /ro/r.csv: read-only.");
  });
});
