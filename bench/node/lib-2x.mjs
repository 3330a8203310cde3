// Shared helpers of the anchors on the TypeScript SDK 2.x (`@modelcontextprotocol/client`,
// pinned in tests/peers/package.json, loaded by file path like lib.mjs loads the 1.x SDK): the
// client with its protocol era chosen (`versionNegotiation`), and `echo` loops whose argument
// name is an option (the 2.x peer, tests/peers/sdk2/server.mjs, takes `text`, server-everything
// takes `message`).
import path from "node:path";
import { pathToFileURL } from "node:url";
import { PEERS, pool } from "./lib.mjs";

/** The pinned @modelcontextprotocol/client 2.x. */
export function client2x() {
  return import(pathToFileURL(path.join(PEERS, "node_modules/@modelcontextprotocol/client/dist/index.mjs")).href);
}

/**
 * `versionNegotiation` for `--protocol`: `2026-07-28` pins the 2026 wire (`server/discover`, no
 * fallback), `2025-11-25` (or `legacy`) is the SDK's default plain `initialize` handshake, `auto`
 * probes with `server/discover` and falls back.
 */
export function negotiation(protocol = "2026-07-28") {
  if (protocol === "2025-11-25" || protocol === "legacy") return { mode: "legacy" };
  if (protocol === "auto") return { mode: "auto" };
  return { mode: { pin: protocol } };
}

/** A connected 2.x `Client` over Streamable HTTP on `url`, speaking `protocol`. */
export async function connect2x(url, protocol) {
  const { Client, StreamableHTTPClientTransport } = await client2x();
  const client = new Client({ name: "bench-ts-sdk-2x", version: "0" }, { versionNegotiation: negotiation(protocol) });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function echo(client, argName, i) {
  const r = await client.callTool({ name: "echo", arguments: { [argName]: `bench ${i}` } });
  if (r.isError) throw new Error(`echo answered isError: ${JSON.stringify(r.content)}`);
}

/** `calls` sequential echo calls; their latencies in ms. */
export async function sequentialEcho2x(client, argName, calls) {
  const latencies = new Array(calls);
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await echo(client, argName, i);
    latencies[i] = performance.now() - t;
  }
  return latencies;
}

/** `calls` echo calls with `inFlight` at a time; calls per second. */
export async function concurrentEcho2x(client, argName, calls, inFlight) {
  const t = performance.now();
  await pool(calls, inFlight, (i) => echo(client, argName, i));
  return calls / ((performance.now() - t) / 1000);
}
