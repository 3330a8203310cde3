// The part every HTTP test peer here shares: listen on 127.0.0.1 only (the port from `--port N`
// or an env variable, else 0 = ephemeral), say where once it accepts connections, and stop on
// SIGTERM / SIGINT — and, for the peers the Rust tests start with a stdin pipe, when that pipe
// ends, so a test that dies never leaks its peer. What each peer prints stays its own (a
// `<name> listening URL` line, or one JSON line): the tests read it.

import { fstatSync } from "node:fs";

/** The only address a test peer listens on. */
export const HOST = "127.0.0.1";

/** Listen on 127.0.0.1:`port` (0: an ephemeral port); resolves to the port once it accepts. */
export function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

/** The `--port N` of the command line, else 0. */
export function portArg(argv = process.argv) {
  const at = argv.indexOf("--port");
  return at > 0 ? Number(argv[at + 1]) : 0;
}

/** Stop accepting and drop the open connections of each server. */
export function closeServers(...servers) {
  for (const server of servers) {
    server.close();
    server.closeAllConnections?.();
  }
}

/**
 * Call `stop(why)` on SIGTERM / SIGINT, and with `stdinPipe` also when stdin, if it is a pipe
 * or a socket, reaches its end. `stop` ends the process.
 */
export function stopOn(stop, { stdinPipe = false } = {}) {
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (!stdinPipe) return;
  try {
    const stdin = fstatSync(0);
    if (stdin.isFIFO() || stdin.isSocket()) {
      process.stdin.on("end", () => stop("stdin closed"));
      process.stdin.on("error", () => stop("stdin error"));
      process.stdin.resume();
    }
  } catch {
    // no stdin at all
  }
}

/**
 * Run a peer module as a program: `start(port)` (the port from `--port`, else 0) resolves to
 * `{ url, close }`; print `<name> listening <url>` and close it on SIGTERM / SIGINT.
 */
export async function runListening(name, start) {
  const running = await start(portArg());
  console.log(`${name} listening ${running.url}`);
  stopOn(async () => {
    await running.close();
    process.exit(0);
  });
  return running;
}
