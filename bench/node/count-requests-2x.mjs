// Counts what a client sends over the wire: a pass-through HTTP proxy on 127.0.0.1:--port in
// front of TARGET_URL (the MCP server), which runs COMMAND (a whole client process, e.g.
// `latch tools NAME` with NAME's entry pointing at the proxy) --warmup + --runs times and records,
// per run, the HTTP requests (method and JSON-RPC method, e.g. `POST server/discover`) and the
// TCP connections opened. Nothing is timed: the proxy only sees the traffic, so the counts are the
// same on a busy machine.
//   node count-requests-2x.mjs TARGET_URL --port P [--runs 3] [--warmup 1] -- COMMAND ARG...
// Prints {"requests": [n, …], "connections": [n, …], "trace": ["POST initialize → 200", …],
// "by_method": {"POST tools/call": n, …}} (trace and by_method: the last run).
import http from "node:http";
import { spawn } from "node:child_process";
import { emit, num, parseArgs } from "./lib.mjs";

const args = parseArgs();
const target = new URL(args._[0]);
const port = num(args.port, 0);
const runs = num(args.runs, 3);
const warmup = num(args.warmup, 1);
const [command, ...rest] = args._rest ?? [];
if (!command || !port) {
  process.stderr.write("usage: count-requests-2x.mjs TARGET_URL --port P [--runs R] [--warmup W] -- COMMAND ARG...\n");
  process.exit(2);
}

let trace = [];
let connections = 0;
const agent = new http.Agent({ keepAlive: true });

// What a JSON-RPC body asks for: the method (or methods, in a batch), "response" for answers.
function rpcMethods(body) {
  try {
    const message = JSON.parse(body);
    const list = Array.isArray(message) ? message : [message];
    return list.map((m) => m.method ?? "response").join(",");
  } catch {
    return body.length ? "(not JSON)" : "";
  }
}

const proxy = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const entry = { what: `${req.method} ${rpcMethods(body.toString("utf8"))}`.trim(), status: "…" };
    trace.push(entry);
    const headers = { ...req.headers, host: target.host };
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent },
      (answer) => {
        entry.status = answer.statusCode;
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      entry.status = `error ${e.code ?? e.message}`;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A long-lived stream (the 2025 GET stream) ends when the client goes away.
    res.on("close", () => upstream.destroy());
    upstream.end(body);
  });
});
proxy.on("connection", () => connections++);
await new Promise((resolve) => proxy.listen(port, "127.0.0.1", resolve));

const run = () =>
  new Promise((resolve, reject) => {
    const child = spawn(command, rest, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${rest.join(" ")} failed (${code ?? signal}):\n${stderr}`)),
    );
  });

const requests = [];
const opened = [];
let last = [];
for (let i = 0; i < warmup + runs; i++) {
  trace = [];
  connections = 0;
  await run();
  // Let the proxy see the last bytes of a request the client sent as it exited (a DELETE).
  await new Promise((resolve) => setTimeout(resolve, 100));
  if (i >= warmup) {
    requests.push(trace.length);
    opened.push(connections);
    last = trace.map((e) => `${e.what} → ${e.status}`);
  }
}
proxy.close();
proxy.closeAllConnections?.();
agent.destroy();
const byMethod = {};
for (const line of last) {
  const what = line.replace(/ → .*$/, "");
  byMethod[what] = (byMethod[what] ?? 0) + 1;
}
emit({ requests, connections: opened, trace: last, by_method: byMethod });
process.exit(0);
