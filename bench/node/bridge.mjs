// The bridge figures: a TS SDK client calling `echo` on server-everything (1) directly over
// Streamable HTTP, (2) over stdio through `latch bridge NAME`, (3) over stdio through
// mcp-remote (pinned in tests/peers, run with the pinned Node). Per mode: connect, list, a
// warm-up, then --runs runs of --calls sequential calls (per-call latency) and of --calls
// calls with --concurrency in flight (throughput). Modes whose command is not given are
// reported as {"skipped": reason}. Each measured run with calls in flight also reports the
// CPU time per call of the three processes on the path — the agent (this process), the
// process in the middle (the bridge or mcp-remote) and, with --server-pid, the server — from
// /proc/PID/stat (utime + stime, all threads, 10 ms ticks).
//   node bridge.mjs URL [--latch PATH --latch-home DIR --name everything] [--calls 2000]
//     [--concurrency 16] [--runs 3] [--warmup 1] [--modes direct,latch,mcp-remote]
//     [--server-pid PID]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NODE22, PEERS, concurrentEcho, emit, num, parseArgs, percentilesUs, sdk, sequentialEcho } from "./lib.mjs";

const args = parseArgs();
const url = args._[0];
const calls = num(args.calls, 2000);
const inFlight = num(args.concurrency, 16);
const runs = num(args.runs, 3);
const warmup = num(args.warmup, 1);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { StdioClientTransport } = await sdk("client/stdio.js");

const mcpRemoteHome = fs.mkdtempSync(path.join(os.tmpdir(), "latch-bench-mcp-remote-"));
const modes = {
  direct: () => new StreamableHTTPClientTransport(new URL(url)),
  latch: args.latch
    ? () =>
        new StdioClientTransport({
          command: args.latch,
          args: ["bridge", args.name ?? "everything"],
          env: { ...process.env, LATCH_HOME: args["latch-home"], LATCH_TOKEN_STORE: "file" },
          stderr: "ignore",
        })
    : null,
  "mcp-remote": () =>
    new StdioClientTransport({
      command: NODE22,
      args: [path.join(PEERS, "node_modules/mcp-remote/dist/proxy.js"), url, "--transport", "http-only", "--allow-http"],
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: mcpRemoteHome },
      stderr: "ignore",
    }),
};

const serverPid = args["server-pid"] ? Number(args["server-pid"]) : null;

/** CPU time (µs) a process used so far, all its threads (dead ones too); null if unknown. */
function cpuUs(pid) {
  if (!pid) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime, stime: 100 Hz ticks
  } catch {
    return null;
  }
}
const agentCpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const report = { calls, concurrency: inFlight };
const wanted = args.modes ? String(args.modes).split(",") : Object.keys(modes);
for (const [mode, transport] of Object.entries(modes)) {
  if (!wanted.includes(mode)) continue;
  if (!transport) {
    report[mode] = { skipped: args["latch-skip-reason"] ?? "not given" };
    continue;
  }
  try {
    const client = new Client({ name: "bench-agent", version: "0" });
    const made = transport();
    await client.connect(made);
    const middlePid = made.pid ?? null;
    await client.listTools();
    const sequential = [];
    const latencies = [];
    for (let run = 0; run < warmup + runs; run++) {
      const t = performance.now();
      const l = await sequentialEcho(client, calls);
      if (run >= warmup) {
        sequential.push(calls / ((performance.now() - t) / 1000));
        latencies.push(percentilesUs(l));
      }
    }
    const concurrent = [];
    const cpu = { agent: [], middle: [], server: [] };
    for (let run = 0; run < warmup + runs; run++) {
      const before = { agent: agentCpuUs(), middle: cpuUs(middlePid), server: cpuUs(serverPid) };
      const rate = await concurrentEcho(client, calls, inFlight);
      const after = { agent: agentCpuUs(), middle: cpuUs(middlePid), server: cpuUs(serverPid) };
      if (run >= warmup) {
        concurrent.push(rate);
        for (const k of Object.keys(cpu)) if (before[k] !== null && after[k] !== null) cpu[k].push((after[k] - before[k]) / calls);
      }
    }
    await client.close();
    report[mode] = {
      sequential_calls_per_s: sequential,
      concurrent_calls_per_s: concurrent,
      latency_p50_us: latencies.map((p) => p.p50),
      latency_p99_us: latencies.map((p) => p.p99),
      agent_cpu_us_per_call: cpu.agent,
      middle_cpu_us_per_call: cpu.middle,
      server_cpu_us_per_call: cpu.server,
    };
  } catch (error) {
    report[mode] = { error: String(error?.stack ?? error) };
  }
}
fs.rmSync(mcpRemoteHome, { recursive: true, force: true });
emit(report);
process.exit(0);
