import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AppEvent } from "../../bindings/AppEvent";
import type { CallRecord } from "../../bindings/CallRecord";
import type { ResourceRead } from "../../bindings/ResourceRead";
import { serverView } from "../../test/fixtures";
import * as api from "../../tauri/api";
import { OpenLinkProvider } from "../shared/OpenLink";
import { CallBlock } from "../tools/Results";
import { ResourceLinkProvider } from "./ResourceLinks";
import { defaultSavePath, fileNameFor, ResourceViewer } from "./ResourceViewer";
import { ResourcesTab } from "./Resources";
import { tokenizeJson } from "./highlight";
import { expandTemplate, templateVariables } from "./uriTemplate";

const events = vi.hoisted(() => ({ handlers: [] as ((e: unknown) => void)[] }));

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));
vi.mock("../../tauri/events", () => ({
  onAppEvent: async (h: (e: unknown) => void) => {
    events.handlers.push(h);
    return () => {
      events.handlers = events.handlers.filter((x) => x !== h);
    };
  },
}));

const emit = (e: AppEvent) => act(() => events.handlers.forEach((h) => h(e)));

const connected = serverView("everything", { state: { state: "connected" } as never });

const text = (uri: string, body: string, mimeType = "text/plain"): ResourceRead => ({ contents: [{ uri, mimeType, text: body }] });

beforeEach(() => {
  events.handlers = [];
  for (const f of [api.listResources, api.readResource, api.complete, api.subscribeResource, api.unsubscribeResource, api.saveResource, api.settings, api.chooseSavePath]) vi.mocked(f).mockReset();
  vi.mocked(api.settings).mockResolvedValue({ configPath: "/home/ada/.config/latch/config.json" } as never);
  vi.mocked(api.subscribeResource).mockResolvedValue(undefined as never);
  vi.mocked(api.unsubscribeResource).mockResolvedValue(undefined as never);
});

describe("URI templates", () => {
  it("names the variables and expands the operators", () => {
    expect(templateVariables("demo://resource/dynamic/text/{resourceId}")).toEqual(["resourceId"]);
    expect(templateVariables("file:///{+path}{?q,lang}{#frag}")).toEqual(["path", "q", "lang", "frag"]);
    expect(expandTemplate("demo://r/{id}", { id: "a b/c" })).toBe("demo://r/a%20b%2Fc");
    expect(expandTemplate("file:///{+path}", { path: "a/b c" })).toBe("file:///a/b%20c");
    expect(expandTemplate("x://s{?q,lang}", { q: "cats", lang: "" })).toBe("x://s?q=cats");
    expect(expandTemplate("x://s{/a,b}{.ext}", { a: "1", b: "2", ext: "json" })).toBe("x://s/1/2.json");
    expect(expandTemplate("x://{id:3}", { id: "abcdef" })).toBe("x://abc");
  });

  it("cuts JSON into tokens that keep every character", () => {
    const src = JSON.stringify({ a: [1, true, null, "x"] }, null, 2);
    const tokens = tokenizeJson(src);
    expect(tokens.map((t) => t.text).join("")).toBe(src);
    expect(tokens.find((t) => t.kind === "key")?.text).toBe('"a"');
    expect(tokens.filter((t) => t.kind === "literal").map((t) => t.text)).toEqual(["true", "null"]);
  });

  it("picks a file name and a Downloads path", () => {
    expect(fileNameFor("demo://resource/static/document/features.md")).toBe("features.md");
    expect(fileNameFor("demo://")).toBe("resource");
    expect(defaultSavePath("x://a/b.bin", "/home/ada/.config/latch/config.json")).toBe("/home/ada/Downloads/b.bin");
    expect(defaultSavePath("x://a/b.bin", "C:\\Users\\ada\\AppData\\latch\\config.json")).toBe("C:\\Users\\ada\\Downloads\\b.bin");
    expect(defaultSavePath("x://a/b.bin", "/etc/latch/config.json")).toBe("~/Downloads/b.bin");
  });
});

