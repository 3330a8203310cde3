// A hostile server (tests/peers/hostile-ui-server.mjs) whose name, instructions, tools, schemas,
// results and log lines carry XSS payloads. Latch shows all of it as text: no script runs, no
// markup from the server becomes live, the Tauri IPC payload doesn't remove `everything`, and
// no link from the server navigates the window.
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
  startHostile,
  tid,
  waitConnected,
  waitForTools,
} from "./lib/harness.mjs";

let app;
let browser;
let everything;
let hostile;
let startUrl;
let appScripts;
const bodies = {};

before(async () => {
  [everything, hostile] = await Promise.all([startEverything(), startHostile()]);
  app = await startApp("hostile");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
  startUrl = await browser.getUrl();
  appScripts = await scripts();
  await watchDom();
});

/**
 * Records, for the whole session, every element the page ever gets that would be live markup
 * from a server: script, iframe/object/embed, base/meta refresh, an on* attribute, a
 * javascript:/data:/vbscript: link, an SVG or remote image. Even ones removed a moment later.
 */
function watchDom() {
  return browser.execute(() => {
    const seen = (window.__e2eViolations = []);
    const bad = (el) => {
      const tag = el.tagName.toLowerCase();
      if (["script", "iframe", "frame", "object", "embed", "base"].includes(tag)) return tag;
      if (tag === "meta" && el.hasAttribute("http-equiv")) return "meta http-equiv";
      for (const a of Array.from(el.attributes)) {
        const name = a.name.toLowerCase();
        const value = a.value.trim().toLowerCase();
        if (name.startsWith("on")) return `${name} attribute`;
        if ((name === "href" || name === "src" || name === "action" || name === "formaction" || name === "xlink:href") && /^(javascript|vbscript):/.test(value)) return `${name}=${value.slice(0, 30)}`;
        if (name === "href" && /^data:/.test(value)) return `href=data:`;
        if (tag === "img" && name === "src" && !/^data:image\/(png|jpeg|gif|webp);base64,/.test(value) && !value.startsWith("/")) return `img src=${value.slice(0, 30)}`;
      }
      return null;
    };
    const check = (node) => {
      if (node.nodeType !== 1) return;
      for (const el of [node, ...node.querySelectorAll("*")]) {
        const why = bad(el);
        if (why && !(el.tagName === "SCRIPT" && el.parentNode === document.head)) seen.push(`${why}: ${el.outerHTML.slice(0, 160)}`);
      }
    };
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === "attributes") check(r.target);
        else r.addedNodes.forEach(check);
      }
    }).observe(document.documentElement, { subtree: true, childList: true, attributes: true });
    return true;
  });
}

after(async () => {
  await app?.stop();
  await Promise.all([everything?.stop(), hostile?.stop()]);
});

/** The page's script elements: the app's own bundle only, at the start. */
function scripts() {
  return browser.execute(() => Array.from(document.querySelectorAll("script")).map((s) => s.getAttribute("src") ?? `inline:${s.textContent.slice(0, 60)}`));
}

test("add everything and the hostile server; both connect", { timeout: 150_000 }, async () => {
  assert.ok(appScripts.length >= 1 && appScripts.every((s) => /^(\.\/|\/)?assets\/[\w.-]+\.js$/.test(s)), `the app's own bundle only: ${JSON.stringify(appScripts)}`);
  await addServerByUrl(browser, "everything", everything.url);
  await waitConnected(browser, "everything", 45_000);
  await addServerByUrl(browser, "hostile", hostile.url);
  await waitConnected(browser, "hostile", 45_000);
});

const PLAIN = ["xss_script", "xss_image", "xss_links", "xss_invoke", "xss_error"];

