// The TS SDK anchor of "sign-in end to end": the SDK's OAuth client (`auth()` with an
// OAuthClientProvider: discovery, dynamic registration, PKCE, the code exchange) against the
// oidc peer, with a headless redirect follower equivalent to Latch's `--browser headless`: GET
// the authorization URL with a cookie jar, following redirects by hand, until one reaches the
// redirect URI; its `code` goes back to `auth()`. A fresh provider (no registration, no tokens)
// each run. --save-tokens FILE keeps the last run's client and tokens (for connect-list.mjs).
//   node sign-in.mjs MCP_URL [--runs 5] [--warmup 1] [--save-tokens FILE]
import fs from "node:fs";
import { emit, num, parseArgs, sdk } from "./lib.mjs";

const args = parseArgs();
const serverUrl = args._[0];
const runs = num(args.runs, 5);
const warmup = num(args.warmup, 1);
const { auth } = await sdk("client/auth.js");
const REDIRECT = "http://127.0.0.1:8976/callback"; // nothing listens: the follower stops there

/** Follows GET redirects with a cookie jar until the redirect URI; returns its query. */
async function followToRedirect(start) {
  const jar = new Map();
  let url = new URL(start);
  for (let hop = 0; hop < 20; hop++) {
    if (url.href.startsWith(REDIRECT)) return url.searchParams;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    await res.arrayBuffer();
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) throw new Error(`the authorization page stopped at ${res.status} ${url}`);
    url = new URL(location, url);
  }
  throw new Error("too many redirects");
}

function provider() {
  const saved = { client: undefined, tokens: undefined, verifier: undefined, authorizationUrl: undefined };
  return {
    saved,
    get redirectUrl() {
      return REDIRECT;
    },
    get clientMetadata() {
      return {
        client_name: "bench-ts-sdk",
        redirect_uris: [REDIRECT],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        application_type: "native",
      };
    },
    clientInformation: () => saved.client,
    saveClientInformation: (c) => {
      saved.client = c;
    },
    tokens: () => saved.tokens,
    saveTokens: (t) => {
      saved.tokens = t;
    },
    redirectToAuthorization: (url) => {
      saved.authorizationUrl = url;
    },
    saveCodeVerifier: (v) => {
      saved.verifier = v;
    },
    codeVerifier: () => saved.verifier,
  };
}

async function signIn() {
  const p = provider();
  const first = await auth(p, { serverUrl });
  if (first !== "REDIRECT") throw new Error(`auth() answered ${first}, expected REDIRECT`);
  const query = await followToRedirect(p.saved.authorizationUrl);
  const code = query.get("code");
  if (!code) throw new Error(`no code at the redirect URI: ${query}`);
  const second = await auth(p, { serverUrl, authorizationCode: code });
  if (second !== "AUTHORIZED" || !p.saved.tokens?.access_token) throw new Error(`auth() answered ${second}`);
  return p.saved;
}

const times = [];
let last;
for (let run = 0; run < warmup + runs; run++) {
  const t = performance.now();
  last = await signIn();
  const elapsed = performance.now() - t;
  if (run >= warmup) times.push(elapsed);
}
if (args["save-tokens"]) fs.writeFileSync(args["save-tokens"], JSON.stringify({ client: last.client, tokens: last.tokens }), { mode: 0o600 });
emit({ sign_in_ms: times });
process.exit(0);
