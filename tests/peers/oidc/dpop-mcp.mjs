// A real authorization server with DPoP on (oidc-provider 9, RFC 9449) and, in the same process,
// a protected MCP server (the TypeScript SDK 1.x, Streamable HTTP) that accepts only DPoP-bound
// JWT access tokens, checking every proof itself. Latch's DPoP tests (crates/latch-cli/tests/
// dpop.rs) and the `dpop` benchmark group run against it; see README.md (`dpop-mcp.mjs`).
//
//   node --require tests/peers/bind-localhost.cjs tests/peers/oidc/dpop-mcp.mjs
//
// The MCP server checks, on every request: `Authorization: DPoP <token>`, one `DPoP` header
// whose proof is an ES256 `dpop+jwt` signed by its embedded public `jwk`, `htm` = the method,
// `htu` = the MCP URL, `iat` within DPOP_IAT_WINDOW seconds, `ath` = the token's hash, a `jti`
// it has not seen before (else 401 `invalid_dpop_proof`), the server nonce when one is required
// (else 401 `use_dpop_nonce` + `DPoP-Nonce`), and that the token (issuer, audience, expiry) is
// bound to that key: `cnf.jkt` = the RFC 7638 thumbprint of the proof's `jwk`.
//
// Both servers listen on 127.0.0.1 only (OIDC_PORT / MCP_PORT, 0 or unset: ephemeral). When
// both are ready it prints one JSON line to stdout:
//   {"issuer":…,"mcpUrl":"http://127.0.0.1:P2/mcp","resource":…,"adminUrl":"http://127.0.0.1:P1/__test","mode":"dpop"}
// and runs until killed, or until its stdin (when it is a pipe) reaches end of file.
//
// Counters at GET /__test/stats (both ports); POST /__test/reset zeroes them;
// POST /__test/refuse-next-proof makes the MCP server refuse the next valid proof as replayed.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { Provider } from 'oidc-provider';
import {
  EmbeddedJWK, calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader,
  errors as joseErrors, exportJWK, generateKeyPair, jwtVerify,
} from 'jose';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

import { HOST, closeServers, listen, stopOn } from '../serve.mjs';

const MCP_SCOPES = ['mcp:read', 'mcp:write'];
const TEST_USER = 'alice';

const envInt = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
};
const envFlag = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
};

const config = {
  oidcPort: envInt('OIDC_PORT', 0),
  mcpPort: envInt('MCP_PORT', 0),
  // `dpop` (default): DPoP on at the AS, DPoP-bound tokens only at the MCP server.
  // `bearer`: DPoP off at the AS (no dpop_signing_alg_values_supported), Bearer at the MCP
  // server: the benchmark's baseline, same process otherwise.
  mode: process.env.DPOP_MODE || 'dpop',
  accessTtl: envInt('OIDC_ACCESS_TTL', 3600),
  asNonce: envFlag('DPOP_AS_NONCE', false), // the token endpoint requires a DPoP nonce
  mcpNonce: envFlag('DPOP_MCP_NONCE', false), // the MCP server requires a DPoP nonce
  refuseFirstProof: envFlag('DPOP_REFUSE_FIRST_PROOF', false), // the first valid proof: "replayed"
  iatWindow: envInt('DPOP_IAT_WINDOW', 60),
  debug: envFlag('OIDC_DEBUG', false),
};
if (!['dpop', 'bearer'].includes(config.mode)) throw new Error('DPOP_MODE must be dpop or bearer');
const dpop = config.mode === 'dpop';

const log = (...args) => console.error('[dpop-peer]', ...args);
const debug = (...args) => { if (config.debug) log(...args); };

