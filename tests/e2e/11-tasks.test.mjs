// A call the server runs as a task (the 2026 tasks extension, SEP-2663), in the real webview,
// against the bundled demo's `make_report` (rmcp's server-side task runtime): the running block
// shows the task's status and message as it is polled (`tasks/get`), the question the task
// asks half-way is answered in the dialog while the block says it waits for the answer (sent
// with `tasks/update`), the report comes back in the block; a second run is cancelled from the
// block, and the Log tab shows `tasks/cancel` sent and the block ends as cancelled.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { callBlockCount, click, newestBlock, screenshot, selectServer, startApp, tid, waitForText, waitForTools } from "./lib/harness.mjs";

let app;
let browser;

before(async () => {
  app = await startApp("tasks");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
  await click(browser, tid("sign-in-demo"));
  await waitForText(browser, tid("server-status-demo"), /^Connected/, { timeout: 45_000, what: "the demo's status" });
  await selectServer(browser, "demo");
  await waitForTools(browser, 8);
});

after(async () => {
  await app?.stop();
});

/** Opens make_report's runner, sets `seconds` and runs it; the number of blocks before. */
async function runReport(seconds) {
  await click(browser, tid("tab-tools"));
  await click(browser, tid("tool-card-make_report"));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  await browser.$(tid("tool-modal")).waitForExist({ reverse: true });
  const field = await browser.$(tid("field-seconds"));
  await field.waitForDisplayed();
  await field.clearValue();
  await field.setValue(String(seconds));
  await browser.waitUntil(async () => (await field.getValue()) === String(seconds), { timeout: 5000 });
  const before = await callBlockCount(browser);
  await click(browser, tid("run-tool"));
  return before;
}

/** The running block's task status (`working`, `input_required`…), or null. */
function taskStatus() {
  return browser.execute(() => document.querySelector('[data-testid="task-status"]')?.getAttribute("data-status") ?? null);
}

test("a task's status shows in the running block, its question is answered, its report comes back", { timeout: 180_000 }, async () => {
  const before = await runReport(4);
  await waitForText(browser, tid("progress-text"), /Task · Working · (Counting notes|Writing the report)/, { timeout: 20_000, what: "the task's status in the running block" });
  await screenshot(browser, "11-task-running");

  const dialog = await browser.$(tid("elicitation-dialog"));
  await dialog.waitForDisplayed({ timeout: 30_000 });
  await waitForText(browser, tid("elicitation-dialog"), /Include the deleted notes too\?/);
  await browser.waitUntil(async () => (await taskStatus()) === "input_required", {
    timeout: 20_000,
    timeoutMsg: "the running block says the task waits for an answer",
  });
  await waitForText(browser, tid("progress-text"), /Waiting for your answer/);
  await screenshot(browser, "11-task-question");
  await click(browser, tid("field-include_deleted"));
  await click(browser, tid("elicitation-accept"));
  await dialog.waitForExist({ reverse: true, timeout: 10_000 });

  const block = await newestBlock(browser, before, 60_000);
  assert.equal(block.status, "ok", `the task's result came back (body: ${block.body})`);
  assert.match(block.body, /Report: 3 notes\./);
  assert.match(block.body, /No note was deleted\./, "the answer (yes, include them) reached the task");
  await screenshot(browser, "11-task-done");
});

test("a running task is cancelled from its block and the server is told", { timeout: 180_000 }, async () => {
  const before = await runReport(60);
  await waitForText(browser, tid("progress-text"), /Task · Working/, { timeout: 20_000, what: "the task's status" });
  await click(browser, tid("cancel-call"));
  const block = await newestBlock(browser, before, 30_000);
  assert.equal(block.status, "cancelled", `the call ended as cancelled (body: ${block.body})`);

  await click(browser, tid("tab-log"));
  await browser.$(tid("protocol-log")).waitForDisplayed();
  const rowTexts = () => browser.execute(() => Array.from(document.querySelectorAll('[data-testid="log-row"]')).map((r) => r.textContent));
  await browser.waitUntil(async () => (await rowTexts()).some((t) => /→\s*tasks\/cancel/.test(t)), {
    timeout: 20_000,
    timeoutMsg: "tasks/cancel is in the log",
  });
  const rows = await rowTexts();
  for (const method of ["tasks/get", "tasks/update", "tasks/cancel"]) {
    assert.ok(rows.some((t) => new RegExp(`→\\s*${method}`).test(t)), `${method} was sent: ${rows.join("\n")}`);
  }
});
