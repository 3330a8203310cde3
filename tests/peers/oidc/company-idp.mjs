// A company identity provider and an MCP server that trusts it (enterprise-managed
// authorization, SEP-990), for Latch's `latch org` / `latch login --org` tests. One process,
// three listeners on 127.0.0.1:
//
// 1. The company IdP: oidc-provider 9 (pinned) with browser sign-in (authorization code + PKCE,
//    ID tokens, refresh tokens with offline_access), plus RFC 8693 token exchange registered as
//    a custom grant type (`provider.registerGrantType`): an ID token it issued, or a refresh
//    token it issued, is exchanged for an ID-JAG (`typ: oauth-id-jag+jwt`, ES256) naming the
//    requested audience and resource and the MCP client's id there.
// 2. The MCP server's authorization server: metadata plus a token endpoint that takes only the
//    `jwt-bearer` grant with client_secret_basic, verifies the ID-JAG's signature, type,
//    issuer, audience, client_id and resource, and issues an opaque access token.
// 3. The MCP server (the TypeScript SDK, stateless Streamable HTTP) accepting only those tokens,
//    with protected resource metadata naming the AS. Tool `whoami` returns the subject.
//
// Prints one JSON line when ready (issuer, asIssuer, mcpUrl, adminUrl, client ids and secrets
// of the test clients) and runs until killed or until its stdin pipe closes. Test endpoints on
// the IdP: GET /__test/stats, POST /__test/revoke-access (the AS forgets every access token),
// POST /__test/end-session (the IdP refuses alice's tokens in exchanges from now on).

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { Provider, errors as oidcErrors } from 'oidc-provider';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { HOST, closeServers, listen, stopOn } from '../serve.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const IDP_CLIENT = { id: 'latch-idp', secret: 'latch-idp-secret' };
const MCP_CLIENT = { id: 'latch-mcp', secret: 'latch-mcp-secret' };
const TEST_USER = 'alice';
const ACCESS_TTL = Number(process.env.COMPANY_ACCESS_TTL ?? 3600);

const stats = { tokenExchanges: 0, exchangesBySubjectType: {}, exchangeErrors: 0, jwtBearer: 0, jwtBearerErrors: 0, mcpAccepted: 0, mcpRefused: 0 };
const endedSubjects = new Set();
const accessTokens = new Map(); // token -> { sub, exp }
const log = (...args) => console.error('[company-idp]', ...args);

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}
async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

let idpHandler = (_req, res) => { res.statusCode = 503; res.end(); };
let asHandler = idpHandler;
let mcpHandler = idpHandler;
const idpServer = createServer((req, res) => idpHandler(req, res));
const asServer = createServer((req, res) => asHandler(req, res));
const mcpServer = createServer((req, res) => mcpHandler(req, res));
const issuer = `http://${HOST}:${await listen(idpServer)}`;
const asIssuer = `http://${HOST}:${await listen(asServer)}`;
const mcpOrigin = `http://${HOST}:${await listen(mcpServer)}`;
const mcpUrl = `${mcpOrigin}/mcp`;
const prmUrl = `${mcpOrigin}/.well-known/oauth-protected-resource/mcp`;

const idTokenKey = await generateKeyPair('RS256', { extractable: true });
const idTokenJwk = { ...(await exportJWK(idTokenKey.privateKey)), kid: 'idp', alg: 'RS256', use: 'sig' };
const jagKey = await generateKeyPair('ES256');

// ---------------------------------------------------------------------------------------------
// The company IdP.

const provider = new Provider(issuer, {
  jwks: { keys: [idTokenJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'email'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false }, resourceIndicators: { enabled: false } },
  clients: [{
    client_id: IDP_CLIENT.id,
    client_secret: IDP_CLIENT.secret,
    application_type: 'native', // any 127.0.0.1 port in the redirect URI
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
    response_types: ['code'],
    redirect_uris: [`http://${HOST}/callback`],
    id_token_signed_response_alg: 'RS256',
  }],
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: `${sub}@acme.test` }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { IdToken: 3600, AccessToken: 3600, RefreshToken: 14 * 24 * 3600, AuthorizationCode: 60, Session: 3600, Grant: 3600, Interaction: 3600 },
  renderError: async (ctx, out) => { ctx.type = 'json'; ctx.body = out; },
});
provider.proxy = false;

provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const { params, client } = ctx.oidc;
  const refuse = (why) => { stats.exchangeErrors += 1; log('exchange refused:', why); throw new oidcErrors.InvalidGrant(why); };
  if (params.requested_token_type !== ID_JAG) throw new oidcErrors.InvalidRequest('requested_token_type must be the ID-JAG type');
  if (!params.audience || !params.resource) throw new oidcErrors.InvalidRequest('audience and resource are required');
  let sub;
  if (params.subject_token_type === ID_TOKEN_TYPE) {
    try {
      ({ payload: { sub } } = await jwtVerify(params.subject_token, idTokenKey.publicKey, { issuer, audience: client.clientId }));
    } catch (e) { refuse(`ID token: ${e.code ?? e.message}`); }
  } else if (params.subject_token_type === REFRESH_TOKEN_TYPE) {
    const refresh = await provider.RefreshToken.find(params.subject_token);
    if (!refresh || refresh.isExpired || refresh.clientId !== client.clientId) refuse('unknown refresh token');
    sub = refresh.accountId;
  } else {
    throw new oidcErrors.InvalidRequest('subject_token_type must be an ID token or a refresh token');
  }
  if (endedSubjects.has(sub)) refuse('the session ended');
  const jag = await new SignJWT({ sub, client_id: MCP_CLIENT.id, resource: params.resource })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' })
    .setIssuer(issuer).setAudience(params.audience).setIssuedAt().setExpirationTime('5m').setJti(randomUUID())
    .sign(jagKey.privateKey);
  stats.tokenExchanges += 1;
  stats.exchangesBySubjectType[params.subject_token_type] = (stats.exchangesBySubjectType[params.subject_token_type] ?? 0) + 1;
  ctx.body = { access_token: jag, issued_token_type: ID_JAG, token_type: 'N_A', expires_in: 300 };
}, new Set(['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope']));

