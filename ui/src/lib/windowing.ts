// Windowed rendering of a long list: only the items in or near the visible part of the scroll
// container are in the DOM, each placed at its offset in a box as tall as the whole list, so
// the scroll height is the full list's. Offsets come from measured heights (an item is measured
// once it has been rendered; until then it counts as the average of those measured). WebKit
// lays out and paints what is in the DOM, visible or not, so a thousand cards cost a thousand
// cards' layout on every change; a window costs a screenful.
//
// The list keeps keyboard focus working: the focused item and its neighbours stay rendered
// wherever the list is scrolled (so Tab and Shift+Tab reach the next item, and focus is not
// lost when the focused item scrolls away), and `focusIndex` renders any item before focusing
// it (the browser then scrolls it into view).
import { useCallback, useLayoutEffect, useMemo, useRef, useState, type FocusEvent, type RefObject } from "react";
import { flushSync } from "react-dom";

/** Lists up to this long are rendered whole, in normal flow. */
export const WINDOW_ABOVE = 50;
/** How far beyond the visible part of the list items are rendered, above and below. */
export const OVERSCAN_PX = 400;
/** An item's height before any item has been measured. */
export const FIRST_ESTIMATE_PX = 90;

export type Layout = { offsets: Float64Array; sizes: Float64Array; total: number };

/** Item offsets from the known heights; unknown items count as the average known height. */
export function layoutOf(keys: readonly string[], heights: ReadonlyMap<string, number>, gap: number): Layout {
  const n = keys.length;
  const sizes = new Float64Array(n);
  let known = 0;
  let sum = 0;
  const missing: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = heights.get(keys[i]);
    if (h === undefined) missing.push(i);
    else {
      sizes[i] = h;
      sum += h;
      known++;
    }
  }
  let estimate = FIRST_ESTIMATE_PX;
  if (known > 0) estimate = sum / known;
  else if (heights.size > 0) estimate = [...heights.values()].reduce((a, b) => a + b, 0) / heights.size;
  for (const i of missing) sizes[i] = estimate;
  const offsets = new Float64Array(n);
  let y = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = y;
    y += sizes[i] + gap;
  }
  return { offsets, sizes, total: n === 0 ? 0 : y - gap };
}

/** The items `[start, end)` that meet the band `[top, bottom)` (list coordinates). */
export function rangeOf(layout: Layout, top: number, bottom: number): [number, number] {
  const { offsets, sizes } = layout;
  const n = offsets.length;
  // First item whose bottom is below `top`.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] + sizes[mid] <= top) lo = mid + 1;
    else hi = mid;
  }
  const start = lo;
  // First item that starts at or below `bottom`.
  hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] < bottom) lo = mid + 1;
    else hi = mid;
  }
  return [start, Math.max(start, lo)];
}

/** The nearest ancestor that scrolls vertically; `null` when the document does. */
function scrollParent(el: HTMLElement): HTMLElement | null {
  for (let p = el.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
    const overflow = getComputedStyle(p).overflowY;
    if (overflow === "auto" || overflow === "scroll") return p;
  }
  return null;
}

type View = { top: number; bottom: number };

/** The visible band of the list, in list coordinates (negative top: the list starts lower). */
function viewOf(list: HTMLElement, scroller: HTMLElement | null): View {
  const listTop = list.getBoundingClientRect().top;
  const [top, height] = scroller ? [scroller.getBoundingClientRect().top + scroller.clientTop, scroller.clientHeight] : [0, window.innerHeight];
  return { top: top - listTop, bottom: top - listTop + height };
}

export type Windowed = {
  /** Whether the list is windowed (else every item is rendered in normal flow). */
  windowed: boolean;
  /** The indices to render, ascending. */
  indices: number[];
  layout: Layout;
  listRef: RefObject<HTMLUListElement | null>;
  /** Renders item `i` if it is not, then focuses its first focusable element. */
  focusIndex: (i: number) => void;
  /** For the list element: tracks which item holds focus. */
  onFocus: (e: FocusEvent<HTMLElement>) => void;
  onBlur: (e: FocusEvent<HTMLElement>) => void;
};

/**
 * Windowing for a `<ul ref={listRef}>` whose `<li data-index={i}>` children are the rendered
 * items. `keys` name the items (heights are remembered per key, so a filtered list reuses
 * them); `gap` is the space between items.
 */
