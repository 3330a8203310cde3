// What server-everything asks of its client, answered by hand in the real webview: the app
// announces sampling, roots and elicitation (form and URL), and takes sampling and elicitation
// as tasks, so the server offers all 19 of its tools; trigger-sampling-request's question is
// answered in the sampling dialog and the reply comes back in the tool's result; a folder added
// in the Roots tab reaches the server (roots/list_changed, then roots/list) and
// get-roots-list shows it; a form elicitation is answered; a URL elicitation shows the page's
// host and is declined without opening anything.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { addServerByUrl, callBlockCount, click, newestBlock, screenshot, selectServer, startApp, startEverything, tid, waitConnected, waitForText, waitForTools } from "./lib/harness.mjs";

let app;
let browser;
let everything;
let folder;

before(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "latch-e2e-root-"));
  everything = await startEverything();
  app = await startApp("sampling-roots");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
  await addServerByUrl(browser, "everything", everything.url);
  await waitConnected(browser, "everything", 45_000);
  await selectServer(browser, "everything");
});

after(async () => {
  await app?.stop();
  await everything?.stop();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

/** Opens `tool`'s runner from its card, fills `fields` (testid suffix → value) and runs it. */
async function run(tool, fields = {}) {
  await click(browser, tid("tab-tools"));
  await click(browser, tid(`tool-card-${tool}`));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  await browser.$(tid("run-tool")).waitForDisplayed();
  for (const [field, value] of Object.entries(fields)) {
    const input = await browser.$(tid(`field-${field}`));
    await input.waitForDisplayed();
    await input.setValue(value);
  }
  const before = await callBlockCount(browser);
  await click(browser, tid("run-tool"));
  return before;
}

test("with sampling, roots, elicitation and tasks the server offers all 19 of its tools", { timeout: 60_000 }, async () => {
  const names = await waitForTools(browser, 19);
  for (const tool of ["trigger-sampling-request", "get-roots-list", "trigger-elicitation-request", "trigger-url-elicitation", "simulate-research-query", "trigger-sampling-request-async", "trigger-elicitation-request-async"]) {
    assert.ok(names.includes(tool), `${tool} is listed (tools: ${names.join(", ")})`);
  }
  assert.equal(names.length, 19, `19 tools (tools: ${names.join(", ")})`);
  await waitForText(browser, tid("tool-count"), /^19 tools/);
});

test("a sampling request is answered by hand and the reply reaches the tool's result", { timeout: 120_000 }, async () => {
  const before = await run("trigger-sampling-request", { prompt: "What is MCP, in five words?" });
  const dialog = await browser.$(tid("sampling-dialog"));
  await dialog.waitForDisplayed({ timeout: 20_000 });
  await waitForText(browser, tid("sampling-messages"), /What is MCP, in five words\?/);
  await waitForText(browser, tid("sampling-system"), /^You are a helpful test server\.$/);
  await waitForText(browser, tid("sampling-facts"), /100 tokens/);
  const reply = await browser.$(tid("sampling-reply"));
  await reply.setValue("Models meet tools, one protocol.");
  await browser.waitUntil(async () => (await reply.getValue()) === "Models meet tools, one protocol.", { timeout: 5000 });
  await screenshot(browser, "08-sampling");
  await click(browser, tid("sampling-send"));
  await dialog.waitForExist({ reverse: true, timeout: 10_000 });
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "ok", `the call succeeded (body: ${block.body})`);
  assert.match(block.body, /Models meet tools, one protocol\./);
  assert.match(block.body, /person in Latch/);
});

test("a declined sampling request reaches the server as declined", { timeout: 120_000 }, async () => {
  const before = await run("trigger-sampling-request", { prompt: "Say no" });
  const dialog = await browser.$(tid("sampling-dialog"));
  await dialog.waitForDisplayed({ timeout: 20_000 });
  await click(browser, tid("sampling-decline"));
  await dialog.waitForExist({ reverse: true, timeout: 10_000 });
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "error", `the server's call failed: no reply (body: ${block.body})`);
  assert.match(block.body, /declined/i);
});

test("a folder added in the Roots tab is kept and listed by the server", { timeout: 180_000 }, async () => {
  await click(browser, tid("tab-roots"));
  await browser.$(tid("roots-empty")).waitForDisplayed({ timeout: 10_000 });
  const input = await browser.$(tid("roots-path"));
  await input.setValue(path.join(folder, "missing"));
  await click(browser, tid("roots-add"));
  await waitForText(browser, tid("roots-error"), /There is no folder at/);
  await input.clearValue();
  await input.setValue(folder);
  await click(browser, tid("roots-add"));
  await waitForText(browser, tid("roots-list"), new RegExp(folder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await screenshot(browser, "08-roots");
  const servers = JSON.parse(fs.readFileSync(path.join(app.latchHome, "servers.json"), "utf8"));
  assert.deepEqual(servers.mcpServers.everything.roots, [folder], "kept in the server's entry");

  // The server fetches the list again when told it changed; it answers get-roots-list from
  // what it fetched, so ask until it has the new list.
  const uri = `file://${folder}`;
  let body = "";
  for (let attempt = 1; attempt <= 10 && !body.includes(uri); attempt++) {
    const before = await run("get-roots-list");
    const block = await newestBlock(browser, before);
    assert.equal(block.status, "ok", `get-roots-list succeeded (body: ${block.body})`);
    body = block.body;
  }
  assert.ok(body.includes(uri), `get-roots-list shows ${uri} (last: ${body})`);
  assert.match(body, /Current MCP Roots \(1 total\)/);
});

test("a form elicitation is answered", { timeout: 120_000 }, async () => {
  const before = await run("trigger-elicitation-request");
  const dialog = await browser.$(tid("elicitation-dialog"));
  await dialog.waitForDisplayed({ timeout: 20_000 });
  await (await browser.$(tid("field-name"))).setValue("Ada Lovelace");
  await click(browser, tid("elicitation-accept"));
  await dialog.waitForExist({ reverse: true, timeout: 10_000 });
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "ok", `the call succeeded (body: ${block.body})`);
  assert.match(block.body, /Name: Ada Lovelace/);
});

test("a URL elicitation shows the page's host and is declined without opening it", { timeout: 120_000 }, async () => {
  const before = await run("trigger-url-elicitation", { url: "https://accounts.example.com/consent?session=e2e" });
  const dialog = await browser.$(tid("elicitation-url-dialog"));
  await dialog.waitForDisplayed({ timeout: 20_000 });
  await waitForText(browser, tid("elicitation-host"), /^accounts\.example\.com$/);
  await waitForText(browser, tid("elicitation-url"), /^https:\/\/accounts\.example\.com\/consent\?session=e2e$/);
  await waitForText(browser, tid("elicitation-open"), /^Open accounts\.example\.com$/);
  await screenshot(browser, "08-elicitation-url");
  await click(browser, tid("elicitation-decline"));
  await dialog.waitForExist({ reverse: true, timeout: 10_000 });
  const block = await newestBlock(browser, before);
  assert.match(block.body, /declined to open the URL/);
});
