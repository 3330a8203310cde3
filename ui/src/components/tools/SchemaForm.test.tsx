import { fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { currentValue, FormHarness } from "../../test/FormHarness";
import { defaultsFor, resolveSchema, validate, type Schema } from "../../lib/schema";

const value = () => currentValue(screen.getByTestId("value"));

describe("schema form", () => {
  it("edits strings and reports format, pattern, minLength errors inline once the field is left", async () => {
    const schema: Schema = {
      type: "object",
      properties: {
        email: { type: "string", format: "email", description: "Where to send it" },
        code: { type: "string", pattern: "^[A-Z]{3}$" },
        nick: { type: "string", minLength: 3, maxLength: 5 },
      },
    };
    const user = userEvent.setup();
    render(<FormHarness schema={schema} />);
    expect(screen.getByText("Where to send it")).toBeInTheDocument();
    expect(screen.getByTestId("field-nick")).toHaveAttribute("maxLength", "5");

    await user.type(screen.getByTestId("field-email"), "not-an-email");
    await user.type(screen.getByTestId("field-code"), "ab");
    await user.type(screen.getByTestId("field-nick"), "x");
    await user.tab();
    expect(value()).toEqual({ email: "not-an-email", code: "ab", nick: "x" });
    expect(screen.getByTestId("field-email")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("field-code")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("field-nick")).toHaveAttribute("aria-invalid", "true");

    await user.clear(screen.getByTestId("field-email"));
    await user.type(screen.getByTestId("field-email"), "a@b.co");
    expect(screen.getByTestId("field-email")).not.toHaveAttribute("aria-invalid");
    // An emptied field is left out of the arguments.
    await user.clear(screen.getByTestId("field-code"));
    expect(value()).toEqual({ email: "a@b.co", nick: "x" });
  });

  it("keeps numbers and integers as numbers and checks their bounds", async () => {
    const schema: Schema = {
      type: "object",
      properties: { ratio: { type: "number", minimum: 0, maximum: 1 }, count: { type: "integer", minimum: 1, maximum: 10 } },
    };
    const user = userEvent.setup();
    render(<FormHarness schema={schema} />);
    await user.type(screen.getByTestId("field-ratio"), "0.25");
    await user.type(screen.getByTestId("field-count"), "7");
    expect(value()).toEqual({ ratio: 0.25, count: 7 });

    await user.clear(screen.getByTestId("field-count"));
    await user.type(screen.getByTestId("field-count"), "2.5");
    await user.tab();
    expect(screen.getByTestId("field-count")).toHaveAttribute("aria-invalid", "true");
    await user.clear(screen.getByTestId("field-count"));
    await user.type(screen.getByTestId("field-count"), "11");
    expect(screen.getByTestId("field-count")).toHaveAttribute("aria-invalid", "true");
    await user.clear(screen.getByTestId("field-ratio"));
    await user.type(screen.getByTestId("field-ratio"), "abc");
    await user.tab();
    expect(value()).toMatchObject({ ratio: "abc" });
    expect(screen.getByTestId("field-ratio")).toHaveAttribute("aria-invalid", "true");
  });

  it("edits booleans with a checkbox and enums with a select", async () => {
    const schema: Schema = {
      type: "object",
      properties: { dry: { type: "boolean" }, level: { type: "string", enum: ["low", "mid", "high"] } },
    };
    const user = userEvent.setup();
    render(<FormHarness schema={schema} />);
    await user.click(screen.getByTestId("field-dry"));
    const select = screen.getByTestId("field-level");
    expect(within(select).getAllByRole("option").map((o) => o.textContent)).toEqual(["(none)", "low", "mid", "high"]);
    await user.selectOptions(select, "high");
    expect(value()).toEqual({ dry: true, level: "high" });
    await user.click(screen.getByTestId("field-dry"));
    expect(value()).toEqual({ dry: false, level: "high" });
  });

  it("adds and removes array items and edits nested objects", async () => {
    const schema: Schema = {
      type: "object",
      properties: {
        tags: { type: "array", items: { type: "string" } },
        address: { type: "object", properties: { city: { type: "string" }, zip: { type: "integer" } }, required: ["city"] },
      },
    };
    const user = userEvent.setup();
    render(<FormHarness schema={schema} />);
    await user.click(screen.getByTestId("field-tags-add"));
    await user.click(screen.getByTestId("field-tags-add"));
    await user.type(screen.getByTestId("field-tags.0"), "a");
    await user.type(screen.getByTestId("field-tags.1"), "b");
    await user.type(screen.getByTestId("field-address.city"), "Oslo");
    await user.type(screen.getByTestId("field-address.zip"), "150");
    expect(value()).toEqual({ tags: ["a", "b"], address: { city: "Oslo", zip: 150 } });
    await user.click(screen.getByRole("button", { name: "Remove tags 1" }));
    expect(value()).toEqual({ tags: ["b"], address: { city: "Oslo", zip: 150 } });
    expect(screen.queryByTestId("field-tags.1")).toBeNull();
  });

  it("follows local $ref/$defs and starts from the defaults", () => {
    const schema: Schema = {
      type: "object",
      $defs: { Color: { type: "string", enum: ["red", "green"], default: "green" }, Size: { type: "integer", default: 3 } },
      properties: { color: { $ref: "#/$defs/Color" }, size: { $ref: "#/$defs/Size", description: "How big" }, note: { type: "string", default: "hi" } },
    };
    render(<FormHarness schema={schema} />);
    expect(value()).toEqual({ color: "green", size: 3, note: "hi" });
    expect(screen.getByTestId("field-color").tagName).toBe("SELECT");
    expect((screen.getByTestId("field-color") as HTMLSelectElement).selectedOptions[0].textContent).toBe("green");
    expect(screen.getByTestId("field-size")).toHaveValue("3");
    expect(screen.getByText("How big")).toBeInTheDocument();
    expect(screen.getByTestId("field-note")).toHaveValue("hi");
  });

  it("draws a recursive schema to a bounded depth and offers JSON below it", async () => {
    const schema: Schema = {
      type: "object",
      $defs: { Node: { type: "object", properties: { label: { type: "string" }, child: { $ref: "#/$defs/Node" } } } },
      properties: { root: { $ref: "#/$defs/Node" } },
    };
    render(<FormHarness schema={schema} />);
    const labels = screen.getAllByTestId(/^field-root(\.child)*\.label$/);
    expect(labels.length).toBeGreaterThan(2);
    expect(labels.length).toBeLessThan(10);
    expect(screen.getAllByText(/Nested too deep for the form/).length).toBeGreaterThan(0);
    // A self-referencing ref chain does not hang either.
    expect(resolveSchema({ $ref: "#/$defs/A" }, { $defs: { A: { $ref: "#/$defs/A" } } }).unresolved).toBe("#/$defs/A");
    expect(defaultsFor(schema, schema)).toEqual({ root: { child: { child: { child: { child: { child: {} } } } } } });
  });

  it("marks required fields and says so when submitted empty", async () => {
    const schema: Schema = { type: "object", properties: { query: { type: "string" }, limit: { type: "integer" } }, required: ["query"] };
    const user = userEvent.setup();
    render(<FormHarness schema={schema} />);
    const label = screen.getByText("query").closest("label")!;
    expect(within(label).getByLabelText("required")).toHaveTextContent("*");
    expect(screen.getByTestId("field-query")).toHaveAttribute("aria-required", "true");
    expect(screen.queryByText("Required")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Submit" }));
    expect(screen.getByText("Required")).toBeInTheDocument();
    expect(screen.getByTestId("field-query")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("field-limit")).not.toHaveAttribute("aria-invalid");
    await user.type(screen.getByTestId("field-query"), "x");
    expect(screen.queryByText("Required")).toBeNull();
  });

  it("round-trips between the form and raw JSON", async () => {
    const schema: Schema = { type: "object", properties: { name: { type: "string" }, n: { type: "integer" }, on: { type: "boolean" } } };
    const user = userEvent.setup();
    render(<FormHarness schema={schema} />);
    await user.type(screen.getByTestId("field-name"), "alpha");
    await user.type(screen.getByTestId("field-n"), "4");
    await user.click(screen.getByTestId("mode-json"));
    const raw = screen.getByTestId("raw-json") as HTMLTextAreaElement;
    expect(JSON.parse(raw.value)).toEqual({ name: "alpha", n: 4 });

    fireEvent.change(raw, { target: { value: '{"name": "beta", "n": 9, "on": true}' } });
    expect(value()).toEqual({ name: "beta", n: 9, on: true });
    // Broken JSON is reported and keeps the form closed until fixed.
    fireEvent.change(raw, { target: { value: '{"name": ' } });
    expect(screen.getByText(/Not valid JSON/)).toBeInTheDocument();
    expect(screen.getByTestId("mode-form")).toBeDisabled();
    fireEvent.change(raw, { target: { value: '{"name": "gamma", "n": 9, "on": true}' } });
    await user.click(screen.getByTestId("mode-form"));
    expect(screen.getByTestId("field-name")).toHaveValue("gamma");
    expect(screen.getByTestId("field-n")).toHaveValue("9");
    expect(screen.getByTestId("field-on")).toBeChecked();
  });
});

describe("validate", () => {
  it("puts a missing required property on that property, and never compiles code", () => {
    const schema: Schema = { type: "object", properties: { a: { type: "object", properties: { b: { type: "string" } }, required: ["b"] } }, required: ["a"] };
    expect(validate(schema, {})).toEqual({ a: ["Required"] });
    expect(validate(schema, { a: {} })).toEqual({ "a/b": ["Required"] });
    expect(validate(schema, { a: { b: "x" } })).toEqual({});
    expect(validate(schema, { a: { b: 1 } })["a/b"][0]).toMatch(/string/);
  });
});
