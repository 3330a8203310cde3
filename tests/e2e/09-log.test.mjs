// The protocol log in the real webview: signed in to the bundled demo (a real token on every
// request), `add` called, then the Log tab shows the call's request and response (with its
// latency and result), the HTTP exchange with its status and `authorization: [redacted]`, and
// no token kept in the app's home appears anywhere in the DOM.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { callBlockCount, click, newestBlock, screenshot, selectServer, startApp, tid, waitForText, waitForTools } from "./lib/harness.mjs";

let app;
let browser;

before(async () => {
  app = await startApp("log");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
});

after(async () => {
  await app?.stop();
});

/** Every token kept in the app's file token store (`secrets.json`: base64 values, each a
 * stored sign-in as JSON). */
function storedTokens(latchHome) {
  const found = new Set();
  const file = path.join(latchHome, "secrets.json");
  if (!fs.existsSync(file)) return [];
  const { secrets } = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const value of Object.values(secrets ?? {})) {
    const text = Buffer.from(value, "base64").toString("utf8");
    for (const m of text.matchAll(/\\*"(access_token|refresh_token|accessToken|refreshToken)\\*"\s*:\s*\\*"([^"\\]{8,})/g)) found.add(m[2]);
  }
  return [...found];
}

test("after a call, the Log tab shows its request and response, and no token", { timeout: 180_000 }, async () => {
  await click(browser, tid("sign-in-demo"));
  await waitForText(browser, tid("server-status-demo"), /^Connected/, { timeout: 45_000, what: "the demo's status" });
  await selectServer(browser, "demo");
  await waitForTools(browser, 2);
  await click(browser, tid("tool-card-add"));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  await browser.$(tid("tool-modal")).waitForExist({ reverse: true });
  await (await browser.$(tid("field-a"))).setValue("2");
  await (await browser.$(tid("field-b"))).setValue("3");
  const before = await callBlockCount(browser);
  await click(browser, tid("run-tool"));
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "ok", `the call succeeded: ${block.body}`);

  await click(browser, tid("tab-log"));
  await browser.$(tid("protocol-log")).waitForDisplayed();
  const rowTexts = () => browser.execute(() => Array.from(document.querySelectorAll('[data-testid="log-row"]')).map((r) => r.textContent));
  await browser.waitUntil(async () => (await rowTexts()).some((t) => /response to tools\/call/.test(t)), {
    timeout: 20_000,
    timeoutMsg: "the call's response is in the log",
  });
  const rows = await rowTexts();
  assert.ok(rows.some((t) => /→\s*tools\/call/.test(t)), `the request was sent: ${rows.join("\n")}`);
  assert.ok(rows.some((t) => /⇄\s*HTTP POST 200 \(tools\/call\)/.test(t)), `its HTTP exchange: ${rows.join("\n")}`);

  // The response opens to the server's answer.
  await browser.execute(() => {
    const row = Array.from(document.querySelectorAll('[data-testid="log-row"]')).filter((r) => /response to tools\/call/.test(r.textContent)).pop();
    row.click();
  });
  await waitForText(browser, tid("entry-detail"), /2 \+ 3 = 5/);
  // The opened response in view, painted, for the screenshot (docs/screenshots/protocol-log.png).
  await browser.execute(() => document.querySelector('[data-testid="entry-detail"]')?.scrollIntoView({ block: "end" }));
  await browser.pause(500);
  await screenshot(browser, "09-log");

  // The exchange opens to its headers: the token's header is there, its value is not.
  await browser.execute(() => {
    const row = Array.from(document.querySelectorAll('[data-testid="log-row"]')).filter((r) => /POST 200 \(tools\/call\)/.test(r.textContent)).pop();
    row.click();
  });
  await waitForText(browser, tid("entry-detail"), /authorization\s*\[redacted\]/);

  const tokens = storedTokens(app.latchHome);
  assert.ok(tokens.length > 0, "the sign-in left a token in the app's home to look for");
  const dom = await browser.execute(() => document.documentElement.outerHTML);
  for (const token of tokens) assert.ok(!dom.includes(token), "a stored token is in the DOM");
  assert.doesNotMatch(dom, /Bearer [A-Za-z0-9._~+/-]{8,}/);
});