function freshStats() {
  return {
    mode: config.mode,
    // The token endpoint, by grant type: requests, successes, requests that carried a DPoP proof,
    // tokens issued with token_type DPoP / Bearer, errors (`grant:error`), nonce challenges.
    tokenRequests: {},
    tokenSuccesses: {},
    tokenRequestsWithProof: {},
    dpopTokensIssued: 0,
    bearerTokensIssued: 0,
    tokenErrors: {},
    asNonceChallenges: 0,
    interactions: { login: 0, consent: 0 },
    registrations: 0,
    serverErrors: 0,
    mcp: {
      requests: 0,
      accepted: 0,
      acceptedByMethod: {},
      missingToken: 0, // no Authorization header: the discovery 401
      bearerRefused: 0, // `Authorization: Bearer` in dpop mode
      dpopRefused: 0, // `Authorization: DPoP` in bearer mode
      proofsChecked: 0, // DPoP proofs whose signature verified with their own jwk
      invalidProofs: {}, // by reason: missing, signature, htm, htu, iat, ath, jwk, …
      replaysRefused: 0, // a jti seen before, refused with invalid_dpop_proof
      injectedReplays: 0, // valid proofs refused as replayed on purpose (refuse-next-proof)
      nonceChallenges: 0, // 401 use_dpop_nonce answered
      noncesHonored: 0, // proofs that carried the current server nonce
      thumbprintMismatch: 0, // cnf.jkt is not the proof key's thumbprint
      unboundToken: 0, // a token without cnf.jkt presented with DPoP
      expiredToken: 0,
      invalidToken: 0,
      distinctKeys: 0, // distinct proof keys (thumbprints) accepted
      toolCalls: {},
    },
  };
}
let stats = freshStats();
const bump = (map, key) => { map[key] = (map[key] ?? 0) + 1; };
const seenJtis = new Set();
const seenKeys = new Set();
let refuseNextProof = config.refuseFirstProof;
let mcpNonce = randomBytes(16).toString('base64url');

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
// The provider: a public (DCR) client signs in with PKCE; tokens for the MCP URL are JWTs.

const { privateKey: signingKey } = await generateKeyPair('RS256', { extractable: true });
const providerJwk = { ...(await exportJWK(signingKey)), kid: `as-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };

const store = new Map();
class MapAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload, expiresIn) {
    store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id });
  }
  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) { store.delete(this.key(id)); return undefined; }
    return entry.payload;
  }
  async findByUid(uid) { const id = store.get(`sessionUid:${uid}`)?.payload; return id && this.find(id); }
  async findByUserCode() { return undefined; }
  async consume(id) { const p = await this.find(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const [key, entry] of store) if (entry.payload?.grantId === grantId) store.delete(key);
  }
}

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  jwks: { keys: [providerJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', ...MCP_SCOPES],
  responseTypes: ['code'],
  pkce: { required: () => true },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    revocation: { enabled: true },
    dPoP: dpop
      ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => config.asNonce }
      : { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? mcpUrl,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: MCP_SCOPES.join(' '),
        audience: mcpUrl,
        accessTokenTTL: config.accessTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: config.accessTtl, RefreshToken: 14 * 24 * 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 86400, Grant: 86400 },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  enabledJWA: { dPoPSigningAlgValues: ['ES256'] },
  renderError: async (ctx, out) => { ctx.type = 'json'; ctx.body = out; },
});
provider.proxy = false;

const grantKey = (ctx) => ctx.oidc?.params?.grant_type ?? 'unknown';
provider.on('grant.error', (ctx, err) => {
  bump(stats.tokenErrors, `${grantKey(ctx)}:${err.error ?? err.name}`);
  debug('token error', grantKey(ctx), err.error, err.error_description, err.error_detail ?? '');
});
provider.on('registration_create.success', () => { stats.registrations += 1; });
provider.on('server_error', (_ctx, err) => { stats.serverErrors += 1; log('server_error', err); });

provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route !== 'token') return;
  const key = grantKey(ctx);
  bump(stats.tokenRequests, key);
  if (ctx.get('DPoP')) bump(stats.tokenRequestsWithProof, key);
  if (ctx.body?.error === 'use_dpop_nonce') stats.asNonceChallenges += 1;
  if (ctx.status === 200 && ctx.body?.access_token) {
    bump(stats.tokenSuccesses, key);
    if (ctx.body.token_type === 'DPoP') stats.dpopTokensIssued += 1;
    else stats.bearerTokensIssued += 1;
  }
});

// Interactions need no forms: a GET logs in `alice`, the next grants what was asked for.
async function handleInteraction(req, res) {
  const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
  if (prompt.name === 'login') {
    stats.interactions.login += 1;
    return provider.interactionFinished(req, res, { login: { accountId: TEST_USER } }, { mergeWithLastSubmission: false });
  }
  stats.interactions.consent += 1;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

// Test-only endpoints, on both ports.
function handleAdmin(req, res, path) {
  if (req.method === 'GET' && path === '/__test/stats') return sendJson(res, 200, stats);
  if (req.method === 'GET' && path === '/__test') return sendJson(res, 200, { issuer, mcpUrl, adminUrl, config });
  if (req.method === 'POST' && path === '/__test/reset') { stats = freshStats(); return sendJson(res, 200, stats); }
  if (req.method === 'POST' && path === '/__test/refuse-next-proof') { refuseNextProof = true; return sendJson(res, 200, { refuseNextProof }); }
  if (req.method === 'POST' && path === '/__test/rotate-nonce') {
    mcpNonce = randomBytes(16).toString('base64url');
    return sendJson(res, 200, { rotated: true });
  }
  return sendJson(res, 404, { error: 'not found' });
}

const providerCallback = provider.callback();
asHandler = async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith('/__test')) return handleAdmin(req, res, url.pathname.replace(/\/+$/, ''));
    if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(url.pathname)) return await handleInteraction(req, res);
    return providerCallback(req, res);
  } catch (err) {
    log('error handling', req.method, url.pathname, err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    else res.destroy();
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// The protected MCP server.

const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
const scheme = dpop ? 'DPoP' : 'Bearer';
const challengeBase = `${scheme} resource_metadata="${prmUrl}", scope="${MCP_SCOPES.join(' ')}"${dpop ? ', algs="ES256"' : ''}`;
const prm = {
  resource: mcpUrl,
  authorization_servers: [issuer],
  scopes_supported: MCP_SCOPES,
  bearer_methods_supported: ['header'],
  ...(dpop ? { dpop_signing_alg_values_supported: ['ES256'], dpop_bound_access_tokens_required: true } : {}),
};

function unauthorized(res, error, description, headers = {}) {
  const challenge = error
    ? `${challengeBase}, error="${error}", error_description="${description.replace(/["\\]/g, '')}"`
    : challengeBase;
  sendJson(res, 401, error ? { error, error_description: description } : { error: 'unauthorized' }, {
    'www-authenticate': challenge, ...headers,
  });
}

