// The desktop app's figures, through WebDriver (tauri-driver + WebKitWebDriver, as the E2E
// tests drive it; webdriverio from tests/e2e/node_modules). Run under Xvfb and a private D-Bus
// session (bench/run does: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- …).
// Per launch (--warmup unmeasured launches first, then --runs measured ones), with a fresh
// LATCH_HOME whose servers.json holds `many` (--many URL, 1,000 tools) and `everything`:
//   - cold start: the app process's start time (/proc/PID/stat, 10 ms ticks) to the moment a
//     WebDriver poll first finds a server card in the DOM (read against /proc/uptime). The
//     polling only begins once the WebDriver session exists, so this is an upper bound;
//     `session_to_card_ms` also counts WebKitWebDriver's own start.
//   - idle RSS: VmRSS of latch-app after --idle seconds (and with its WebKit children).
//   - 1,000 tools: with the tools loaded once, switch to `everything` and back to `many` and
//     time, inside the page (performance.now(), a MutationObserver), from the click until the
//     DOM holds the 1,000 tool cards (`render_ms`) and until the frame after it was painted
//     (`render_frame_ms`, two animation frames later); then type a query into the search box (`tool-099`, 10 matches) and
//     time until the DOM shows the 10 cards (`filter_ms`, `filter_frame_ms`).
//   node app.mjs --app PATH --many URL --everything URL [--runs 3] [--warmup 1] [--idle 60] [--reps 10]
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO, emit, num, parseArgs } from "./lib.mjs";

const args = parseArgs();
const APP = path.resolve(args.app);
const runs = num(args.runs, 3);
const warmup = num(args.warmup, 1);
const idle = num(args.idle, 60);
const reps = num(args.reps, 10);
const TAURI_DRIVER = process.env.TAURI_DRIVER ?? path.join(process.env.CARGO_HOME ?? path.join(os.homedir(), ".cargo"), "bin/tauri-driver");
const { remote } = await import(pathToFileURL(path.join(REPO, "tests/e2e/node_modules/webdriverio/build/node.js")).href).catch(() =>
  import(pathToFileURL(path.join(REPO, "tests/e2e/node_modules/webdriverio/build/index.js")).href),
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK_MS = 1000 / 100; // USER_HZ; /proc/PID/stat starttime is in these ticks

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => (sock.destroy(), resolve(true)));
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}

const uptimeMs = () => Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;
function startTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}
function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}
function children(pid) {
  const out = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}
function findApp(latchHome) {
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (path.basename(fs.readlinkSync(`/proc/${e}/exe`)) !== path.basename(APP)) continue;
      if (fs.readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(`LATCH_HOME=${latchHome}`)) return Number(e);
    } catch {
      /* not ours */
    }
  }
  return null;
}

// In-page: run `action`, then report when `count()` equals `want` (DOM) and the frame after.
function timeInPage(browser, action, want) {
  return browser.executeAsync(
    (action, want, done) => {
      const count = () => document.querySelectorAll('[data-testid^="tool-card-"]').length;
      let finished = false;
      let observer;
      const t0 = performance.now();
      const finish = () => {
        if (finished) return;
        finished = true;
        observer.disconnect();
        const dom = performance.now() - t0;
        let framed = false;
        // The second animation frame callback runs after the frame holding the new DOM was
        // laid out and painted.
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            framed = true;
            done({ dom, frame: performance.now() - t0 });
          }),
        );
        setTimeout(() => framed || done({ dom, frame: null }), 10000);
      };
      observer = new MutationObserver(() => count() === want && finish());
      observer.observe(document.body, { childList: true, subtree: true });
      if (action.click) document.querySelector(action.click).click();
      if (action.search !== undefined) {
        const input = document.querySelector('[data-testid="tool-search"]');
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, action.search);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
      if (count() === want) finish();
      setTimeout(() => {
        if (!finished) {
          finished = true;
          observer.disconnect();
          done({ error: `timeout: ${count()} cards, want ${want}` });
        }
      }, 15000);
    },
    action,
    want,
  );
}

const cardCount = (browser) => browser.execute(() => document.querySelectorAll('[data-testid^="tool-card-"]').length);
const selectorMain = (name) => `[data-testid="server-card-${name}"] .server-card-main`;

async function ensureConnected(browser, name) {
  const status = async () => browser.execute((n) => document.querySelector(`[data-testid="server-status-${n}"]`)?.textContent ?? "", name);
  const deadline = Date.now() + 45_000;
  let clicked = false;
  while (Date.now() < deadline) {
    const s = await status();
    if (/^Connected/.test(s)) return;
    if (!clicked && Date.now() > deadline - 40_000 && !/Connecting/.test(s)) {
      await browser.execute((n) => document.querySelector(`[data-testid="connect-${n}"]`)?.click(), name);
      clicked = true;
    }
    await sleep(200);
  }
  throw new Error(`${name} never connected: ${await status()}`);
}

