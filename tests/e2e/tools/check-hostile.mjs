// Checks tests/peers/hostile-ui-server.mjs alone with the pinned TS SDK client: it starts, lists
// its tools and answers every call. `node tests/e2e/tools/check-hostile.mjs`
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const peers = path.join(repo, "tests/peers");
const sdk = (p) => pathToFileURL(path.join(peers, "node_modules/@modelcontextprotocol/sdk/dist/esm", p)).href;
const { Client } = await import(sdk("client/index.js"));
const { StreamableHTTPClientTransport } = await import(sdk("client/streamableHttp.js"));

const child = spawn(process.execPath, [path.join(peers, "hostile-ui-server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    const m = /listening (\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
});
let failed = 0;
try {
  const client = new Client({ name: "check", version: "0" });
  const logs = [];
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  client.setNotificationHandler((await import(sdk("types.js"))).LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  console.log("server:", JSON.stringify(client.getServerVersion()));
  const { tools } = await client.listTools();
  console.log(`${tools.length} tools: ${tools.map((t) => t.name).join(", ")}`);
  for (const tool of tools) {
    const res = await client.callTool({ name: tool.name, arguments: {} });
    const kinds = res.content.map((c) => c.type).join(",");
    console.log(`  ${tool.name}: isError=${!!res.isError} content=[${kinds}]`);
    if (!res.content.length) failed++;
  }
  console.log(`log messages: ${logs.length}`);
  if (logs.length === 0) failed++;
  await client.close();
} catch (e) {
  console.error(e);
  failed++;
} finally {
  child.kill("SIGTERM");
}
console.log(failed ? "hostile server: FAILED" : "hostile server: ok");
process.exit(failed ? 1 : 0);
