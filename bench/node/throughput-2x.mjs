// The TypeScript SDK 2.x anchor of "tool-call throughput" on a chosen wire: one
// `@modelcontextprotocol/client` 2.x `Client` over Streamable HTTP (pinned to 2026-07-28 by
// default), `echo` called --calls times one after another (per-call latency), then --calls times
// with --concurrency in flight. Same shape of JSON as `latch-bench throughput` and throughput.mjs.
//   node throughput-2x.mjs URL [--protocol 2026-07-28] [--echo-arg text] [--calls 2000]
//                              [--concurrency 16] [--runs 5] [--warmup 1]
import { emit, num, parseArgs, percentilesUs } from "./lib.mjs";
import { concurrentEcho2x, connect2x, sequentialEcho2x } from "./lib-2x.mjs";

const args = parseArgs();
const calls = num(args.calls, 2000);
const inFlight = num(args.concurrency, 16);
const runs = num(args.runs, 5);
const warmup = num(args.warmup, 1);
const argName = args["echo-arg"] ?? "text";

const client = await connect2x(args._[0], args.protocol);
await client.listTools();
const sequential = [];
const latencies = [];
for (let run = 0; run < warmup + runs; run++) {
  const t = performance.now();
  const l = await sequentialEcho2x(client, argName, calls);
  const rate = calls / ((performance.now() - t) / 1000);
  if (run >= warmup) {
    sequential.push(rate);
    latencies.push(percentilesUs(l));
  }
}
const concurrent = [];
for (let run = 0; run < warmup + runs; run++) {
  const rate = await concurrentEcho2x(client, argName, calls, inFlight);
  if (run >= warmup) concurrent.push(rate);
}
const protocolVersion = client.getNegotiatedProtocolVersion();
await client.close();
emit({
  calls,
  concurrency: inFlight,
  protocol_version: protocolVersion,
  sequential_calls_per_s: sequential,
  concurrent_calls_per_s: concurrent,
  latency_p50_us: latencies.map((p) => p.p50),
  latency_p99_us: latencies.map((p) => p.p99),
});
process.exit(0);