async function launch(measured) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "latch-bench-app-"));
  const latchHome = path.join(home, "latch");
  fs.mkdirSync(latchHome);
  fs.writeFileSync(path.join(latchHome, "servers.json"), JSON.stringify({ mcpServers: { many: { url: args.many }, everything: { url: args.everything } } }, null, 2));
  const ports = new Set();
  while (ports.size < 3) ports.add(await freePort());
  const [port, nativePort, demoPort] = [...ports];
  const log = fs.openSync(path.join(home, "tauri-driver.log"), "w");
  const driver = spawn(TAURI_DRIVER, ["--port", String(port), "--native-port", String(nativePort)], {
    detached: true,
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      LATCH_HOME: latchHome,
      LATCH_TOKEN_STORE: "file",
      LATCH_DEMO_PORT: String(demoPort),
      XDG_DATA_HOME: path.join(home, "data"),
      XDG_CONFIG_HOME: path.join(home, "config"),
    },
  });
  const result = {};
  let browser;
  try {
    await waitForPort(port);
    const t0 = performance.now();
    browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "error",
      connectionRetryTimeout: 120_000,
      connectionRetryCount: 0,
      capabilities: { browserName: "wry", "wdio:enforceWebDriverClassic": true, "tauri:options": { application: APP } },
    });
    let pid = null;
    let seen = null;
    const deadline = Date.now() + 60_000;
    while (seen === null && Date.now() < deadline) {
      if (await browser.execute(() => document.querySelector('[data-testid^="server-card-"]') !== null)) seen = { at: performance.now(), uptime: uptimeMs() };
      else await sleep(5);
    }
    if (seen === null) throw new Error("no server card within 60 s");
    for (let i = 0; i < 50 && pid === null; i++) (pid = findApp(latchHome)) ?? (await sleep(100));
    if (pid === null) throw new Error("could not find the latch-app process");
    result.cold_start_ms = seen.uptime - startTicks(pid) * TICK_MS;
    result.session_to_card_ms = seen.at - t0;

    await ensureConnected(browser, "many");
    await browser.execute((s) => document.querySelector(s).click(), selectorMain("many"));
    await browser.waitUntil(async () => (await cardCount(browser)) === 1000, { timeout: 60_000, timeoutMsg: "the 1,000 tools never showed" });
    await ensureConnected(browser, "everything");
    result.render = [];
    result.filter = [];
    for (let i = 0; i < (measured ? reps + 2 : 2); i++) {
      await browser.execute((s) => document.querySelector(s).click(), selectorMain("everything"));
      await browser.waitUntil(async () => {
        const n = await cardCount(browser);
        return n > 0 && n < 1000;
      }, { timeout: 30_000, timeoutMsg: "everything's tools never showed" });
      await sleep(100);
      const render = await timeInPage(browser, { click: selectorMain("many") }, 1000);
      if (render.error) throw new Error(`render: ${render.error}`);
      await sleep(100);
      const filter = await timeInPage(browser, { search: "tool-099" }, 10);
      if (filter.error) throw new Error(`filter: ${filter.error}`);
      if (i >= 2) {
        result.render.push(render);
        result.filter.push(filter);
      }
      await sleep(100);
    }
    if (measured) {
      await sleep(idle * 1000);
      const rss = rssKiB(pid);
      result.rss_idle_mib = rss / 1024;
      result.total_rss_idle_mib = (rss + children(pid).reduce((sum, c) => sum + rssKiB(c), 0)) / 1024;
    }
  } finally {
    try {
      await browser?.deleteSession();
    } catch {
      /* gone */
    }
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    await sleep(500);
    const pid = findApp(latchHome);
    if (pid) process.kill(pid, "SIGKILL");
    try {
      process.kill(-driver.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
  return result;
}

const report = { runs, idle_seconds: idle, reps, cold_start_ms: [], session_to_card_ms: [], rss_idle_mib: [], total_rss_idle_mib: [], render_ms: [], render_frame_ms: [], filter_ms: [], filter_frame_ms: [] };
try {
  for (let run = 0; run < warmup + runs; run++) {
    const measured = run >= warmup;
    const r = await launch(measured);
    if (!measured) continue;
    report.cold_start_ms.push(r.cold_start_ms);
    report.session_to_card_ms.push(r.session_to_card_ms);
    report.rss_idle_mib.push(r.rss_idle_mib);
    report.total_rss_idle_mib.push(r.total_rss_idle_mib);
    for (const x of r.render) report.render_ms.push(x.dom), x.frame !== null && report.render_frame_ms.push(x.frame);
    for (const x of r.filter) report.filter_ms.push(x.dom), x.frame !== null && report.filter_frame_ms.push(x.frame);
  }
} catch (error) {
  report.error = String(error?.stack ?? error);
}
emit(report);
process.exit(0);
