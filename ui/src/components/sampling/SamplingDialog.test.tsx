import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { applyEvent, initialState, store, type SamplingRequestEvent } from "../../state/store";
import * as api from "../../tauri/api";
import { PERSON_MODEL, SamplingDialog } from "./SamplingDialog";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const request: SamplingRequestEvent = {
  type: "sampling",
  id: "sample-1",
  server: "everything",
  request: {
    messages: [
      { role: "user", text: "Resource sampleLLM context: What is MCP?" },
      { role: "assistant", text: "[image, image/png]" },
    ],
    systemPrompt: "You are a helpful test server.",
    modelPreferences: { hints: [{ name: "claude-3-sonnet" }], speedPriority: 0.5 },
    maxTokens: 100,
    tools: [{ name: "get_weather", description: "Weather for a city", inputSchema: { type: "object" } }],
  },
};

const ask = (r: SamplingRequestEvent = request) => act(() => store.update((s) => applyEvent(s, r)));

describe("a server asks for a model reply", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.answerSampling).mockReset();
    vi.mocked(api.answerSampling).mockResolvedValue(undefined);
  });

  it("shows what the server asks: conversation, system prompt, preferences, limit and tools", () => {
    render(<SamplingDialog />);
    expect(screen.queryByTestId("sampling-dialog")).toBeNull();
    ask();
    expect(screen.getByText("everything asks for a model reply")).toBeTruthy();
    expect(screen.getByTestId("sampling-system").textContent).toBe("You are a helpful test server.");
    const messages = screen.getByTestId("sampling-messages").querySelectorAll("li");
    expect(messages).toHaveLength(2);
    expect(messages[0].textContent).toContain("user");
    expect(messages[0].textContent).toContain("What is MCP?");
    expect(messages[1].textContent).toContain("[image, image/png]");
    const facts = screen.getByTestId("sampling-facts").textContent ?? "";
    expect(facts).toContain("100 tokens");
    expect(facts).toContain("claude-3-sonnet");
    expect(facts).toContain("speed 0.5");
    expect(screen.getByTestId("sampling-tools").textContent).toContain("get_weather");
  });

  it("sends the reply the person wrote, with the model name they chose", async () => {
    const user = userEvent.setup();
    render(<SamplingDialog />);
    ask();
    await user.click(screen.getByTestId("sampling-send"));
    expect(screen.getByRole("alert").textContent).toContain("Write a reply");
    expect(api.answerSampling).not.toHaveBeenCalled();
    await user.type(screen.getByTestId("sampling-reply"), "MCP connects models to tools.");
    expect((screen.getByTestId("sampling-model") as HTMLInputElement).value).toBe(PERSON_MODEL);
    await user.click(screen.getByTestId("sampling-send"));
    expect(api.answerSampling).toHaveBeenCalledWith("sample-1", { action: "reply", text: "MCP connects models to tools.", model: PERSON_MODEL });
    await waitFor(() => expect(screen.queryByTestId("sampling-dialog")).toBeNull());
  });

  it("declines, and shows the next request after that", async () => {
    const user = userEvent.setup();
    render(<SamplingDialog />);
    ask();
    ask({ ...request, id: "sample-2", server: "other", request: { ...request.request, systemPrompt: null, tools: [] } });
    await user.click(screen.getByTestId("sampling-decline"));
    expect(api.answerSampling).toHaveBeenCalledWith("sample-1", { action: "decline" });
    expect(screen.getByText("other asks for a model reply")).toBeTruthy();
    expect(screen.queryByTestId("sampling-system")).toBeNull();
    expect(screen.queryByTestId("sampling-tools")).toBeNull();
  });
});