test("the hostile tools are listed, each modal opens, each tool runs and each block expands", { timeout: 240_000 }, async () => {
  await selectServer(browser, "hostile");
  const names = await waitForTools(browser, PLAIN.length);
  for (const name of PLAIN) assert.ok(names.includes(name), `${name} is listed (tools: ${JSON.stringify(names)})`);
  const markupName = names.find((n) => n.startsWith("<svg"));
  console.log(`tools listed: ${names.length}${markupName ? " (including the one named with markup)" : " (the one named with markup was not listed)"}`);
  await screenshot(browser, "08-hostile-tools");

  for (const [i, name] of names.entries()) {
    // Open the tool's modal with its description and input schema.
    await click(browser, tid(`tool-card-${name}`));
    const modal = await browser.$(tid("tool-modal"));
    await modal.waitForDisplayed();
    for (const summary of await modal.$$("summary")) await summary.click();
    if (i === 0) await screenshot(browser, "09-hostile-modal");
    await click(browser, tid("tool-modal-run"));
    await modal.waitForExist({ reverse: true });
    // Run it with the form's defaults.
    const before = await callBlockCount(browser);
    await click(browser, tid("run-tool"));
    const block = await newestBlock(browser, before, 30_000);
    bodies[name] = block.body;
    assert.ok(block.body.length > 0, `${name}: the block has a body`);
    assert.equal(block.status, name === "xss_error" ? "error" : "ok", `${name}: block status (body: ${block.body.slice(0, 300)})`);
  }
  // Expand every block (older ones start collapsed).
  for (const toggle of await browser.$$(tid("call-block-toggle"))) {
    if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  }
  await screenshot(browser, "10-hostile-results");

  // The payloads arrived and are shown as text, not dropped silently: proof the test saw them.
  assert.ok(bodies.xss_script.includes("<script>window.__pwned=1</script>"), "the script payload shows as text");
  assert.ok(bodies.xss_invoke.includes("window.__TAURI_INTERNALS__.invoke('remove_server', {name: 'everything'})"), "the invoke payload shows as text");
  assert.match(bodies.xss_image, /not shown|image\/svg\+xml/i, "the SVG image is refused with a note");
});

test("the log and doctor tabs show the hostile log lines as text", { timeout: 60_000 }, async () => {
  await click(browser, tid("tab-log"));
  await browser.$(tid("protocol-log")).waitForDisplayed({ timeout: 10_000 });
  // The server's own log messages, alone: shown as text, the payloads inert.
  const onlyServerLog = await browser.$(tid("protocol-log")).$("button=Server log");
  await onlyServerLog.waitForClickable({ timeout: 10_000 });
  await onlyServerLog.click();
  const line = await browser.$(".log-row.server-log");
  await line.waitForDisplayed({ timeout: 10_000 });
  const lines = await browser.$$(".log-row.server-log");
  const texts = [];
  for (const row of lines) texts.push(await row.getText());
  assert.match(texts.join("\n"), /<img src=x onerror=/);
  await screenshot(browser, "11-hostile-log");
  await click(browser, tid("tab-doctor"));
  await browser.$(tid("doctor")).waitForDisplayed({ timeout: 10_000 });
  await click(browser, tid("tab-tools"));
});

