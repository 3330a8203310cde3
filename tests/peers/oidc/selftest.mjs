// End-to-end check of the test peer (start.mjs) with plain HTTP, no Latch involved: every flow
// Latch's tests rely on, and the quirks of oidc-provider they must know about.
//
//   node tests/peers/oidc/selftest.mjs        (Node >= 22)
//
// Starts its own peer (OIDC_ACCESS_TTL=4), prints one line per check, exits 1 if any failed.
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { SignJWT, decodeJwt, decodeProtectedHeader, importPKCS8 } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Browser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ACCESS_TTL = 4;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let failures = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failures += 1;
  return ok;
}
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

// --- start the peer ---------------------------------------------------------------------------
const peer = spawn(process.execPath, ['--require', join(here, '..', 'bind-localhost.cjs'), join(here, 'start.mjs')], {
  env: { ...process.env, OIDC_ACCESS_TTL: String(ACCESS_TTL) },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const info = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the peer did not print its JSON line in 30 s')), 30000);
  peer.once('exit', (code) => reject(new Error(`the peer exited (${code})`)));
  createInterface({ input: peer.stdout }).once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)); });
});
const { issuer, mcpUrl, resource, adminUrl } = info;
check('peer printed its JSON line', issuer && mcpUrl && resource === mcpUrl && adminUrl === `${issuer}/__test`, JSON.stringify(info));

async function getJson(url, init) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.json().catch(() => undefined) };
}
const stats = async () => (await getJson(`${adminUrl}/stats`)).body;
const form = (fields) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(Object.entries(fields).filter(([, v]) => v !== undefined)).toString(),
});
const token = (fields, headers = {}) => {
  const init = form(fields);
  Object.assign(init.headers, headers);
  return getJson(`${issuer}/token`, init);
};
const basic = (id, secret) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

async function whoami(accessToken) {
  const client = new Client({ name: 'selftest', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
  });
  await client.connect(transport);
  const tools = await client.listTools();
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  await client.close();
  return { tools: tools.tools.map((t) => t.name), who: JSON.parse(result.content[0].text), sum: sum.content[0].text };
}
async function mcpStatus(accessToken) {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'selftest', version: '1' } },
    }),
  });
  await response.body?.cancel();
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}