class ProofError extends Error {
  constructor(reason, description) { super(description); this.reason = reason; }
}

// Verifies the DPoP proof for `token` on this request; returns { jkt, jti, nonce } or throws.
async function checkProof(req, token) {
  const header = req.headers.dpop;
  if (!header) throw new ProofError('missing', 'a DPoP proof is required with a DPoP-bound token');
  if (Array.isArray(header) || header.includes(',')) throw new ProofError('several', 'exactly one DPoP proof is allowed');
  let jwk;
  try {
    ({ jwk } = decodeProtectedHeader(header));
  } catch {
    throw new ProofError('malformed', 'the DPoP proof is not a JWT');
  }
  if (!jwk || typeof jwk !== 'object' || 'd' in jwk) throw new ProofError('jwk', 'the DPoP proof must carry a public jwk');
  let payload;
  try {
    ({ payload } = await jwtVerify(header, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] }));
  } catch (err) {
    throw new ProofError('signature', `the DPoP proof does not verify (${err.code ?? err.name})`);
  }
  stats.mcp.proofsChecked += 1;
  if (payload.htm !== req.method) throw new ProofError('htm', 'the DPoP proof is for another method');
  const htu = URL.parse(String(payload.htu ?? ''));
  if (htu) { htu.search = ''; htu.hash = ''; }
  if (htu?.href !== mcpUrl) throw new ProofError('htu', 'the DPoP proof is for another URL');
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > config.iatWindow) {
    throw new ProofError('iat', 'the DPoP proof is not recent');
  }
  const ath = createHash('sha256').update(token).digest('base64url');
  if (payload.ath !== ath) throw new ProofError('ath', 'the DPoP proof is for another access token');
  if (typeof payload.jti !== 'string' || payload.jti.length < 8) throw new ProofError('jti', 'the DPoP proof has no usable jti');
  return { jkt: await calculateJwkThumbprint(jwk, 'sha256'), jti: payload.jti, nonce: payload.nonce };
}

