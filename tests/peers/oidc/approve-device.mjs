// Approves (or, with --deny, refuses) a device authorization request the way a person would in
// a browser: open the provider's device page, type the user code, confirm, sign in as the test
// user (the peer's interaction pages do that without a form), and read the success page.
//
//   node approve-device.mjs [--deny] USER_CODE [ISSUER]
//
// ISSUER defaults to $OIDC_ISSUER. Exit status: 0 when the provider confirmed the approval (or,
// with --deny, the refusal); 1 when it did not; 2 on bad usage.
import { Browser, formFields } from './browser.mjs';

const args = process.argv.slice(2);
const deny = args.includes('--deny');
const [userCode, issuerArg] = args.filter((a) => a !== '--deny');
const issuer = (issuerArg ?? process.env.OIDC_ISSUER ?? '').replace(/\/+$/, '');
if (!userCode || !issuer) {
  console.error('usage: approve-device.mjs [--deny] USER_CODE [ISSUER]  (or set OIDC_ISSUER)');
  process.exit(2);
}

function fail(message, body) {
  console.error(`approve-device: ${message}`);
  if (body) console.error(body.slice(0, 2000));
  process.exit(1);
}

const browser = new Browser();
// The verification page (the `verification_uri` of every device authorization response).
const devicePage = `${issuer}/device`;

// 1. The page that asks for the code.
let response = await browser.request(devicePage);
let html = await response.text();
const input = formFields(html, 'op.deviceInputForm');
if (!input?.fields.xsrf) fail(`no code form at ${devicePage} (${response.status})`, html);

// 2. Submit the code: the provider shows the confirmation page.
response = await browser.request(new URL(input.action, devicePage).href, {
  form: { xsrf: input.fields.xsrf, user_code: userCode },
});
html = await response.text();
const confirm = formFields(html, 'op.deviceConfirmForm');
if (!confirm?.fields.xsrf) fail(`the provider did not accept the code ${userCode} (${response.status})`, html);

// 3. Confirm, or abort.
const fields = deny
  ? { xsrf: confirm.fields.xsrf, user_code: confirm.fields.user_code, abort: 'yes' }
  : { ...confirm.fields };
const result = await browser.follow(new URL(confirm.action, devicePage).href, { form: fields });
html = await result.response.text();

if (deny) {
  if (/interrupted/i.test(html)) {
    console.log(`device ${userCode} denied`);
    process.exit(0);
  }
  fail(`the provider did not confirm the refusal (${result.response.status})`, html);
}

// 4. The redirects went through /interaction/… (sign-in, consent) back to /device/…: the
//    provider's success page ends the walk.
if (result.response.status === 200 && /Sign-in Success/i.test(html)) {
  console.log(`device ${userCode} approved`);
  process.exit(0);
}
fail(`the device was not approved (${result.response.status} at ${result.url})`, html);
