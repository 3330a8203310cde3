// An agent for `latch bridge`: the MCP TypeScript SDK's Client over its StdioClientTransport,
// spawning `latch bridge NAME` the way Claude Desktop or Cursor would. Run by
// crates/latch-cli/tests/bridge.rs with the pinned Node 22; it prints one JSON summary line on
// stdout for the Rust test to assert on. LATCH_HOME and LATCH_TOKEN_STORE come from the
// environment and are passed on to the bridge.
//
//   node bridge-client.mjs suite  --latch BIN --target URL
//       Starts a recording HTTP proxy in front of URL (so the test sees what the bridge really
//       sent, e.g. notifications/cancelled), adds it as server "everything", then exercises
//       tools, progress, cancellation, resources, prompts, completion, logging, sampling, roots
//       and elicitation through the bridge.
//   node bridge-client.mjs calls  --latch BIN --server NAME --seconds S [--bridge-args ARG]
//       Calls `add` in rounds for S seconds (several at once per round); counts failures.
//   node bridge-client.mjs signin --latch BIN --server NAME
//       Expects the "sign in" error; reports what the agent saw.
//   node bridge-client.mjs bench  --latch BIN --server NAME --url URL --n N
//       Median/p99 of N `echo` calls direct over HTTP and through the bridge, and the time from
//       spawning the bridge to its answered initialize.

