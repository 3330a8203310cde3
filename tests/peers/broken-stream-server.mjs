// An MCP 2026-07-28 server whose response streams break: the first POST of a tool call gets one
// progress event on its SSE stream, then the stream closes without an answer. The spec says the
// client MUST then send the request again with a new JSON-RPC id (streams are not resumable), and
// closing a stream cancels its request on the server. Latch's tests
// (crates/latch-cli/tests/reissue.rs) use it to check that Latch does, that the caller sees one
// answer, and that a caller's cancellation closes the attempt in flight.
//
//   node broken-stream-server.mjs [--port N]
//
// Plain node:http on 127.0.0.1, no SDK, so the wire is exactly what is written here. The first
// stdout line is `{"url":"http://127.0.0.1:PORT/mcp","port":PORT}`, printed once it accepts
// connections; it stops on SIGTERM / SIGINT. Every POST of a 2026 request must carry
// `MCP-Protocol-Version: 2026-07-28` (else HTTP 400). Each tools/call attempt is logged to stderr
// as `attempt {"tool":…,"id":…,"n":…,"progressToken":…,"outcome":…}`, the outcome being
// "answered", "stream closed by the server" (a break it made) or "cancelled: the client closed
// the stream".
//
// Tools: flaky (breaks on its first attempt, answers the second with "flaky: answered attempt 2"),
// broken (breaks on every attempt), stuck (breaks on its first attempt, never answers the next).
import http from "node:http";

import { HOST, listen, portArg, stopOn } from "./serve.mjs";

const VERSION = "2026-07-28";

const attempts = { flaky: 0, broken: 0, stuck: 0 };
const tools = Object.keys(attempts).map((name) => ({
  name,
  description: `A tool whose response stream breaks (${name}).`,
  inputSchema: { type: "object", properties: {} },
}));
const serverInfo = { name: "latch-broken-stream", version: "1.0.0" };

const record = (entry) => process.stderr.write(`attempt ${JSON.stringify(entry)}\n`);
const result = (value) => ({
  resultType: "complete",
  ...value,
  _meta: { "io.modelcontextprotocol/serverInfo": serverInfo },
});

function sendJson(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function callTool(req, res, message) {
  const tool = message.params?.name;
  if (!(tool in attempts)) {
    sendJson(res, 200, { jsonrpc: "2.0", id: message.id, error: { code: -32602, message: `unknown tool ${tool}` } });
    return;
  }
  const n = ++attempts[tool];
  const progressToken = message.params?._meta?.progressToken ?? null;
  const entry = { tool, id: message.id, n, progressToken };
  let done = false;
  const finish = (outcome) => {
    if (!done) {
      done = true;
      record({ ...entry, outcome });
    }
  };
  // Closing the stream cancels the request (what the spec asks of a server).
  res.on("close", () => finish("cancelled: the client closed the stream"));
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  const send = (payload) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  if (progressToken !== null) {
    send({
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken, progress: n, total: 2, message: `${tool} attempt ${n}` },
    });
  }
  const breaks = tool === "broken" || n === 1;
  setTimeout(() => {
    if (done) return;
    if (breaks) {
      finish("stream closed by the server");
      res.end();
    } else if (tool === "flaky") {
      finish("answered");
      send({ jsonrpc: "2.0", id: message.id, result: result({ content: [{ type: "text", text: `flaky: answered attempt ${n}` }] }) });
      res.end();
    }
    // stuck: holds the stream open until the client closes it.
  }, 50);
}

const server = http.createServer((req, res) => {
  if (req.url !== "/mcp") return sendJson(res, 404, { error: "not found" });
  if (req.method !== "POST") {
    res.writeHead(405, { allow: "POST" });
    return res.end();
  }
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    let message;
    try {
      message = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    }
    if (message.id === undefined) {
      res.writeHead(202);
      return res.end();
    }
    const header = req.headers["mcp-protocol-version"];
    if (message.method === "initialize" || (message.method !== "server/discover" && header !== VERSION)) {
      return sendJson(res, 400, {
        jsonrpc: "2.0",
        id: message.id,
        error: { code: -32602, message: "Unsupported protocol version", data: { supported: [VERSION], requested: header ?? null } },
      });
    }
    switch (message.method) {
      case "server/discover":
        return sendJson(res, 200, {
          jsonrpc: "2.0",
          id: message.id,
          result: result({ supportedVersions: [VERSION], capabilities: { tools: {} }, ttlMs: 0, cacheScope: "private" }),
        });
      case "tools/list":
        return sendJson(res, 200, { jsonrpc: "2.0", id: message.id, result: result({ tools, ttlMs: 0, cacheScope: "private" }) });
      case "tools/call":
        return callTool(req, res, message);
      default:
        return sendJson(res, 200, { jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
    }
  });
});

stopOn(() => process.exit(0));
const port = await listen(server, portArg());
process.stdout.write(`${JSON.stringify({ url: `http://${HOST}:${port}/mcp`, port })}\n`);
