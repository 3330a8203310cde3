// server-everything (the MCP reference server, pinned in tests/peers) added by URL through the
// add dialog: its tools, the search, the tool modal's three ways to close, and get-sum run from
// the schema form.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  addServerByUrl,
  callBlockCount,
  click,
  newestBlock,
  screenshot,
  selectServer,
  startApp,
  startEverything,
  tid,
  waitConnected,
  waitForText,
  waitForTools,
} from "./lib/harness.mjs";

let app;
let browser;
let everything;

before(async () => {
  everything = await startEverything();
  app = await startApp("everything");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
});

after(async () => {
  await app?.stop();
  await everything?.stop();
});

test("add server-everything by URL through the add dialog; it connects", { timeout: 120_000 }, async () => {
  await addServerByUrl(browser, "everything", everything.url);
  await waitConnected(browser, "everything", 45_000);
  const card = await browser.$(tid("server-card-everything"));
  assert.match(await card.getProperty("textContent"), new RegExp(`127\\.0\\.0\\.1:${everything.port}`));
  await screenshot(browser, "04-everything-added");
});

test("its tools are listed", { timeout: 60_000 }, async () => {
  await selectServer(browser, "everything");
  const names = await waitForTools(browser, 10);
  for (const tool of ["echo", "get-sum", "get-tiny-image", "trigger-long-running-operation"]) {
    assert.ok(names.includes(tool), `${tool} is listed (tools: ${names.join(", ")})`);
  }
  await waitForText(browser, tid("tool-count"), new RegExp(`^${names.length} tools`));
});

test("the search filters: `sum` shows get-sum, not echo", { timeout: 60_000 }, async () => {
  const search = await browser.$(tid("tool-search"));
  await search.setValue("sum");
  await browser.waitUntil(async () => !(await browser.$(tid("tool-card-echo")).isExisting()), {
    timeout: 10_000,
    timeoutMsg: "echo is still listed after searching for `sum`",
  });
  assert.ok(await browser.$(tid("tool-card-get-sum")).isDisplayed(), "get-sum is shown");
  await waitForText(browser, tid("tool-count"), /^\d+ of \d+ tools/);
  await screenshot(browser, "05-everything-search");
});

test("the tool modal closes with Escape, with the X and with a click on the backdrop", { timeout: 60_000 }, async () => {
  const modal = () => browser.$(tid("tool-modal"));
  const open = async () => {
    await click(browser, tid("tool-card-get-sum"));
    await (await modal()).waitForDisplayed({ timeout: 5000 });
    assert.match(await (await modal()).getText(), /sum/i);
  };
  const closed = async (how) => (await modal()).waitForExist({ reverse: true, timeout: 5000, timeoutMsg: `the modal did not close with ${how}` });

  await open();
  await screenshot(browser, "06-tool-modal");
  await browser.keys("Escape");
  await closed("Escape");

  await open();
  await click(browser, tid("tool-modal-close"));
  await closed("the X");

  await open();
  // A click on the backdrop outside the dialog: the top-left corner of the window.
  const panel = await (await modal()).getLocation();
  assert.ok(panel.x > 10 && panel.y > 10, "the dialog leaves backdrop at the top-left corner");
  await browser.action("pointer", { parameters: { pointerType: "mouse" } }).move({ x: 5, y: 5, origin: "viewport" }).down({ button: 0 }).up({ button: 0 }).perform();
  await closed("a click on the backdrop");
});

test("get-sum from the form: a=2, b=3 gives 5", { timeout: 90_000 }, async () => {
  await click(browser, tid("tool-card-get-sum"));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  const a = await browser.$(tid("field-a"));
  await a.waitForDisplayed();
  await a.setValue("2");
  await browser.$(tid("field-b")).setValue("3");
  const before = await callBlockCount(browser);
  await click(browser, tid("run-tool"));
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "ok", `the call succeeded (body: ${block.body})`);
  assert.match(block.head, /get-sum/);
  assert.match(block.body, /\b5\b/);
  await screenshot(browser, "07-everything-get-sum");
});
