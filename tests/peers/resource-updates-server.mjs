// A stdio MCP server on the TypeScript SDK (MCP 2025-11-25) with one resource that changes:
// `demo://counter` reads "count N". Once a client follows it (resources/subscribe), N goes up
// every 200 ms and notifications/resources/updated says so, until the client leaves it
// (resources/unsubscribe). Latch's tests use it for `latch read NAME URI --watch`.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const URI = "demo://counter";
const server = new McpServer(
  { name: "resource-updates", version: "1.0.0" },
  { capabilities: { resources: { subscribe: true } } },
);
let count = 0;
let timer = null;
server.registerResource("counter", URI, { mimeType: "text/plain" }, async (uri) => ({
  contents: [{ uri: uri.toString(), mimeType: "text/plain", text: `count ${count}` }],
}));
server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
  if (request.params.uri === URI && !timer) {
    timer = setInterval(async () => {
      count += 1;
      await server.server.sendResourceUpdated({ uri: URI });
    }, 200);
  }
  return {};
});
server.server.setRequestHandler(UnsubscribeRequestSchema, async () => {
  clearInterval(timer);
  timer = null;
  return {};
});
// It goes with its client: when stdin closes, it stops.
process.stdin.on("end", () => process.exit(0));
await server.connect(new StdioServerTransport());
