// First run of the real app with an empty LATCH_HOME: the bundled demo server's card is there,
// signing in to it goes through the headless agent, its tools are listed and `add` runs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  callBlockCount,
  click,
  newestBlock,
  screenshot,
  selectServer,
  startApp,
  tid,
  waitForText,
  waitForTools,
  writeMetrics,
} from "./lib/harness.mjs";

let app;
let browser;

before(async () => {
  app = await startApp("first-run");
  browser = app.browser;
});

after(async () => {
  await app?.stop();
});

test("first run: the demo server's card is there", { timeout: 120_000 }, async () => {
  const card = await browser.$(tid("server-card-demo"));
  await card.waitForDisplayed({ timeout: 60_000 });
  const coldStartMs = performance.now() - app.t0;
  console.log(`cold start: session ${Math.round(app.timings.sessionMs)} ms, demo card displayed ${Math.round(coldStartMs)} ms after session request`);
  writeMetrics("first-run", { sessionMs: Math.round(app.timings.sessionMs), coldStartToCardMs: Math.round(coldStartMs), appPid: app.appPid });
  assert.ok(app.appPid, "the latch-app process runs with our LATCH_HOME (tauri-driver passed its environment on)");
  const text = await card.getProperty("textContent");
  assert.match(text, /demo/);
  assert.match(text, new RegExp(`127\\.0\\.0\\.1:${app.demoPort}`), "the demo card points at LATCH_DEMO_PORT");
  const cards = await browser.$$('[data-testid^="server-card-"]');
  assert.equal(cards.length, 1, "a first run has exactly one server: the demo");
  await screenshot(browser, "01-first-run");
});

test("sign in to the demo: the headless agent approves, the card says signed in and connected", { timeout: 120_000 }, async () => {
  await click(browser, tid("sign-in-demo"));
  await waitForText(browser, tid("server-auth-demo"), /^Signed in/, { timeout: 45_000, what: "the demo's sign-in badge" });
  await waitForText(browser, tid("server-status-demo"), /^Connected/, { timeout: 45_000, what: "the demo's status" });
  await browser.$(tid("sign-out-demo")).waitForDisplayed();
  await screenshot(browser, "02-demo-sign-in");
});

test("the demo's tools are listed and `add` with a=2 b=3 gives 5", { timeout: 120_000 }, async () => {
  await selectServer(browser, "demo");
  const names = await waitForTools(browser, 2);
  assert.ok(names.includes("add"), `add is listed (tools: ${names.join(", ")})`);
  assert.ok(names.includes("echo"), `echo is listed (tools: ${names.join(", ")})`);

  await click(browser, tid("tool-card-add"));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  await browser.$(tid("tool-modal")).waitForExist({ reverse: true });
  const a = await browser.$(tid("field-a"));
  await a.waitForDisplayed();
  await a.setValue("2");
  const b = await browser.$(tid("field-b"));
  await b.setValue("3");
  assert.equal(await a.getValue(), "2");
  assert.equal(await b.getValue(), "3");
  const before = await callBlockCount(browser);
  await click(browser, tid("run-tool"));
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "ok", `the call succeeded (head: ${block.head}; body: ${block.body})`);
  assert.match(block.head, /add/);
  assert.match(block.body, /2 \+ 3 = 5/);
  // The README shows this one: docs/screenshots/demo-signed-in.png.
  await screenshot(browser, "03-demo-signed-in");
});