try {
  // --- discovery --------------------------------------------------------------------------------
  const oidcConf = await getJson(`${issuer}/.well-known/openid-configuration`);
  const asMeta = await getJson(`${issuer}/.well-known/oauth-authorization-server`);
  const meta = oidcConf.body;
  check('both discovery documents served and equal', oidcConf.status === 200 && asMeta.status === 200
    && JSON.stringify(meta) === JSON.stringify(asMeta.body));
  check('discovery: issuer, S256 only, iss parameter', meta.issuer === issuer
    && JSON.stringify(meta.code_challenge_methods_supported) === '["S256"]'
    && meta.authorization_response_iss_parameter_supported === true);
  check('discovery: registration, device, revocation, introspection endpoints', Boolean(meta.registration_endpoint
    && meta.device_authorization_endpoint && meta.revocation_endpoint && meta.introspection_endpoint));

  const unauth = await fetch(mcpUrl, { method: 'POST' });
  const challenge = unauth.headers.get('www-authenticate') ?? '';
  check('MCP without a token: 401 + resource_metadata + scope', unauth.status === 401
    && challenge.includes('resource_metadata="') && challenge.includes('scope="mcp:read mcp:write"')
    && !challenge.includes('error='), challenge);
  const prmUrl = challenge.match(/resource_metadata="([^"]+)"/)[1];
  const prm = await getJson(prmUrl);
  const prmRoot = await getJson(new URL('/.well-known/oauth-protected-resource', mcpUrl));
  check('PRM (path and root) names the resource and the issuer', prm.body.resource === mcpUrl
    && prm.body.authorization_servers[0] === issuer && prmRoot.body.resource === mcpUrl);

  // --- DCR (as rmcp does it: native, public, loopback redirect, scope) ---------------------------
  const reg = await getJson(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'selftest',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1:8123/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:read mcp:write',
    }),
  });
  const clientId = reg.body?.client_id;
  check('DCR native public client', reg.status === 201 && clientId && !reg.body.client_secret, JSON.stringify(reg.body));
  const regDefault = await getJson(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:8123/callback'] }),
  });
  check('DCR without auth method/app type: gets a secret (client_secret_basic), application_type web',
    regDefault.status === 201 && regDefault.body.token_endpoint_auth_method === 'client_secret_basic'
    && Boolean(regDefault.body.client_secret) && regDefault.body.application_type === 'web',
    `${regDefault.body.token_endpoint_auth_method}, ${regDefault.body.application_type}`);

  // --- authorization code + PKCE, another port than the registered one ------------------------
  const port = 40000 + Math.floor(Math.random() * 20000);
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  async function authorize(params, browser = new Browser()) {
    const url = new URL(meta.authorization_endpoint);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    const walk = await browser.follow(url.href, { stopAt: (loc) => loc.startsWith(params.redirect_uri) });
    return walk.stoppedAt ? new URL(walk.stoppedAt) : undefined;
  }
  const verifier = randomBytes(32).toString('base64url');
  const challengeS256 = createHash('sha256').update(verifier).digest('base64url');
  const state = randomUUID();
  const callback = await authorize({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'mcp:read mcp:write',
    state, code_challenge: challengeS256, code_challenge_method: 'S256', resource: mcpUrl,
  });
  const code = callback?.searchParams.get('code');
  check('authorize: callback on another loopback port with code, state, iss', code
    && callback.searchParams.get('state') === state && callback.searchParams.get('iss') === issuer, callback?.href);

  const noPkce = await authorize({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'mcp:read', state: 's',
    resource: mcpUrl,
  });
  check('authorize without PKCE: error on the callback', noPkce?.searchParams.get('error') === 'invalid_request',
    noPkce?.searchParams.get('error_description'));

  const withOpenid = await authorize({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid mcp:read',
    state: 's', code_challenge: challengeS256, code_challenge_method: 'S256', resource: mcpUrl,
  });
  check('quirk: a client registered with `scope` (as rmcp does) cannot ask for openid later: invalid_scope',
    withOpenid?.searchParams.get('error') === 'invalid_scope', withOpenid?.searchParams.get('error_description'));

  const noScope = await authorize({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, state: 's',
    code_challenge: challengeS256, code_challenge_method: 'S256', resource: mcpUrl,
  });
  check('quirk: an authorization request without scope: access_denied', noScope?.searchParams.get('error') === 'access_denied');

  const exchange = await token({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
    client_id: clientId, resource: mcpUrl,
  });
  const at1 = exchange.body?.access_token;
  const rt1 = exchange.body?.refresh_token;
  check('code exchange: JWT access token + refresh token (no offline_access asked)', exchange.status === 200
    && at1 && rt1 && exchange.body.expires_in === ACCESS_TTL && exchange.body.token_type === 'Bearer',
    JSON.stringify({ ...exchange.body, access_token: '…', refresh_token: '…' }));
  const claims = decodeJwt(at1);
  check('access token: aud = resource, iss, sub alice, scope, typ at+jwt', claims.aud === mcpUrl && claims.iss === issuer
    && claims.sub === 'alice' && claims.scope === 'mcp:read mcp:write' && decodeProtectedHeader(at1).typ === 'at+jwt',
    JSON.stringify(claims));

  const who = await whoami(at1);
  check('MCP: tools listed, whoami = alice, add works', who.tools.join(',') === 'echo,whoami,add'
    && who.who.sub === 'alice' && who.who.scope === 'mcp:read mcp:write' && who.sum === '5', JSON.stringify(who));

  const replayCode = await token({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
    client_id: clientId, resource: mcpUrl,
  });
  check('authorization code replay: invalid_grant', replayCode.body?.error === 'invalid_grant', replayCode.body?.error_description);
  check('quirk: the code replay revoked the grant (its refresh token is dead)',
    (await token({ grant_type: 'refresh_token', refresh_token: rt1, client_id: clientId, resource: mcpUrl })).body?.error === 'invalid_grant');

  // --- a fresh grant for the refresh checks ------------------------------------------------------
  async function signIn(scope = 'mcp:read mcp:write', extra = {}, id = clientId) {
    const v = randomBytes(32).toString('base64url');
    const cb = await authorize({
      client_id: id, response_type: 'code', redirect_uri: redirectUri, scope, state: 'st',
      code_challenge: createHash('sha256').update(v).digest('base64url'), code_challenge_method: 'S256',
      resource: mcpUrl, ...extra,
    });
    return token({
      grant_type: 'authorization_code', code: cb.searchParams.get('code'), redirect_uri: redirectUri,
      code_verifier: v, client_id: id, resource: mcpUrl,
    });
  }
  const grantA = (await signIn()).body;
  const r1 = await token({ grant_type: 'refresh_token', refresh_token: grantA.refresh_token, client_id: clientId, resource: mcpUrl });
  check('refresh with resource: new JWT for the resource, rotated refresh token', r1.status === 200
    && r1.body.refresh_token && r1.body.refresh_token !== grantA.refresh_token && decodeJwt(r1.body.access_token).aud === mcpUrl);
  const r2 = await token({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token, client_id: clientId });
  check('quirk: refresh without resource (no openid scope) still gets a JWT for the granted resource',
    r2.status === 200 && decodeJwt(r2.body.access_token).aud === mcpUrl);
  const before = await stats();
  const replay = await token({ grant_type: 'refresh_token', refresh_token: grantA.refresh_token, client_id: clientId, resource: mcpUrl });
  const after = await stats();
  check('rotated refresh token replay: invalid_grant, counted, grant revoked', replay.body?.error === 'invalid_grant'
    && after.refreshTokenReuse === before.refreshTokenReuse + 1 && after.grantsRevoked === before.grantsRevoked + 1,
    `${replay.body?.error_description}; reuse ${after.refreshTokenReuse}, revoked ${after.grantsRevoked}`);
  const latest = await token({ grant_type: 'refresh_token', refresh_token: r2.body.refresh_token, client_id: clientId, resource: mcpUrl });
  check('…and the newest refresh token of that grant is dead too', latest.body?.error === 'invalid_grant', latest.body?.error_description);

  // openid in scope: without `resource` the refresh gives an opaque token for userinfo. Needs a
  // client registered without `scope`.
  const regOpenid = await getJson(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none',
    }),
  });
  // offline_access is dropped silently unless prompt=consent (OpenID Connect Core 11).
  const offline = (await signIn('mcp:read offline_access', {}, regOpenid.body.client_id)).body;
  check('quirk: offline_access without prompt=consent is dropped silently (refresh token issued anyway)',
    offline.scope === 'mcp:read' && Boolean(offline.refresh_token), offline.scope);
  const offlineConsent = (await signIn('mcp:read offline_access', { prompt: 'consent' }, regOpenid.body.client_id)).body;
  const offlineRt = await getJson(meta.introspection_endpoint, form({
    token: offlineConsent.refresh_token, client_id: regOpenid.body.client_id,
  }));
  check('offline_access with prompt=consent is granted (in the refresh token), though the token response '
    + '`scope` lists only the resource\'s scopes', offlineConsent.scope === 'mcp:read'
    && offlineRt.body?.scope?.split(' ').includes('offline_access'), `${offlineConsent.scope} / ${offlineRt.body?.scope}`);

  const grantO = (await signIn('openid mcp:read', { client_id: regOpenid.body.client_id }, regOpenid.body.client_id)).body;
  const grantOAt = grantO?.access_token;
  check('openid + resource: code exchange JWT for the resource, id_token', grantOAt && decodeJwt(grantOAt).aud === mcpUrl
    && Boolean(grantO.id_token), grantO?.error_description);
  const rO = await token({ grant_type: 'refresh_token', refresh_token: grantO?.refresh_token, client_id: regOpenid.body.client_id });
  check('quirk: with openid in scope, refresh WITHOUT resource gives an opaque (non-JWT) token the MCP server refuses',
    rO.status === 200 && rO.body.access_token.split('.').length !== 3
    && (await mcpStatus(rO.body.access_token)).status === 401);

  // --- expiry --------------------------------------------------------------------------------
  const fresh = (await signIn()).body;
  await sleep((ACCESS_TTL + 1) * 1000);
  const expired = await mcpStatus(fresh.access_token);
  const statsAfterExpiry = await stats();
  check('expired access token: 401 invalid_token, counted', expired.status === 401
    && expired.challenge.includes('error="invalid_token"') && statsAfterExpiry.mcp.expiredToken >= 1, expired.challenge);
  const renewed = await token({ grant_type: 'refresh_token', refresh_token: fresh.refresh_token, client_id: clientId, resource: mcpUrl });
  check('refresh after expiry works', renewed.status === 200 && (await mcpStatus(renewed.body.access_token)).status === 200);

  // --- introspection and revocation ------------------------------------------------------------
  const intro = await getJson(meta.introspection_endpoint, form({ token: renewed.body.refresh_token, client_id: clientId }));
  check('introspection of own refresh token', intro.body?.active === true, JSON.stringify(intro.body));
  const revoked = await fetch(meta.revocation_endpoint, form({
    token: renewed.body.refresh_token, token_type_hint: 'refresh_token', client_id: clientId,
  }));
  const afterRevoke = await token({ grant_type: 'refresh_token', refresh_token: renewed.body.refresh_token, client_id: clientId, resource: mcpUrl });
  const sr = await stats();
  check('revocation: 200, counted, refresh token dead', revoked.status === 200 && afterRevoke.body?.error === 'invalid_grant'
    && sr.revocations === 1 && sr.revocationSuccesses === 1, JSON.stringify({ revocations: sr.revocations }));
  check('quirk: an access token (JWT) stays valid at the MCP server after revoking its refresh token',
    (await mcpStatus(renewed.body.access_token)).status === 200);

  // --- device flow -------------------------------------------------------------------------------
  async function runApprove(userCode, denyIt) {
    const args = [join(here, 'approve-device.mjs'), ...(denyIt ? ['--deny'] : []), userCode, issuer];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const status = await new Promise((r) => { child.on('exit', r); });
    return { status, output: output.trim() };
  }
  async function deviceStart(id) {
    return getJson(meta.device_authorization_endpoint, form({ client_id: id, scope: 'mcp:read mcp:write', resource: mcpUrl }));
  }
  const deviceDcr = await deviceStart(clientId);
  check('quirk: a DCR client registered without the device_code grant type: invalid_request',
    deviceDcr.body?.error === 'invalid_request', JSON.stringify(deviceDcr.body));

  const device = await deviceStart('latch-public');
  check('device authorization (pre-registered latch-public)', device.status === 200 && device.body.user_code
    && device.body.verification_uri === `${issuer}/device` && device.body.verification_uri_complete && device.body.interval === 1,
    JSON.stringify(device.body));
  const poll = (deviceCode, id = 'latch-public') => token({
    grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: id, resource: mcpUrl,
  });
  check('device poll before approval: authorization_pending', (await poll(device.body.device_code)).body?.error === 'authorization_pending');
  const tooSoon = await poll(device.body.device_code);
  check('device poll sooner than interval: slow_down', tooSoon.body?.error === 'slow_down', tooSoon.body?.error_description);
  const approved = await runApprove(device.body.user_code, false);
  check('approve-device.mjs approves', approved.status === 0, approved.output);
  await sleep(6000 + 100); // the slow_down above raised this code's interval to 1 + 5 s
  const deviceTokens = await poll(device.body.device_code);
  check('device poll after approval: tokens for the resource', deviceTokens.status === 200
    && decodeJwt(deviceTokens.body.access_token).aud === mcpUrl && Boolean(deviceTokens.body.refresh_token),
    deviceTokens.body?.error_description);
  check('device token accepted by the MCP server', (await whoami(deviceTokens.body.access_token)).who.sub === 'alice');

  const device2 = await deviceStart('latch-public');
  const denied = await runApprove(device2.body.user_code, true);
  check('approve-device.mjs --deny', denied.status === 0, denied.output);
  const deniedPoll = await poll(device2.body.device_code);
  check('device poll after refusal: access_denied', deniedPoll.body?.error === 'access_denied', JSON.stringify(deniedPoll.body));
  const bogus = await runApprove('BCDF-GHJK', false);
  check('approve-device.mjs with an unknown code fails', bogus.status === 1);

  // DCR asking for the device grant itself works.
  const regDevice = await getJson(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT], response_types: ['code'],
    }),
  });
  const device3 = await deviceStart(regDevice.body.client_id);
  check('DCR client that registered the device grant can start a device flow', device3.status === 200, JSON.stringify(device3.body));

  // --- client credentials --------------------------------------------------------------------------
  const clients = (await getJson(`${adminUrl}/clients`)).body;
  const basicClient = clients.client_secret_basic;
  const ccBasic = await token({ grant_type: 'client_credentials', scope: 'mcp:read mcp:write', resource: mcpUrl },
    basic(basicClient.client_id, basicClient.client_secret));
  check('client_credentials (basic): JWT for the resource, no refresh token', ccBasic.status === 200
    && decodeJwt(ccBasic.body.access_token).aud === mcpUrl && !ccBasic.body.refresh_token
    && ccBasic.body.expires_in === ACCESS_TTL, ccBasic.body?.error_description);
  const whoBasic = await whoami(ccBasic.body.access_token);
  check('client_credentials token accepted; sub = client id', whoBasic.who.sub === 'latch-m2m', JSON.stringify(whoBasic.who));

  const postClient = clients.client_secret_post;
  const ccPost = await token({
    grant_type: 'client_credentials', scope: 'mcp:read', resource: mcpUrl,
    client_id: postClient.client_id, client_secret: postClient.client_secret,
  });
  check('client_credentials (post)', ccPost.status === 200 && (await mcpStatus(ccPost.body.access_token)).status === 200,
    ccPost.body?.error_description);
  const postAsBasic = await token({ grant_type: 'client_credentials', resource: mcpUrl },
    basic(postClient.client_id, postClient.client_secret));
  check('quirk: basic and post are interchangeable (a client_secret_post client may use basic)', postAsBasic.status === 200);

  const jwtClient = clients.private_key_jwt;
  for (const key of jwtClient.keys) {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setIssuer(jwtClient.client_id)
      .setSubject(jwtClient.client_id)
      .setAudience(issuer)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(await importPKCS8(key.private_key_pem, key.alg));
    const ccJwt = await token({
      grant_type: 'client_credentials', scope: 'mcp:read mcp:write', resource: mcpUrl,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    check(`client_credentials (private_key_jwt ${key.alg}, aud = issuer)`, ccJwt.status === 200
      && (await whoami(ccJwt.body.access_token)).who.sub === 'latch-m2m-jwt', ccJwt.body?.error_description);
    const replayAssertion = await token({
      grant_type: 'client_credentials', resource: mcpUrl,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    check(`quirk: a client assertion (jti) cannot be used twice (${key.alg})`, replayAssertion.body?.error === 'invalid_client');
  }

  const ccNoResource = await token({ grant_type: 'client_credentials', scope: 'mcp:read' },
    basic(basicClient.client_id, basicClient.client_secret));
  check('quirk: client_credentials without resource: opaque token, refused by the MCP server',
    ccNoResource.status === 200 && ccNoResource.body.access_token.split('.').length !== 3
    && (await mcpStatus(ccNoResource.body.access_token)).status === 401);

  const wrongResource = await token({ grant_type: 'client_credentials', resource: `${mcpUrl}/` },
    basic(basicClient.client_id, basicClient.client_secret));
  check('a resource other than the MCP URL: invalid_target', wrongResource.body?.error === 'invalid_target');

  const rotated = (await getJson(`${adminUrl}/clients/latch-m2m/rotate-secret`, { method: 'POST' })).body;
  const oldSecret = await token({ grant_type: 'client_credentials', resource: mcpUrl }, basic('latch-m2m', 'latch-m2m-secret'));
  const newSecret = await token({ grant_type: 'client_credentials', resource: mcpUrl }, basic('latch-m2m', rotated.client_secret));
  check('rotate-secret: old secret invalid_client, new one works', oldSecret.body?.error === 'invalid_client'
    && newSecret.status === 200);

  // --- deny mode for the browser flow ------------------------------------------------------------
  await fetch(`${adminUrl}/interaction?mode=deny`, { method: 'POST' });
  const deniedCb = await authorize({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'mcp:read', state: 'd',
    code_challenge: challengeS256, code_challenge_method: 'S256', resource: mcpUrl,
  });
  await fetch(`${adminUrl}/interaction?mode=approve`, { method: 'POST' });
  check('interaction deny mode: callback with error=access_denied, state and iss', deniedCb?.searchParams.get('error') === 'access_denied'
    && deniedCb.searchParams.get('state') === 'd' && deniedCb.searchParams.get('iss') === issuer, deniedCb?.href);

  // --- the counters ----------------------------------------------------------------------------------
  const s = await stats();
  console.log(JSON.stringify(s));
  check('stats: token requests by grant type', s.tokenRequests.authorization_code >= 5 && s.tokenRequests.refresh_token >= 6
    && s.tokenRequests.client_credentials >= 8 && s.tokenRequests.device_code >= 3);
  check('stats: registrations, reuse, revocation, devices', s.registrations === 4 && s.deviceSlowDowns === 1 && s.refreshTokenReuse === 1
    && s.authorizationCodeReuse === 1 && s.revocations === 1 && s.devicesApproved === 1 && s.devicesDenied === 1
    && s.serverErrors === 0);
  const mcpStats = (await getJson(new URL('/__test/stats', mcpUrl))).body;
  check('the MCP port serves the same stats', mcpStats.mcp.requests === s.mcp.requests);
} catch (err) {
  check('no exception', false, err.stack);
} finally {
  peer.stdin.end(); // the peer exits when its stdin closes
  const exited = await Promise.race([
    new Promise((r) => { peer.once('exit', () => r(true)); }),
    sleep(5000).then(() => false),
  ]);
  check('peer exited when its stdin closed', exited || peer.exitCode !== null);
  if (!exited) peer.kill();
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
