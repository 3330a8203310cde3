// An agent for `latch bridge` in either protocol era: the MCP TypeScript SDK 2.x `Client`
// (`@modelcontextprotocol/client`) in one of its `versionNegotiation` modes, or the 1.x SDK's
// `Client` (`@modelcontextprotocol/sdk`), spawning `latch bridge NAME` over stdio the way an
// agent does. Run by crates/latch-cli/tests/bridge_eras.rs with the pinned Node 22. It prints
// JSON lines on stdout: one per step ({"step": …, …}) and a last summary line
// ({"summary": true, …}) for the Rust test to assert on. LATCH_HOME and LATCH_TOKEN_STORE come
// from the environment and are passed on to the bridge.
//
//   node bridge-client-2x.mjs MODE --latch BIN --server NAME
//       MODE: legacy | auto | pin (2.x with versionNegotiation { mode: "legacy" },
//       { mode: "auto" }, { mode: { pin: "2026-07-28" } }) or v1 (the 1.x SDK).
//       Connects, lists and calls every tool (arguments from a table of known parameter names,
//       else from the schema), answers the server's input requests (elicitation, sampling,
//       roots) and counts them, follows a call's progress, cancels a long call, runs calls in
//       parallel, and sends a made-up requestState.

import { Client as Client2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as Stdio2 } from "@modelcontextprotocol/client/stdio";
import { Client as Client1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as Stdio1 } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const mode = process.argv[2];
const args = Object.fromEntries(
  process.argv.slice(3).reduce((pairs, word, i, all) => {
    if (word.startsWith("--")) pairs.push([word.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const CAPABILITIES = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
const asked = { elicitation: 0, sampling: 0, roots: 0 };
let toolListChanges = 0;
const onToolListChanged = () => {
  toolListChanges += 1;
};
const resourceUpdates = [];
const onResourceUpdated = (notification) => resourceUpdates.push(notification.params.uri);

// Values for parameters by name (server-everything's and tests/peers/sdk2/server.mjs's tools).
const KNOWN = {
  message: "hello bridge",
  text: "hello bridge",
  a: 2,
  b: 3,
  duration: 1,
  steps: 3,
  seconds: 1,
  prompt: "hi",
  maxTokens: 10,
  location: "Chicago",
  messageType: "success",
  includeImage: false,
  count: 2,
  resourceType: "Text",
  resourceId: 1,
  name: "hello.txt.gz",
  data: "data:text/plain;base64,aGVsbG8gYnJpZGdl",
  outputType: "resource",
};

function valueFor(name, schema = {}) {
  if (name in KNOWN) return KNOWN[name];
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  switch (schema.type) {
    case "number":
    case "integer":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return "x";
  }
}

function argumentsFor(tool) {
  const schema = tool.inputSchema ?? {};
  const out = {};
  for (const name of schema.required ?? []) out[name] = valueFor(name, schema.properties?.[name]);
  return out;
}

/** An answer that fits an elicitation's requested schema. */
function formAnswer(params) {
  const content = {};
  for (const [name, schema] of Object.entries(params?.requestedSchema?.properties ?? {})) {
    if (Array.isArray(schema.enum)) content[name] = schema.enum[0];
    else if (schema.type === "boolean") content[name] = true;
    else if (schema.type === "number" || schema.type === "integer") content[name] = schema.minimum ?? 3;
    else content[name] = name === "name" ? `Bridge Tester ${asked.elicitation}` : "Bridge Tester";
  }
  return { action: "accept", content };
}

const onElicit = async (request) => {
  asked.elicitation += 1;
  return formAnswer(request.params);
};
const onSample = async (request) => {
  asked.sampling += 1;
  return {
    role: "assistant",
    content: { type: "text", text: `canned answer to ${request.params.messages.length} message(s)` },
    model: "bridge-test-model",
    stopReason: "endTurn",
  };
};
const onRoots = async () => {
  asked.roots += 1;
  return { roots: [{ uri: "file:///tmp/bridge-root", name: "bridge-root" }] };
};

function transportParams() {
  return { command: args.latch, args: ["bridge", args.server], env: { ...process.env }, stderr: "pipe" };
}

async function connect() {
  if (mode === "v1") {
    const client = new Client1({ name: "bridge-eras-agent-1x", version: "1.0.0" }, { capabilities: CAPABILITIES });
    client.setRequestHandler(ElicitRequestSchema, onElicit);
    client.setRequestHandler(CreateMessageRequestSchema, onSample);
    client.setRequestHandler(ListRootsRequestSchema, onRoots);
    client.setNotificationHandler(ToolListChangedNotificationSchema, onToolListChanged);
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, onResourceUpdated);
    const transport = new Stdio1(transportParams());
    const stderr = [];
    transport.stderr?.on("data", (chunk) => stderr.push(chunk.toString()));
    await client.connect(transport);
    return { client, stderr, version: client.getServerVersion(), protocol: transport._protocolVersion ?? null };
  }
  const negotiation = { legacy: { mode: "legacy" }, auto: { mode: "auto" }, pin: { mode: { pin: "2026-07-28" } } }[mode];
  if (!negotiation) throw new Error(`unknown mode ${mode}`);
  const client = new Client2(
    { name: `bridge-eras-agent-2x-${mode}`, version: "1.0.0" },
    { capabilities: CAPABILITIES, versionNegotiation: negotiation },
  );
  client.setRequestHandler("elicitation/create", onElicit);
  client.setRequestHandler("sampling/createMessage", onSample);
  client.setRequestHandler("roots/list", onRoots);
  client.setNotificationHandler("notifications/tools/list_changed", onToolListChanged);
  client.setNotificationHandler("notifications/resources/updated", onResourceUpdated);
  const transport = new Stdio2(transportParams());
  const stderr = [];
  transport.stderr?.on("data", (chunk) => stderr.push(chunk.toString()));
  await client.connect(transport);
  return {
    client,
    stderr,
    version: client.getServerVersion(),
    protocol: client.getNegotiatedProtocolVersion() ?? null,
    era: client.getProtocolEra?.() ?? null,
  };
}

// The 1.x SDK takes (params, resultSchema, options); 2.x takes (params, options).
const call = (client, params, options) =>
  mode === "v1" ? client.callTool(params, undefined, options) : client.callTool(params, options);

const text = (result) => (result?.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
const errorOf = (error) => ({ code: error?.code ?? null, message: String(error?.message ?? error) });

async function main() {
  const { client, stderr, version, protocol, era } = await connect();
  emit({ step: "connect", protocol, era: era ?? null, server: version?.name ?? null });
  const summary = { summary: true, mode, protocol, era: era ?? null, server: version?.name ?? null, tools: {}, errors: {} };

  // A resource to follow, when the server lets clients subscribe to resources.
  const subscribable = client.getServerCapabilities()?.resources?.subscribe === true;
  const watched = subscribable ? (await client.listResources()).resources[0]?.uri : undefined;
  // On 2026-07-28, list changes and resource updates come only on a subscriptions/listen the
  // client keeps open; before, on their own (after resources/subscribe for updates).
  let subscription = null;
  if (era === "modern") {
    subscription = await client.listen({
      toolsListChanged: true,
      ...(watched ? { resourceSubscriptions: [watched] } : {}),
    });
    summary.listenAccepted = subscription.honoredFilter;
    emit({ step: "listen", accepted: summary.listenAccepted });
  } else if (watched) {
    await client.subscribeResource({ uri: watched });
  }
  summary.watched = watched ?? null;

  const listed = (await client.listTools()).tools;
  summary.listed = listed.map((t) => t.name).sort();
  emit({ step: "tools/list", tools: summary.listed });

  // Every tool, one at a time, with the server's input requests answered along the way.
  const skip = new Set(["trigger-long-running-operation", "slow"]);
  for (const tool of listed) {
    if (skip.has(tool.name)) continue;
    const before = { ...asked };
    try {
      const result = await client.callTool({ name: tool.name, arguments: argumentsFor(tool) });
      const askedNow = Object.fromEntries(Object.entries(asked).map(([k, v]) => [k, v - before[k]]));
      summary.tools[tool.name] = { isError: Boolean(result.isError), text: text(result).slice(0, 300), asked: askedNow };
    } catch (error) {
      summary.errors[tool.name] = errorOf(error);
    }
    emit({ step: "tools/call", tool: tool.name, outcome: summary.tools[tool.name] ?? summary.errors[tool.name] });
  }
  summary.asked = { ...asked };
  if (watched && listed.some((t) => t.name === "toggle-subscriber-updates")) {
    // server-everything sends an update for each subscribed resource every few seconds once
    // toggle-subscriber-updates was called (in the loop above).
    const deadline = Date.now() + 20000;
    while (!resourceUpdates.includes(watched) && Date.now() < deadline) await sleep(50);
    summary.resourceUpdates = [...new Set(resourceUpdates)];
    emit({ step: "resource-updated", uris: summary.resourceUpdates });
  }
  if (listed.some((t) => t.name === "grow")) {
    // `grow` announced a new tool: the change reaches the agent in its era's way.
    const deadline = Date.now() + 10000;
    while (toolListChanges === 0 && Date.now() < deadline) await sleep(50);
    summary.toolListChanges = toolListChanges;
    emit({ step: "tool-list-changed", count: toolListChanges });
  }

  // Progress: every report reaches the agent, under its own token, before the answer.
  const progressTool = listed.find((t) => t.name === "trigger-long-running-operation" || t.name === "count");
  if (progressTool) {
    const reports = [];
    try {
      const args = progressTool.name === "count" ? { steps: 3 } : { duration: 1, steps: 3 };
      const result = await call(client, { name: progressTool.name, arguments: args }, {
        onprogress: (p) => reports.push(p.progress),
      });
      summary.progress = { reports, text: text(result).slice(0, 200) };
    } catch (error) {
      summary.progress = { reports, error: errorOf(error) };
    }
    emit({ step: "progress", ...summary.progress });
  }

  // Cancellation: the agent gives up on a long call; the bridge stays usable.
  const longTool = listed.find((t) => t.name === "trigger-long-running-operation" || t.name === "slow");
  if (longTool) {
    const controller = new AbortController();
    const args = longTool.name === "slow" ? { seconds: 30 } : { duration: 30, steps: 30 };
    let outcome;
    const pending = call(client, { name: longTool.name, arguments: args }, {
      signal: controller.signal,
      onprogress: () => controller.abort("the test cancels"),
    }).then(() => "completed", (error) => `rejected: ${error?.message ?? error}`);
    await sleep(500);
    controller.abort("the test cancels");
    outcome = await pending;
    const echo = listed.find((t) => t.name === "echo");
    const after = echo ? text(await client.callTool({ name: "echo", arguments: argumentsFor(echo) })) : null;
    summary.cancelled = { outcome, after };
    emit({ step: "cancel", ...summary.cancelled });
  }

  // Parallel calls: each answer belongs to its own call.
  const add = listed.find((t) => t.name === "add" || t.name === "get-sum");
  if (add) {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        client.callTool({ name: add.name, arguments: { a: n, b: 100 } }).then(text, (e) => `error: ${e?.message ?? e}`),
      ),
    );
    summary.parallel = results;
    emit({ step: "parallel", results });
  }

  // Parallel calls that each ask for input: each gets its own answer back.
  const ask = listed.find((t) => t.name === "ask");
  if (ask) {
    const results = await Promise.all(
      [1, 2, 3].map(() => client.callTool({ name: "ask", arguments: {} }).then(text, (e) => `error: ${e?.message ?? e}`)),
    );
    summary.parallelAsk = results;
    emit({ step: "parallel-ask", results });
  }

  // A requestState the bridge never made is refused, not guessed at.
  if (summary.protocol === "2026-07-28") {
    const tool = listed.find((t) => t.name === "echo") ?? listed[0];
    try {
      const result = await client.request({
        method: "tools/call",
        params: {
          name: tool.name,
          arguments: argumentsFor(tool),
          requestState: "latch-bridge.made-up-state",
          inputResponses: { x: { action: "decline" } },
        },
      });
      summary.madeUpState = { answered: true, resultType: result?.resultType ?? null };
    } catch (error) {
      summary.madeUpState = errorOf(error);
    }
    emit({ step: "made-up-state", ...summary.madeUpState });
  }

  summary.stderr = stderr.join("").slice(-4000);
  if (subscription) await subscription.close?.();
  await client.close();
  emit(summary);
}

main().catch((error) => {
  emit({ summary: true, fatal: String(error?.stack ?? error) });
  process.exitCode = 1;
});
