import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ExportPlanView } from "../../bindings/ExportPlanView";
import * as api from "../../tauri/api";
import { UseInDialog } from "./UseInDialog";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const DIFF = `--- /home/me/.config/Claude/claude_desktop_config.json
+++ /home/me/.config/Claude/claude_desktop_config.json
@@ -1,3 +1,9 @@
 {
-  "mcpServers": {}
+  "mcpServers": {
+    "notion": {
+      "command": "/usr/local/bin/latch",
+      "args": ["bridge", "notion"]
+    }
+  }
 }
`;

const plan = (patch: Partial<ExportPlanView> = {}): ExportPlanView => ({
  app: "claude",
  path: "/home/me/.config/Claude/claude_desktop_config.json",
  diff: DIFF,
  added: ["notion"],
  updated: [],
  unchanged: [],
  conflicts: [],
  latch: "/usr/local/bin/latch",
  problem: null,
  ...patch,
});

describe("Use in… dialog", () => {
  beforeEach(() => {
    vi.mocked(api.planExport).mockReset();
    vi.mocked(api.applyExport).mockReset();
  });

  it("shows the diff and the file, and writes only on Write", async () => {
    const user = userEvent.setup();
    vi.mocked(api.planExport).mockResolvedValue(plan());
    vi.mocked(api.applyExport).mockResolvedValue({ path: plan().path, backup: `${plan().path}.latch-backup-1700000000`, written: true });
    render(<UseInDialog names={["notion"]} onClose={() => undefined} />);

    expect(screen.queryByTestId("use-in-write")).toBeNull();
    await user.click(screen.getByTestId("use-in-claude"));
    expect(api.planExport).toHaveBeenCalledWith("claude", ["notion"]);
    expect(await screen.findByTestId("use-in-path")).toHaveTextContent(plan().path);
    const diff = screen.getByTestId("use-in-diff");
    expect(diff.tagName).toBe("PRE");
    // Shown as text, exactly (never as HTML).
    expect(diff.textContent).toBe(DIFF);
    expect(api.applyExport).not.toHaveBeenCalled();

    await user.click(screen.getByTestId("use-in-write"));
    expect(api.applyExport).toHaveBeenCalledWith("claude", ["notion"], DIFF);
    expect(await screen.findByTestId("use-in-done")).toHaveTextContent("latch-backup-1700000000");
  });

  it("Cancel closes without writing", async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    vi.mocked(api.planExport).mockResolvedValue(plan({ app: "vscode", path: "/home/me/.config/Code/User/mcp.json" }));
    render(<UseInDialog names={[]} onClose={onClose} />);
    await user.click(screen.getByTestId("use-in-vscode"));
    expect(api.planExport).toHaveBeenCalledWith("vscode", []);
    await screen.findByTestId("use-in-diff");
    await user.click(screen.getByTestId("use-in-cancel"));
    expect(onClose).toHaveBeenCalled();
    expect(api.applyExport).not.toHaveBeenCalled();
  });

  it("says when the latch command is missing and cannot write", async () => {
    const user = userEvent.setup();
    vi.mocked(api.planExport).mockResolvedValue(plan({ diff: "", added: [], latch: null, problem: "Latch could not find the `latch` command." }));
    render(<UseInDialog names={["notion"]} onClose={() => undefined} />);
    await user.click(screen.getByTestId("use-in-cursor"));
    expect(await screen.findByTestId("use-in-problem")).toHaveTextContent("could not find");
    expect(screen.getByTestId("use-in-write")).toBeDisabled();
  });

  it("shows conflicts, nothing-to-change, and errors from the shell", async () => {
    const user = userEvent.setup();
    vi.mocked(api.planExport).mockResolvedValueOnce(plan({ diff: "", added: [], conflicts: ["notion"] }));
    render(<UseInDialog names={["notion"]} onClose={() => undefined} />);
    await user.click(screen.getByTestId("use-in-claude"));
    expect(await screen.findByTestId("use-in-conflicts")).toHaveTextContent("notion");
    expect(screen.getByTestId("use-in-nothing")).toBeInTheDocument();
    expect(screen.getByTestId("use-in-write")).toBeDisabled();

    vi.mocked(api.planExport).mockRejectedValueOnce({ kind: "config", message: "/x/mcp.json:3:26: trailing comma — fix the file (Latch will not overwrite it)" });
    await user.click(screen.getByTestId("use-in-vscode"));
    expect(await screen.findByTestId("use-in-error")).toHaveTextContent("3:26");
    expect(screen.queryByTestId("use-in-write")).toBeNull();
  });

  it("a file changed since the plan is reported, not overwritten", async () => {
    const user = userEvent.setup();
    vi.mocked(api.planExport).mockResolvedValue(plan());
    vi.mocked(api.applyExport).mockRejectedValue({ kind: "changed", message: "The file changed since you looked at it — nothing was written." });
    render(<UseInDialog names={["notion"]} onClose={() => undefined} />);
    await user.click(screen.getByTestId("use-in-claude"));
    await user.click(await screen.findByTestId("use-in-write"));
    expect(await screen.findByTestId("use-in-error")).toHaveTextContent("nothing was written");
    expect(screen.queryByTestId("use-in-done")).toBeNull();
  });
});