async function handleInteraction(req, res) {
  const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
  if (prompt.name === 'login') {
    return provider.interactionFinished(req, res, { login: { accountId: TEST_USER } }, { mergeWithLastSubmission: false });
  }
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

const providerCallback = provider.callback();
idpHandler = async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith('/interaction/')) return await handleInteraction(req, res);
    if (url.pathname === '/__test/stats') return sendJson(res, 200, stats);
    if (req.method === 'POST' && url.pathname === '/__test/revoke-access') {
      accessTokens.clear();
      return sendJson(res, 200, { revoked: true });
    }
    if (req.method === 'POST' && url.pathname === '/__test/end-session') {
      endedSubjects.add(TEST_USER);
      return sendJson(res, 200, { ended: TEST_USER });
    }
    return providerCallback(req, res);
  } catch (err) {
    log('IdP error', url.pathname, err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// The MCP server's authorization server: jwt-bearer only.

asHandler = async (req, res) => {
  const url = new URL(req.url, asIssuer);
  if (req.method === 'GET' && url.pathname === '/.well-known/oauth-authorization-server') {
    return sendJson(res, 200, {
      issuer: asIssuer,
      authorization_endpoint: `${asIssuer}/authorize`,
      token_endpoint: `${asIssuer}/token`,
      response_types_supported: ['code'],
      grant_types_supported: [JWT_BEARER],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
    });
  }
  if (req.method !== 'POST' || url.pathname !== '/token') return sendJson(res, 404, { error: 'not found' });
  const form = new URLSearchParams(await readBody(req));
  const refuse = (status, error, why) => { stats.jwtBearerErrors += 1; log('jwt-bearer refused:', why); sendJson(res, status, { error, error_description: why }); };
  const basic = (req.headers.authorization ?? '').replace(/^Basic /, '');
  const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent);
  if (id !== MCP_CLIENT.id || secret !== MCP_CLIENT.secret) return refuse(401, 'invalid_client', 'client authentication failed');
  if (form.get('grant_type') !== JWT_BEARER) return refuse(400, 'unsupported_grant_type', 'jwt-bearer only');
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(form.get('assertion') ?? '', jagKey.publicKey, { issuer, audience: asIssuer, typ: 'oauth-id-jag+jwt' }));
  } catch (e) { return refuse(400, 'invalid_grant', `assertion: ${e.code ?? e.message}`); }
  if (claims.client_id !== MCP_CLIENT.id) return refuse(400, 'invalid_grant', 'client_id mismatch');
  if (claims.resource !== mcpUrl) return refuse(400, 'invalid_grant', 'resource mismatch');
  const token = randomBytes(24).toString('base64url');
  accessTokens.set(token, { sub: claims.sub, exp: Date.now() / 1000 + ACCESS_TTL });
  stats.jwtBearer += 1;
  return sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: ACCESS_TTL });
};

// ---------------------------------------------------------------------------------------------
// The MCP server.

function newMcpServer(sub) {
  const server = new Server({ name: 'company-mcp', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: 'whoami', description: 'Who the token is for', inputSchema: { type: 'object', properties: {} } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text: JSON.stringify({ sub }) }] }));
  return server;
}

mcpHandler = async (req, res) => {
  const url = new URL(req.url, mcpOrigin);
  try {
    if (req.method === 'GET' && url.pathname.startsWith('/.well-known/oauth-protected-resource')) {
      return sendJson(res, 200, { resource: mcpUrl, authorization_servers: [asIssuer], bearer_methods_supported: ['header'] });
    }
    if (url.pathname !== '/mcp') return sendJson(res, 404, { error: 'not found' });
    const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    const known = accessTokens.get(token);
    if (!known || known.exp <= Date.now() / 1000) {
      stats.mcpRefused += 1;
      return sendJson(res, 401, { error: 'invalid_token' }, { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${prmUrl}"` });
    }
    stats.mcpAccepted += 1;
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
    const body = JSON.parse((await readBody(req)) || 'null');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await newMcpServer(known.sub).connect(transport);
    return await transport.handleRequest(req, res, body);
  } catch (err) {
    log('MCP error', err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------

function shutdown() {
  closeServers(idpServer, asServer, mcpServer);
  process.exit(0);
}
stopOn(shutdown, { stdinPipe: true });

process.stdout.write(`${JSON.stringify({
  issuer, asIssuer, mcpUrl, adminUrl: `${issuer}/__test`,
  idpClientId: IDP_CLIENT.id, idpClientSecret: IDP_CLIENT.secret,
  mcpClientId: MCP_CLIENT.id, mcpClientSecret: MCP_CLIENT.secret,
})}\n`);
