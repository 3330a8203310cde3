import { describe, expect, it } from "vitest";
import { plainText } from "./views";

describe("plainText", () => {
  it("drops markdown marks, link targets and tags but keeps the words", () => {
    expect(plainText("Adds `a` and **b** — see [the docs](https://x.example).")).toBe("Adds a and b — see the docs.");
    expect(plainText("# Title\n<img src=x onerror=alert(1)>text")).toBe("Title text");
    expect(plainText("[click](javascript:alert(1))")).toBe("click");
  });
});
