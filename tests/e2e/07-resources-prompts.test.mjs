// server-everything's resources and prompts in the real webview: a markdown resource read from
// the Resources tab, the dynamic text template filled in with the server's completion, the
// completable prompt's arguments with suggestions (the second narrowed by the first) and its
// message, a resource link from get-resource-links opening in the viewer, and "Follow updates"
// re-reading a resource as the server announces its updates.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { addServerByUrl, callBlockCount, click, newestBlock, screenshot, selectServer, startApp, startEverything, tid, waitConnected, waitForText } from "./lib/harness.mjs";

let app;
let browser;
let everything;

before(async () => {
  everything = await startEverything();
  app = await startApp("resources-prompts");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
  await addServerByUrl(browser, "everything", everything.url);
  await waitConnected(browser, "everything", 45_000);
  await selectServer(browser, "everything");
});

after(async () => {
  await app?.stop();
  await everything?.stop();
});

/** Scrolls the server panel back to its top, for a screenshot that shows the tabs. */
async function scrollPanelTop() {
  // A click scrolls whatever holds the element; scroll each container back.
  await browser.execute(() => {
    for (const el of [document.querySelector(".main"), document.querySelector(".app"), document.body, document.documentElement]) if (el) el.scrollTop = 0;
  });
}

/** Types into a field one key at a time (so the completion hears each), after clearing it. */
async function typeInto(selector, text) {
  const input = await browser.$(selector);
  await input.waitForDisplayed();
  await input.click();
  await input.clearValue();
  await browser.keys(text.split(""));
  return input;
}

async function optionTexts(listSelector) {
  return browser.execute((sel) => Array.from(document.querySelectorAll(`${sel} [role="option"]`)).map((o) => o.textContent), listSelector);
}