describe("the Resources tab", () => {
  it("lists resources and templates with a count, and reads one as highlighted JSON", async () => {
    vi.mocked(api.listResources).mockResolvedValue({
      resources: [
        { uri: "demo://config.json", name: "config.json", title: "The config", description: "Settings", mimeType: "application/json", size: 2048 },
        { uri: "demo://readme.md", name: "readme.md", title: null, description: null, mimeType: "text/markdown", size: null },
      ],
      templates: [{ uriTemplate: "demo://item/{id}", name: "Item", title: null, description: "One item", mimeType: "text/plain" }],
    });
    vi.mocked(api.readResource).mockResolvedValue(text("demo://config.json", '{"port": 8080, "debug": true}', "application/json"));
    const user = userEvent.setup();
    render(<ResourcesTab server={connected} />);
    expect(await screen.findByTestId("resource-count")).toHaveTextContent("2 resources · 1 template");
    const card = screen.getByTestId("resource-demo://config.json");
    expect(card).toHaveTextContent("The config");
    expect(card).toHaveTextContent("application/json · 2.0 KB");
    expect(screen.queryByTestId("resource-filter")).toBeNull();
    await user.click(card);
    const json = await screen.findByTestId("resource-json");
    expect(api.readResource).toHaveBeenCalledWith("everything", "demo://config.json");
    expect(json.textContent).toBe('{\n  "port": 8080,\n  "debug": true\n}');
    expect(json.querySelector(".hl-key")).toHaveTextContent('"port"');
    expect(json.querySelector(".hl-number")).toHaveTextContent("8080");
  });

  it("renders markdown safely, with its source a click away", async () => {
    vi.mocked(api.readResource).mockResolvedValue(text("demo://readme.md", "# Hello\n\n<script>alert(1)</script>\n\n**bold**", "text/markdown"));
    const user = userEvent.setup();
    const { container } = render(<ResourceViewer server="everything" uri="demo://readme.md" />);
    expect(await screen.findByRole("heading", { name: "Hello" })).toBeInTheDocument();
    expect(container.querySelector("script")).toBeNull();
    await user.click(screen.getByTestId("markdown-source"));
    expect(screen.getByTestId("resource-text")).toHaveTextContent("# Hello");
  });

  it("shows images, decodes text blobs and offers other binary data as a file to save", async () => {
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    vi.mocked(api.readResource).mockResolvedValue({
      contents: [
        { uri: "demo://a.png", mimeType: "image/png", blob: png },
        { uri: "demo://b.txt", mimeType: "text/plain", blob: btoa("Resource 2: plain words") },
        { uri: "demo://c.bin", mimeType: "application/octet-stream", blob: btoa("\u0000\u0001\u0002\u0003") },
      ],
    });
    vi.mocked(api.saveResource).mockResolvedValue(4 as never);
    const user = userEvent.setup();
    render(<ResourceViewer server="everything" uri="demo://bundle" />);
    expect(await screen.findByTestId("resource-image")).toHaveAttribute("src", `data:image/png;base64,${png}`);
    expect(screen.getByTestId("resource-text")).toHaveTextContent("Resource 2: plain words");
    expect(screen.getByTestId("resource-binary")).toHaveTextContent("application/octet-stream (4 bytes)");
    const path = screen.getByTestId("resource-save-path");
    await waitFor(() => expect(path).toHaveValue("/home/ada/Downloads/c.bin"));
    await user.clear(path);
    await user.type(path, "/tmp/out.bin");
    await user.click(screen.getByTestId("resource-save"));
    expect(api.saveResource).toHaveBeenCalledWith("everything", "demo://c.bin", "/tmp/out.bin");
    expect(await screen.findByRole("status")).toHaveTextContent("Saved 4 bytes to /tmp/out.bin.");
  });

  it("saves binary data where the system save dialog says, and nowhere when it is cancelled", async () => {
    vi.mocked(api.readResource).mockResolvedValue({ contents: [{ uri: "demo://c.bin", mimeType: "application/octet-stream", blob: btoa("\u0000\u0001\u0002") }] });
    vi.mocked(api.saveResource).mockResolvedValue(3 as never);
    vi.mocked(api.chooseSavePath).mockResolvedValueOnce(null).mockResolvedValueOnce("/home/ada/Desktop/c.bin");
    const user = userEvent.setup();
    render(<ResourceViewer server="everything" uri="demo://c.bin" />);
    const path = await screen.findByTestId("resource-save-path");
    await waitFor(() => expect(path).toHaveValue("/home/ada/Downloads/c.bin"));

    await user.click(screen.getByRole("button", { name: "Save…" }));
    expect(api.chooseSavePath).toHaveBeenLastCalledWith("/home/ada/Downloads/c.bin", expect.any(String));
    expect(api.saveResource).not.toHaveBeenCalled();
    expect(path).toHaveValue("/home/ada/Downloads/c.bin");
    expect(screen.queryByRole("status")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Save…" }));
    expect(api.saveResource).toHaveBeenCalledWith("everything", "demo://c.bin", "/home/ada/Desktop/c.bin");
    expect(await screen.findByRole("status")).toHaveTextContent("Saved 3 bytes to /home/ada/Desktop/c.bin.");
    expect(path).toHaveValue("/home/ada/Desktop/c.bin");
  });

  it("says in one line when a read fails, and when the server offers nothing", async () => {
    vi.mocked(api.readResource).mockRejectedValue({ kind: "notFound", message: "everything has no resource demo://x (it said: Unknown resource)." });
    render(<ResourceViewer server="everything" uri="demo://x" />);
    expect(await screen.findByTestId("resource-error")).toHaveTextContent("everything has no resource demo://x (it said: Unknown resource).");

    vi.mocked(api.listResources).mockResolvedValue({ resources: [], templates: [] });
    render(<ResourcesTab server={connected} />);
    expect(await screen.findByTestId("resources-empty")).toHaveTextContent("This server offers no resources.");
  });

  it("asks to connect before listing", () => {
    render(<ResourcesTab server={serverView("notion")} />);
    expect(screen.getByText("Connect to see this server's resources.")).toBeInTheDocument();
    expect(api.listResources).not.toHaveBeenCalled();
  });

  it("filters a long list", async () => {
    vi.mocked(api.listResources).mockResolvedValue({
      resources: Array.from({ length: 12 }, (_, i) => ({ uri: `demo://r/${i}`, name: `file-${i}${i % 3 === 0 ? ".json" : ".txt"}`, title: null, description: null, mimeType: null, size: null })),
      templates: [],
    });
    const user = userEvent.setup();
    render(<ResourcesTab server={connected} />);
    await user.type(await screen.findByTestId("resource-filter"), "json");
    expect(screen.getByTestId("resource-count")).toHaveTextContent("4 of 12 match");
    expect(within(screen.getByTestId("resource-list")).getAllByRole("button")).toHaveLength(4);
  });

  it("fills a template with the server's suggestions, the other fields as context, then reads it", async () => {
    vi.mocked(api.listResources).mockResolvedValue({
      resources: [],
      templates: [{ uriTemplate: "demo://team/{department}/{name}", name: "Member", title: "Team member", description: null, mimeType: null }],
    });
    vi.mocked(api.complete).mockImplementation(async (_s, _t, argument, prefix) => ({
      values: (argument === "department" ? ["Engineering", "Sales"] : ["Alice", "Bob"]).filter((v) => v.startsWith(prefix)),
      total: null,
      hasMore: false,
    }));
    vi.mocked(api.readResource).mockResolvedValue(text("demo://team/Engineering/Alice", "Alice leads Engineering"));
    const user = userEvent.setup();
    render(<ResourcesTab server={connected} />);
    await user.click(await screen.findByTestId("template-demo://team/{department}/{name}"));
    expect(screen.getByTestId("template-read")).toBeDisabled();
    await user.type(screen.getByTestId("template-var-department-input"), "E");
    const list = await screen.findByTestId("template-var-department-suggestions");
    expect(within(list).getAllByRole("option").map((o) => o.textContent)).toEqual(["Engineering"]);
    expect(api.complete).toHaveBeenLastCalledWith("everything", { kind: "template", uri: "demo://team/{department}/{name}" }, "department", "E", {});
    await user.keyboard("{ArrowDown}{Enter}");
    expect(screen.getByTestId("template-var-department-input")).toHaveValue("Engineering");
    await user.type(screen.getByTestId("template-var-name-input"), "A");
    await screen.findByTestId("template-var-name-suggestions");
    expect(api.complete).toHaveBeenLastCalledWith("everything", { kind: "template", uri: "demo://team/{department}/{name}" }, "name", "A", { department: "Engineering" });
    await user.click(within(screen.getByTestId("template-var-name-suggestions")).getByRole("option", { name: "Alice" }));
    expect(screen.getByTestId("template-uri")).toHaveTextContent("demo://team/Engineering/Alice");
    await user.click(screen.getByTestId("template-read"));
    expect(await screen.findByText("Alice leads Engineering")).toBeInTheDocument();
    expect(api.readResource).toHaveBeenCalledWith("everything", "demo://team/Engineering/Alice");
  });

  it("follows updates: re-reads on resourceUpdated, says when, and stops when left", async () => {
    let n = 0;
    vi.mocked(api.readResource).mockImplementation(async (_s, uri) => text(uri, `version ${++n}`));
    const user = userEvent.setup();
    const { unmount } = render(<ResourceViewer server="everything" uri="demo://live" />);
    expect(await screen.findByText("version 1")).toBeInTheDocument();
    await user.click(screen.getByTestId("resource-subscribe"));
    expect(api.subscribeResource).toHaveBeenCalledWith("everything", "demo://live");
    await waitFor(() => expect(events.handlers.length).toBe(1));
    emit({ type: "resourceUpdated", server: "other", uri: "demo://live" });
    emit({ type: "resourceUpdated", server: "everything", uri: "demo://other" });
    emit({ type: "resourceUpdated", server: "everything", uri: "demo://live" });
    expect(await screen.findByText("version 2")).toBeInTheDocument();
    expect(screen.getByTestId("resource-updated")).toHaveTextContent(/^Updated \d\d:\d\d:\d\d$/);
    expect(api.readResource).toHaveBeenCalledTimes(2);
    unmount();
    expect(api.unsubscribeResource).toHaveBeenCalledWith("everything", "demo://live");
    expect(events.handlers).toHaveLength(0);
  });

  it("opens a resource link from a tool result in the viewer", async () => {
    vi.mocked(api.readResource).mockResolvedValue(text("demo://resource/dynamic/text/2", "Resource 2: This is a plaintext resource"));
    const record = {
      id: "1",
      server: "everything",
      tool: "get-resource-links",
      arguments: {},
      status: "ok",
      startedAt: 0,
      durationMs: 5,
      error: null,
      result: { isError: false, content: [{ type: "resourceLink", uri: "demo://resource/dynamic/text/2", name: "Text Resource 2", mimeType: "text/plain" }], structuredContent: null },
    } as unknown as CallRecord;
    const user = userEvent.setup();
    render(
      <OpenLinkProvider>
        <ResourceLinkProvider server="everything">
          <CallBlock record={record} defaultOpen />
        </ResourceLinkProvider>
      </OpenLinkProvider>,
    );
    await user.click(screen.getByTestId("open-resource-link"));
    const modal = await screen.findByTestId("resource-modal");
    expect(await within(modal).findByText("Resource 2: This is a plaintext resource")).toBeInTheDocument();
    expect(within(modal).getByTestId("viewer-uri")).toHaveTextContent("demo://resource/dynamic/text/2");
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("resource-modal")).toBeNull();
  });
});
