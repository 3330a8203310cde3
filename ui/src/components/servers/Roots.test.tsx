import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../tauri/api";
import { RootsTab } from "./Roots";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

describe("the Roots tab", () => {
  beforeEach(() => {
    vi.mocked(api.roots).mockReset();
    vi.mocked(api.setRoots).mockReset();
    vi.mocked(api.chooseFolder).mockReset();
  });

  it("adds the folder picked in the system folder picker", async () => {
    const user = userEvent.setup();
    vi.mocked(api.roots).mockResolvedValue(["/home/ada/project"]);
    vi.mocked(api.setRoots).mockImplementation(async (_name, paths) => paths);
    vi.mocked(api.chooseFolder).mockResolvedValue("/home/ada/notes");
    render(<RootsTab server="everything" />);
    await user.click(await screen.findByRole("button", { name: "Add folder…" }));
    expect(api.chooseFolder).toHaveBeenCalledTimes(1);
    expect(api.setRoots).toHaveBeenCalledWith("everything", ["/home/ada/project", "/home/ada/notes"]);
    expect(await screen.findByText("/home/ada/notes")).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("changes nothing and says nothing when the folder picker is cancelled", async () => {
    const user = userEvent.setup();
    vi.mocked(api.roots).mockResolvedValue(["/home/ada/project"]);
    vi.mocked(api.chooseFolder).mockResolvedValue(null);
    render(<RootsTab server="everything" />);
    await user.click(await screen.findByTestId("roots-choose"));
    expect(api.chooseFolder).toHaveBeenCalledTimes(1);
    expect(api.setRoots).not.toHaveBeenCalled();
    expect(screen.getByText("/home/ada/project")).toBeTruthy();
    expect(screen.getAllByRole("listitem")).toHaveLength(1);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows Latch's reason when the picked folder is refused", async () => {
    const user = userEvent.setup();
    vi.mocked(api.roots).mockResolvedValue([]);
    vi.mocked(api.chooseFolder).mockResolvedValue("/mnt/gone");
    vi.mocked(api.setRoots).mockRejectedValue({ kind: "roots", message: "There is no folder at /mnt/gone." });
    render(<RootsTab server="everything" />);
    await user.click(await screen.findByTestId("roots-choose"));
    expect(api.setRoots).toHaveBeenCalledWith("everything", ["/mnt/gone"]);
    expect((await screen.findByTestId("roots-error")).textContent).toBe("There is no folder at /mnt/gone.");
    expect(screen.getByTestId("roots-empty")).toBeTruthy();
  });

  it("lists the server's folders, adds one by path and removes one", async () => {
    const user = userEvent.setup();
    vi.mocked(api.roots).mockResolvedValue(["/home/ada/project"]);
    vi.mocked(api.setRoots).mockImplementation(async (_name, paths) => paths);
    render(<RootsTab server="everything" />);
    expect(await screen.findByText("/home/ada/project")).toBeTruthy();
    expect(api.roots).toHaveBeenCalledWith("everything");

    await user.type(screen.getByTestId("roots-path"), "  /srv/data ");
    await user.click(screen.getByTestId("roots-add"));
    expect(api.setRoots).toHaveBeenCalledWith("everything", ["/home/ada/project", "/srv/data"]);
    expect(await screen.findByText("/srv/data")).toBeTruthy();
    expect((screen.getByTestId("roots-path") as HTMLInputElement).value).toBe("");

    await user.click(screen.getByRole("button", { name: "Remove /home/ada/project" }));
    expect(api.setRoots).toHaveBeenLastCalledWith("everything", ["/srv/data"]);
    await waitFor(() => expect(screen.queryByText("/home/ada/project")).toBeNull());
  });

  it("shows Latch's reason when a path is not a folder, and keeps what was typed", async () => {
    const user = userEvent.setup();
    vi.mocked(api.roots).mockResolvedValue([]);
    vi.mocked(api.setRoots).mockRejectedValue({ kind: "roots", message: "There is no folder at /nope." });
    render(<RootsTab server="everything" />);
    expect(await screen.findByTestId("roots-empty")).toBeTruthy();
    await user.click(screen.getByTestId("roots-add"));
    expect(screen.getByTestId("roots-error").textContent).toBe("Type the full path of a folder.");
    expect(api.setRoots).not.toHaveBeenCalled();
    await user.type(screen.getByTestId("roots-path"), "/nope");
    await user.click(screen.getByTestId("roots-add"));
    expect(screen.getByTestId("roots-error").textContent).toBe("There is no folder at /nope.");
    expect((screen.getByTestId("roots-path") as HTMLInputElement).value).toBe("/nope");
    expect(screen.getByTestId("roots-empty")).toBeTruthy();
  });
});
