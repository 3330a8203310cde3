// The TypeScript SDK 2.x anchor of "connect + tools/list as a whole process" on a chosen wire:
// `@modelcontextprotocol/client` 2.x over Streamable HTTP, connect (`versionNegotiation` pinned to
// 2026-07-28 by default: `server/discover`, no handshake), list the tools, print their names,
// close, exit. bench/node/time-process.mjs times it the same way as `latch tools NAME`.
//   node connect-list-2x.mjs URL [--protocol 2026-07-28|2025-11-25|auto]
import { parseArgs } from "./lib.mjs";
import { connect2x } from "./lib-2x.mjs";

const args = parseArgs();
const client = await connect2x(args._[0], args.protocol);
const { tools } = await client.listTools();
for (const t of tools) console.log(t.name);
process.stderr.write(`protocol ${client.getNegotiatedProtocolVersion()}\n`);
await client.close();
process.exit(0);
