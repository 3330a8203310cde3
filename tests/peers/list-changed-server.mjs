// A stdio MCP server on the TypeScript SDK whose tool list grows on request: calling `grow`
// registers a new tool, and the SDK sends notifications/tools/list_changed. Latch's tests use it
// to check that the cached tool list is dropped and fetched again.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

const server = new McpServer({ name: "list-changed", version: "1.0.0" });
let grown = 0;
server.registerTool("grow", { description: "Adds a tool named extra-N." }, async () => {
  grown += 1;
  const name = `extra-${grown}`;
  server.registerTool(name, { description: `Added by grow #${grown}.` }, async () => ({
    content: [{ type: "text", text: name }],
  }));
  return { content: [{ type: "text", text: `added ${name}` }] };
});
await server.connect(new StdioServerTransport());
