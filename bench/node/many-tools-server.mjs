// A Streamable HTTP MCP server with --tools tools (default 1,000), for the app's "render and
// filter a long tool list" figure. Tools are named tool-0000 … tool-0999, each with a
// description and a one-string input schema; calling one echoes its message. Stateful sessions,
// 127.0.0.1 only. Prints `listening URL` when ready.
//   node many-tools-server.mjs [--port 0] [--tools 1000]
import http from "node:http";
import { randomUUID } from "node:crypto";
import { num, parseArgs, sdk } from "./lib.mjs";

const args = parseArgs();
const count = num(args.tools, 1000);
const { Server } = await sdk("server/index.js");
const { StreamableHTTPServerTransport } = await sdk("server/streamableHttp.js");
const { ListToolsRequestSchema, CallToolRequestSchema } = await sdk("types.js");

const tools = Array.from({ length: count }, (_, i) => ({
  name: `tool-${String(i).padStart(4, "0")}`,
  description: `Synthetic tool number ${i} of ${count} for Latch's benchmark: it takes a message and returns it unchanged.`,
  inputSchema: { type: "object", properties: { message: { type: "string", description: "What to echo" } }, required: ["message"] },
  annotations: { readOnlyHint: i % 3 === 0 },
}));

function newServer() {
  const server = new Server({ name: "many-tools", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({
    content: [{ type: "text", text: String(req.params.arguments?.message ?? "") }],
  }));
  return server;
}

const sessions = new Map();
const httpServer = http.createServer(async (req, res) => {
  if (!req.url.startsWith("/mcp")) {
    res.writeHead(404).end();
    return;
  }
  const id = req.headers["mcp-session-id"];
  let transport = id ? sessions.get(id) : undefined;
  if (!transport) {
    if (id || req.method !== "POST") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => sessions.set(sid, transport),
    });
    transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
    await newServer().connect(transport);
  }
  await transport.handleRequest(req, res);
});
httpServer.listen(num(args.port, 0), "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${httpServer.address().port}/mcp`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