export function useWindowedList(keys: readonly string[], gap: number): Windowed {
  const windowed = keys.length > WINDOW_ABOVE;
  const listRef = useRef<HTMLUListElement | null>(null);
  const scrollerRef = useRef<HTMLElement | null>(null);
  const heights = useRef(new Map<string, number>());
  const [version, setVersion] = useState(0);
  const [, setTick] = useState(0);
  const viewRef = useRef<View>({ top: 0, bottom: typeof window === "undefined" ? 1000 : window.innerHeight });
  const focused = useRef<string | null>(null);
  const pendingShift = useRef(0);

  // `version` changes when `heights` (a ref) has new measurements.
  const layout = useMemo(() => layoutOf(windowed ? keys : [], heights.current, gap), [keys, gap, windowed, version]);
  const indexOf = useMemo(() => (windowed ? new Map(keys.map((k, i) => [k, i])) : new Map<string, number>()), [keys, windowed]);

  const indicesFor = useCallback(
    (view: View): number[] => {
      if (!windowed) return keys.map((_, i) => i);
      const [start, end] = rangeOf(layout, view.top - OVERSCAN_PX, view.bottom + OVERSCAN_PX);
      const out: number[] = [];
      for (let i = start; i < end; i++) out.push(i);
      const f = focused.current === null ? undefined : indexOf.get(focused.current);
      if (f !== undefined) {
        for (let i = Math.max(0, f - 1); i <= Math.min(keys.length - 1, f + 1); i++) if (i < start || i >= end) out.push(i);
        out.sort((a, b) => a - b);
      }
      return out;
    },
    [windowed, keys, layout, indexOf],
  );
  const indices = indicesFor(viewRef.current);
  const shown = useRef(indices);
  shown.current = indices;
  const indicesForRef = useRef(indicesFor);
  indicesForRef.current = indicesFor;

  // Whether the visible band now needs other items than the ones rendered.
  const stale = useCallback((): boolean => {
    const list = listRef.current;
    if (!list) return false;
    viewRef.current = viewOf(list, scrollerRef.current);
    const next = indicesForRef.current(viewRef.current);
    const now = shown.current;
    return next.length !== now.length || next.some((v, i) => v !== now[i]);
  }, []);
  const refresh = useCallback(() => {
    if (stale()) flushSync(() => setTick((t) => t + 1));
  }, [stale]);

  // Follow the scroll container's scrolling and size, and the list's width (heights depend on it).
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!windowed || !list) return;
    const scroller = scrollParent(list);
    scrollerRef.current = scroller;
    const target: HTMLElement | Window = scroller ?? window;
    target.addEventListener("scroll", refresh, { passive: true });
    window.addEventListener("resize", refresh);
    let width = list.getBoundingClientRect().width;
    const observer =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => {
            const w = list.getBoundingClientRect().width;
            if (w !== width) {
              width = w;
              heights.current.clear();
              setVersion((v) => v + 1);
            } else refresh();
          });
    observer?.observe(list);
    if (scroller) observer?.observe(scroller);
    return () => {
      target.removeEventListener("scroll", refresh);
      window.removeEventListener("resize", refresh);
      observer?.disconnect();
    };
  }, [windowed, refresh]);

  // After each render: measure the rendered items; if items above the first visible one changed
  // height, shift the scroll position by as much so what is on screen stays put; render again
  // (still before paint) if anything moved or the visible band needs other items.
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!windowed || !list) return;
    if (pendingShift.current !== 0) {
      const scroller = scrollerRef.current;
      if (scroller) scroller.scrollTop += pendingShift.current;
      else window.scrollBy(0, pendingShift.current);
      pendingShift.current = 0;
    }
    let changed = false;
    for (const li of Array.from(list.children) as HTMLElement[]) {
      const key = keys[Number(li.dataset.index)];
      if (key === undefined) continue;
      const h = li.getBoundingClientRect().height;
      if (h > 0 && Math.abs((heights.current.get(key) ?? -1) - h) > 0.5) {
        heights.current.set(key, h);
        changed = true;
      }
    }
    if (changed) {
      const view = viewOf(list, scrollerRef.current);
      const [anchor] = rangeOf(layout, view.top, view.top + 1);
      if (view.top > 0 && anchor < keys.length) pendingShift.current = layoutOf(keys, heights.current, gap).offsets[anchor] - layout.offsets[anchor];
      setVersion((v) => v + 1);
    } else if (stale()) setTick((t) => t + 1);
  });

  const focusIndex = useCallback(
    (i: number) => {
      const key = keys[i];
      const list = listRef.current;
      if (key === undefined || !list) return;
      focused.current = key;
      if (!shown.current.includes(i)) flushSync(() => setTick((t) => t + 1));
      const li = Array.from(list.children).find((el) => (el as HTMLElement).dataset.index === String(i));
      li?.querySelector<HTMLElement>("button, a[href], input, [tabindex]")?.focus();
    },
    [keys],
  );

  const onFocus = useCallback(
    (e: FocusEvent<HTMLElement>) => {
      const li = (e.target as HTMLElement).closest<HTMLElement>("li[data-index]");
      if (!li) return;
      focused.current = keys[Number(li.dataset.index)] ?? null;
      // Render its neighbours, if they are not.
      if (stale()) setTick((t) => t + 1);
    },
    [keys, stale],
  );
  const onBlur = useCallback((e: FocusEvent<HTMLElement>) => {
    if (!e.currentTarget.contains(e.relatedTarget as Node | null)) focused.current = null;
  }, []);

  return { windowed, indices, layout, listRef, focusIndex, onFocus, onBlur };
}
