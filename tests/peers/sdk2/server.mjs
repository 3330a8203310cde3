// An MCP server on the TypeScript SDK 2.x (`@modelcontextprotocol/server`, pinned in
// tests/peers/package.json), the shape a server written today for MCP 2026-07-28 has: one
// factory of tools, resources and prompts served per request by `createMcpHandler`. Latch's
// tests (crates/latch-cli/tests/era2026.rs, the bridge tests) run the CLI and the bridge against
// it, in both of the SDK's documented HTTP postures and over stdio:
//
//   node server.mjs [--port N] [--legacy stateless|reject]   Streamable HTTP on 127.0.0.1
//   node server.mjs --stdio [--legacy serve|reject]           stdio
//
// `--legacy reject` is the modern-only endpoint (2025-era requests, `initialize` included, get
// "Unsupported protocol version"); the default (`stateless`, over stdio `serve`) also answers the
// 2025 handshake, statelessly. Over HTTP the first stdout line is
// `{"url":"http://127.0.0.1:PORT/mcp","port":PORT,"legacy":"…"}`, printed once it accepts
// connections; it stops on SIGTERM / SIGINT. Needs Node >= 20 (the tests use the pinned Node 22).
//
// What it offers, the same in both eras:
//   tools     echo {text}, add {a, b}, count {steps} (a progress notification per step),
//             slow {seconds} (ends early when cancelled), ask (needs input: a form elicitation,
//             plus a sampling request and a roots request when the client declared those, in
//             one round of `input_required`; a declined form ends the call with "ask: declined,
//             nothing done"; it answers `ask: name=… colour=…; sample=…; roots=N …`), grow (adds a
//             tool named extra-N and announces notifications/tools/list_changed)
//   resources sdk2://about (text), sdk2://items/{id} (a template)
//   prompts   greet {name, style?}
import http from "node:http";
import { localhostHostValidation, localhostOriginValidation, toNodeHandler } from "@modelcontextprotocol/node";
import {
  McpServer,
  ResourceTemplate,
  acceptedContent,
  createMcpHandler,
  fromJsonSchema,
  inputRequired,
  inputResponse,
} from "@modelcontextprotocol/server";

const NAME = "latch-sdk2-ts";

function flag(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}
const STDIO = process.argv.includes("--stdio");
const LEGACY = flag("--legacy") ?? (STDIO ? "serve" : "stateless");
const PORT = Number(flag("--port") ?? 0);

// Tools added by `grow`, kept for the life of the process (the factory builds a fresh server per
// HTTP request, so shared state lives here).
let grown = 0;
// Publishes list changes to open `subscriptions/listen` streams (HTTP only).
let notifier;

const schema = (properties, required = Object.keys(properties)) =>
  fromJsonSchema({ type: "object", properties, required });
const text = (value) => ({ content: [{ type: "text", text: value }] });

// The answers a client gave to `ask`, in one line (what Latch's tests read back).
function describeAnswers(ctx) {
  const responses = ctx.mcpReq.inputResponses;
  const form = inputResponse(responses, "form");
  if (form?.action !== "accept") {
    return `ask: ${form?.action === "cancel" ? "cancelled" : "declined"}, nothing done`;
  }
  const content = acceptedContent(responses, "form") ?? {};
  const sample = responses?.sample;
  const sampled = sample?.content?.type === "text" ? sample.content.text : "(no sample)";
  const roots = Array.isArray(responses?.roots?.roots) ? responses.roots.roots : [];
  return `ask: name=${content.name ?? "?"} colour=${content.colour ?? "?"}; sample=${sampled}; roots=${roots.length}${roots.map((r) => ` ${r.uri}`).join("")}`;
}

const askForm = {
  message: "Who is asking?",
  requestedSchema: {
    type: "object",
    properties: {
      name: { type: "string", title: "Name", default: "Ada" },
      colour: { type: "string", title: "Colour", enum: ["red", "green", "blue"], default: "green" },
    },
    required: ["name"],
  },
};
const askSample = {
  messages: [{ role: "user", content: { type: "text", text: "Say hello in one word." } }],
  maxTokens: 20,
};

async function askLegacy(ctx) {
  // The 2025 era: server-to-client requests on the open call. The stateless HTTP fallback has no
  // way to receive the answers (each POST meets a fresh instance), so there the call fails.
  let form;
  try {
    form = await ctx.mcpReq.elicitInput(askForm);
  } catch (e) {
    return { ...text(`ask: could not ask for input on a 2025-era connection (${e.message})`), isError: true };
  }
  if (form.action !== "accept") {
    return text(`ask: ${form.action === "cancel" ? "cancelled" : "declined"}, nothing done`);
  }
  const answers = { form };
  try {
    answers.sample = await ctx.mcpReq.requestSampling(askSample);
  } catch {} // not offered, or declined
  try {
    answers.roots = await ctx.mcpReq.send({ method: "roots/list" });
  } catch {}
  return text(describeAnswers({ mcpReq: { inputResponses: answers } }));
}

function addGrown(server, n) {
  const name = `extra-${n}`;
  server.registerTool(name, { description: `Added by grow #${n}.` }, async () => text(name));
}