test("clicking the hostile links does nothing: no navigation, no link dialog for javascript:", { timeout: 60_000 }, async () => {
  // Every expanded block, and every tool modal description, holds the server's links.
  for (const toggle of await browser.$$(tid("call-block-toggle"))) {
    if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  }
  const clickable = await browser.$$(".call-block-body .dead-link, .call-block-body a, .call-block-body .resource-link span, .call-block-body .mail-link");
  let clicked = 0;
  for (const el of clickable) {
    if (!(await el.isDisplayed())) continue;
    await el.click();
    clicked++;
    const dialog = await browser.$(tid("open-link-dialog"));
    if (await dialog.isExisting()) {
      const url = await browser.$(tid("open-link-url")).getText();
      assert.match(url, /^https?:\/\//, `only web links are offered (offered: ${url})`);
      await click(browser, tid("confirm-cancel"));
    }
  }
  // The tool modals' markdown descriptions too.
  for (const name of PLAIN) {
    await click(browser, tid(`tool-card-${name}`));
    const modal = await browser.$(tid("tool-modal"));
    await modal.waitForDisplayed();
    for (const el of await modal.$$(".markdown .dead-link, .markdown a")) {
      await el.click();
      clicked++;
    }
    await browser.keys("Escape");
    await modal.waitForExist({ reverse: true });
  }
  console.log(`clicked ${clicked} link-like elements from the hostile server`);
  assert.ok(clicked >= 3, `the hostile links were rendered as something clickable-looking (${clicked})`);
  assert.equal(await browser.getUrl(), startUrl, "the window did not navigate");
});

test("nothing ran: no __pwned, no foreign script, no on* attribute, no javascript: link, no iframe, no SVG image", { timeout: 60_000 }, async () => {
  const report = await browser.execute(() => {
    const all = Array.from(document.querySelectorAll("*"));
    const withOn = all.filter((e) => Array.from(e.attributes).some((a) => a.name.toLowerCase().startsWith("on"))).map((e) => e.outerHTML.slice(0, 120));
    const jsLinks = Array.from(document.querySelectorAll("a[href], area[href]"))
      .filter((a) => {
        const href = a.getAttribute("href").trim().toLowerCase();
        return href.startsWith("javascript:") || href.startsWith("data:") || href.startsWith("vbscript:");
      })
      .map((a) => a.outerHTML.slice(0, 120));
    return {
      pwned: typeof window.__pwned,
      tauriPresent: typeof window.__TAURI_INTERNALS__,
      scripts: Array.from(document.querySelectorAll("script")).map((s) => s.getAttribute("src") ?? `inline:${s.textContent.slice(0, 60)}`),
      withOn,
      jsLinks,
      frames: document.querySelectorAll("iframe, frame, object, embed").length,
      svgImages: Array.from(document.querySelectorAll("img")).filter((i) => /^data:image\/svg/i.test(i.getAttribute("src") ?? "")).length,
      foreignImages: Array.from(document.querySelectorAll("img"))
        .map((i) => i.getAttribute("src") ?? "")
        .filter((s) => !/^data:image\/(png|jpeg|gif|webp);base64,/i.test(s) && !s.startsWith("/") && !s.startsWith(location.origin)),
      baseOrMeta: document.querySelectorAll("base, meta[http-equiv], body style, form[action]").length,
      hostileSvg: document.querySelectorAll("main svg[onload], svg script").length,
      servers: Array.from(document.querySelectorAll('[data-testid^="server-card-"]')).map((e) => e.getAttribute("data-testid")),
    };
  });
  console.log(`security report: ${JSON.stringify({ ...report, withOn: report.withOn.length, jsLinks: report.jsLinks.length })}`);
  const violations = await browser.execute(() => window.__e2eViolations);
  assert.ok(Array.isArray(violations), "the DOM watcher ran all along");
  assert.deepEqual(violations, [], "at no moment did the page hold live markup from the server");
  assert.equal(report.tauriPresent, "object", "the page can reach Tauri's IPC (so a payload that ran could have removed a server)");
  assert.equal(report.pwned, "undefined", "window.__pwned is not set");
  assert.deepEqual(report.scripts, appScripts, "no script element besides the app's own bundle");
  assert.deepEqual(report.withOn, [], "no element with an on* attribute");
  assert.deepEqual(report.jsLinks, [], "no javascript:/data:/vbscript: link");
  assert.equal(report.frames, 0, "no iframe, object or embed");
  assert.equal(report.svgImages, 0, "no SVG data image");
  assert.deepEqual(report.foreignImages, [], "no image from elsewhere");
  assert.equal(report.baseOrMeta, 0, "no base, meta refresh, style or form from the server");
  assert.equal(report.hostileSvg, 0);
  assert.ok(report.servers.includes("server-card-everything"), `everything is still listed (${report.servers.join(", ")})`);
  assert.equal(await browser.getUrl(), startUrl, "the window is still on the app's page");
  await screenshot(browser, "12-hostile-after");
});

test("the shell still lists everything (read back through the app's config)", { timeout: 30_000 }, async () => {
  await selectServer(browser, "everything");
  await waitConnected(browser, "everything");
  const names = await waitForTools(browser, 10);
  assert.ok(names.includes("get-sum"));
});

test("control: the DOM watcher does catch injected markup (so its silence above means something)", { timeout: 30_000 }, async () => {
  const caught = await browser.execute(() => {
    const before = window.__e2eViolations.length;
    const probe = document.createElement("div");
    probe.innerHTML = '<img src="x" onerror="window.__e2eCanary=1"><a href="javascript:void 0">c</a>';
    document.body.appendChild(probe);
    return new Promise((resolve) =>
      setTimeout(() => {
        probe.remove();
        resolve({ caught: window.__e2eViolations.length - before, canaryRan: window.__e2eCanary === 1 });
      }, 300),
    );
  });
  assert.ok(caught.caught >= 2, `the watcher caught the injected img onerror and javascript: link (${JSON.stringify(caught)})`);
  console.log(`control: watcher caught ${caught.caught}; the injected inline handler ${caught.canaryRan ? "RAN (the CSP did not block it)" : "did not run (the CSP blocks inline handlers)"}`);
});
