import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { PromptView } from "../../bindings/PromptView";
import { serverView } from "../../test/fixtures";
import * as api from "../../tauri/api";
import { PromptsTab } from "./Prompts";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));
vi.mock("../../tauri/events", () => ({ onAppEvent: async () => () => undefined }));

const connected = serverView("everything", { state: { state: "connected" } as never });

const prompts: PromptView[] = [
  { name: "simple-prompt", title: "Simple Prompt", description: "A prompt with no arguments", arguments: [] },
  {
    name: "completable-prompt",
    title: "Team Management",
    description: "First argument choice narrows values for second argument.",
    arguments: [
      { name: "department", title: null, description: "Choose the department.", required: true },
      { name: "name", title: null, description: "Choose a team member.", required: true },
      { name: "note", title: "Note", description: null, required: false },
    ],
  },
];

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

beforeEach(() => {
  for (const f of [api.listPrompts, api.getPrompt, api.complete]) vi.mocked(f).mockReset();
  vi.mocked(api.listPrompts).mockResolvedValue(prompts);
  vi.mocked(api.complete).mockImplementation(async (_s, _t, argument, prefix, context) => ({
    values: (argument === "department" ? ["Engineering", "Sales"] : context?.department === "Engineering" ? ["Alice", "Bob"] : []).filter((v) => v.startsWith(prefix)),
    total: null,
    hasMore: false,
  }));
});

describe("the Prompts tab", () => {
  it("lists the prompts with their arguments, the required ones marked", async () => {
    render(<PromptsTab server={connected} />);
    expect(await screen.findByTestId("prompt-count")).toHaveTextContent("2 prompts");
    const card = screen.getByTestId("prompt-completable-prompt");
    expect(card).toHaveTextContent("Team Management");
    expect(card).toHaveTextContent("completable-prompt");
    expect(within(card).getAllByLabelText("required")).toHaveLength(2);
    expect(card).toHaveTextContent("note");
  });

  it("fills the arguments with suggestions, gets the messages and copies them as JSON", async () => {
    vi.mocked(api.getPrompt).mockResolvedValue({
      description: null,
      messages: [
        { role: "user", content: { type: "text", text: "Please promote Alice to the head of the Engineering team." } },
        { role: "assistant", content: { type: "image", mimeType: "image/png", data: PNG } },
        { role: "user", content: { type: "resource", resource: { uri: "demo://resource/dynamic/text/1", mimeType: "text/plain", text: "Resource 1 text" } } },
      ],
    });
    const user = userEvent.setup();
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(<PromptsTab server={connected} />);
    await user.click(await screen.findByTestId("prompt-completable-prompt"));
    expect(screen.getByTestId("prompt-get")).toBeDisabled();
    expect(screen.getByText("Fill in department, name first.")).toBeInTheDocument();

    await user.type(screen.getByTestId("prompt-arg-department-input"), "Eng");
    await user.click(within(await screen.findByTestId("prompt-arg-department-suggestions")).getByRole("option", { name: "Engineering" }));
    await user.type(screen.getByTestId("prompt-arg-name-input"), "A");
    await screen.findByTestId("prompt-arg-name-suggestions");
    expect(api.complete).toHaveBeenLastCalledWith("everything", { kind: "prompt", name: "completable-prompt" }, "name", "A", { department: "Engineering" });
    await user.keyboard("{ArrowDown}{Enter}");
    expect(screen.getByTestId("prompt-arg-name-input")).toHaveValue("Alice");

    await user.click(screen.getByTestId("prompt-get"));
    expect(api.getPrompt).toHaveBeenCalledWith("everything", "completable-prompt", { department: "Engineering", name: "Alice" });
    const messages = await screen.findAllByTestId("prompt-message");
    expect(messages).toHaveLength(3);
    expect(messages[0]).toHaveTextContent("User");
    expect(messages[0]).toHaveTextContent("Please promote Alice to the head of the Engineering team.");
    expect(messages[1]).toHaveTextContent("Assistant");
    expect(within(messages[1]).getByRole("img")).toHaveAttribute("src", `data:image/png;base64,${PNG}`);
    expect(messages[2]).toHaveTextContent("demo://resource/dynamic/text/1");
    expect(messages[2]).toHaveTextContent("Resource 1 text");

    await user.click(screen.getByTestId("prompt-copy"));
    expect(writeText).toHaveBeenCalledTimes(1);
    const copied = JSON.parse((writeText.mock.calls[0] as unknown as [string])[0]);
    expect(copied.messages[0].content.text).toBe("Please promote Alice to the head of the Engineering team.");
    expect(screen.getByRole("status")).toHaveTextContent("Copied.");
  });

  it("Escape closes the suggestions, not the field", async () => {
    const user = userEvent.setup();
    render(<PromptsTab server={connected} />);
    await user.click(await screen.findByTestId("prompt-completable-prompt"));
    await user.type(screen.getByTestId("prompt-arg-department-input"), "S");
    await screen.findByTestId("prompt-arg-department-suggestions");
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("prompt-arg-department-suggestions")).toBeNull();
    expect(screen.getByTestId("prompt-arg-department-input")).toHaveValue("S");
  });

  it("shows the server's error in one line, and an empty state", async () => {
    vi.mocked(api.getPrompt).mockRejectedValue({ kind: "notFound", message: "everything has no prompt “simple-prompt”." });
    const user = userEvent.setup();
    render(<PromptsTab server={connected} />);
    await user.click(await screen.findByTestId("prompt-simple-prompt"));
    expect(screen.getByText("This prompt takes no arguments.")).toBeInTheDocument();
    await user.click(screen.getByTestId("prompt-get"));
    expect(await screen.findByTestId("prompt-error")).toHaveTextContent("everything has no prompt “simple-prompt”.");

    vi.mocked(api.listPrompts).mockResolvedValue([]);
    render(<PromptsTab server={serverView("quiet", { state: { state: "connected" } as never })} />);
    expect(await screen.findByTestId("prompts-empty")).toHaveTextContent("This server offers no prompts.");
  });

  it("a server without completions leaves the fields plain", async () => {
    vi.mocked(api.complete).mockRejectedValue({ kind: "call", message: "everything can't complete arguments." });
    const user = userEvent.setup();
    render(<PromptsTab server={connected} />);
    await user.click(await screen.findByTestId("prompt-completable-prompt"));
    await user.type(screen.getByTestId("prompt-arg-department-input"), "Eng");
    expect(screen.getByTestId("prompt-arg-department-input")).toHaveValue("Eng");
    expect(screen.queryByRole("listbox")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
