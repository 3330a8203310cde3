// The app as a resident: its cold start and memory after a minute idle (written to
// target/e2e/metrics/window.json), closing the window only hides it (the app keeps running and
// answering), and a second launch brings the window back through the single-instance hand-off.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { APP, childProcesses, rssKiB, screenshot, sleep, startApp, tid, writeMetrics } from "./lib/harness.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const IDLE_SECONDS = Number(process.env.E2E_IDLE_SECONDS ?? 60);

let app;
let browser;
const metrics = {};

before(async () => {
  app = await startApp("window");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
  metrics.sessionMs = Math.round(app.timings.sessionMs);
  metrics.coldStartToCardMs = Math.round(performance.now() - app.t0);
});

after(async () => {
  await app?.stop();
});

test(`cold start and memory after ${IDLE_SECONDS} s idle`, { timeout: (IDLE_SECONDS + 60) * 1000 }, async () => {
  assert.ok(app.appPid, "found the latch-app process");
  metrics.appPid = app.appPid;
  metrics.rssAtStartKiB = rssKiB(app.appPid);
  await sleep(IDLE_SECONDS * 1000);
  metrics.idleSeconds = IDLE_SECONDS;
  metrics.rssIdleKiB = rssKiB(app.appPid);
  metrics.children = childProcesses(app.appPid);
  metrics.totalIdleKiB = metrics.rssIdleKiB + metrics.children.reduce((sum, c) => sum + (c.rssKiB ?? 0), 0);
  writeMetrics("window", metrics);
  console.log(
    `cold start: session ${metrics.sessionMs} ms, server list painted ${metrics.coldStartToCardMs} ms; ` +
      `latch-app VmRSS after ${IDLE_SECONDS} s idle: ${(metrics.rssIdleKiB / 1024).toFixed(1)} MiB ` +
      `(with ${metrics.children.map((c) => `${c.name} ${(c.rssKiB / 1024).toFixed(1)} MiB`).join(", ") || "no child processes"}: ` +
      `${(metrics.totalIdleKiB / 1024).toFixed(1)} MiB)`,
  );
  assert.ok(metrics.rssIdleKiB > 0);
  // Still responsive after idling.
  assert.ok(await browser.$(tid("server-card-demo")).isDisplayed());
});

/** The app's top-level X11 windows: [{ id, mapped }] (by _NET_WM_PID). */
function appWindows(pid) {
  const tree = spawnSync("xwininfo", ["-root", "-children"], { encoding: "utf8" });
  if (tree.status !== 0) throw new Error(`xwininfo failed: ${tree.stderr}`);
  const ids = [...tree.stdout.matchAll(/^\s+(0x[0-9a-f]+) "([^"]*)"/gm)].filter((m) => m[2] === "Latch").map((m) => m[1]);
  const out = [];
  for (const id of ids) {
    const prop = spawnSync("xprop", ["-id", id, "_NET_WM_PID"], { encoding: "utf8" });
    if (!new RegExp(`= ${pid}$`, "m").test(prop.stdout)) continue;
    const info = spawnSync("xwininfo", ["-id", id], { encoding: "utf8" });
    out.push({ id, mapped: /Map State: IsViewable/.test(info.stdout) });
  }
  return out;
}

async function waitFor(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeout} ms: ${what}`);
}

test("closing the window hides it; the app keeps running; a second launch shows it again", { timeout: 90_000 }, async (t) => {
  if (!process.env.DISPLAY || spawnSync("xwininfo", ["-version"]).error) {
    t.skip("needs an X display and xwininfo (run under xvfb-run)");
    return;
  }
  await screenshot(browser, "13-before-close");
  const windows = appWindows(app.appPid);
  assert.equal(windows.length, 1, `one top-level "Latch" window of pid ${app.appPid}: ${JSON.stringify(windows)}`);
  const [{ id }] = windows;
  assert.ok(windows[0].mapped, "the window is shown at first");

  // What a window manager's close button sends: WM_DELETE_WINDOW.
  const close = spawnSync("python3", [path.join(HERE, "tools/x11-close-window.py"), id], { encoding: "utf8" });
  assert.equal(close.status, 0, close.stderr);
  await waitFor(() => appWindows(app.appPid).some((w) => w.id === id && !w.mapped), 10_000, "the window to be hidden");
  await sleep(1500);
  assert.ok(fs.existsSync(`/proc/${app.appPid}`), "latch-app still runs after its window was closed");
  assert.equal(appWindows(app.appPid).length, 1, "the window was hidden, not destroyed");
  // The core is alive: the hidden page still talks to the shell.
  const servers = await browser.executeAsync((done) => {
    window.__TAURI_INTERNALS__.invoke("list_servers").then(
      (list) => done(list.map((s) => s.name)),
      (e) => done(`error: ${JSON.stringify(e)}`),
    );
  });
  assert.deepEqual(servers, ["demo"]);
  const demo = await fetch(app.demoUrl, { method: "GET" }).then((r) => r.status, (e) => `down: ${e.message}`);
  assert.equal(typeof demo, "number", `the bundled demo server still answers (${demo})`);

  // A second launch (same environment, same D-Bus session) hands over to the first and exits.
  const env = Object.fromEntries(
    fs
      .readFileSync(`/proc/${app.appPid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  delete env.TAURI_WEBVIEW_AUTOMATION;
  const second = spawn(APP, [], { env, stdio: "ignore" });
  const exited = new Promise((resolve) => second.once("exit", (code, signal) => resolve({ code, signal })));
  const outcome = await Promise.race([exited, sleep(20_000).then(() => null)]);
  if (outcome === null) {
    second.kill("SIGKILL");
    assert.fail("the second launch did not hand over and exit within 20 s");
  }
  await waitFor(() => appWindows(app.appPid).some((w) => w.id === id && w.mapped), 10_000, "the window to be shown again");
  assert.ok(fs.existsSync(`/proc/${app.appPid}`), "the first instance still runs");
  await screenshot(browser, "14-shown-again");
});
