// Times whole processes: `--warmup W` unmeasured runs, then `--runs R` measured ones, each a
// fresh process (spawnSync, output discarded; a non-zero exit fails the figure). Prints
// {"ms": [...]} — wall time from spawn to exit.
//   node time-process.mjs --runs R --warmup W -- COMMAND ARG...
import { spawnSync } from "node:child_process";
import { emit, num, parseArgs } from "./lib.mjs";

const args = parseArgs();
const [command, ...rest] = args._rest ?? [];
const runs = num(args.runs, 10);
const warmup = num(args.warmup, 2);
const ms = [];
for (let i = 0; i < warmup + runs; i++) {
  const t = performance.now();
  const r = spawnSync(command, rest, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  const elapsed = performance.now() - t;
  if (r.status !== 0) {
    process.stderr.write(`${command} ${rest.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  if (i >= warmup) ms.push(elapsed);
}
emit({ ms });