// Returns the SDK's AuthInfo, or undefined after answering 401.
async function authenticate(req, res) {
  const match = req.headers.authorization?.match(/^(Bearer|DPoP) +([^ ]+) *$/i);
  if (!match) {
    stats.mcp.missingToken += 1;
    unauthorized(res);
    return undefined;
  }
  const [, presented, token] = match;
  if (presented.toLowerCase() !== scheme.toLowerCase()) {
    if (dpop) stats.mcp.bearerRefused += 1; else stats.mcp.dpopRefused += 1;
    unauthorized(res, 'invalid_token', dpop
      ? 'this server accepts DPoP-bound access tokens only (Authorization: DPoP)'
      : 'this server accepts Bearer access tokens only');
    return undefined;
  }
  let proof;
  if (dpop) {
    try {
      proof = await checkProof(req, token);
    } catch (err) {
      if (!(err instanceof ProofError)) throw err;
      bump(stats.mcp.invalidProofs, err.reason);
      unauthorized(res, 'invalid_dpop_proof', err.message);
      return undefined;
    }
    if (seenJtis.has(proof.jti)) {
      stats.mcp.replaysRefused += 1;
      unauthorized(res, 'invalid_dpop_proof', 'the DPoP proof was used before (jti replayed)');
      return undefined;
    }
    seenJtis.add(proof.jti);
    if (refuseNextProof) {
      refuseNextProof = false;
      stats.mcp.injectedReplays += 1;
      unauthorized(res, 'invalid_dpop_proof', 'the DPoP proof was used before (jti replayed)');
      return undefined;
    }
    if (config.mcpNonce) {
      if (proof.nonce !== mcpNonce) {
        stats.mcp.nonceChallenges += 1;
        unauthorized(res, 'use_dpop_nonce', 'the DPoP proof must carry the server nonce', { 'dpop-nonce': mcpNonce });
        return undefined;
      }
      stats.mcp.noncesHonored += 1;
    }
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      issuer, audience: mcpUrl, typ: 'at+jwt', requiredClaims: ['exp', 'sub'], clockTolerance: 0,
    }));
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
  if (dpop) {
    if (typeof payload.cnf?.jkt !== 'string') {
      stats.mcp.unboundToken += 1;
      unauthorized(res, 'invalid_token', 'the access token is not DPoP-bound');
      return undefined;
    }
    if (payload.cnf.jkt !== proof.jkt) {
      stats.mcp.thumbprintMismatch += 1;
      unauthorized(res, 'invalid_dpop_proof', 'the DPoP proof key is not the key the token is bound to');
      return undefined;
    }
    if (!seenKeys.has(proof.jkt)) { seenKeys.add(proof.jkt); stats.mcp.distinctKeys = seenKeys.size; }
  } else if (payload.cnf) {
    stats.mcp.invalidToken += 1;
    unauthorized(res, 'invalid_token', 'a DPoP-bound token was presented as Bearer');
    return undefined;
  }
  return {
    token,
    clientId: payload.client_id,
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    expiresAt: payload.exp,
    resource: new URL(mcpUrl),
    extra: { claims: payload },
  };
}

const TOOLS = [
  { name: 'echo', description: 'Echoes the message back.', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
  { name: 'whoami', description: "The access token's subject, client and key binding.", inputSchema: { type: 'object', properties: {} } },
  { name: 'add', description: 'Adds two numbers.', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
];
const text = (value) => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] });

function newMcpServer() {
  const server = new Server({ name: 'latch-dpop-peer', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    bump(stats.mcp.toolCalls, name);
    if (name === 'echo') return text(String(args.message ?? ''));
    if (name === 'add') return text(String(Number(args.a) + Number(args.b)));
    if (name === 'whoami') {
      const claims = extra.authInfo?.extra?.claims ?? {};
      // `bound`, not the thumbprint itself: nothing key-derived in what the client prints.
      return text({ sub: claims.sub, scope: claims.scope ?? '', bound: typeof claims.cnf?.jkt === 'string' });
    }
    return { ...text(`unknown tool ${name}`), isError: true };
  });
  return server;
}

const sessions = new Map();
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
  bump(stats.mcp.acceptedByMethod, req.method);
  req.auth = auth;
  const sessionId = req.headers['mcp-session-id'];
  let body;
  if (req.method === 'POST') {
    try { body = await readJson(req); } catch { return sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }); }
  }
  let transport = sessionId ? sessions.get(sessionId) : undefined;
  if (!transport) {
    if (sessionId) return sendJson(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no valid session id' }, id: null });
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => { sessions.set(id, transport); },
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await newMcpServer().connect(transport);
  }
  return transport.handleRequest(req, res, body);
}

mcpHandler = async (req, res) => {
  const url = new URL(req.url, mcpOrigin);
  try {
    if (req.method === 'GET' && url.pathname.startsWith('/.well-known/oauth-protected-resource')) return sendJson(res, 200, prm);
    if (url.pathname.startsWith('/__test')) return handleAdmin(req, res, url.pathname.replace(/\/+$/, ''));
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
// Ready. Stop on a signal, or when the test that started us closes our stdin pipe.

function shutdown() {
  for (const transport of sessions.values()) transport.close().catch(() => {});
  closeServers(asServer, mcpServer);
  process.exit(0);
}
stopOn(shutdown, { stdinPipe: true });

process.stdout.write(`${JSON.stringify({ issuer, mcpUrl, resource: mcpUrl, adminUrl, mode: config.mode })}\n`);
