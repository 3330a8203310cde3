// The tools of the selected server: a search that stays instant for a thousand tools, and
// cards that open the tool's description. A long list is windowed (lib/windowing.ts): only the
// cards on or near the screen are in the DOM.
import { memo, useId, useMemo, useState, type KeyboardEvent } from "react";
import { plainText } from "../../lib/views";
import { useWindowedList } from "../../lib/windowing";
import type { ToolView } from "../../bindings/ToolView";

export type IndexedTool = { tool: ToolView; haystack: string };

export function indexTools(tools: ToolView[]): IndexedTool[] {
  return tools.map((tool) => ({
    tool,
    haystack: `${tool.name}\n${tool.title ?? tool.annotations?.title ?? ""}\n${tool.description ?? ""}`.toLowerCase(),
  }));
}

/** Tools whose name, title or description contains every word of the query. */
export function filterTools(index: IndexedTool[], query: string): ToolView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return index.map((t) => t.tool);
  return index.filter((t) => words.every((w) => t.haystack.includes(w))).map((t) => t.tool);
}

export function toolTitle(tool: ToolView): string {
  return tool.title ?? tool.annotations?.title ?? tool.name;
}

/** The space between two cards, in px (`.tool-cards` in styles.css says the same for short lists). */
const CARD_GAP = 8;

export function ToolList({ tools, onOpen }: { tools: ToolView[]; onOpen: (tool: ToolView) => void }) {
  const [query, setQuery] = useState("");
  const index = useMemo(() => indexTools(tools), [tools]);
  const shown = useMemo(() => filterTools(index, query), [index, query]);
  const keys = useMemo(() => shown.map((t) => t.name), [shown]);
  const list = useWindowedList(keys, CARD_GAP);
  const searchId = useId();

  // Up and down arrows move between cards, Home and End go to the first and the last (Tab and
  // Shift+Tab work too: the focused card's neighbours are always rendered).
  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const li = (e.target as HTMLElement).closest<HTMLElement>("li[data-index]");
    if (!li) return;
    const i = Number(li.dataset.index);
    const next = e.key === "ArrowDown" ? i + 1 : e.key === "ArrowUp" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? shown.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    list.focusIndex(Math.max(0, Math.min(shown.length - 1, next)));
  };

  return (
    <div className="tool-list">
      <div className="search">
        <label htmlFor={searchId} className="visually-hidden">
          Search tools
        </label>
        <input
          id={searchId}
          type="search"
          placeholder={`Search ${tools.length} ${tools.length === 1 ? "tool" : "tools"}…`}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="tool-search"
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      <p className="muted small" aria-live="polite" data-testid="tool-count">
        {query.trim() ? `${shown.length} of ${tools.length} tools` : `${tools.length} ${tools.length === 1 ? "tool" : "tools"}`}
      </p>
      {shown.length === 0 ? (
        <div className="empty">
          <p className="empty-title">No tool matches “{query}”</p>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setQuery("")}>
            Clear the search
          </button>
        </div>
      ) : (
        <ul
          ref={list.listRef}
          className={list.windowed ? "tool-cards windowed" : "tool-cards"}
          style={list.windowed ? { height: list.layout.total } : undefined}
          data-testid="tool-cards"
          data-count={shown.length}
          onKeyDown={onKeyDown}
          onFocus={list.onFocus}
          onBlur={list.onBlur}
        >
          {list.indices.map((i) => (
            <li
              key={shown[i].name}
              data-index={i}
              aria-setsize={shown.length}
              aria-posinset={i + 1}
              style={list.windowed ? { top: list.layout.offsets[i] } : undefined}
            >
              <ToolCard tool={shown[i]} onOpen={onOpen} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ToolBadges({ tool }: { tool: ToolView }) {
  const a = tool.annotations;
  return (
    <span className="badges">
      {a?.readOnlyHint === true && <span className="badge badge-ok">read-only</span>}
      {a?.destructiveHint === true && a?.readOnlyHint !== true && <span className="badge badge-error">destructive</span>}
      {a?.openWorldHint === true && <span className="badge badge-idle">open world</span>}
    </span>
  );
}

export const ToolCard = memo(function ToolCard({ tool, onOpen }: { tool: ToolView; onOpen: (tool: ToolView) => void }) {
  const title = toolTitle(tool);
  return (
    <button type="button" className="tool-card" onClick={() => onOpen(tool)} data-testid={`tool-card-${tool.name}`}>
      <span className="tool-card-head">
        <span className="tool-name">{title}</span>
        <ToolBadges tool={tool} />
      </span>
      {title !== tool.name && <span className="tool-id mono small">{tool.name}</span>}
      {tool.description ? <span className="tool-desc clamp-3">{plainText(tool.description)}</span> : <span className="tool-desc muted">No description.</span>}
    </button>
  );
});