function build(ctx) {
  const context = ctx ?? { era: "legacy" };
  const server = new McpServer(
    { name: NAME, version: "2.4.0" },
    { capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} } },
  );
  server.registerTool(
    "echo",
    { description: "Echoes the text back.", inputSchema: schema({ text: { type: "string" } }) },
    async ({ text: value }) => text(`echo: ${value}`),
  );
  server.registerTool(
    "envelope",
    { description: "Answers with the request's `_meta` envelope (protocol version, log level…)." },
    async (ctx) => text(JSON.stringify(ctx?.mcpReq?.envelope ?? {})),
  );
  server.registerTool(
    "add",
    { description: "Adds two numbers.", inputSchema: schema({ a: { type: "number" }, b: { type: "number" } }) },
    async ({ a, b }) => text(`The sum of ${a} and ${b} is ${a + b}.`),
  );
  server.registerTool(
    "count",
    {
      description: "Counts to `steps`, sending a progress notification per step.",
      inputSchema: schema({ steps: { type: "integer", minimum: 1, maximum: 20 } }),
    },
    async ({ steps }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        if (token !== undefined) {
          await ctx.mcpReq.notify({
            method: "notifications/progress",
            params: { progressToken: token, progress: i, total: steps, message: `step ${i} of ${steps}` },
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return text(`counted to ${steps}`);
    },
  );
  server.registerTool(
    "slow",
    {
      description: "Waits `seconds` seconds; ends early when the call is cancelled.",
      inputSchema: schema({ seconds: { type: "number", minimum: 0, maximum: 600 } }),
    },
    async ({ seconds }, ctx) => {
      const signal = ctx.mcpReq.signal;
      process.stderr.write(`${NAME}: slow started\n`);
      const finished = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(true), seconds * 1000);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!finished) process.stderr.write(`${NAME}: slow cancelled\n`);
      return text(finished ? `slept ${seconds}s` : "slow: cancelled");
    },
  );
  server.registerTool(
    "ask",
    { description: "Asks who is calling (a form), for a sample from the model, and for the roots." },
    async (ctx) => {
      if (context.era === "legacy") return askLegacy(ctx);
      if (ctx.mcpReq.inputResponses?.form === undefined) {
        // Sampling and roots only from a client that declared them (a server must not ask
        // for what the client did not offer).
        const declared =
          server.server.getClientCapabilities() ??
          ctx.mcpReq.envelope?.["io.modelcontextprotocol/clientCapabilities"] ??
          {};
        const inputRequests = { form: inputRequired.elicit(askForm) };
        if (declared.sampling) inputRequests.sample = inputRequired.createMessage(askSample);
        if (declared.roots) inputRequests.roots = inputRequired.listRoots();
        return inputRequired({ inputRequests });
      }
      return text(describeAnswers(ctx));
    },
  );
  server.registerTool("grow", { description: "Adds a tool named extra-N." }, async () => {
    grown += 1;
    addGrown(server, grown); // announces the change on a live (stdio) connection
    notifier?.toolsChanged(); // and on every open subscriptions/listen stream (HTTP)
    return text(`added extra-${grown}`);
  });
  for (let n = 1; n <= grown; n++) addGrown(server, n);

  server.registerResource(
    "about",
    "sdk2://about",
    { description: "What this server is.", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: `${NAME}: a TypeScript SDK 2.x server` }] }),
  );
  server.registerResource(
    "item",
    new ResourceTemplate("sdk2://items/{id}", { list: undefined }),
    { description: "One item by id.", mimeType: "text/plain" },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: `item ${id}` }] }),
  );
  server.registerPrompt(
    "greet",
    {
      description: "A greeting for someone.",
      argsSchema: fromJsonSchema({
        type: "object",
        properties: { name: { type: "string" }, style: { type: "string" } },
        required: ["name"],
      }),
    },
    async ({ name, style }) => ({
      messages: [{ role: "user", content: { type: "text", text: `Greet ${name}${style ? ` in a ${style} way` : ""}.` } }],
    }),
  );
  return server;
}

if (STDIO) {
  const { serveStdio } = await import("@modelcontextprotocol/server/stdio");
  const handle = serveStdio(build, {
    legacy: LEGACY,
    onerror: (e) => process.stderr.write(`${NAME}: ${e.message}\n`),
  });
  const stop = () => handle.close().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  const handler = createMcpHandler(build, {
    legacy: LEGACY,
    onerror: (e) => process.stderr.write(`${NAME}: ${e.message}\n`),
  });
  notifier = handler.notify;
  const node = toNodeHandler(handler);
  const validateHost = localhostHostValidation();
  const validateOrigin = localhostOriginValidation();
  const httpServer = http.createServer((req, res) => {
    if (!validateHost(req, res) || !validateOrigin(req, res)) return;
    if (new URL(req.url ?? "/", "http://127.0.0.1").pathname !== "/mcp") {
      res.writeHead(404).end("not found");
      return;
    }
    node(req, res);
  });
  httpServer.listen(PORT, "127.0.0.1", () => {
    const { port } = httpServer.address();
    const url = `http://127.0.0.1:${port}/mcp`;
    process.stderr.write(`${NAME} (legacy: ${LEGACY}) listening on port ${port}\n`);
    process.stdout.write(`${JSON.stringify({ url, port, legacy: LEGACY })}\n`);
  });
  const stop = () => {
    handler.close().finally(() => httpServer.close(() => process.exit(0)));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
