// A computer without a keychain (a D-Bus session where no Secret Service answers) and no
// LATCH_TOKEN_STORE: the app says so in a banner at the top, a sign-in tried before choosing
// offers the same choice instead of an error, and once the person keeps sign-ins in a file
// (created 0600, nothing before) the banner goes and the demo signs in.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { click, screenshot, sleep, startApp, tid, waitForText } from "./lib/harness.mjs";

let app;
let browser;
let secrets;

before(async () => {
  app = await startApp("no-keychain", { keychain: false });
  browser = app.browser;
  secrets = path.join(app.latchHome, "secrets.json");
});

after(async () => {
  await app?.stop();
});

test("no keychain: a banner at the top says so in plain words", { timeout: 120_000 }, async () => {
  await browser.$(tid("server-card-demo")).waitForDisplayed({ timeout: 60_000 });
  const banner = await browser.$(tid("keychain-banner"));
  await banner.waitForDisplayed({ timeout: 20_000 });
  const text = await banner.getText();
  assert.match(text, /No keychain is running on this computer, so Latch can't keep your sign-ins safely\./);
  assert.match(text, /start your keychain \(GNOME Keyring \/ KWallet\) and reopen Latch/);
  assert.doesNotMatch(text, /LATCH_TOKEN_STORE/, "no environment variable to set");
  assert.equal(await (await browser.$(tid("keep-in-file"))).getText(), "Keep sign-ins in a file only you can read");
  assert.ok(!fs.existsSync(secrets), "no token file without consent");
  // Right after start the webview's snapshot can still be the first frame painted.
  await sleep(1000);
  await screenshot(browser, "15-no-keychain-banner");
});

test("signing in before choosing offers the same choice, not an error", { timeout: 120_000 }, async () => {
  await click(browser, tid("sign-in-demo"));
  const dialog = await browser.$(tid("keychain-consent-dialog"));
  await dialog.waitForDisplayed({ timeout: 20_000 });
  assert.match(await dialog.getText(), /No keychain is running on this computer/);
  const errors = await browser.$$(".notice-error");
  assert.equal(errors.length, 0, "no raw error notice");
  await screenshot(browser, "16-no-keychain-sign-in");
  await click(browser, tid("keychain-consent-cancel"));
  await dialog.waitForExist({ reverse: true, timeout: 5000 });
  assert.doesNotMatch(await (await browser.$(tid("server-auth-demo"))).getText(), /^Signed in/);
  assert.ok(!fs.existsSync(secrets), "still no token file");
});

test("keeping sign-ins in a file hides the banner, then the demo signs in", { timeout: 120_000 }, async () => {
  await click(browser, tid("keep-in-file"));
  await browser.$(tid("keychain-banner")).waitForExist({ reverse: true, timeout: 20_000 });
  assert.ok(fs.existsSync(secrets), "secrets.json records the choice");
  assert.equal(fs.statSync(secrets).mode & 0o777, 0o600, "readable by its owner only");

  await click(browser, tid("sign-in-demo"));
  await waitForText(browser, tid("server-auth-demo"), /^Signed in/, { timeout: 45_000, what: "the demo's sign-in badge" });
  await waitForText(browser, tid("server-status-demo"), /^Connected/, { timeout: 45_000, what: "the demo's status" });
  // And so it stays, once the events of the sign-in have all arrived (they can trail the
  // command's answer for a moment, showing "Signing in…" again).
  await sleep(3000);
  await waitForText(browser, tid("server-auth-demo"), /^Signed in/, { timeout: 20_000, what: "the demo's sign-in badge, later" });
  await waitForText(browser, tid("server-status-demo"), /^Connected/, { timeout: 20_000, what: "the demo's status, later" });
  const kept = JSON.parse(fs.readFileSync(secrets, "utf8"));
  assert.ok(Object.keys(kept.secrets).length > 0, "the sign-in is kept in the file");
  await screenshot(browser, "17-no-keychain-signed-in");
});
