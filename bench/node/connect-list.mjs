// The TS SDK anchor of "connect + tools/list as a whole process": connect to a Streamable HTTP
// server, list its tools, print their names, close, exit. bench/node/time-process.mjs times it
// the same way as `latch tools NAME`.
//   node connect-list.mjs URL [--tokens FILE]   (FILE: OAuth tokens JSON saved by sign-in.mjs)
import fs from "node:fs";
import { parseArgs, sdk } from "./lib.mjs";

const args = parseArgs();
const url = args._[0];
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

const options = {};
if (args.tokens) {
  // A cached token: the SDK's auth provider, answering from the file (no sign-in happens).
  const saved = JSON.parse(fs.readFileSync(args.tokens, "utf8"));
  options.authProvider = {
    redirectUrl: "http://127.0.0.1:1/callback",
    clientMetadata: { redirect_uris: ["http://127.0.0.1:1/callback"], client_name: "bench" },
    clientInformation: () => saved.client,
    tokens: () => saved.tokens,
    saveTokens: () => {},
    redirectToAuthorization: () => {
      throw new Error("the cached token was refused");
    },
    saveCodeVerifier: () => {},
    codeVerifier: () => "",
  };
}
const client = new Client({ name: "bench-ts-sdk", version: "0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url), options));
const { tools } = await client.listTools();
for (const t of tools) console.log(t.name);
await client.close();
process.exit(0);
