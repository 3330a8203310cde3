// The TS SDK anchor of "tool-call throughput on one session": one Client over Streamable HTTP,
// `echo` called --calls times one after another (per-call latency), then --calls times with
// --concurrency in flight. Same shape of JSON as `latch-bench throughput`.
//   node throughput.mjs URL [--calls 2000] [--concurrency 16] [--runs 5] [--warmup 1]
import { concurrentEcho, emit, num, parseArgs, percentilesUs, sdk, sequentialEcho } from "./lib.mjs";

const args = parseArgs();
const url = args._[0];
const calls = num(args.calls, 2000);
const inFlight = num(args.concurrency, 16);
const runs = num(args.runs, 5);
const warmup = num(args.warmup, 1);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

const client = new Client({ name: "bench-ts-sdk", version: "0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
await client.listTools();
const sequential = [];
const latencies = [];
for (let run = 0; run < warmup + runs; run++) {
  const t = performance.now();
  const l = await sequentialEcho(client, calls);
  const rate = calls / ((performance.now() - t) / 1000);
  if (run >= warmup) {
    sequential.push(rate);
    latencies.push(percentilesUs(l));
  }
}
const concurrent = [];
for (let run = 0; run < warmup + runs; run++) {
  const rate = await concurrentEcho(client, calls, inFlight);
  if (run >= warmup) concurrent.push(rate);
}
await client.close();
emit({
  calls,
  concurrency: inFlight,
  sequential_calls_per_s: sequential,
  concurrent_calls_per_s: concurrent,
  latency_p50_us: latencies.map((p) => p.p50),
  latency_p99_us: latencies.map((p) => p.p99),
});
process.exit(0);
