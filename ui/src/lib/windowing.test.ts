import { describe, expect, it } from "vitest";
import { FIRST_ESTIMATE_PX, layoutOf, rangeOf } from "./windowing";

describe("windowing", () => {
  it("lays out measured items and counts the others as the average measured height", () => {
    const keys = ["a", "b", "c", "d"];
    expect(Array.from(layoutOf(keys, new Map(), 8).sizes)).toEqual([FIRST_ESTIMATE_PX, FIRST_ESTIMATE_PX, FIRST_ESTIMATE_PX, FIRST_ESTIMATE_PX]);
    const layout = layoutOf(keys, new Map([["a", 100], ["c", 50]]), 8);
    expect(Array.from(layout.sizes)).toEqual([100, 75, 50, 75]);
    expect(Array.from(layout.offsets)).toEqual([0, 108, 191, 249]);
    expect(layout.total).toBe(324);
    expect(layoutOf([], new Map(), 8).total).toBe(0);
    // A filtered list whose items were never measured uses what was measured before.
    expect(Array.from(layoutOf(["x"], new Map([["a", 40]]), 8).sizes)).toEqual([40]);
  });

  it("finds the items that meet a band", () => {
    const layout = layoutOf(["a", "b", "c", "d"], new Map([["a", 100], ["b", 100], ["c", 100], ["d", 100]]), 10);
    // Offsets 0, 110, 220, 330; bottoms 100, 210, 320, 430.
    expect(rangeOf(layout, -500, -1)).toEqual([0, 0]);
    expect(rangeOf(layout, -50, 50)).toEqual([0, 1]);
    expect(rangeOf(layout, 100, 110)).toEqual([1, 1]);
    expect(rangeOf(layout, 105, 221)).toEqual([1, 3]);
    expect(rangeOf(layout, 0, 10_000)).toEqual([0, 4]);
    expect(rangeOf(layout, 430, 500)).toEqual([4, 4]);
  });
});
