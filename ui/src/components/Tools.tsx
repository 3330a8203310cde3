// The tools of the selected server: a search that stays instant for a thousand tools, and
// cards that open the tool's description.
import { memo, useDeferredValue, useId, useMemo, useState } from "react";
import { plainText } from "../lib/views";
import type { ToolView } from "../bindings/ToolView";

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

export function ToolList({ tools, onOpen }: { tools: ToolView[]; onOpen: (tool: ToolView) => void }) {
  const [query, setQuery] = useState("");
  const deferred = useDeferredValue(query);
  const index = useMemo(() => indexTools(tools), [tools]);
  const shown = useMemo(() => filterTools(index, deferred), [index, deferred]);
  const searchId = useId();
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
        {deferred ? `${shown.length} of ${tools.length} tools` : `${tools.length} ${tools.length === 1 ? "tool" : "tools"}`}
      </p>
      {shown.length === 0 ? (
        <div className="empty">
          <p className="empty-title">No tool matches “{deferred}”</p>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setQuery("")}>
            Clear the search
          </button>
        </div>
      ) : (
        <ul className="tool-cards">
          {shown.map((tool) => (
            <li key={tool.name}>
              <ToolCard tool={tool} onOpen={onOpen} />
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
