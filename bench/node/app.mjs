// The desktop app's figures, through WebDriver (tauri-driver + WebKitWebDriver, as the E2E
// tests drive it; webdriverio from tests/e2e/node_modules). Run under Xvfb and a private D-Bus
// session (bench/run does: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- …).
// Per launch (--warmup unmeasured launches first, then --runs measured ones), with a fresh
// LATCH_HOME whose servers.json holds `many` (--many URL, 1,000 tools) and `everything`:
//   - cold start: the app process's start time (/proc/PID/stat, 10 ms ticks) to the moment a
//     WebDriver poll first finds a server card in the DOM (read against /proc/uptime). The
//     polling only begins once the WebDriver session exists, so this is an upper bound;
//     `session_to_card_ms` also counts WebKitWebDriver's own start. `page_start_ms` and
//     `first_paint_ms`: the page's navigation start and first contentful paint on the same
//     clock (what comes before the page is the native start: GTK, WebKit's processes, the shell).
//   - idle RSS: VmRSS of latch-app after --idle seconds (and with its WebKit children); also its
//     anonymous part (RssAnon: the heap, stacks and other memory of its own), its proportional
//     set size (Pss: shared library pages divided among the processes that map them), and the
//     biggest shared libraries in its RSS. The anchor: WebKitGTK's own MiniBrowser (shipped with
//     libwebkit2gtk-4.1-0, the library the app runs on) showing a one-line page, started when the
//     app's idle time starts and measured with it (`baseline_*`; skipped when it is not installed).
//   - 1,000 tools: with the tools loaded once, switch to `everything` and back to `many` and
//     time, inside the page (performance.now(), a MutationObserver), from the click until the
//     DOM shows the list of 1,000 tools (`render_ms`: the list box at its full height, the
//     cards covering the visible part of it; the list is windowed, see timeInPage) and until
//     the frame after it was painted (`render_frame_ms`, two animation frames later); then type
//     a query into the search box (`tool-099`, 10 matches) and time until the DOM shows the 10
//     (`filter_ms`, `filter_frame_ms`). `render_cards` / `filter_cards`: cards in the DOM then.
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
const MINIBROWSER = ["/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser"].find((p) => fs.existsSync(p));

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
/** A field (kB) of /proc/PID/status or /proc/PID/smaps_rollup. */
function procKiB(pid, file, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/${file}`, "utf8"));
  return m ? Number(m[1]) : null;
}

/** The mapped files that hold the most of PID's RSS: { path: MiB }, the biggest first. */
function rssByFile(pid, top = 6) {
  const sizes = new Map();
  let name = "";
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) name = mapping[1] || "[anonymous]";
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sizes.set(name, (sizes.get(name) ?? 0) + Number(rss[1]));
  }
  return Object.fromEntries([...sizes].sort((a, b) => b[1] - a[1]).slice(0, top).map(([n, kib]) => [n, +(kib / 1024).toFixed(1)]));
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

// In-page: run `action`, then report when the tools list shows `want` tools (DOM) and the frame
// after. The list is windowed when long (ui/src/lib/windowing.ts): "shows" means the list holds
// `want` tools (`data-count`), its box has the full height (every card not in the DOM holds at
// least the room of the smallest card that is, plus the gap), and the cards in the DOM cover the
// visible part of the list without holes. A short list is in the DOM whole: all `want` cards.
function timeInPage(browser, action, want) {
  return browser.executeAsync(
    (action, want, done) => {
      const GAP = 8; // .tool-cards gap, CARD_GAP in ui/src/components/tools/Tools.tsx
      const cardsIn = (list) => Array.from(list.querySelectorAll('[data-testid^="tool-card-"]'));
      const scrollerOf = (el) => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const o = getComputedStyle(p).overflowY;
          if (o === "auto" || o === "scroll") return p;
        }
        return document.documentElement;
      };
      // The number of cards in the DOM when the list shows `want` tools, else why not.
      const shows = () => {
        const list = document.querySelector('[data-testid="tool-cards"]');
        if (!list || Number(list.dataset.count) !== want) return { why: `list of ${list?.dataset.count ?? "no"} tools` };
        const cards = cardsIn(list);
        if (cards.length === want) return { cards: cards.length };
        if (cards.length === 0) return { why: "no card in the DOM" };
        const l = list.getBoundingClientRect();
        const s = scrollerOf(list).getBoundingClientRect();
        const top = Math.max(l.top, s.top);
        const bottom = Math.min(l.bottom, s.bottom);
        const rects = cards.map((c) => c.getBoundingClientRect()).sort((a, b) => a.top - b.top);
        const smallest = Math.min(...rects.map((r) => r.height));
        if (l.height < want * (smallest + GAP) - GAP - 1) return { why: `list box ${l.height} px tall, ${cards.length} cards in the DOM, the smallest ${smallest} px` };
        let reached = top;
        for (const r of rects) {
          if (r.bottom <= reached) continue;
          if (r.top > reached + GAP + 1) break;
          reached = r.bottom;
        }
        return reached >= bottom - 1 ? { cards: cards.length } : { why: `${cards.length} cards in the DOM cover the visible part of the list (${top} to ${bottom} px) only to ${reached} px` };
      };
      let finished = false;
      let observer;
      const t0 = performance.now();
      const finish = (inDom) => {
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
            done({ dom, frame: performance.now() - t0, cards: inDom });
          }),
        );
        setTimeout(() => framed || done({ dom, frame: null, cards: inDom }), 10000);
      };
      const check = () => {
        const r = shows();
        if (r.cards !== undefined) finish(r.cards);
      };
      observer = new MutationObserver(check);
      observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["style", "data-count"] });
      if (action.click) document.querySelector(action.click).click();
      if (action.search !== undefined) {
        const input = document.querySelector('[data-testid="tool-search"]');
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, action.search);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
      check();
      setTimeout(() => {
        if (!finished) {
          finished = true;
          observer.disconnect();
          done({ error: `timeout: want ${want} tools: ${shows().why}` });
        }
      }, 15000);
    },
    action,
    want,
  );
}

// How many tools the list holds (the cards in the DOM are fewer when it is windowed).
const listCount = (browser) => browser.execute(() => Number(document.querySelector('[data-testid="tool-cards"]')?.dataset.count ?? 0));
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
    await waitForPort(nativePort); // WebKitWebDriver, started by tauri-driver, listens later
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
    // Where the cold start goes: the page's navigation start and first contentful paint, on the
    // same clock (ms after the app process started; the page's clock is the epoch one).
    {
      const epochAtStart = Date.now() - (uptimeMs() - startTicks(pid) * TICK_MS);
      const page = await browser.execute(() => ({
        origin: performance.timeOrigin,
        fcp: performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint")?.startTime ?? null,
      }));
      result.page_start_ms = page.origin - epochAtStart;
      result.first_paint_ms = page.fcp === null ? null : page.origin + page.fcp - epochAtStart;
    }

    await ensureConnected(browser, "many");
    await browser.execute((s) => document.querySelector(s).click(), selectorMain("many"));
    await browser.waitUntil(async () => (await listCount(browser)) === 1000, { timeout: 60_000, timeoutMsg: "the 1,000 tools never showed" });
    await ensureConnected(browser, "everything");
    result.render = [];
    result.filter = [];
    for (let i = 0; i < (measured ? reps + 2 : 2); i++) {
      await browser.execute((s) => document.querySelector(s).click(), selectorMain("everything"));
      await browser.waitUntil(async () => {
        const n = await listCount(browser);
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
      const baseline = MINIBROWSER
        ? spawn(MINIBROWSER, ["data:text/html,<h1>Latch</h1>"], { stdio: "ignore", env: { ...process.env, XDG_DATA_HOME: path.join(home, "mb-data"), XDG_CACHE_HOME: path.join(home, "mb-cache") } })
        : null;
      await sleep(idle * 1000);
      if (baseline?.pid && baseline.exitCode === null) {
        result.baseline_rss_mib = rssKiB(baseline.pid) / 1024;
        result.baseline_rss_anon_mib = procKiB(baseline.pid, "status", "RssAnon") / 1024;
        result.baseline_pss_mib = procKiB(baseline.pid, "smaps_rollup", "Pss") / 1024;
      }
      baseline?.kill("SIGTERM");
      const rss = rssKiB(pid);
      result.rss_idle_mib = rss / 1024;
      result.total_rss_idle_mib = (rss + children(pid).reduce((sum, c) => sum + rssKiB(c), 0)) / 1024;
      result.rss_anon_idle_mib = procKiB(pid, "status", "RssAnon") / 1024;
      result.pss_idle_mib = procKiB(pid, "smaps_rollup", "Pss") / 1024;
      result.rss_by_file = rssByFile(pid);
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

const report = { runs, idle_seconds: idle, reps, cold_start_ms: [], session_to_card_ms: [], page_start_ms: [], first_paint_ms: [], rss_idle_mib: [], total_rss_idle_mib: [], rss_anon_idle_mib: [], pss_idle_mib: [], rss_by_file: [], baseline_rss_mib: [], baseline_rss_anon_mib: [], baseline_pss_mib: [], render_ms: [], render_frame_ms: [], render_cards: [], filter_ms: [], filter_frame_ms: [], filter_cards: [] };
try {
  for (let run = 0; run < warmup + runs; run++) {
    const measured = run >= warmup;
    const r = await launch(measured);
    if (!measured) continue;
    report.cold_start_ms.push(r.cold_start_ms);
    report.session_to_card_ms.push(r.session_to_card_ms);
    report.page_start_ms.push(r.page_start_ms);
    report.first_paint_ms.push(r.first_paint_ms);
    report.rss_idle_mib.push(r.rss_idle_mib);
    report.total_rss_idle_mib.push(r.total_rss_idle_mib);
    report.rss_anon_idle_mib.push(r.rss_anon_idle_mib);
    report.pss_idle_mib.push(r.pss_idle_mib);
    report.rss_by_file.push(r.rss_by_file);
    for (const k of ["baseline_rss_mib", "baseline_rss_anon_mib", "baseline_pss_mib"]) if (r[k] !== undefined) report[k].push(r[k]);
    for (const x of r.render) report.render_ms.push(x.dom), report.render_cards.push(x.cards), x.frame !== null && report.render_frame_ms.push(x.frame);
    for (const x of r.filter) report.filter_ms.push(x.dom), report.filter_cards.push(x.cards), x.frame !== null && report.filter_frame_ms.push(x.frame);
  }
} catch (error) {
  report.error = String(error?.stack ?? error);
}
emit(report);
process.exit(0);