/** Waits until the suggestion list shows exactly `expected` (an answer for an older prefix may show first). */
async function waitForOptions(listSelector, expected, what) {
  let last = [];
  await browser
    .waitUntil(
      async () => {
        last = await optionTexts(listSelector);
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      { timeout: 15_000, interval: 100 },
    )
    .catch(() => {
      throw new Error(`${what}: the suggestions never were ${JSON.stringify(expected)}; last: ${JSON.stringify(last)}`);
    });
}

test("Resources: the list, and a markdown resource read", { timeout: 90_000 }, async () => {
  await click(browser, tid("tab-resources"));
  await waitForText(browser, tid("resource-count"), /^\d+ resources · 2 templates$/);
  const doc = "demo://resource/static/document/features.md";
  await click(browser, tid(`resource-${doc}`));
  const viewer = await browser.$(tid("resource-viewer"));
  await waitForText(browser, tid("viewer-uri"), new RegExp(doc.replace(/[.]/g, "\\.")));
  await browser.waitUntil(async () => (await viewer.$(".resource-markdown").isExisting()) && (await (await viewer.$(".resource-markdown")).getText()).length > 40, {
    timeout: 20_000,
    timeoutMsg: "the markdown resource was not shown",
  });
  assert.ok(await viewer.$(".resource-markdown h1, .resource-markdown h2").isExisting(), "its headings are rendered");
  await scrollPanelTop();
  await screenshot(browser, "07-resources");
});

test("Resources: a template filled in with the server's completion, then read", { timeout: 90_000 }, async () => {
  await click(browser, tid("template-demo://resource/dynamic/text/{resourceId}"));
  await typeInto(tid("template-var-resourceId-input"), "7");
  // server-everything completes a positive integer id with itself.
  await waitForOptions(tid("template-var-resourceId-suggestions"), ["7"], "resourceId");
  await scrollPanelTop();
  await screenshot(browser, "07-resource-template");
  await browser.keys(["ArrowDown", "Enter"]);
  await waitForText(browser, tid("template-uri"), /^demo:\/\/resource\/dynamic\/text\/7$/);
  await click(browser, tid("template-read"));
  await waitForText(browser, `${tid("template-form")} ${tid("resource-text")}`, /^Resource 7: This is a plaintext resource created at /);
});

test("Prompts: completable-prompt with suggestions narrowed by the first argument", { timeout: 90_000 }, async () => {
  await click(browser, tid("tab-prompts"));
  await waitForText(browser, tid("prompt-count"), /^\d+ prompts$/);
  await click(browser, tid("prompt-completable-prompt"));
  await typeInto(tid("prompt-arg-department-input"), "E");
  await waitForOptions(tid("prompt-arg-department-suggestions"), ["Engineering"], "department");
  await browser.keys(["ArrowDown", "Enter"]);
  assert.equal(await (await browser.$(tid("prompt-arg-department-input"))).getValue(), "Engineering");
  await typeInto(tid("prompt-arg-name-input"), "A");
  // Only Engineering's members start with A: the department was sent as context.
  await waitForOptions(tid("prompt-arg-name-suggestions"), ["Alice"], "name");
  await browser.keys(["ArrowDown", "Enter"]);
  await click(browser, tid("prompt-get"));
  await waitForText(browser, tid("prompt-message"), /Please promote Alice to the head of the Engineering team\./);
  await scrollPanelTop();
  await screenshot(browser, "07-prompts");
});

test("Prompts: args-prompt puts its argument in the message", { timeout: 60_000 }, async () => {
  await click(browser, tid("prompt-args-prompt"));
  await typeInto(tid("prompt-arg-city-input"), "Lisbon");
  await browser.keys(["Escape"]);
  await click(browser, tid("prompt-get"));
  await waitForText(browser, tid("prompt-message"), /What's weather in Lisbon\?/);
});

test("a resource link from get-resource-links opens in the viewer", { timeout: 90_000 }, async () => {
  await click(browser, tid("tab-tools"));
  await click(browser, tid("tool-card-get-resource-links"));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  const before = await callBlockCount(browser);
  await click(browser, tid("run-tool"));
  const block = await newestBlock(browser, before);
  assert.equal(block.status, "ok", `the call succeeded (body: ${block.body})`);
  assert.match(block.body, /demo:\/\/resource\/dynamic\/(text|blob)\/1/);
  await click(browser, `${tid("call-block")} ${tid("open-resource-link")}`);
  const modal = await browser.$(tid("resource-modal"));
  await modal.waitForDisplayed({ timeout: 10_000 });
  await waitForText(browser, `${tid("resource-modal")} ${tid("viewer-uri")}`, /^demo:\/\/resource\/dynamic\/(text|blob)\/1$/);
  await waitForText(browser, `${tid("resource-modal")} ${tid("resource-text")}`, /^Resource 1: This is a/);
  await screenshot(browser, "07-resource-link");
  await browser.keys("Escape");
  await modal.waitForExist({ reverse: true, timeout: 5000 });
});

test("Follow updates: the server's resource updates re-read the resource live", { timeout: 90_000 }, async () => {
  // toggle-subscriber-updates makes server-everything announce, every 5 s, an update of each
  // resource this session follows.
  const before = await callBlockCount(browser);
  await click(browser, tid("tool-card-toggle-subscriber-updates"));
  await browser.$(tid("tool-modal")).waitForDisplayed();
  await click(browser, tid("tool-modal-run"));
  await click(browser, tid("run-tool"));
  const block = await newestBlock(browser, before);
  assert.match(block.body, /Started simulated resource updated notifications/);

  await click(browser, tid("tab-resources"));
  await click(browser, tid("resource-demo://resource/static/document/instructions.md"));
  await waitForText(browser, tid("viewer-uri"), /instructions\.md$/);
  await click(browser, tid("resource-subscribe"));
  await waitForText(browser, tid("resource-updated"), /^Updated \d\d:\d\d:\d\d$/, { timeout: 30_000, what: "the update line" });
  assert.equal(await (await browser.$(tid("resource-subscribe"))).isSelected(), true);
  await scrollPanelTop();
  await screenshot(browser, "07-resource-follow");
});