import http from "node:http";
import { execFileSync } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const args = Object.fromEntries(
  process.argv.slice(3).reduce((pairs, word, i, all) => {
    if (word.startsWith("--")) pairs.push([word.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const mode = process.argv[2];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function bridgeTransport(server, extraArgs = []) {
  return new StdioClientTransport({
    command: args.latch,
    args: ["bridge", server, ...extraArgs],
    env: { ...process.env },
    stderr: "pipe",
  });
}

/** Start the bridge and connect; returns the client, its stderr text and timings. */
async function connectThroughBridge(server, capabilities = {}, extraArgs = []) {
  const transport = bridgeTransport(server, extraArgs);
  const stderr = [];
  transport.stderr?.on("data", (chunk) => stderr.push(chunk.toString()));
  const client = new Client({ name: "bridge-test-agent", version: "1.0.0" }, { capabilities });
  const started = performance.now();
  await client.connect(transport);
  const initializeMs = performance.now() - started;
  let exit = null;
  transport._process?.once("exit", (code, signal) => {
    exit = { code, signal };
  });
  return { client, transport, stderr, initializeMs, exit: () => exit };
}

/** A plain HTTP proxy that records every JSON-RPC message the bridge sends upstream. */
function startRecordingProxy(target) {
  const upstream = new URL(target);
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method === "POST") {
        try {
          for (const message of [JSON.parse(body.toString())].flat()) {
            seen.push({ http: "POST", method: message.method, id: message.id, params: message.params });
          }
        } catch {
          seen.push({ http: "POST", unparsed: true });
        }
      } else {
        seen.push({ http: req.method });
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", (error) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(error));
      });
      res.on("close", () => forward.destroy());
      forward.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}${upstream.pathname}`, seen, close: () => server.close() });
    });
  });
}

function text(result) {
  return (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
}

async function waitFor(predicate, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(50);
  }
  return predicate();
}

async function suite() {
  const proxy = await startRecordingProxy(args.target);
  execFileSync(args.latch, ["servers", "add", "everything", proxy.url], { env: process.env });
  const summary = { calls: {}, errors: {} };
  const logs = [];
  const updates = [];
  const requestsFromServer = { sampling: 0, elicitation: 0, roots: 0 };
  const capabilities = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
  const { client, transport, stderr, initializeMs, exit } = await connectThroughBridge("everything", capabilities);
  summary.initializeMs = initializeMs;
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    requestsFromServer.sampling += 1;
    return {
      role: "assistant",
      content: { type: "text", text: `canned answer to ${request.params.messages.length} message(s)` },
      model: "bridge-test-model",
      stopReason: "endTurn",
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    requestsFromServer.elicitation += 1;
    return { action: "accept", content: { name: "Bridge Tester" } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => {
    requestsFromServer.roots += 1;
    return { roots: [{ uri: "file:///tmp/bridge-root", name: "bridge-root" }] };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params.uri));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {});

  summary.serverVersion = client.getServerVersion();
  summary.capabilities = client.getServerCapabilities();
  summary.instructions = client.getInstructions() ?? null;

  const attempt = async (label, run) => {
    try {
      summary.calls[label] = await run();
    } catch (error) {
      summary.errors[label] = String(error?.message ?? error);
    }
  };

  await attempt("setLevel", async () => (await client.setLoggingLevel("debug"), "ok"));
  const tools = await client.listTools();
  summary.tools = tools.tools.map((t) => t.name).sort();

  await attempt("echo", async () => text(await client.callTool({ name: "echo", arguments: { message: "hello bridge" } })));
  await attempt("get-sum", async () => text(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } })));
  await attempt("get-tiny-image", async () => {
    const result = await client.callTool({ name: "get-tiny-image", arguments: {} });
    const image = result.content.find((c) => c.type === "image");
    const bytes = Buffer.from(image?.data ?? "", "base64");
    return { mimeType: image?.mimeType, bytes: bytes.length, png: bytes.subarray(0, 8).toString("hex") };
  });
  await attempt("trigger-long-running-operation", async () => {
    const progress = [];
    const result = await client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } },
      undefined,
      { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true },
    );
    return { text: text(result), progress };
  });
  await attempt("cancelled", async () => {
    const controller = new AbortController();
    const progress = [];
    const started = performance.now();
    let outcome;
    try {
      await client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 30, steps: 30 } },
        undefined,
        {
          signal: controller.signal,
          onprogress: (p) => {
            progress.push(p);
            controller.abort("the test cancels");
          },
        },
      );
      outcome = "completed";
    } catch (error) {
      outcome = `rejected: ${error?.name ?? ""} ${error?.message ?? error}`;
    }
    const elapsedMs = performance.now() - started;
    // What the bridge sent upstream: the call, then notifications/cancelled for its id.
    const call = proxy.seen.find(
      (m) => m.method === "tools/call" && m.params?.name === "trigger-long-running-operation" && m.params?.arguments?.duration === 30,
    );
    const cancelledUpstream = await waitFor(
      () => proxy.seen.some((m) => m.method === "notifications/cancelled" && call && m.params?.requestId === call.id),
      3000,
    );
    return { outcome, elapsedMs, progress: progress.length, cancelledUpstream };
  });
  await attempt("get-annotated-message", async () => text(await client.callTool({ name: "get-annotated-message", arguments: { messageType: "success", includeImage: true } })));
  await attempt("get-env", async () => text(await client.callTool({ name: "get-env", arguments: {} })).length);
  await attempt("get-resource-links", async () => (await client.callTool({ name: "get-resource-links", arguments: { count: 2 } })).content.filter((c) => c.type === "resource_link").length);
  await attempt("get-resource-reference", async () => (await client.callTool({ name: "get-resource-reference", arguments: { resourceType: "Text", resourceId: 1 } })).content.map((c) => c.type));
  await attempt("get-structured-content", async () => (await client.callTool({ name: "get-structured-content", arguments: { location: "Chicago" } })).structuredContent);
  await attempt("gzip-file-as-resource", async () => (await client.callTool({ name: "gzip-file-as-resource", arguments: { name: "hello.txt.gz", data: "data:text/plain;base64,aGVsbG8gYnJpZGdl", outputType: "resource" } })).content.map((c) => c.type));
  await attempt("get-roots-list", async () => text(await client.callTool({ name: "get-roots-list", arguments: {} })));
  await attempt("trigger-sampling-request", async () => text(await client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hi", maxTokens: 10 } })));
  await attempt("trigger-elicitation-request", async () => text(await client.callTool({ name: "trigger-elicitation-request", arguments: {} })));

  const resources = await client.listResources();
  summary.resources = resources.resources.length;
  const templates = await client.listResourceTemplates();
  summary.resourceTemplates = templates.resourceTemplates.map((t) => t.uriTemplate);
  const first = resources.resources[0];
  await attempt("readResource", async () => {
    const read = await client.readResource({ uri: first.uri });
    return { uri: read.contents[0]?.uri, hasText: typeof read.contents[0]?.text === "string" };
  });
  await attempt("subscribe", async () => (await client.subscribeResource({ uri: first.uri }), first.uri));
  await attempt("toggle-subscriber-updates", async () => text(await client.callTool({ name: "toggle-subscriber-updates", arguments: {} })));
  await attempt("toggle-simulated-logging", async () => text(await client.callTool({ name: "toggle-simulated-logging", arguments: {} })));
  const prompts = await client.listPrompts();
  summary.prompts = prompts.prompts.map((p) => p.name).sort();
  await attempt("getPrompt", async () => (await client.getPrompt({ name: "simple-prompt", arguments: {} })).messages.length);
  await attempt("complete", async () => (await client.complete({ ref: { type: "ref/prompt", name: "completable-prompt" }, argument: { name: "department", value: "Eng" } })).completion.values);
  await attempt("ping", async () => (await client.ping(), "ok"));

  await waitFor(() => logs.length > 0 && updates.length > 0, 8000);
  summary.logs = logs.length;
  summary.resourceUpdates = [...new Set(updates)];
  summary.requestsFromServer = requestsFromServer;

  await client.close();
  await waitFor(() => exit() !== null, 3000);
  summary.exit = exit();
  summary.deleteSent = await waitFor(() => proxy.seen.some((m) => m.http === "DELETE"), 2000);
  summary.upstreamMethods = [...new Set(proxy.seen.map((m) => m.method ?? m.http))].sort();
  summary.stderr = stderr.join("");
  proxy.close();
  return summary;
}

async function calls() {
  const seconds = Number(args.seconds ?? 10);
  const extra = args["bridge-args"] ? [args["bridge-args"]] : [];
  const { client, stderr, initializeMs } = await connectThroughBridge(args.server, {}, extra);
  let ok = 0;
  const failures = [];
  let round = 0;
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    round += 1;
    const batch = Array.from({ length: 4 }, (_, i) =>
      client
        .callTool({ name: "add", arguments: { a: round, b: i } })
        .then((result) => {
          if (text(result).includes(String(round + i)) && !result.isError) ok += 1;
          else failures.push(text(result));
        })
        .catch((error) => failures.push(String(error?.message ?? error))),
    );
    await Promise.all(batch);
    await sleep(150);
  }
  await client.close();
  return { ok, failures, rounds: round, initializeMs, stderr: stderr.join("") };
}

async function signin() {
  const { client, stderr, exit } = await connectThroughBridge(args.server);
  const summary = { instructions: client.getInstructions() ?? null };
  for (const [label, run] of [
    ["listTools", () => client.listTools()],
    ["callTool", () => client.callTool({ name: "add", arguments: { a: 1, b: 2 } })],
  ]) {
    try {
      await run();
      summary[label] = { ok: true };
    } catch (error) {
      summary[label] = { code: error?.code, message: String(error?.message ?? error) };
    }
  }
  await client.close();
  summary.exit = exit();
  summary.stderr = stderr.join("");
  return summary;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, medianMs: at(0.5), p99Ms: at(0.99), meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

async function timeEchoes(client, n) {
  for (let i = 0; i < 20; i++) await client.callTool({ name: "echo", arguments: { message: "warm" } });
  const samples = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await client.callTool({ name: "echo", arguments: { message: `ping ${i}` } });
    samples.push(performance.now() - started);
  }
  return stats(samples);
}

async function bench() {
  const n = Number(args.n ?? 500);
  const direct = new Client({ name: "bench-direct", version: "1.0.0" });
  await direct.connect(new StreamableHTTPClientTransport(new URL(args.url)));
  const directStats = await timeEchoes(direct, n);
  await direct.close();

  const startups = [];
  for (let i = 0; i < 10; i++) {
    const { client, initializeMs } = await connectThroughBridge(args.server);
    startups.push(initializeMs);
    await client.close();
  }
  const { client } = await connectThroughBridge(args.server);
  const bridgedStats = await timeEchoes(client, n);
  await client.close();
  return {
    direct: directStats,
    bridged: bridgedStats,
    addedMedianMs: bridgedStats.medianMs - directStats.medianMs,
    addedP99Ms: bridgedStats.p99Ms - directStats.p99Ms,
    initialize: stats(startups),
  };
}

const modes = { suite, calls, signin, bench };
if (!modes[mode]) {
  console.error(`usage: bridge-client.mjs ${Object.keys(modes).join("|")} --latch BIN …`);
  process.exit(2);
}
// Exit only once the line is written: stdout to a pipe is asynchronous, and a summary with
// the bridge's debug log runs past the pipe's buffer.
const finish = (summary, code) =>
  process.stdout.write(JSON.stringify(summary) + "\n", () => process.exit(code));
try {
  finish(await modes[mode](), 0);
} catch (error) {
  finish({ fatal: String(error?.stack ?? error) }, 1);
}
