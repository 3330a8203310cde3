import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../../tauri/api";
import { Markdown } from "./Markdown";
import { OpenLinkProvider } from "./OpenLink";
import { ContentItem, TextContent } from "../tools/Results";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const HOSTILE = [
  "<script>window.__pwned = 1</script>",
  '<img src=x onerror="window.__pwned = 1">',
  "[x](javascript:alert(1))",
  "<a href=\"javascript:alert(1)\">click</a>",
  "[y](JaVaScRiPt:alert(1)) and [z]( javascript:alert(1))",
  "![pic](javascript:alert(1)) ![svg](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=) ![remote](https://evil.example/x.png)",
  "window.__TAURI_INTERNALS__.invoke('remove_server', {name: 'notion'})",
  "<iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>",
  "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "<svg onload=alert(1)><circle/></svg>",
];

function assertInert(container: HTMLElement) {
  expect(container.querySelector("script, iframe, style, svg, object, embed")).toBeNull();
  for (const el of Array.from(container.querySelectorAll("*"))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith("on"), `${el.tagName} has ${attr.name}`).toBe(false);
      expect(attr.value.replace(/\s/g, "").toLowerCase()).not.toContain("javascript:");
    }
  }
  for (const a of Array.from(container.querySelectorAll("a"))) {
    // Links are buttons that confirm first; no <a href> reaches the page.
    expect(a.getAttribute("href")).toBeNull();
  }
  for (const img of Array.from(container.querySelectorAll("img"))) {
    expect(img.getAttribute("src")).toMatch(/^data:image\/(png|jpeg|gif|webp);base64,/);
  }
}

describe("markdown from a server", () => {
  beforeEach(() => {
    (window as unknown as { __pwned?: number }).__pwned = undefined;
    vi.mocked(api.openExternal).mockReset().mockResolvedValue(undefined);
  });

  for (const payload of HOSTILE) {
    it(`renders inert: ${payload.slice(0, 40)}`, () => {
      const { container } = render(
        <OpenLinkProvider>
          <Markdown text={payload} />
          <TextContent text={payload} />
        </OpenLinkProvider>,
      );
      assertInert(container);
      expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    });
  }

  it("keeps the TAURI invoke string as plain text", () => {
    const { container } = render(<Markdown text="run `x` then window.__TAURI_INTERNALS__.invoke('remove_server', {name: 'notion'})" />);
    expect(container.textContent).toContain("TAURI_INTERNALS");
    expect(container.textContent).toContain("invoke('remove_server', {name: 'notion'})");
    expect(api.removeServer).not.toHaveBeenCalled();
  });

  it("shows a javascript: link as text, not a link", () => {
    const { container } = render(
      <OpenLinkProvider>
        <Markdown text="[x](javascript:alert(1))" />
      </OpenLinkProvider>,
    );
    expect(screen.getByText("x").tagName).toBe("SPAN");
    expect(container.querySelector("button")).toBeNull();
  });

  it("opens an https link only after the person confirms the full URL", async () => {
    const user = userEvent.setup();
    render(
      <OpenLinkProvider>
        <Markdown text="See [the docs](https://example.com/a?b=1)." />
      </OpenLinkProvider>,
    );
    await user.click(screen.getByRole("button", { name: "the docs" }));
    expect(screen.getByText("Open this link in your browser?")).toBeInTheDocument();
    expect(screen.getByTestId("open-link-url")).toHaveTextContent("https://example.com/a?b=1");
    expect(api.openExternal).not.toHaveBeenCalled();
    await user.click(screen.getByTestId("confirm-ok"));
    expect(api.openExternal).toHaveBeenCalledWith("https://example.com/a?b=1");
  });

  it("does not open the link when the person cancels", async () => {
    const user = userEvent.setup();
    render(
      <OpenLinkProvider>
        <Markdown text="[docs](https://example.com/)" />
      </OpenLinkProvider>,
    );
    await user.click(screen.getByRole("button", { name: "docs" }));
    await user.click(screen.getByTestId("confirm-cancel"));
    expect(screen.queryByText("Open this link in your browser?")).toBeNull();
    expect(api.openExternal).not.toHaveBeenCalled();
  });

  it("renders a text result with hostile HTML as text", () => {
    const { container } = render(
      <OpenLinkProvider>
        <ContentItem item={{ type: "text", text: '<img src=x onerror="window.__pwned=1"> plain' }} />
      </OpenLinkProvider>,
    );
    assertInert(container);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toContain("<img src=x onerror=");
  });
});

describe("images in results", () => {
  const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  it.each(["image/png", "image/jpeg", "image/gif", "image/webp"])("shows %s as a data: URL", (mime) => {
    render(<ContentItem item={{ type: "image", data: PNG, mimeType: mime }} />);
    expect(screen.getByTestId("result-image")).toHaveAttribute("src", `data:${mime};base64,${PNG}`);
  });
  it.each(["image/svg+xml", "text/html", "image/x-icon", ""])("never shows %s", (mime) => {
    const { container } = render(<ContentItem item={{ type: "image", data: PNG, mimeType: mime }} />);
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByTestId("image-blocked")).toBeInTheDocument();
  });
  it("refuses data that is not base64", () => {
    const { container } = render(<ContentItem item={{ type: "image", data: 'x" onerror="alert(1)', mimeType: "image/png" }} />);
    expect(container.querySelector("img")).toBeNull();
  });
  it("plays allowed audio and shows resource links through the confirmation", () => {
    const { container } = render(
      <OpenLinkProvider>
        <ContentItem item={{ type: "audio", data: "UklGRg==", mimeType: "audio/wav" }} />
        <ContentItem item={{ type: "resourceLink", uri: "javascript:alert(1)", name: "bad" }} />
        <ContentItem item={{ type: "resourceLink", uri: "https://example.com/file", name: "good" }} />
      </OpenLinkProvider>,
    );
    expect(screen.getByTestId("result-audio")).toHaveAttribute("src", "data:audio/wav;base64,UklGRg==");
    expect(screen.getByText("javascript:alert(1)").tagName).toBe("SPAN");
    expect(screen.getByRole("button", { name: "https://example.com/file" })).toBeInTheDocument();
    assertInert(container);
  });
});
